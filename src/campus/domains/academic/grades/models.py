"""Tables of grades (成绩): one grade sheet per section with an entry per student, and the
course results published from it. Private to the academic module."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, FixedDecimal, UTCDateTime
from campus.kernel.events import BigId


class GradeSheet(Base):
    """教学班成绩: the section's assessment components with their weights (summing to 100),
    the scale, and where it stands: ``draft`` (the teacher edits), ``submitted`` (the college
    reviews), ``reviewed`` (the registrar publishes), ``published``. A return sends it back to
    draft with a reason."""

    __tablename__ = "acad_grade_sheet"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    section_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_section.id", ondelete="RESTRICT"), unique=True
    )
    term_id: Mapped[int] = mapped_column(BigId, index=True)
    course_id: Mapped[int] = mapped_column(BigId, index=True)
    org_unit_id: Mapped[int] = mapped_column(BigId, index=True)  # the section's 开课单位
    scale: Mapped[str] = mapped_column(String(12))  # percentage | five_level | pass_fail
    # [{"key": "c1", "name": "平时", "weight": 30}, …]
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    return_reason: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    published_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GradeEntry(Base):
    """One student's marks in a sheet: a mark per component (0–100), the level on a level
    scale, a special mark (缺考 absent, 缓考 deferred, 作弊 cheating) and the computed total."""

    __tablename__ = "acad_grade_entry"
    __table_args__ = (UniqueConstraint("sheet_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sheet_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_grade_sheet.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId)
    marks: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # key -> "85.5"
    level: Mapped[str] = mapped_column(String(12), default="")  # excellent … fail | pass
    special: Mapped[str] = mapped_column(String(12), default="")  # absent | deferred | cheating
    attempt: Mapped[str] = mapped_column(String(8), default="normal")  # normal | makeup | retake
    total: Mapped[Decimal | None] = mapped_column(FixedDecimal(1), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CourseResult(Base):
    """课程成绩: a student's published result of a course in a term, written when the sheet
    is published (or by a correction approved afterwards). ``score`` is the percentage total
    (None on a level scale), ``level`` the level (on every scale: derived from the score on the
    percentage scale); ``grade_point`` on the 4.0 scale as stored, other scales computed."""

    __tablename__ = "acad_course_result"
    __table_args__ = (
        UniqueConstraint("person_id", "section_id", "attempt"),
        Index("ix_acad_course_result_person_term", "person_id", "term_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(BigId)
    course_id: Mapped[int] = mapped_column(BigId, index=True)
    term_id: Mapped[int] = mapped_column(BigId)
    section_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    sheet_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))
    scale: Mapped[str] = mapped_column(String(12))
    score: Mapped[Decimal | None] = mapped_column(FixedDecimal(1), nullable=True)
    level: Mapped[str] = mapped_column(String(12), default="")
    special: Mapped[str] = mapped_column(String(12), default="")
    grade_point: Mapped[Decimal] = mapped_column(FixedDecimal(2))
    passed: Mapped[bool] = mapped_column(default=False)
    attempt: Mapped[str] = mapped_column(String(8), default="normal")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class GradeCorrection(Base):
    """成绩更正: a teacher's request to change a published result, approved through the
    workflow engine; the result changes only when the approval ends approved. At most one
    pending request per result (``open_key``)."""

    __tablename__ = "acad_grade_correction"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    result_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_course_result.id", ondelete="CASCADE"), index=True
    )
    section_id: Mapped[int] = mapped_column(BigId, index=True)
    person_id: Mapped[int] = mapped_column(BigId)
    state: Mapped[str] = mapped_column(String(12), default="pending")
    open_key: Mapped[int | None] = mapped_column(BigId, unique=True, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    # {"score": "78.0" | None, "level": "...", "special": "..."}, before and asked
    before: Mapped[dict[str, Any]] = mapped_column(JSON)
    after: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[int] = mapped_column(BigId)
    instance_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GradePolicy(Base):
    """成绩规则: the registrar's grade policy, one row (``id`` 1). ``scales`` holds each GPA
    table: ``{"4.0": {"bands": [["0", "0"], ["60", "1.0"], …], "levels": {"excellent": "4.0",
    …}, "pass_fail": {"passed": "1.0", "failed": "0"}}, "5.0": …}``; the make-up (补考) and
    retake (重修) rules and the academic warning's threshold sit beside it."""

    __tablename__ = "acad_grade_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scales: Mapped[dict[str, Any]] = mapped_column(JSON)
    pass_fail_counted: Mapped[bool] = mapped_column(default=False)
    makeup: Mapped[str] = mapped_column(String(12), default="cap")  # cap | actual
    retake: Mapped[str] = mapped_column(String(12), default="highest")  # highest | latest
    warning_credits: Mapped[Decimal] = mapped_column(FixedDecimal(1))
    updated_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
