"""Events of the campus community, for the data platform and the messaging center. Payloads
carry the real author (events are internal, never shown to readers) with the ``anonymous``
flag, so a consumer that shows anything must respect it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

BOARD_CHANGED = "community.board_changed"
POST_CREATED = "community.post_created"
POST_DELETED = "community.post_deleted"
POST_HIDDEN = "community.post_hidden"
POST_RESTORED = "community.post_restored"
COMMENT_CREATED = "community.comment_created"
COMMENT_DELETED = "community.comment_deleted"
COMMENT_HIDDEN = "community.comment_hidden"
COMMENT_RESTORED = "community.comment_restored"
POST_LIKED = "community.post_liked"
FOLLOWED = "community.followed"
REPORTED = "community.reported"
REPORT_RESOLVED = "community.report_resolved"
BANNED = "community.banned"


class BoardChanged(BaseModel):
    board_id: int
    code: str
    name: str
    active: bool


class PostCreated(BaseModel):
    post_id: int
    board_id: int
    author_id: int
    anonymous: bool
    title: str
    images: int
    created_at: datetime


class PostGone(BaseModel):
    """A post deleted by its author, hidden or restored by a moderator."""

    post_id: int
    board_id: int
    author_id: int
    by_id: int
    note: str = ""


class CommentCreated(BaseModel):
    comment_id: int
    post_id: int
    board_id: int
    parent_id: int | None
    author_id: int
    anonymous: bool


class CommentGone(BaseModel):
    comment_id: int
    post_id: int
    board_id: int
    author_id: int
    by_id: int
    note: str = ""


class PostLiked(BaseModel):
    """A like given (``liked``) or taken back; ``like_count`` is the count after it."""

    post_id: int
    person_id: int
    liked: bool
    like_count: int


class Followed(BaseModel):
    follower_id: int
    followee_id: int
    following: bool


class Reported(BaseModel):
    report_id: int
    board_id: int
    target_kind: str
    target_id: int
    reporter_id: int


class ReportResolved(BaseModel):
    board_id: int
    target_kind: str
    target_id: int
    action: str
    moderator_id: int
    report_ids: list[int]


class Banned(BaseModel):
    ban_id: int
    board_id: int
    person_id: int
    until: datetime
    by_id: int
