"""Input and output of the campus community: boards, posts (with the extra fields of each board
kind), comments, likes, follows, reports and moderation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campus.kernel.pagination import Page

BoardKind = Literal["news", "general", "market", "lost_found", "help", "event"]
Posting = Literal["all", "staff", "editors"]
Status = Literal["visible", "hidden", "deleted"]
ReportStatus = Literal["pending", "removed", "dismissed"]
Sort = Literal["latest", "hot"]

MAX_IMAGES = 9
TITLE_MAX = 60
BODY_MAX = 5000
COMMENT_MAX = 1000
REASON_MAX = 200
MAX_MODERATORS = 20
MAX_BAN_DAYS = 365
FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,29}$"
ICON_PATTERN = r"^[a-z0-9-]{1,40}$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- boards


class BoardIn(_Input):
    code: str = Field(pattern=CODE_PATTERN, description="板块代码（小写字母开头），用于网址")
    name: str = Field(min_length=1, max_length=20)
    description: str = Field("", max_length=200)
    icon: str = Field("message-circle", pattern=ICON_PATTERN, description="Tabler 图标名")
    sort_order: int = Field(100, ge=0, le=10_000, description="越小越靠前")
    kind: BoardKind = Field("general", description="决定帖子的附加字段")
    posting: Posting = Field(
        "all", description="谁可以发帖：all 所有人，staff 仅教职工，editors 仅编辑与版主"
    )
    allow_anonymous: bool = Field(False, description="是否允许匿名显示")
    active: bool = True


class BoardUpdate(_Input):
    """Fields to change; fields left out stay as they are (the code never changes)."""

    name: str | None = Field(None, min_length=1, max_length=20)
    description: str | None = Field(None, max_length=200)
    icon: str | None = Field(None, pattern=ICON_PATTERN)
    sort_order: int | None = Field(None, ge=0, le=10_000)
    kind: BoardKind | None = None
    posting: Posting | None = None
    allow_anonymous: bool | None = None
    active: bool | None = None


class ModeratorsIn(_Input):
    person_ids: list[int] = Field(max_length=MAX_MODERATORS, description="版主的人员 id")


class PersonBrief(BaseModel):
    id: int
    name: str


class BoardOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    icon: str
    sort_order: int
    kind: BoardKind
    posting: Posting
    allow_anonymous: bool
    active: bool
    post_count: int = 0
    moderators: list[PersonBrief] = []
    may_post: bool = Field(False, description="当前用户能否在此发帖")
    may_moderate: bool = Field(False, description="当前用户是否为此板块版主")


# ---------------------------------------------------------------- extra fields per board kind


class MarketExtra(_Input):
    """二手市场: price in yuan and the item's condition."""

    price: Decimal = Field(ge=0, le=1_000_000, max_digits=9, decimal_places=2)
    condition: Literal["new", "like_new", "good", "fair"]


class LostFoundExtra(_Input):
    """失物招领: lost or found, where and when."""

    type: Literal["lost", "found"]
    place: str = Field(min_length=1, max_length=60)
    time: datetime


class EventExtra(_Input):
    """活动: when and where."""

    starts_at: datetime
    ends_at: datetime | None = None
    place: str = Field(min_length=1, max_length=60)


EXTRA_MODELS: dict[str, type[_Input]] = {
    "market": MarketExtra,
    "lost_found": LostFoundExtra,
    "event": EventExtra,
}


# ---------------------------------------------------------------- posts and comments


class PostIn(_Input):
    board_id: int
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    body: str = Field(
        min_length=1, max_length=BODY_MAX, description="正文，纯文本（链接与换行会显示）"
    )
    images: list[str] = Field(
        default_factory=list, description=f"图片的文件 id，最多 {MAX_IMAGES} 张"
    )
    anonymous: bool = Field(False, description="匿名显示（板块允许时）")
    extra: dict[str, Any] | None = Field(
        None,
        description=(
            "板块附加字段：二手市场 price/condition，失物招领 type/place/time，"
            "活动 starts_at/ends_at/place"
        ),
    )

    @field_validator("images")
    @classmethod
    def _few_images(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_IMAGES:
            raise ValueError(f"最多 {MAX_IMAGES} 张图片")
        return value


class CommentIn(_Input):
    body: str = Field(min_length=1, max_length=COMMENT_MAX)
    parent_id: int | None = Field(None, description="回复的评论（只能回复一级评论）")
    anonymous: bool = False


class AuthorOut(BaseModel):
    """Who wrote it, as the reader may see it: for an anonymous post ``id`` is empty and
    ``name`` is the post's pseudonym, unless the reader moderates the board."""

    id: int | None
    name: str
    anonymous: bool = False
    is_op: bool = Field(False, description="是否为楼主")
    real_id: int | None = Field(None, description="匿名作者的真实身份，仅版主可见")
    real_name: str | None = None


class ImageOut(BaseModel):
    id: str
    url: str


class PostOut(BaseModel):
    id: int
    board_id: int
    board_code: str
    board_name: str
    title: str
    body: str
    images: list[ImageOut]
    extra: dict[str, Any] | None
    author: AuthorOut
    status: Status
    like_count: int
    comment_count: int
    view_count: int
    liked: bool = False
    mine: bool = False
    moderation_note: str = ""
    created_at: datetime


class PostPage(Page[PostOut]):
    pass


class CommentOut(BaseModel):
    id: int
    post_id: int
    parent_id: int | None
    body: str
    author: AuthorOut
    status: Status
    like_count: int
    liked: bool = False
    mine: bool = False
    created_at: datetime
    replies: list[CommentOut] = []


class CommentPage(Page[CommentOut]):
    """One page of a post's top-level comments, each with its replies."""


class LikeOut(BaseModel):
    liked: bool
    like_count: int


class FollowOut(BaseModel):
    following: bool
    followers: int


# ---------------------------------------------------------------- reports and moderation


class ReportIn(_Input):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class ReportCreated(BaseModel):
    id: int
    report_id: int = Field(description="在消息中心共享举报队列中的编号")


class HideIn(_Input):
    note: str = Field(min_length=1, max_length=REASON_MAX, description="隐藏原因（会通知作者）")


class BanIn(_Input):
    person_id: int | None = Field(None, description="被禁言的人；按帖子或评论禁言时留空")
    post_id: int | None = Field(None, description="禁言此帖的作者（匿名帖也可）")
    comment_id: int | None = Field(None, description="禁言此评论的作者")
    days: int = Field(ge=1, le=MAX_BAN_DAYS)
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class BanOut(BaseModel):
    id: int
    board_id: int
    person: PersonBrief
    until: datetime
    reason: str
    created_at: datetime


class ResolveIn(_Input):
    action: Literal["remove", "dismiss"] = Field(
        description="remove 隐藏被举报的内容并结案；dismiss 驳回举报"
    )
    note: str = Field("", max_length=REASON_MAX)


class QueueItem(BaseModel):
    """The reports on one post or comment, for the board's moderators."""

    target_kind: Literal["post", "comment"]
    target_id: int
    post_id: int
    board_id: int
    board_name: str
    excerpt: str
    author: AuthorOut
    target_status: Status
    reports: int
    reasons: list[str]
    first_reported_at: datetime
    status: ReportStatus


class QueuePage(Page[QueueItem]):
    pass
