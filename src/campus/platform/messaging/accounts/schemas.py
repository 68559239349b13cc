"""Input and output of subscription push: accounts, posts, subscriptions, Web Push devices."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, ConfigDict, Field, field_validator

from campus.kernel.clock import aware
from campus.kernel.pagination import Page
from campus.platform.users.schemas import PersonType

Category = Literal["academic", "service", "student", "college", "youth", "other"]
PostStatus = Literal["draft", "scheduled", "published"]
PostAction = Literal["draft", "publish", "schedule"]

CODE_PATTERN = r"^[a-z][a-z0-9_-]{1,39}$"
ICON_PATTERN = r"^[a-z0-9-]{1,40}$"
FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
MAX_EDITORS = 50
MAX_RULE_UNITS = 50
MAX_ATTACHMENTS = 10
TITLE_MAX = 64
SUMMARY_MAX = 120
BODY_MAX = 20_000
REPORT_REASON_MAX = 500
ENDPOINT_MAX = 2048


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- accounts


class AudienceRule(_Input):
    """Who: people of these types (none listed: every type) in these org units or below them
    (none listed: the whole campus)."""

    person_types: list[PersonType] = Field(default_factory=list, max_length=5)
    org_unit_ids: list[int] = Field(default_factory=list, max_length=MAX_RULE_UNITS)

    @property
    def campus_wide(self) -> bool:
        return not self.org_unit_ids


class AccountCreate(_Input):
    code: str = Field(pattern=CODE_PATTERN, description="英文标识，如 jwc")
    name: str = Field(min_length=2, max_length=40)
    description: str = Field("", max_length=500)
    category: Category = "other"
    icon: str = Field("speakerphone", pattern=ICON_PATTERN, description="Tabler 图标名")
    avatar_file_id: str | None = Field(None, pattern=FILE_ID_PATTERN, description="头像图片")
    org_unit_id: int = Field(description="所属单位")
    audience: AudienceRule = Field(default_factory=AudienceRule, description="面向人群")
    mandatory: AudienceRule | None = Field(None, description="必选人群：自动关注且不能取消；空为无")
    editor_ids: list[int] = Field(default_factory=list, max_length=MAX_EDITORS)


class AccountUpdate(_Input):
    """Fields to change; fields left out stay as they are (``mandatory: null`` clears it)."""

    name: str | None = Field(None, min_length=2, max_length=40)
    description: str | None = Field(None, max_length=500)
    category: Category | None = None
    icon: str | None = Field(None, pattern=ICON_PATTERN)
    avatar_file_id: str | None = Field(None, pattern=FILE_ID_PATTERN)
    org_unit_id: int | None = None
    audience: AudienceRule | None = None
    mandatory: AudienceRule | None = None
    editor_ids: list[int] | None = Field(None, max_length=MAX_EDITORS)
    active: bool | None = None


class PersonBrief(BaseModel):
    id: int
    name: str


class AccountOut(BaseModel):
    id: int
    code: str
    name: str
    description: str
    category: Category
    icon: str
    avatar_url: str | None
    org_unit_id: int
    org_unit_name: str
    audience: AudienceRule
    mandatory: AudienceRule | None
    audience_text: str = Field(description="面向人群的文字说明，如“全校 本科生、研究生”")
    mandatory_text: str | None = Field(description="必选人群的文字说明；无则为空")
    active: bool
    subscriber_count: int = Field(description="主动关注的人数（不含必选人群）")
    subscribed: bool = Field(description="读者本人是否已关注（含必选）")
    mandatory_for_me: bool = Field(description="对读者本人是否为必选（不能取消关注）")
    may_publish: bool = Field(description="读者本人是否为该服务号的编辑")
    editors: list[PersonBrief] = Field(
        default_factory=list, description="编辑（仅管理员与编辑可见）"
    )


class AccountPage(Page[AccountOut]):
    pass


class SubscriptionOut(BaseModel):
    account_id: int
    subscribed: bool
    mandatory: bool


# ---------------------------------------------------------------- posts


class _PostFields(_Input):
    @field_validator("publish_at", check_fields=False)
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        return None if value is None else aware(value)


class PostCreate(_PostFields):
    title: str = Field(min_length=1, max_length=TITLE_MAX)
    summary: str = Field("", max_length=SUMMARY_MAX, description="摘要；空则取正文开头")
    body: str = Field(
        min_length=1, max_length=BODY_MAX, description="正文，Markdown（不接受 HTML）"
    )
    cover_file_id: str | None = Field(None, pattern=FILE_ID_PATTERN, description="封面图片")
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    action: PostAction = Field(
        "publish", description="draft 存草稿，publish 立即发布，schedule 定时"
    )
    publish_at: datetime | None = Field(None, description="定时发布的时间（action=schedule）")


class PostUpdate(_PostFields):
    """Fields of a draft or scheduled post to change; fields left out stay as they are."""

    title: str | None = Field(None, min_length=1, max_length=TITLE_MAX)
    summary: str | None = Field(None, max_length=SUMMARY_MAX)
    body: str | None = Field(None, min_length=1, max_length=BODY_MAX)
    cover_file_id: str | None = Field(None, pattern=FILE_ID_PATTERN)
    attachments: list[str] | None = Field(None, max_length=MAX_ATTACHMENTS)
    action: PostAction | None = None
    publish_at: datetime | None = None


class AttachmentOut(BaseModel):
    id: str
    name: str
    size: int | None = None
    url: str


class AccountBrief(BaseModel):
    id: int
    name: str
    icon: str
    avatar_url: str | None


class PostListItem(BaseModel):
    id: int
    account: AccountBrief
    title: str
    summary: str
    cover_url: str | None
    status: PostStatus
    publish_at: datetime | None
    published_at: datetime | None
    read_count: int
    like_count: int
    read: bool = Field(False, description="读者本人是否读过")
    hidden: bool = Field(False, description="已因举报被审核隐藏（仅编辑与管理员可见）")


class PostOut(PostListItem):
    body: str
    body_html: str
    attachments: list[AttachmentOut]
    author_name: str
    liked: bool
    may_edit: bool
    hidden_note: str = Field("", description="隐藏的原因（审核员填写）")


class PostReportIn(BaseModel):
    reason: str = Field(min_length=1, max_length=REPORT_REASON_MAX, description="举报理由")


class PostReported(BaseModel):
    report_id: int


class PostPage(Page[PostListItem]):
    pass


class ReadStats(BaseModel):
    """Unique readers of a post: in all, and per day (China time) since publication."""

    post_id: int
    read_count: int
    audience_hint: int = Field(description="主动关注人数（必选人群另计）")
    days: list[str]
    reads: list[int]


# ---------------------------------------------------------------- Web Push


def _b64url(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValueError("不是合法的 base64url 编码") from exc


class PushKeys(_Input):
    p256dh: str = Field(min_length=80, max_length=100, description="浏览器的 P-256 公钥")
    auth: str = Field(min_length=16, max_length=32, description="16 字节的认证密钥")

    @field_validator("p256dh")
    @classmethod
    def _point(cls, value: str) -> str:
        raw = _b64url(value)
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError as exc:
            raise ValueError("不是 P-256 曲线上的公钥") from exc
        return value

    @field_validator("auth")
    @classmethod
    def _secret(cls, value: str) -> str:
        if len(_b64url(value)) != 16:
            raise ValueError("应为 16 字节")
        return value


class PushSubscriptionIn(_Input):
    """What ``PushSubscription.toJSON()`` gives in the browser (``expirationTime`` ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    endpoint: str = Field(min_length=10, max_length=ENDPOINT_MAX)
    keys: PushKeys
    expirationTime: int | None = None  # the browser's name


class PushEndpoint(_Input):
    endpoint: str = Field(min_length=10, max_length=ENDPOINT_MAX)


class PushKeyOut(BaseModel):
    public_key: str = Field(description="VAPID 公钥（base64url），即 applicationServerKey")


class PushDeviceOut(BaseModel):
    id: int
    user_agent: str
    created_at: datetime
    last_sent_at: datetime | None
