"""Input and output of student status (学籍) and its changes (学籍异动)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campus.kernel.pagination import Page

Status = Literal["studying", "suspended", "withdrawn", "graduated", "completed"]
ChangeKind = Literal["suspend", "resume", "transfer", "withdraw", "repeat", "graduate", "complete"]
ChangeState = Literal["pending", "approved", "rejected", "withdrawn", "lapsed"]
Level = Literal["undergraduate", "postgraduate"]

STATUS_LABELS: dict[str, str] = {
    "studying": "在读",
    "suspended": "休学",
    "withdrawn": "退学",
    "graduated": "毕业",
    "completed": "结业",
}
KIND_LABELS: dict[str, str] = {
    "suspend": "休学",
    "resume": "复学",
    "transfer": "转专业",
    "withdraw": "退学",
    "repeat": "留级",
    "graduate": "毕业",
    "complete": "结业",
    "enrol": "入学",
}
STATE_LABELS: dict[str, str] = {
    "pending": "审批中",
    "approved": "已通过",
    "rejected": "未通过",
    "withdrawn": "已撤回",
    "lapsed": "已失效",
}
LEVEL_LABELS: dict[str, str] = {"undergraduate": "本科", "postgraduate": "研究生"}
# Statuses that leave the student on the roll of the school (在校).
IN_SCHOOL: frozenset[str] = frozenset({"studying"})
# Which current statuses each change may start from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "suspend": frozenset({"studying"}),
    "resume": frozenset({"suspended"}),
    "transfer": frozenset({"studying"}),
    "withdraw": frozenset({"studying", "suspended"}),
    "repeat": frozenset({"studying"}),
    "graduate": frozenset({"studying"}),
    "complete": frozenset({"studying"}),
}
# The status a change leaves the student in.
RESULT_STATUS: dict[str, str] = {
    "suspend": "suspended",
    "resume": "studying",
    "transfer": "studying",
    "withdraw": "withdrawn",
    "repeat": "studying",
    "graduate": "graduated",
    "complete": "completed",
}
# The user center's status for each status of the roll.
PERSON_STATUS: dict[str, str] = {
    "studying": "active",
    "suspended": "suspended",
    "withdrawn": "left",
    "graduated": "graduated",
    "completed": "graduated",
}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ChangeCreate(_Input):
    """A change request. ``person_id`` is left out by a student filing for themselves."""

    kind: ChangeKind
    person_id: int | None = None
    reason: str = Field(min_length=2, max_length=500, description="申请理由")
    terms: int | None = Field(None, ge=1, le=4, description="休学学期数（休学）")
    target_major_id: int | None = Field(None, description="转入专业（转专业）")
    target_class_id: int | None = Field(None, description="转入班级（复学、转专业、留级）")


class RecordCreate(_Input):
    """Open the record of a student who has none (a late enrolment, a transfer from outside)."""

    person_id: int
    enrolled_on: date | None = None
    years: int | None = Field(None, ge=1, le=8)


class BatchCreate(_Input):
    kind: Literal["graduate", "complete"] = "graduate"
    grade: int = Field(ge=1950, le=2100, description="年级")
    major_id: int | None = None
    excluded: list[str] = Field(default_factory=list, max_length=500, description="不办理的学号")
    reason: str = Field("", max_length=500)


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    student_no: str
    name: str
    level: str
    college_id: int
    college_name: str = ""
    major_id: int
    major_name: str = ""
    class_id: int | None
    class_name: str = ""
    grade: int
    enrolled_on: date
    expected_graduation: date
    years: int
    status: str
    status_label: str = ""
    in_school: bool
    updated_at: datetime


class HistoryOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    from_status: str
    to_status: str
    from_major_name: str
    to_major_name: str
    from_class_name: str
    to_class_name: str
    from_grade: int
    to_grade: int
    reason: str
    actor_id: int | None
    actor_name: str
    change_id: int | None
    instance_id: int | None
    at: datetime


class ChangeOut(BaseModel):
    id: int
    person_id: int
    student_no: str
    name: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    reason: str
    terms: int | None
    target_major_id: int | None
    target_major_name: str
    target_class_id: int | None
    target_class_name: str
    target_grade: int | None
    filed_by: int
    instance_id: int | None
    outcome_note: str
    created_at: datetime
    decided_at: datetime | None


class RecordDetail(RecordOut):
    history: list[HistoryOut] = Field(default_factory=list)
    changes: list[ChangeOut] = Field(default_factory=list)


class RecordPage(Page[RecordOut]):
    pass


class ChangePage(Page[ChangeOut]):
    pass


class BatchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    grade: int
    major_id: int | None
    total: int
    done: int
    state: str
    reason: str
    created_at: datetime
    finished_at: datetime | None
