"""Tables of timetabling (排课). Private to the academic module.

A term's draft timetable is its ``Lecture`` rows (one per section and lecture of the week);
publishing copies them into ``PublishedLecture`` under a new version, which is what students,
teachers and the free-classroom search read. Days are 0-based (0 Monday), blocks 1-based (大节).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Run(Base):
    """One timetabling run: a full solve of a term, a re-schedule keeping the current
    timetable, or an ITC-2007 benchmark in a sandbox (no term). Its status is its task's."""

    __tablename__ = "acad_tt_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), nullable=True, index=True
    )
    mode: Mapped[str] = mapped_column(String(12))  # full | reschedule | benchmark
    name: Mapped[str] = mapped_column(String(120))
    time_limit: Mapped[int] = mapped_column(Integer)  # seconds
    seed: Mapped[int] = mapped_column(Integer, default=0)
    task_id: Mapped[int] = mapped_column(BigId, index=True)
    instance: Mapped[str | None] = mapped_column(Text, nullable=True)  # the uploaded .ctt
    feasible: Mapped[bool | None] = mapped_column(nullable=True)
    hard: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cost: Mapped[int | None] = mapped_column(Integer, nullable=True)
    moved: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applied: Mapped[bool] = mapped_column(default=False)  # its placements are the draft
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # conflicts, moves
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Timetable(Base):
    """A term's timetable: its draft revision and the version last published."""

    __tablename__ = "acad_tt_timetable"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), unique=True
    )
    revision: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every change
    published_version: Mapped[int] = mapped_column(Integer, default=0)
    published_revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    run_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lecture(Base):
    """One weekly lecture of a section in the draft: its day, block and room."""

    __tablename__ = "acad_tt_lecture"
    __table_args__ = (
        UniqueConstraint("section_id", "number"),
        UniqueConstraint("term_id", "day", "block", "room_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)  # 0-based lecture of the week
    day: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_room.id", ondelete="RESTRICT"), index=True
    )
    pinned: Mapped[bool] = mapped_column(default=False)


class PublishedLecture(Base):
    """A lecture of the published timetable (the latest version only)."""

    __tablename__ = "acad_tt_published"
    __table_args__ = (
        UniqueConstraint("section_id", "number"),
        Index("ix_acad_tt_published_slot", "term_id", "day", "block"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_room.id", ondelete="RESTRICT"), index=True
    )


class TeacherTime(Base):
    """A teacher's time the solver must avoid (``unavailable``, hard) or should (``avoid``,
    soft), e.g. a teacher ill on some slots or a standing preference."""

    __tablename__ = "acad_tt_teacher_time"
    __table_args__ = (UniqueConstraint("term_id", "person_id", "day", "block"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    day: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))  # unavailable | avoid
    reason: Mapped[str] = mapped_column(String(200), default="")


class RoomClosure(Base):
    """A room closed at a slot of the week for the term (repairs, another use)."""

    __tablename__ = "acad_tt_room_closure"
    __table_args__ = (UniqueConstraint("term_id", "room_id", "day", "block"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_room.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")


class FixedSlot(Base):
    """A lecture fixed before any run (a shared sports hall, an evening course): the solver
    places it there."""

    __tablename__ = "acad_tt_fixed"
    __table_args__ = (UniqueConstraint("section_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    room_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_room.id", ondelete="CASCADE"), index=True
    )
