"""Tables of course offering (开课): sections (教学班) of catalogue courses in a term, their
teachers and the classes and majors they are for. Private to the academic module."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, UTCDateTime
from campus.kernel.events import BigId


class Section(Base):
    """教学班: one group of students taught a course together in a term.

    It meets ``lectures_per_week`` times a week, each time for one block (大节) of the period
    grid, in weeks ``week_from``..``week_to`` (all, odd or even weeks), in a room of
    ``room_type`` seating at least ``capacity``."""

    __tablename__ = "acad_section"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    term_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_term.id", ondelete="RESTRICT"), index=True
    )
    course_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_course.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(40), unique=True)  # 2026-2027-1-08090101-01
    name: Mapped[str] = mapped_column(String(120))  # 高等数学A（01班）
    org_unit_id: Mapped[int] = mapped_column(BigId, index=True)  # 开课单位
    capacity: Mapped[int] = mapped_column(Integer)
    lectures_per_week: Mapped[int] = mapped_column(Integer)
    min_days: Mapped[int] = mapped_column(Integer)  # spread the lectures over this many days
    week_from: Mapped[int] = mapped_column(Integer, default=1)
    week_to: Mapped[int] = mapped_column(Integer)
    week_parity: Mapped[str] = mapped_column(String(4), default="all")  # all | odd | even
    room_type: Mapped[str] = mapped_column(String(20))
    building_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("acad_building.id", ondelete="SET NULL"), nullable=True
    )  # preferred building, if any
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | cancelled
    # Open only to students of this gender (GB/T 2261.1 as users stores it: "1" men, "2"
    # women), e.g. a PE section; "" open to anyone.
    gender: Mapped[str] = mapped_column(String(1), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SectionTeacher(Base):
    __tablename__ = "acad_section_teacher"
    __table_args__ = (UniqueConstraint("section_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    main: Mapped[bool] = mapped_column(default=True)  # 主讲 (else 辅讲/助教)


class SectionClass(Base):
    """An administrative class taught in the section (several: 合班上课)."""

    __tablename__ = "acad_section_class"
    __table_args__ = (UniqueConstraint("section_id", "class_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    class_id: Mapped[int] = mapped_column(BigId, index=True)


class SectionMajor(Base):
    """A major (and grade) the section is open to, for electives chosen in course selection."""

    __tablename__ = "acad_section_major"
    __table_args__ = (UniqueConstraint("section_id", "org_unit_id", "grade"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="CASCADE"), index=True
    )
    org_unit_id: Mapped[int] = mapped_column(BigId)
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)
