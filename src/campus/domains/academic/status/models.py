"""Tables of student status (学籍): the record per student, the change requests (学籍异动) and
the history of every change; batch graduations. Private to the academic module."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class StudentStatus(Base):
    """学籍: a student's current standing. ``college_id`` is the major's college (data scope)."""

    __tablename__ = "acad_student_status"
    __table_args__ = (Index("ix_acad_student_status_grade_major", "grade", "major_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, unique=True)  # users_person.id
    student_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    level: Mapped[str] = mapped_column(String(20))  # undergraduate | postgraduate
    college_id: Mapped[int] = mapped_column(BigId, index=True)  # users_org_unit.id
    major_id: Mapped[int] = mapped_column(BigId, index=True)  # users_org_unit.id
    class_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    grade: Mapped[int] = mapped_column(Integer, index=True)  # 年级 (cohort)
    enrolled_on: Mapped[date] = mapped_column(Date)
    expected_graduation: Mapped[date] = mapped_column(Date)
    years: Mapped[int] = mapped_column(Integer)  # 学制
    status: Mapped[str] = mapped_column(String(20), index=True)
    in_school: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusChange(Base):
    """学籍异动申请: one request, approved through a workflow instance. ``open_key`` is set
    while it is pending, so a student has at most one open request of each kind."""

    __tablename__ = "acad_status_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(
        String(20), index=True
    )  # pending|approved|rejected|withdrawn
    open_key: Mapped[str | None] = mapped_column(String(60), unique=True, nullable=True)
    reason: Mapped[str] = mapped_column(String(500))
    terms: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 休学学期数
    target_major_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    target_class_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    target_grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
    college_id: Mapped[int] = mapped_column(BigId, index=True)  # the student's, when filed
    filed_by: Mapped[int] = mapped_column(BigId)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True, index=True)
    outcome_note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StatusHistory(Base):
    """One applied change of a record: who, when, from → to, why, through which instance."""

    __tablename__ = "acad_status_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    change_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("acad_status_change.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    from_major_id: Mapped[int] = mapped_column(BigId)
    to_major_id: Mapped[int] = mapped_column(BigId)
    from_class_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    to_class_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    from_grade: Mapped[int] = mapped_column(Integer)
    to_grade: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    batch_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class GraduationBatch(Base):
    """毕业/结业 of a cohort at once, applied in chunks (the page shows the progress)."""

    __tablename__ = "acad_graduation_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # graduate | complete
    grade: Mapped[int] = mapped_column(Integer)
    major_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    excluded: Mapped[str] = mapped_column(String(4000), default="")  # student numbers, one a line
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(20))  # running | finished
    reason: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
