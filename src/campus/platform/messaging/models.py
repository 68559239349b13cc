"""Tables of the notifications core (private to this module; the sub-packages keep their own).

A notification is stored once. Who receives it depends on its kind:
- targeted (people, roles, org units, classes): resolved when sent and fanned out on write, one
  ``msg_recipient`` row per person, written in batches; the row carries the read receipt;
- campus-wide (everyone, or every student, or all staff): fanned out on read, no rows per
  person; the inbox matches the rule against the reader at reading time, and a
  ``msg_broadcast_read`` row records that one person has read it.

People, org units and classes are the user center's: plain id columns, never foreign keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Template(Base):
    """A reusable title and body with ``{name}`` variables, e.g. 待办提醒."""

    __tablename__ = "msg_template"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    variables: Mapped[list[str]] = mapped_column(JSON, default=list)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(BigId, nullable=True)


class Notification(Base):
    __tablename__ = "msg_notification"
    __table_args__ = (
        # The inbox's campus-wide half: few rows, read newest first.
        Index("ix_msg_notification_broadcast", "broadcast", "id"),
        Index("ix_msg_notification_sender", "sender_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    category: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # The rule as it was given (people, roles, units, classes, everyone, person types).
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    broadcast: Mapped[bool] = mapped_column(Boolean, default=False)
    # Of a campus-wide notification: "all", "student" or "staff" (matched at reading time).
    person_scope: Mapped[str] = mapped_column(String(10), default="all")
    # Targeted: the rows written; campus-wide: the people the rule matched when it was sent.
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    template_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    sender_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # "module:object" of what caused it: a second notify with the same source is the first one.
    source: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Recipient(Base):
    """One person of a targeted notification, with their read receipt."""

    __tablename__ = "msg_recipient"
    __table_args__ = (
        Index("ix_msg_recipient_inbox", "person_id", "notification_id"),
        Index("ix_msg_recipient_unread", "person_id", "read_at"),
    )

    notification_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_notification.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class BroadcastRead(Base):
    """One person has read one campus-wide notification."""

    __tablename__ = "msg_broadcast_read"
    __table_args__ = (Index("ix_msg_broadcast_read_person", "person_id", "notification_id"),)

    notification_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_notification.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelPreference(Base):
    """A person's external channels for one category (the inbox is always on). No row: the
    defaults of ``schemas.DEFAULT_CHANNELS``."""

    __tablename__ = "msg_preference"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    wecom: Mapped[bool] = mapped_column(Boolean, default=False)


class QuietHours(Base):
    """A person's 免打扰 period, in China time; it may run over midnight (22:00–07:00)."""

    __tablename__ = "msg_quiet_hours"

    person_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    start_minute: Mapped[int] = mapped_column(Integer)  # minutes after midnight
    end_minute: Mapped[int] = mapped_column(Integer)


class Delivery(Base):
    """One external send (email, SMS, WeCom) of one notification to one person, and how it went:
    queued → sent | failed (after retries); held while the person's quiet hours last; skipped
    when they have no address on that channel."""

    __tablename__ = "msg_delivery"
    __table_args__ = (
        Index("ix_msg_delivery_due", "status", "due_at"),
        Index("ix_msg_delivery_notification", "notification_id", "channel", "status"),
        UniqueConstraint("notification_id", "person_id", "channel"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    notification_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("msg_notification.id", ondelete="CASCADE")
    )
    person_id: Mapped[int] = mapped_column(BigId)
    channel: Mapped[str] = mapped_column(String(10))
    # Which implementation sent it: "smtp", a vendor's name, or "log" (the demo: not sent).
    adapter: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(10))
    # What was (or, for the demo adapters, would have been) sent.
    content: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
