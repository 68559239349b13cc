"""Graduation audit runs over a cohort and the audit of each student in them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel.db import Base, FixedDecimal, UTCDateTime
from campus.kernel.events import BigId


class AuditRun(Base):
    """毕业审核 of a cohort (optionally one major), applied in chunks; the page shows progress."""

    __tablename__ = "acad_grad_audit_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    grade: Mapped[int] = mapped_column(Integer, index=True)
    major_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    state: Mapped[str] = mapped_column(String(12))  # running | finished
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    no_programme: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StudentAudit(Base):
    """One student's audit in a run: the verdict, the figures, and the whole report."""

    __tablename__ = "acad_grad_audit"
    __table_args__ = (UniqueConstraint("run_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("acad_grad_audit_run.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(BigId, index=True)
    student_no: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(60))
    major_id: Mapped[int] = mapped_column(BigId)
    verdict: Mapped[str] = mapped_column(String(16), index=True)  # passed | failed | no_programme
    total_earned: Mapped[Decimal] = mapped_column(FixedDecimal(1), default=Decimal(0))
    missing_total: Mapped[Decimal] = mapped_column(FixedDecimal(1), default=Decimal(0))
    missing_required: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    audited_at: Mapped[datetime] = mapped_column(UTCDateTime())
