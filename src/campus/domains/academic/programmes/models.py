"""Tables of training programmes (培养方案) and of the teaching plan (教学计划) generated from
them. Private to the academic module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, FixedDecimal, UTCDateTime
from campus.kernel.events import BigId


class Programme(Base):
    """培养方案 of one major (org unit of kind major) for one cohort (intake year), in versions:
    a draft is edited, a published version is read-only; changes make a new version."""

    __tablename__ = "acad_programme"
    __table_args__ = (UniqueConstraint("major_id", "cohort", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    major_id: Mapped[int] = mapped_column(BigId, index=True)  # users org unit, kind major
    college_id: Mapped[int] = mapped_column(BigId, index=True)  # the major's college
    cohort: Mapped[int] = mapped_column(Integer, index=True)  # intake year (年级)
    version: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(120))
    total_credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))  # 毕业最低学分
    years: Mapped[int] = mapped_column(Integer, default=4)  # 学制
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | published
    note: Mapped[str] = mapped_column(Text, default="")
    based_on_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgrammeGroup(Base):
    """课程组 (通识必修, 专业选修…): the student earns at least ``min_credits`` in it."""

    __tablename__ = "acad_programme_group"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    programme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_programme.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(40))
    min_credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class ProgrammeCourse(Base):
    """A catalogue course in a group of the programme, recommended in term 1–8 (or more)."""

    __tablename__ = "acad_programme_course"
    __table_args__ = (UniqueConstraint("programme_id", "course_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    programme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_programme.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_programme_group.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_course.id", ondelete="RESTRICT"), index=True
    )
    term: Mapped[int] = mapped_column(Integer)  # recommended term number, 1 = first autumn
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    hours: Mapped[int] = mapped_column(Integer)  # 总学时 in this programme


class ProgrammePrerequisite(Base):
    """``course_id`` needs ``prerequisite_id`` first (both courses of the programme)."""

    __tablename__ = "acad_programme_prerequisite"
    __table_args__ = (UniqueConstraint("programme_id", "course_id", "prerequisite_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    programme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_programme.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int] = mapped_column(BigId)
    prerequisite_id: Mapped[int] = mapped_column(BigId)


class PlanItem(Base):
    """教学计划: a course an administrative class takes in a term, from its major's published
    programme (the class's term number is the course's recommended term)."""

    __tablename__ = "acad_plan_item"
    __table_args__ = (UniqueConstraint("term_id", "class_id", "course_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="CASCADE"), index=True
    )
    class_id: Mapped[int] = mapped_column(BigId, index=True)
    major_id: Mapped[int] = mapped_column(BigId, index=True)
    college_id: Mapped[int] = mapped_column(BigId, index=True)
    grade: Mapped[int] = mapped_column(Integer)
    term_number: Mapped[int] = mapped_column(Integer)
    programme_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_programme.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_course.id", ondelete="RESTRICT"), index=True
    )
    group_name: Mapped[str] = mapped_column(String(40))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    hours: Mapped[int] = mapped_column(Integer)
