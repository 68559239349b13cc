"""Tables of exam scheduling (考试安排): a term's exam sessions (考试场次), its exams (one per
course assessed by exam, all its sections together), where each exam sits (session, rooms),
seats, invigilators, the sessions people cannot attend, the scheduling runs and the term's plan
(published or not). Private to the academic module."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class ExamSession(Base):
    """考试场次: one exam slot of the term's exam weeks (a date and a time)."""

    __tablename__ = "acad_exam_session"
    __table_args__ = (UniqueConstraint("term_id", "day", "starts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class Exam(Base):
    """One paper: a course's exam for the sections it includes, sat at once. ``excluded``
    exams are not held centrally; ``manual`` ones are placed by hand (``session_id``), not by
    the solver."""

    __tablename__ = "acad_exam"
    __table_args__ = (UniqueConstraint("term_id", "course_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_course.id", ondelete="RESTRICT"), index=True
    )
    duration: Mapped[int] = mapped_column(Integer, default=120)  # minutes
    excluded: Mapped[bool] = mapped_column(default=False)
    manual: Mapped[bool] = mapped_column(default=False)
    session_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("acad_exam_session.id", ondelete="SET NULL"), nullable=True, index=True
    )
    students: Mapped[int] = mapped_column(Integer, default=0)  # at the last scheduling
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExamSection(Base):
    """A section whose students sit the exam (a section is in one exam at most)."""

    __tablename__ = "acad_exam_section"
    __table_args__ = (UniqueConstraint("section_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exam_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_exam.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE")
    )


class ExamRoom(Base):
    """A room an exam sits in, with how many of its students sit there."""

    __tablename__ = "acad_exam_room"
    __table_args__ = (UniqueConstraint("exam_id", "room_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exam_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_exam.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[int] = mapped_column(BigId, ForeignKey("acad_room.id", ondelete="RESTRICT"))
    seats: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ExamSeat(Base):
    """座位: a student's room and seat for an exam."""

    __tablename__ = "acad_exam_seat"
    __table_args__ = (UniqueConstraint("exam_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exam_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_exam.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    room_id: Mapped[int] = mapped_column(BigId)
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)


class Invigilation(Base):
    """监考: a person on duty in a room during a session."""

    __tablename__ = "acad_exam_invigilation"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_exam_session.id", ondelete="CASCADE"), index=True
    )
    room_id: Mapped[int] = mapped_column(BigId)
    person_id: Mapped[int] = mapped_column(BigId, index=True)


class ExamUnavailability(Base):
    """不可考/不可监考场次: a student who cannot sit an exam, or a member of staff who cannot
    invigilate, in a session (a competition, a trip). Hard for the solver and the duties."""

    __tablename__ = "acad_exam_unavailable"
    __table_args__ = (UniqueConstraint("session_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_exam_session.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    reason: Mapped[str] = mapped_column(String(100), default="")
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExamRun(Base):
    """One scheduling run of a term (a background task); its status is its task's."""

    __tablename__ = "acad_exam_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    time_limit: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    room_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: all with seats
    task_id: Mapped[int] = mapped_column(BigId, index=True)
    feasible: Mapped[bool | None] = mapped_column(nullable=True)
    cost: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applied: Mapped[bool] = mapped_column(default=False)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # reasons, history
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ExamPlan(Base):
    """A term's exam timetable: scheduled (by which run), published (which version)."""

    __tablename__ = "acad_exam_plan"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), unique=True
    )
    run_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
