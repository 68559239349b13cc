"""Tables of the campus community (private to this module).

People are the user center's: plain id columns here, never foreign keys into another module's
tables. Reports live in the messaging center's shared queue; ``cmty_report`` mirrors the
community's own so that a board's moderators find theirs by board.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Board(Base):
    """A board (板块): what it is for, who may post, whether posts may be anonymous."""

    __tablename__ = "cmty_board"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)  # in URLs: /community/b/market
    name: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200), default="")
    icon: Mapped[str] = mapped_column(String(40), default="message-circle")  # a Tabler icon
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    # news, general, market (二手), lost_found (失物招领), help (求助), event (活动): the kind
    # decides which extra fields a post carries.
    kind: Mapped[str] = mapped_column(String(12), default="general")
    posting: Mapped[str] = mapped_column(String(10), default="all")  # all, staff, editors
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Moderator(Base):
    """A board's moderator (版主)."""

    __tablename__ = "cmty_moderator"

    board_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cmty_board.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Post(Base):
    __tablename__ = "cmty_post"
    __table_args__ = (
        Index("ix_cmty_post_feed", "board_id", "status", "created_at"),
        Index("ix_cmty_post_author", "author_id", "status", "created_at"),
        Index("ix_cmty_post_recent", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    board_id: Mapped[int] = mapped_column(BigId, ForeignKey("cmty_board.id"))
    # The real author, always; shown only when ``anonymous`` is false (or to moderators).
    author_id: Mapped[int] = mapped_column(BigId)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(60))
    body: Mapped[str] = mapped_column(Text, default="")  # plain text; links and line breaks shown
    images: Mapped[list[Any]] = mapped_column(JSON, default=list)  # file ids, in order
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # per board kind
    status: Mapped[str] = mapped_column(String(10), default="visible")  # visible, hidden, deleted
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)  # visible comments
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    # Seconds since the epoch of ``created_at``: the hot ranking's age in plain arithmetic,
    # the same on SQLite and PostgreSQL.
    created_ts: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    moderation_note: Mapped[str] = mapped_column(String(200), default="")
    moderated_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Comment(Base):
    """A comment on a post, or a reply to a top-level comment (one level only)."""

    __tablename__ = "cmty_comment"
    __table_args__ = (Index("ix_cmty_comment_thread", "post_id", "parent_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("cmty_post.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("cmty_comment.id", ondelete="CASCADE"), nullable=True
    )
    author_id: Mapped[int] = mapped_column(BigId, index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="visible")  # visible, hidden, deleted
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    moderation_note: Mapped[str] = mapped_column(String(200), default="")
    moderated_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PostLike(Base):
    """One person's like of a post; the primary key makes a second one impossible."""

    __tablename__ = "cmty_post_like"

    post_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cmty_post.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommentLike(Base):
    __tablename__ = "cmty_comment_like"

    comment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cmty_comment.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Follow(Base):
    """``follower_id`` follows ``followee_id``: their posts (not the anonymous ones) show in
    the follower's feed."""

    __tablename__ = "cmty_follow"

    follower_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    followee_id: Mapped[int] = mapped_column(BigId, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ban(Base):
    """A person may not post or comment on a board until ``until`` (禁言)."""

    __tablename__ = "cmty_ban"
    __table_args__ = (Index("ix_cmty_ban_active", "board_id", "person_id", "until"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    board_id: Mapped[int] = mapped_column(BigId, ForeignKey("cmty_board.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    banned_by: Mapped[int] = mapped_column(BigId)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Report(Base):
    """A report of a post or comment: ``report_id`` is its entry in the messaging center's
    shared queue; the board is kept here so that the board's moderators see it."""

    __tablename__ = "cmty_report"
    __table_args__ = (
        UniqueConstraint("reporter_id", "target_kind", "target_id"),
        Index("ix_cmty_report_queue", "board_id", "status", "created_at"),
        Index("ix_cmty_report_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(BigId, index=True)
    board_id: Mapped[int] = mapped_column(BigId, ForeignKey("cmty_board.id", ondelete="CASCADE"))
    post_id: Mapped[int] = mapped_column(BigId, ForeignKey("cmty_post.id", ondelete="CASCADE"))
    target_kind: Mapped[str] = mapped_column(String(10))  # post, comment
    target_id: Mapped[int] = mapped_column(BigId)
    reporter_id: Mapped[int] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(
        String(10), default="pending"
    )  # pending, removed, dismissed
    decided_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
