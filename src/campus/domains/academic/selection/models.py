"""Tables of course selection (选课): the rounds of a term and each student's place in a
section. Private to the academic module.

A seat is decided by the seat claims in the cache (atomic, so the database is not the point
every student of the campus queues on); the row here is the durable record of it, written in
the same transaction as its event."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, FixedDecimal, UTCDateTime
from campus.kernel.events import BigId


class Round(Base):
    """选课轮次: who may select in which term, when, and how (预选 settled by lottery, 正选
    first come first served, 补退选 add and drop)."""

    __tablename__ = "acad_sel_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12))  # lottery | first_come | add_drop
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    grades: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every grade
    major_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every major
    max_credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))
    waitlist: Mapped[bool] = mapped_column(default=True)  # a full section takes a waitlist
    drop_allowed: Mapped[bool] = mapped_column(default=True)
    # The virtual queue at the door: students admitted per second (none: no queue).
    queue_rate: Mapped[int | None] = mapped_column(nullable=True, default=None)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # lottery
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Enrollment(Base):
    """A student's place in a section: ``selected`` (holds a seat), ``waitlisted`` (queued by
    ``queued_at``), ``preferred`` (a wish of a lottery round, no seat yet), ``lost`` (the
    lottery did not draw it) or ``dropped``. One row per student and section, reused when they
    come back to it."""

    __tablename__ = "acad_sel_enrollment"
    __table_args__ = (
        UniqueConstraint("section_id", "person_id"),
        Index("ix_acad_sel_enrollment_person_term", "person_id", "term_id"),
        Index("ix_acad_sel_enrollment_section_status", "section_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(BigId, ForeignKey("acad_term.id", ondelete="RESTRICT"))
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="RESTRICT")
    )
    course_id: Mapped[int] = mapped_column(BigId)  # one section of a course per term
    person_id: Mapped[int] = mapped_column(BigId)  # users_person.id
    round_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("acad_sel_round.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))  # self | lottery | promoted | override
    credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SelectionRequest(Base):
    """An accepted selection request, by the idempotency key its client sent: a replay (a
    double click, a retry after a lost answer) gets the same answer and changes nothing."""

    __tablename__ = "acad_sel_request"
    __table_args__ = (UniqueConstraint("person_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId)
    key: Mapped[str] = mapped_column(String(64))
    section_id: Mapped[int] = mapped_column(BigId)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
