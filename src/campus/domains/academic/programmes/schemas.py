"""Input and output models of training programmes and teaching plans."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Credits = Decimal


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProgrammeCourseIn(_Input):
    course_id: int
    term: int = Field(ge=1, le=12, description="建议修读学期，1 为第一学年秋季学期")
    required: bool = True
    hours: int | None = Field(None, ge=0, le=2000, description="总学时；省略时取课程库学时")


class GroupIn(_Input):
    name: str = Field(min_length=1, max_length=40, description="通识必修、专业选修……")
    min_credits: Decimal = Field(ge=0, le=300, decimal_places=1)
    courses: list[ProgrammeCourseIn] = Field(default_factory=list, max_length=300)


class PrerequisiteIn(_Input):
    course_id: int
    prerequisite_id: int


class ProgrammeContent(_Input):
    name: str | None = Field(None, max_length=120)
    total_credits: Decimal = Field(gt=0, le=400, decimal_places=1)
    years: int = Field(4, ge=2, le=8)
    note: str = Field("", max_length=2000)
    groups: list[GroupIn] = Field(min_length=1, max_length=30)
    prerequisites: list[PrerequisiteIn] = Field(default_factory=list, max_length=1000)


class ProgrammeCreate(ProgrammeContent):
    major_id: int
    cohort: int = Field(ge=2000, le=2100, description="年级（入学年份）")


class CopyToCohort(_Input):
    cohort: int = Field(ge=2000, le=2100)


class ProgrammeCourseOut(BaseModel):
    id: int
    course_id: int
    code: str
    name: str
    credits: float
    term: int
    required: bool
    hours: int
    prerequisites: list[str] = Field(default_factory=list, description="先修课程代码")


class GroupOut(BaseModel):
    id: int
    name: str
    min_credits: float
    available_credits: float
    required_credits: float
    courses: list[ProgrammeCourseOut]


class PrerequisiteOut(BaseModel):
    course_id: int
    course_code: str
    prerequisite_id: int
    prerequisite_code: str


class ProgrammeSummary(BaseModel):
    id: int
    major_id: int
    major_name: str
    college_id: int
    college_name: str
    cohort: int
    version: int
    name: str
    total_credits: float
    status: Literal["draft", "published"]
    published_at: datetime | None
    updated_at: datetime


class ProgrammeOut(ProgrammeSummary):
    years: int
    note: str
    based_on_id: int | None
    groups: list[GroupOut]
    prerequisites: list[PrerequisiteOut]
    courses_by_term: dict[int, float] = Field(description="各学期建议修读学分")


class ChangedField(BaseModel):
    field: str
    before: str
    after: str


class CourseChange(BaseModel):
    code: str
    name: str
    changes: list[ChangedField] = Field(default_factory=list)


class GroupChange(BaseModel):
    name: str
    changes: list[ChangedField] = Field(default_factory=list)


class ProgrammeDiff(BaseModel):
    left: ProgrammeSummary
    right: ProgrammeSummary
    fields: list[ChangedField]
    groups_added: list[str]
    groups_removed: list[str]
    groups_changed: list[GroupChange]
    courses_added: list[CourseChange]
    courses_removed: list[CourseChange]
    courses_changed: list[CourseChange]
    prerequisites_added: list[str]
    prerequisites_removed: list[str]

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.fields,
                self.groups_added,
                self.groups_removed,
                self.groups_changed,
                self.courses_added,
                self.courses_removed,
                self.courses_changed,
                self.prerequisites_added,
                self.prerequisites_removed,
            )
        )


class PlanGenerate(_Input):
    term_id: int


class PlanReport(BaseModel):
    term_id: int
    classes: int = Field(description="有培养方案、生成了计划的班级数")
    items: int = Field(description="计划条目总数")
    added: int
    removed: int
    updated: int
    without_programme: list[str] = Field(description="没有已发布培养方案的班级")


class PlanItemOut(BaseModel):
    id: int
    term_id: int
    class_id: int
    class_name: str
    major_id: int
    major_name: str
    college_id: int
    grade: int
    term_number: int
    course_id: int
    course_code: str
    course_name: str
    credits: float
    group_name: str
    required: bool
    hours: int
    section_codes: list[str] = Field(default_factory=list, description="已开出的教学班")
