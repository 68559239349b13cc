"""Tables of the collaborative office (private to this module).

People and org units are the user center's: they are plain id columns here, never foreign keys
into another module's tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
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

# ---------------------------------------------------------------- notices (通知公告)


class Notice(Base):
    __tablename__ = "oa_notice"
    __table_args__ = (Index("ix_oa_notice_listing", "status", "pinned", "published_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered without raw HTML
    status: Mapped[str] = mapped_column(String(12), index=True)  # draft, published, withdrawn
    # Which people of the addressed units: everyone, students only, staff only.
    people: Mapped[str] = mapped_column(String(10), default="all")
    org_unit_id: Mapped[int] = mapped_column(BigId, index=True)  # the issuing unit
    publisher_id: Mapped[int] = mapped_column(BigId, index=True)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NoticeTarget(Base):
    """One addressed group: the whole campus, an org unit (with or without the units below
    it) or an administrative class."""

    __tablename__ = "oa_notice_target"
    __table_args__ = (Index("ix_oa_notice_target_match", "kind", "target_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notice_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_notice.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # campus, org, class
    target_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    subtree: Mapped[bool] = mapped_column(Boolean, default=False)


class NoticeRead(Base):
    """A read receipt: who opened the notice, when, and in which unit they were then."""

    __tablename__ = "oa_notice_read"
    __table_args__ = (Index("ix_oa_notice_read_person", "person_id", "notice_id"),)

    notice_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_notice.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(BigId)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- schedules (日程)


class CalendarEvent(Base):
    """A personal event or, with invitations, a meeting."""

    __tablename__ = "oa_event"
    __table_args__ = (Index("ix_oa_event_owner_time", "owner_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner_id: Mapped[int] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    reminder_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_meeting: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invitation(Base):
    __tablename__ = "oa_invitation"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_oa_invitation_person", "person_id", "response"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_event.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId)
    response: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str] = mapped_column(String(200), default="")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Reminder(Base):
    """One person's reminder of one event; ``sent_at`` is set once, when it is announced."""

    __tablename__ = "oa_reminder"
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_oa_reminder_due", "sent_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_event.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# ---------------------------------------------------------------- documents (发文)


class Document(Base):
    __tablename__ = "oa_document"
    __table_args__ = (UniqueConstraint("number_prefix", "number_year", "number_seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(12))  # 文种
    issuing_org_id: Mapped[int] = mapped_column(BigId, index=True)
    urgency: Mapped[str] = mapped_column(String(12), default="normal")
    secrecy: Mapped[str] = mapped_column(String(12), default="public")
    body: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drafter_id: Mapped[int] = mapped_column(BigId, index=True)
    # draft, reviewing, approved (awaiting seal), sealed (awaiting distribution), distributed
    status: Mapped[str] = mapped_column(String(12), index=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    return_reason: Mapped[str] = mapped_column(String(500), default="")
    number_prefix: Mapped[str | None] = mapped_column(String(40), nullable=True)
    number_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    seal_name: Mapped[str] = mapped_column(String(60), default="")
    sealed_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    distributed_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    distributed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DocumentAddressee(Base):
    """主送 (main) or 抄送 (copy): an org unit (its staff, units below included) or a person."""

    __tablename__ = "oa_document_addressee"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_document.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(6))  # main, copy
    kind: Mapped[str] = mapped_column(String(8))  # org, person
    target_id: Mapped[int] = mapped_column(BigId)


class DocumentReceipt(Base):
    """收文: one recipient's copy of a distributed document, and when they read it."""

    __tablename__ = "oa_document_receipt"
    __table_args__ = (Index("ix_oa_document_receipt_inbox", "person_id", "delivered_at"),)

    document_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("oa_document.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    role: Mapped[str] = mapped_column(String(6))
    org_unit_id: Mapped[int] = mapped_column(BigId)
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DocumentCounter(Base):
    """The last number given per (prefix, year): taken under a row lock in the approving
    transaction, so numbers never repeat and never skip."""

    __tablename__ = "oa_document_counter"

    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class IssuingPrefix(Base):
    """The 发文字号 prefix of an issuing unit, e.g. 校办发 for the president's office."""

    __tablename__ = "oa_issuing_prefix"

    org_unit_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(40))
