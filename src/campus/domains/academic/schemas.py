"""Input and output schemas of academic affairs. Each topic has its section; ``service.py``
returns the ``*Out`` schemas to other modules."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from campus.kernel.pagination import Page


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


# A number from a page's filter form, whose blank choice (全部…) sends "" for "any".
FilterInt = Annotated[int | None, BeforeValidator(_blank_is_none)]

# ---------------------------------------------------------------- calendar (校历)

DayKind = Literal["holiday", "makeup"]
PeriodPart = Literal["morning", "afternoon", "evening"]
TermCode = Annotated[str, Field(pattern=r"^\d{4}-\d{4}-[123]$", description="如 2026-2027-1")]


class TermFields(BaseModel):
    name: str = Field(default="", max_length=60, description="留空则按代码生成")
    start_date: date = Field(description="第 1 周的星期一")
    weeks: int = Field(ge=1, le=30, description="学期总周数（含考试周）")
    teaching_weeks: int = Field(ge=1, le=30, description="教学周数：第 1..N 周上课")
    exam_week_from: int = Field(ge=1, le=30)
    exam_week_to: int = Field(ge=1, le=30)
    days_per_week: int = Field(default=5, ge=5, le=7, description="每周上课天数（从周一起）")


class TermCreate(TermFields):
    code: TermCode
    current: bool = False


class TermUpdate(TermFields):
    pass


class TermOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    academic_year: int
    season: int
    start_date: date
    end_date: date
    weeks: int
    teaching_weeks: int
    exam_week_from: int
    exam_week_to: int
    days_per_week: int
    current: bool


class TermDayIn(BaseModel):
    day: date
    kind: DayKind
    name: str = Field(min_length=1, max_length=40)
    as_weekday: int | None = Field(
        default=None, ge=0, le=6, description="调休：按星期几上课，0 为周一"
    )


class TermDayOut(TermDayIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class TermDays(BaseModel):
    days: list[TermDayIn] = Field(max_length=200)


class PeriodIn(BaseModel):
    number: int = Field(ge=1, le=20)
    block: int = Field(ge=1, le=10)
    starts: time
    ends: time
    part: PeriodPart


class PeriodOut(PeriodIn):
    model_config = ConfigDict(from_attributes=True)


class PeriodGridIn(BaseModel):
    periods: list[PeriodIn] = Field(min_length=1, max_length=20)


class CopyPeriods(BaseModel):
    from_term_id: int


class BlockOut(BaseModel):
    """大节: the periods it joins and its times (a lecture occupies one block)."""

    number: int
    periods: list[int]
    starts: time
    ends: time
    part: PeriodPart


class PeriodGrid(BaseModel):
    term_id: int
    periods: list[PeriodOut]
    blocks: list[BlockOut]

    def block(self, number: int) -> BlockOut | None:
        return next((b for b in self.blocks if b.number == number), None)


class CalendarDay(BaseModel):
    day: date
    weekday: int  # 0 Monday
    teaching: bool  # taught (as ``as_weekday`` on a make-up day)
    holiday: str | None = None
    makeup: str | None = None
    as_weekday: int | None = None


class CalendarWeek(BaseModel):
    number: int
    monday: date
    exam: bool
    teaching: bool
    days: list[CalendarDay]


class TermCalendar(BaseModel):
    term: TermOut
    weeks: list[CalendarWeek]
    days: list[TermDayOut]


class TeachingDay(BaseModel):
    """A day taught: its date, its week, and the weekday whose timetable it follows."""

    day: date
    week: int
    weekday: int


# ---------------------------------------------------------------- rooms (教学楼与教室)

RoomType = Literal[
    "ordinary", "multimedia", "hall", "lab", "computer", "language", "sports", "studio"
]
Code = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]


class BuildingIn(BaseModel):
    code: Code
    name: str = Field(min_length=1, max_length=60)
    campus: str = Field(default="主校区", max_length=40)
    sort_order: int = Field(default=0, ge=0, le=9999)


class BuildingOut(BuildingIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    rooms: int = 0


class RoomIn(BaseModel):
    code: Code
    name: str = Field(default="", max_length=60, description="留空则与编号相同")
    building_id: int
    floor: int = Field(default=1, ge=-5, le=100)
    room_type: RoomType
    capacity: int = Field(gt=0, le=2000)
    exam_capacity: int = Field(ge=0, le=2000)
    active: bool = True


class RoomOut(RoomIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    building_name: str = ""


class RoomPage(Page[RoomOut]):
    pass


class ImportProblem(BaseModel):
    row: int
    column: str
    reason: str


class ImportReport(BaseModel):
    total_rows: int
    imported: int
    problems: list[ImportProblem] = Field(default_factory=list)


# ---------------------------------------------------------------- catalogue (课程库)

Assessment = Literal["exam", "check"]
Credits = Annotated[
    Decimal,
    Field(gt=0, le=30, multiple_of=Decimal("0.5"), description="学分，0.5 的整数倍"),
    PlainSerializer(float, return_type=float, when_used="json"),
]


class CourseIn(BaseModel):
    code: Code
    name: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=200)
    credits: Credits
    lecture_hours: int = Field(ge=0, le=1000)
    lab_hours: int = Field(default=0, ge=0, le=1000)
    assessment: Assessment = "exam"
    org_unit_id: int = Field(description="开课单位（组织机构）")
    room_type: RoomType = "multimedia"
    description: str = Field(default="", max_length=5000)
    active: bool = True


class CourseOut(CourseIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_unit_name: str = ""


class CoursePage(Page[CourseOut]):
    pass
