"""Events of the collaborative office. Payloads carry what a consumer needs to act without
asking back (the messaging center delivers reminders and invitations from them alone)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

NOTICE_PUBLISHED = "oa.notice.published"
NOTICE_WITHDRAWN = "oa.notice.withdrawn"
SCHEDULE_INVITED = "oa.schedule.invited"
SCHEDULE_ANSWERED = "oa.schedule.answered"
SCHEDULE_CHANGED = "oa.schedule.changed"
SCHEDULE_CANCELLED = "oa.schedule.cancelled"
REMINDER_DUE = "oa.schedule.reminder_due"
DOCUMENT_SUBMITTED = "oa.document.submitted"
DOCUMENT_RETURNED = "oa.document.returned"
DOCUMENT_APPROVED = "oa.document.approved"
DOCUMENT_SEALED = "oa.document.sealed"
DOCUMENT_DISTRIBUTED = "oa.document.distributed"


class NoticePublished(BaseModel):
    notice_id: int
    title: str
    org_unit_id: int
    publisher_id: int
    people: str
    targets: list[dict[str, int | str | bool | None]]


class NoticeWithdrawn(BaseModel):
    notice_id: int
    title: str
    reason: str


class ScheduleInvited(BaseModel):
    event_id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    organiser_id: int
    person_ids: list[int]


class ScheduleAnswered(BaseModel):
    event_id: int
    organiser_id: int
    person_id: int
    response: str
    reason: str


class ScheduleChanged(BaseModel):
    """A meeting's time or place changed; ``person_ids`` are those still invited."""

    event_id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    person_ids: list[int]


class ScheduleCancelled(BaseModel):
    event_id: int
    title: str
    reason: str
    person_ids: list[int]


class ReminderDue(BaseModel):
    """Announced exactly once per reminder (one person, one event)."""

    reminder_id: int
    event_id: int
    person_id: int
    title: str
    place: str
    starts_at: datetime
    ends_at: datetime
    all_day: bool
    minutes_before: int


class DocumentSubmitted(BaseModel):
    document_id: int
    instance_id: int
    title: str
    drafter_id: int


class DocumentReturned(BaseModel):
    """Rejected or withdrawn in approval: the document is a draft again."""

    document_id: int
    drafter_id: int
    outcome: str
    reason: str


class DocumentApproved(BaseModel):
    document_id: int
    number: str
    drafter_id: int
    issuing_org_id: int


class DocumentSealed(BaseModel):
    document_id: int
    number: str
    seal_name: str
    sealed_by: int


class DocumentDistributed(BaseModel):
    document_id: int
    number: str
    title: str
    recipient_ids: list[int]
    urgency: str = "normal"
    distributor_id: int | None = None
