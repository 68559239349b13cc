"""Input and output of grades (成绩)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campus.kernel.i18n import _

Scale = Literal["percentage", "five_level", "pass_fail"]
Special = Literal["", "absent", "deferred", "cheating"]
Attempt = Literal["normal", "makeup", "retake"]
SheetState = Literal["draft", "submitted", "reviewed", "published"]

SCALE_LABELS: dict[str, str] = {
    "percentage": str(_("百分制")),
    "five_level": str(_("五级制（优/良/中/及格/不及格）")),
    "pass_fail": str(_("两级制（通过/不通过）")),
}
LEVEL_LABELS: dict[str, str] = {
    "excellent": "优",
    "good": "良",
    "fair": "中",
    "pass": "及格",
    "fail": "不及格",
    "passed": "通过",
    "failed": "不通过",
}
LEVEL_BY_LABEL = {label: key for key, label in LEVEL_LABELS.items()}
SPECIAL_LABELS: dict[str, str] = {"absent": "缺考", "deferred": "缓考", "cheating": "作弊"}
SPECIAL_BY_LABEL = {label: key for key, label in SPECIAL_LABELS.items()}
ATTEMPT_LABELS: dict[str, str] = {"normal": "正常", "makeup": "补考", "retake": "重修"}
ATTEMPT_BY_LABEL = {label: key for key, label in ATTEMPT_LABELS.items()}
MakeupRule = Literal["cap", "actual"]
RetakeRule = Literal["highest", "latest"]
MAKEUP_LABELS: dict[str, str] = {
    "cap": str(_("补考及格按及格计：补考通过的课程按 60 分（及格）计绩点")),
    "actual": str(_("按实际成绩计：补考通过的课程按补考成绩计绩点")),
}
RETAKE_LABELS: dict[str, str] = {
    "highest": str(_("取最高：各次修读中绩点最高的一次计入")),
    "latest": str(_("取最近：最近一次修读计入（已通过的课程取最近一次通过）")),
}
STATE_LABELS: dict[str, str] = {
    "draft": str(_("录入中")),
    "submitted": str(_("待学院审核")),
    "reviewed": str(_("待教务处发布")),
    "published": str(_("已发布")),
}


class ComponentIn(BaseModel):
    name: str = Field(min_length=1, max_length=20)
    weight: int = Field(ge=1, le=100)


class SetupIn(BaseModel):
    """The sheet's scale and components (平时/期中/期末…), weights summing to 100."""

    scale: Scale
    components: list[ComponentIn] = Field(min_length=1, max_length=8)


class EntryIn(BaseModel):
    """A student's marks by component key (0–100), level on a level scale, special mark."""

    person_id: int
    marks: dict[str, Decimal | str | None] = Field(default_factory=dict)
    level: str = Field(default="", max_length=12)
    special: Special = ""
    attempt: Attempt = "normal"


class EntriesIn(BaseModel):
    entries: list[EntryIn] = Field(max_length=2000)


class ReturnIn(BaseModel):
    reason: str = Field(min_length=2, max_length=500)


class ComponentOut(BaseModel):
    key: str
    name: str
    weight: int


class EntryOut(BaseModel):
    person_id: int
    name: str
    number: str | None
    class_name: str | None
    marks: dict[str, Decimal | None]
    level: str
    special: str
    attempt: str
    total: Decimal | None
    complete: bool


class SheetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None
    section_id: int
    section_code: str
    section_name: str
    course_id: int
    course_code: str
    course_name: str
    credits: Decimal
    term_id: int
    term_name: str
    org_unit_id: int
    scale: str
    components: list[ComponentOut]
    state: str
    return_reason: str
    submitted_at: datetime | None
    reviewed_at: datetime | None
    published_at: datetime | None
    entries: list[EntryOut]


class SheetRow(BaseModel):
    """A sheet in a list (a teacher's sections, a reviewer's queue)."""

    section_id: int
    section_code: str
    section_name: str
    course_name: str
    org_unit_id: int
    state: str
    students: int
    updated_at: datetime | None


class StatsOut(BaseModel):
    students: int
    graded: int
    absent: int
    deferred: int
    passed: int
    pass_rate: float | None
    average: Decimal | None
    highest: Decimal | None
    lowest: Decimal | None
    buckets: dict[str, int]  # "<60", "60–69" … or level labels


class ResultOut(BaseModel):
    """A published course result (课程成绩)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    course_id: int
    course_code: str
    course_name: str
    term_id: int
    term_name: str
    section_id: int | None
    credits: Decimal
    scale: str
    score: Decimal | None
    level: str
    level_label: str
    special: str
    grade_point: Decimal
    passed: bool
    attempt: str
    counted: bool = True
    capped: bool = False  # a passed make-up whose points the policy caps at the pass mark
    published_at: datetime


class TermResults(BaseModel):
    term_id: int
    term_name: str
    gpa: Decimal | None
    credits: Decimal
    results: list[ResultOut]


class MyResults(BaseModel):
    scale: str
    makeup_rule: str = ""  # the policy's make-up (补考) and retake (重修) rules, as labels
    retake_rule: str = ""
    gpa: Decimal | None
    graded_credits: Decimal
    earned_credits: Decimal
    failed_credits: Decimal
    major_rank: int | None
    major_size: int
    class_rank: int | None
    class_size: int
    terms: list[TermResults]


class RankRow(BaseModel):
    rank: int
    person_id: int
    name: str
    number: str | None
    class_name: str | None
    gpa: Decimal
    credits: Decimal


class GpaSummary(BaseModel):
    gpa: Decimal | None
    graded_credits: Decimal
    earned_credits: Decimal
    failed_credits: Decimal


class CorrectionIn(BaseModel):
    """A correction of one student's published result: the new score (percentage scale) or
    level, or a special mark, and why."""

    person_id: int
    score: Decimal | str | None = None
    level: str = Field(default="", max_length=12)
    special: Special = ""
    reason: str = Field(min_length=2, max_length=500)


class CorrectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    result_id: int
    section_id: int
    person_id: int
    state: str
    reason: str
    before: dict[str, str | None]
    after: dict[str, str | None]
    instance_id: int | None
    outcome_note: str
    created_at: datetime
    decided_at: datetime | None


# ---------------------------------------------------------------- the grade policy (成绩规则)


class BandIn(BaseModel):
    """One band of a GPA table: from this percentage score (inclusive) up, these points."""

    low: Decimal
    points: Decimal


class GpaTableIn(BaseModel):
    """One GPA scale: its score bands (lowest first, from 0), the points of 优/良/中/及格/
    不及格 and of 通过/不通过."""

    bands: list[BandIn] = Field(min_length=1, max_length=200)
    levels: dict[str, Decimal]
    pass_fail: dict[str, Decimal]


class PolicyIn(BaseModel):
    """The registrar's grade policy: the 4.0 and 5.0 tables (``scales``), whether pass/fail
    results count for GPA, the make-up and retake rules and the warning threshold (failed
    credits)."""

    scales: dict[str, GpaTableIn]
    pass_fail_counted: bool = False
    makeup: MakeupRule = "cap"
    retake: RetakeRule = "highest"
    warning_credits: Decimal


class GpaTableOut(GpaTableIn):
    key: str
    name: str
    maximum: Decimal


class PolicyOut(BaseModel):
    scales: dict[str, GpaTableOut]
    pass_fail_counted: bool
    makeup: str
    makeup_label: str
    retake: str
    retake_label: str
    warning_credits: Decimal
    updated_by: int | None = None
    updated_at: datetime | None = None
