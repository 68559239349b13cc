"""Input and output of the collaborative office: notices, schedules, documents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from campus.kernel.clock import aware
from campus.kernel.pagination import Page

AudiencePeople = Literal["all", "students", "staff"]
TargetKind = Literal["campus", "org", "class"]
NoticeStatus = Literal["draft", "published", "withdrawn"]
Response = Literal["pending", "accepted", "declined", "tentative"]
Answer = Literal["accepted", "declined", "tentative"]
DocumentKind = Literal["notice", "decision", "bulletin", "request", "report", "letter", "minutes"]
Urgency = Literal["normal", "urgent", "very_urgent"]
Secrecy = Literal["public", "internal"]
DocumentStatus = Literal["draft", "reviewing", "approved", "sealed", "distributed"]
AddresseeRole = Literal["main", "copy"]

MAX_TARGETS = 50
MAX_ATTACHMENTS = 20
MAX_INVITEES = 500
MAX_REMINDER_MINUTES = 7 * 24 * 60
FILE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PREFIX_PATTERN = r"^\S{1,20}$"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


FileIds = list[str]


# ---------------------------------------------------------------- notices


class TargetIn(_Input):
    """Whom a notice goes to: ``campus`` (everyone), ``org`` (a unit, with the units below it
    when ``subtree``) or ``class`` (an administrative class)."""

    kind: TargetKind
    id: int | None = Field(None, description="单位或班级的 id；全校时留空")
    subtree: bool = Field(True, description="单位时：是否包括下级单位")


class NoticeCreate(_Input):
    title: str = Field(min_length=1, max_length=120)
    body: str = Field("", max_length=20_000, description="正文，Markdown（不接受 HTML）")
    org_unit_id: int | None = Field(None, description="发布单位；默认为发布人所在单位")
    people: AudiencePeople = Field("all", description="全体人员、仅学生或仅教职工")
    targets: list[TargetIn] = Field(min_length=1, max_length=MAX_TARGETS)
    pinned: bool = False
    expires_on: date | None = Field(None, description="到期日（含当天），之后不再列出")
    attachments: FileIds = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


class NoticeUpdate(_Input):
    """Fields to change on a draft; fields left out stay as they are."""

    title: str | None = Field(None, min_length=1, max_length=120)
    body: str | None = Field(None, max_length=20_000)
    org_unit_id: int | None = None
    people: AudiencePeople | None = None
    targets: list[TargetIn] | None = Field(None, min_length=1, max_length=MAX_TARGETS)
    pinned: bool | None = None
    expires_on: date | None = None
    attachments: FileIds | None = Field(None, max_length=MAX_ATTACHMENTS)


class Withdraw(_Input):
    reason: str = Field(min_length=1, max_length=200)


class TargetOut(BaseModel):
    kind: TargetKind
    id: int | None
    subtree: bool
    name: str


class AttachmentOut(BaseModel):
    id: str
    name: str
    size: int | None = None


class NoticeOut(BaseModel):
    id: int
    title: str
    body: str
    status: NoticeStatus
    people: AudiencePeople
    org_unit_id: int
    org_unit_name: str
    publisher_id: int
    publisher_name: str
    pinned: bool
    expires_on: date | None
    attachments: list[AttachmentOut] = Field(default_factory=list)
    targets: list[TargetOut]
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdraw_reason: str
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None = Field(None, description="读者本人的阅读时间")


class NoticeListItem(BaseModel):
    id: int
    title: str
    status: NoticeStatus
    org_unit_id: int
    org_unit_name: str
    publisher_name: str
    pinned: bool
    expires_on: date | None
    published_at: datetime | None
    updated_at: datetime
    read: bool | None = Field(None, description="读者是否已读（仅“我的通知”）")


class NoticePage(Page[NoticeListItem]):
    unread: int = Field(0, description="未读条数（仅“我的通知”）")


class UnitCount(BaseModel):
    org_unit_id: int
    name: str
    total: int
    read: int


class ReceiptSummary(BaseModel):
    total: int
    read: int
    unread: int
    units: list[UnitCount]


class ReceiptPerson(BaseModel):
    person_id: int
    name: str
    number: str | None
    org_unit_id: int
    org_unit_name: str
    read_at: datetime | None


class ReceiptPage(Page[ReceiptPerson]):
    pass


# ---------------------------------------------------------------- schedules


class OrgInvite(_Input):
    id: int
    subtree: bool = True


class Invitees(_Input):
    people: list[int] = Field(default_factory=list, max_length=MAX_INVITEES)
    org_units: list[OrgInvite] = Field(default_factory=list, max_length=MAX_TARGETS)


class _Times(_Input):
    @field_validator("starts_at", "ends_at", check_fields=False)
    @classmethod
    def _china_time_unless_zoned(cls, value: datetime | None) -> datetime | None:
        return None if value is None else aware(value)


class EventCreate(_Times):
    title: str = Field(min_length=1, max_length=120)
    place: str = Field("", max_length=120)
    notes: str = Field("", max_length=5_000)
    starts_at: datetime = Field(description="开始时间；不带时区时按北京时间")
    ends_at: datetime = Field(description="结束时间；全天日程为最后一天的任意时刻")
    all_day: bool = False
    reminder_minutes: int | None = Field(None, ge=0, le=MAX_REMINDER_MINUTES)
    invitees: Invitees = Field(default_factory=Invitees)


class EventUpdate(_Times):
    title: str | None = Field(None, min_length=1, max_length=120)
    place: str | None = Field(None, max_length=120)
    notes: str | None = Field(None, max_length=5_000)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool | None = None
    reminder_minutes: int | None = Field(None, ge=0, le=MAX_REMINDER_MINUTES)


class ConflictQuery(_Times):
    starts_at: datetime
    ends_at: datetime
    all_day: bool = False
    invitees: Invitees
    event_id: int | None = Field(None, description="修改已有会议时，不把它自己算作冲突")


class AnswerIn(_Input):
    response: Answer
    reason: str = Field("", max_length=200)


class CancelIn(_Input):
    reason: str = Field("", max_length=200)


class BusySlot(BaseModel):
    starts_at: datetime
    ends_at: datetime


class ConflictOut(BaseModel):
    """An invitee already busy then (what they are doing is not told)."""

    person_id: int
    name: str
    busy: list[BusySlot]


class InvitationOut(BaseModel):
    person_id: int
    name: str
    response: Response
    reason: str
    responded_at: datetime | None


class EventOut(BaseModel):
    id: int
    owner_id: int
    owner_name: str
    title: str
    place: str
    notes: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    reminder_minutes: int | None
    is_meeting: bool
    cancelled: bool
    cancel_reason: str
    mine: bool = Field(description="读者是组织者")
    my_response: Response | None = Field(None, description="读者作为受邀人的回复")
    invitations: list[InvitationOut] = Field(default_factory=list)
    counts: dict[str, int] = Field(default_factory=dict)


class EventSaved(BaseModel):
    event: EventOut
    conflicts: list[ConflictOut]
    unknown: list[int] = Field(default_factory=list)


class CalendarItem(BaseModel):
    """One event as a calendar shows it."""

    id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    is_meeting: bool
    mine: bool
    response: Response | None
    cancelled: bool
    reminded_at: datetime | None = None


class InvitationItem(BaseModel):
    event_id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    owner_name: str
    response: Response
    reason: str
    cancelled: bool


# ---------------------------------------------------------------- documents


class AddresseeIn(_Input):
    kind: Literal["org", "person"]
    id: int


class DocumentCreate(_Input):
    title: str = Field(min_length=1, max_length=200)
    kind: DocumentKind = Field(description="文种：通知/决定/通报/请示/报告/函/纪要")
    issuing_org_id: int | None = Field(None, description="发文单位；默认为拟稿人所在单位")
    urgency: Urgency = "normal"
    secrecy: Secrecy = "public"
    body: str = Field("", max_length=50_000)
    attachments: FileIds = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    main: list[AddresseeIn] = Field(default_factory=list, max_length=MAX_TARGETS)
    copy_to: list[AddresseeIn] = Field(default_factory=list, max_length=MAX_TARGETS)


class DocumentUpdate(_Input):
    title: str | None = Field(None, min_length=1, max_length=200)
    kind: DocumentKind | None = None
    issuing_org_id: int | None = None
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    body: str | None = Field(None, max_length=50_000)
    attachments: FileIds | None = Field(None, max_length=MAX_ATTACHMENTS)
    main: list[AddresseeIn] | None = Field(None, max_length=MAX_TARGETS)
    copy_to: list[AddresseeIn] | None = Field(None, max_length=MAX_TARGETS)


class SealIn(_Input):
    seal_name: str = Field(min_length=1, max_length=60, description="印章名称")


class PrefixIn(_Input):
    prefix: str = Field(pattern=PREFIX_PATTERN, description="发文字号前缀，如“校办发”")


class PrefixOut(BaseModel):
    org_unit_id: int
    org_unit_name: str
    prefix: str
    configured: bool


class AddresseeOut(BaseModel):
    role: AddresseeRole
    kind: Literal["org", "person"]
    id: int
    name: str


class DocumentOut(BaseModel):
    id: int
    title: str
    kind: DocumentKind
    issuing_org_id: int
    issuing_org_name: str
    urgency: Urgency
    secrecy: Secrecy
    body: str
    attachments: list[AttachmentOut] = Field(default_factory=list)
    drafter_id: int
    drafter_name: str
    status: DocumentStatus
    instance_id: int | None
    return_reason: str
    number: str | None
    seal_name: str
    sealed_by_name: str | None
    sealed_at: datetime | None
    distributed_at: datetime | None
    submitted_at: datetime | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    addressees: list[AddresseeOut]
    recipients: int = Field(0, description="分发后的收文人数")
    read: int = Field(0, description="其中已读人数")
    my_receipt_read_at: datetime | None = None


class DocumentListItem(BaseModel):
    id: int
    title: str
    kind: DocumentKind
    issuing_org_name: str
    urgency: Urgency
    status: DocumentStatus
    number: str | None
    drafter_name: str
    updated_at: datetime
    return_reason: str


class DocumentPage(Page[DocumentListItem]):
    pass


class InboxItem(BaseModel):
    document_id: int
    title: str
    kind: DocumentKind
    number: str | None
    issuing_org_name: str
    urgency: Urgency
    secrecy: Secrecy
    role: AddresseeRole
    delivered_at: datetime
    read_at: datetime | None


class InboxPage(Page[InboxItem]):
    unread: int = 0


class UpcomingReminder(BaseModel):
    """An event the person was reminded of (the reminder is due and was announced)."""

    event_id: int
    title: str
    place: str
    starts_at: datetime
    reminded_at: datetime
