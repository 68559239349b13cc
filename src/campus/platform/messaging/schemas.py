"""Input and output models of the notifications core."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from campus.kernel.i18n import LazyText, _, shown
from campus.kernel.pagination import Page

Priority = Literal["normal", "important", "emergency"]
PersonKind = Literal["student", "staff"]
Channel = Literal["email", "sms", "wecom"]
DeliveryStatus = Literal["queued", "held", "sending", "sent", "failed", "skipped"]

PRIORITIES: tuple[Priority, ...] = ("normal", "important", "emergency")
CHANNELS: tuple[Channel, ...] = ("email", "sms", "wecom")

MAX_TITLE = 200
MAX_BODY = 10_000
MAX_LINK = 500
MAX_PEOPLE = 5_000
MAX_GROUPS = 200
MAX_VARIABLES = 20
MAX_VARIABLE_VALUE = 500
CATEGORY_PATTERN = r"^[a-z][a-z0-9_]{1,19}$"
TEMPLATE_CODE_PATTERN = r"^[a-z][a-z0-9_.-]{1,59}$"
VARIABLE_PATTERN = r"^[a-z_][a-z0-9_]{0,31}$"
# A template variable in a text: {name}. Nothing else inside braces is ever evaluated.
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The categories people set their channels for; other modules may use other slugs (they get
# the defaults and show under their slug).
CATEGORIES: dict[str, LazyText] = {
    "system": _("系统消息"),
    "workflow": _("办事审批"),
    "oa": _("协同办公"),
    "academic": _("教务教学"),
    "push": _("订阅推送"),
    "community": _("校园社区"),
    "im": _("即时通讯"),
}
PRIORITY_TITLES: dict[str, LazyText] = {
    "normal": _("普通"),
    "important": _("重要"),
    "emergency": _("紧急"),
}
CHANNEL_TITLES: dict[str, LazyText] = {
    "inbox": _("站内信"),
    "email": _("电子邮件"),
    "sms": _("短信"),
    "wecom": _("企业微信"),
}
# External channels for a category nobody has chosen for yet: workflow to-dos also by e-mail.
DEFAULT_CHANNELS: dict[str, frozenset[str]] = {"workflow": frozenset({"email"})}


def category_title(category: str) -> str:
    found = CATEGORIES.get(category)
    return str(found) if found is not None else category


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Audience(_Input):
    """Whom a notification is for. ``everyone`` is the whole campus (fanned out on read; alone,
    or narrowed by ``person_types``); otherwise the union of the people, the holders of the
    roles, the members of the org units with the units below them (``org_unit_ids``) or of the
    units alone (``exact_org_unit_ids``) and of the classes — narrowed by ``person_types``."""

    person_ids: list[int] = Field(default_factory=list, max_length=MAX_PEOPLE)
    role_codes: list[str] = Field(default_factory=list, max_length=MAX_GROUPS)
    org_unit_ids: list[int] = Field(default_factory=list, max_length=MAX_GROUPS)
    exact_org_unit_ids: list[int] = Field(default_factory=list, max_length=MAX_GROUPS)
    class_ids: list[int] = Field(default_factory=list, max_length=MAX_GROUPS)
    everyone: bool = False
    person_types: list[PersonKind] = Field(default_factory=list, max_length=2)

    @property
    def is_empty(self) -> bool:
        return not (
            self.everyone
            or self.person_ids
            or self.role_codes
            or self.org_unit_ids
            or self.exact_org_unit_ids
            or self.class_ids
        )

    @property
    def has_groups(self) -> bool:
        return bool(
            self.person_ids
            or self.role_codes
            or self.org_unit_ids
            or self.exact_org_unit_ids
            or self.class_ids
        )

    @property
    def person_scope(self) -> str:
        """Of a campus-wide audience: "all", "student" or "staff"."""
        kinds = set(self.person_types)
        return kinds.pop() if len(kinds) == 1 else "all"


class NotificationIn(_Input):
    """What a module (or a sender on the send page) asks the messaging center to deliver.
    With ``template``, the title and body are the template's, filled with ``variables``
    (``title`` and ``body`` may then stay empty)."""

    title: str = Field("", max_length=MAX_TITLE)
    body: str = Field("", max_length=MAX_BODY)
    link: str | None = Field(None, max_length=MAX_LINK)
    category: str = Field(pattern=CATEGORY_PATTERN)
    priority: Priority = "normal"
    audience: Audience
    template: str | None = Field(None, max_length=60)
    variables: dict[str, str] = Field(default_factory=dict, max_length=MAX_VARIABLES)
    expires_at: datetime | None = None
    sender_id: int | None = None
    source: str | None = Field(None, max_length=120)

    @field_validator("link")
    @classmethod
    def _relative_or_web(cls, value: str | None) -> str | None:
        if not value:
            return None
        if value.startswith("/") and not value.startswith("//"):
            return value
        if value.startswith(("https://", "http://")):
            return value
        raise ValueError(str(_("链接应为站内路径（以 / 开头）或 http(s) 地址")))

    @field_validator("variables")
    @classmethod
    def _short_values(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if len(text) > MAX_VARIABLE_VALUE:
                raise ValueError(
                    str(_("变量 {name} 的值过长（最多 {n} 字）", name=name, n=MAX_VARIABLE_VALUE))
                )
        return value

    @model_validator(mode="after")
    def _titled(self) -> NotificationIn:
        if not self.template and not self.title:
            raise ValueError(str(_("请填写标题，或选择一个模板")))
        return self


class NotificationOut(BaseModel):
    """A notification as its reader sees it in the inbox."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    priority: Priority
    title: str
    body: str
    link: str | None
    broadcast: bool
    sender_id: int | None
    sender_name: str | None = None
    created_at: datetime
    expires_at: datetime | None
    read_at: datetime | None = None

    @property
    def unread(self) -> bool:
        return self.read_at is None


class InboxPage(Page[NotificationOut]):
    unread: int = Field(description="未读总数")


class SentItem(BaseModel):
    """A notification in its sender's list."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: str
    priority: Priority
    title: str
    broadcast: bool
    recipient_count: int
    created_at: datetime
    expires_at: datetime | None
    read_count: int = 0


class SentPage(Page[SentItem]):
    pass


class SendResult(BaseModel):
    id: int
    broadcast: bool
    recipient_count: int


class ReadBucket(BaseModel):
    at: datetime
    read: int
    cumulative: int


class ChannelStats(BaseModel):
    channel: str
    queued: int = 0
    held: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0


class NotificationStats(BaseModel):
    """Read receipts and deliveries for the sender."""

    id: int
    title: str
    broadcast: bool
    audience_size: int
    read_count: int
    read_percent: float
    channels: list[ChannelStats]
    reads_over_time: list[ReadBucket]


class ReceiptRow(BaseModel):
    person_id: int
    name: str
    number: str | None
    org_unit_name: str | None
    read_at: datetime | None


class ChannelChoice(_Input):
    category: str = Field(pattern=CATEGORY_PATTERN)
    email: bool = False
    sms: bool = False
    wecom: bool = False


QUIET_TIME = r"^([01]\d|2[0-3]):[0-5]\d$"


class QuietHoursIn(_Input):
    enabled: bool = True
    start: str = Field("22:00", pattern=QUIET_TIME, description="开始时间 HH:MM（北京时间）")
    end: str = Field("07:00", pattern=QUIET_TIME, description="结束时间 HH:MM（北京时间）")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursIn:
        if self.enabled and self.start == self.end:
            raise ValueError(str(_("免打扰的开始和结束时间不能相同")))
        return self


class PreferencesIn(_Input):
    channels: list[ChannelChoice] = Field(default_factory=list, max_length=40)
    quiet_hours: QuietHoursIn | None = None


class PreferencesOut(BaseModel):
    channels: list[ChannelChoice]
    quiet_hours: QuietHoursIn | None


class TemplateIn(_Input):
    code: str = Field(pattern=TEMPLATE_CODE_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    category: str = Field(pattern=CATEGORY_PATTERN)
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field("", max_length=MAX_BODY)
    variables: list[str] = Field(default_factory=list, max_length=MAX_VARIABLES)

    @field_validator("variables")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not re.match(VARIABLE_PATTERN, name):
                raise ValueError(
                    str(_("变量名“{name}”不合法：只能用小写字母、数字和下划线", name=name))
                )
        if len(set(value)) != len(value):
            raise ValueError(str(_("变量名重复")))
        return value


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    category: str
    title: str
    body: str
    variables: list[str]
    builtin: bool
    updated_at: datetime


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    notification_id: int
    person_id: int
    channel: str
    address: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    due_at: datetime
    sent_at: datetime | None

    @field_validator("last_error", mode="before")
    @classmethod
    def _in_readers_language(cls, value: str | None) -> str | None:
        return shown(value)  # our own reasons are kept as messages (i18n.storable)


def placeholders(text: str) -> set[str]:
    """The ``{name}`` variables a text uses."""
    return set(PLACEHOLDER.findall(text))


def _builtin(code: str, name: str, category: str, title: str, body: str = "") -> TemplateIn:
    return TemplateIn(
        code=code,
        name=name,
        category=category,
        title=title,
        body=body,
        variables=sorted(placeholders(title) | placeholders(body)),
    )


# Templates the platform's own reactions use. A row of the same code in msg_template (seeded,
# editable by admins) overrides the wording; without one these apply.
BUILTIN_TEMPLATES: dict[str, TemplateIn] = {
    t.code: t
    for t in (
        _builtin(
            "workflow.todo",
            "待办提醒",
            "workflow",
            "待办：{title}",
            "您有一项新的待办“{step}”，请及时处理。",
        ),
        _builtin(
            "workflow.outcome",
            "办理结果",
            "workflow",
            "您的申请“{title}”{outcome}",
            "申请“{title}”{outcome}。",
        ),
        _builtin(
            "workflow.overdue",
            "待办超时",
            "workflow",
            "待办超时：{title}",
            "待办“{step}”已超过办理时限，请尽快处理。",
        ),
        _builtin(
            "oa.notice",
            "新通知公告",
            "oa",
            "通知公告：{title}",
            "{unit}发布了通知“{title}”，请查阅。",
        ),
        _builtin(
            "oa.document",
            "收文提醒",
            "oa",
            "收文：{title}",
            "您有一份新的收文“{title}”（{number}），请及时签收办理。",
        ),
        _builtin(
            "oa.invitation",
            "会议邀请",
            "oa",
            "会议邀请：{title}",
            "时间：{time}\n地点：{place}",
        ),
        _builtin(
            "oa.meeting_changed",
            "会议变更",
            "oa",
            "会议变更：{title}",
            "会议时间或地点已变更。\n时间：{time}\n地点：{place}",
        ),
        _builtin(
            "oa.meeting_cancelled",
            "会议取消",
            "oa",
            "会议取消：{title}",
            "会议“{title}”已取消。原因：{reason}",
        ),
        _builtin(
            "oa.reminder",
            "日程提醒",
            "oa",
            "日程提醒：{title}",
            "{time} 开始\n地点：{place}",
        ),
        _builtin(
            "system.maintenance",
            "系统维护",
            "system",
            "系统维护通知：{system}",
            "{system}将于 {time} 进行维护，预计持续 {duration}，期间暂停服务。",
        ),
        _builtin(
            "academic.exam",
            "考试安排",
            "academic",
            "考试安排：{course}",
            "{course}考试定于 {time} 在 {place} 举行，请携带学生证按时参加。",
        ),
    )
}
