"""Input and output models of course offering (开课): sections, their teachers and classes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campus.domains.academic.rooms.models import ROOM_TYPES
from campus.kernel.i18n import _

Parity = Literal["all", "odd", "even"]
RoomType = Literal[
    "ordinary", "multimedia", "hall", "lab", "computer", "language", "sports", "studio"
]
assert set(RoomType.__args__) == set(ROOM_TYPES)  # type: ignore[attr-defined]
# Who a section is open to by gender (GB/T 2261.1 codes, as users stores Person.gender): "" anyone.
Gender = Literal["", "1", "2"]
GENDER_ONLY: dict[str, str] = {"1": str(_("仅限男生")), "2": str(_("仅限女生"))}


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeacherIn(_Input):
    person_id: int
    main: bool = True


class MajorIn(_Input):
    org_unit_id: int
    grade: int | None = Field(None, ge=2000, le=2100)


class SectionFields(_Input):
    """What a section form edits; every field optional on update."""

    capacity: int | None = Field(None, ge=1, le=2000)
    teachers: list[TeacherIn] | None = Field(None, max_length=10)
    class_ids: list[int] | None = Field(None, max_length=40)
    majors: list[MajorIn] | None = Field(None, max_length=40)
    room_type: RoomType | None = None
    building_id: int | None = None
    lectures_per_week: int | None = Field(None, ge=1, le=10)
    min_days: int | None = Field(None, ge=1, le=7)
    week_from: int | None = Field(None, ge=1, le=30)
    week_to: int | None = Field(None, ge=1, le=30)
    week_parity: Parity | None = None
    gender: Gender | None = Field(None, description="性别限制：1 仅限男生，2 仅限女生，空为不限")
    note: str | None = Field(None, max_length=500)


class SectionCreate(SectionFields):
    term_id: int
    course_id: int


class SectionUpdate(SectionFields):
    clear_building: bool = False


class OfferingGenerate(_Input):
    term_id: int
    merge_capacity: int | None = Field(
        None,
        ge=30,
        le=400,
        description="合班上课：同一课程的班级合成不超过该人数的教学班；省略时一班一个教学班",
    )
    merge_groups: list[str] = Field(
        default_factory=lambda: ["通识必修"], description="合班适用的课程组（默认通识必修）"
    )


class OfferingReport(BaseModel):
    term_id: int
    created: int
    classes_covered: int
    skipped_practice: int = Field(description="实践环节（不排课）的计划条目")
    out_of_reach: int = Field(description="开课单位不在您范围内的计划条目")


class MergeIn(_Input):
    section_ids: list[int] = Field(min_length=2, max_length=20)


class SplitIn(_Input):
    groups: list[list[int]] | None = Field(
        None, min_length=2, max_length=10, description="按班级拆分：每组班级成为一个教学班"
    )
    count: int | None = Field(None, ge=2, le=10, description="没有行政班时平均拆成几个教学班")


class TeacherOut(BaseModel):
    person_id: int
    name: str
    number: str | None
    main: bool


class ClassRef(BaseModel):
    id: int
    name: str
    students: int


class MajorOut(BaseModel):
    org_unit_id: int
    name: str
    grade: int | None


class SectionOut(BaseModel):
    id: int
    term_id: int
    course_id: int
    course_code: str
    course_name: str
    credits: float
    code: str
    name: str
    org_unit_id: int
    org_unit_name: str
    capacity: int
    students: int
    lectures_per_week: int
    min_days: int
    week_from: int
    week_to: int
    week_parity: Parity
    room_type: str
    building_id: int | None
    status: str
    gender: Gender = ""
    note: str
    teachers: list[TeacherOut]
    classes: list[ClassRef]
    majors: list[MajorOut]

    @property
    def gender_only(self) -> str:
        """The restriction as a student reads it (仅限女生), blank when open to anyone."""
        return GENDER_ONLY.get(self.gender, "")


class TeacherImportReport(BaseModel):
    updated: int
    errors: list[str]
