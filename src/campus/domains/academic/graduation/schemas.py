"""Input and output of graduation audit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from campus.domains.academic.graduation.check import Report


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grade: int = Field(ge=1950, le=2100, description="年级")
    major_id: int | None = Field(default=None, ge=1)


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    grade: int
    major_id: int | None
    state: str
    total: int
    done: int
    passed: int
    failed: int
    no_programme: int
    created_at: datetime
    finished_at: datetime | None


class StudentReport(BaseModel):
    """One student's audit as of now: ``report`` is None when no programme is published for
    their major and cohort."""

    person_id: int
    student_no: str
    name: str
    report: Report | None


class AuditRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: int
    student_no: str
    name: str
    verdict: str
    total_earned: Decimal
    missing_total: Decimal
    missing_required: int
