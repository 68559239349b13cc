"""Input and output of exam scheduling (考试安排). Times are China local; durations minutes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TimeRange(_Input):
    starts: time
    ends: time


DEFAULT_TIMES = (
    TimeRange(starts=time(8, 30), ends=time(10, 30)),
    TimeRange(starts=time(14, 0), ends=time(16, 0)),
    TimeRange(starts=time(19, 0), ends=time(21, 0)),
)


class GenerateSessionsIn(_Input):
    times: list[TimeRange] = Field(
        default_factory=lambda: list(DEFAULT_TIMES), min_length=1, max_length=6
    )


class SessionIn(_Input):
    day: date
    starts: time
    ends: time


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    term_id: int
    day: date
    starts: time
    ends: time

    @property
    def minutes(self) -> int:
        return (self.ends.hour * 60 + self.ends.minute) - (
            self.starts.hour * 60 + self.starts.minute
        )


class ExamPatch(_Input):
    duration: int | None = Field(None, ge=10, le=600, description="时长（分钟）")
    section_ids: list[int] | None = Field(None, max_length=500)
    excluded: bool | None = None
    manual: bool | None = None
    session_id: int | None = Field(None, description="手工安排的场次（仅手工安排的考试）")


class MoveIn(_Input):
    """Move one exam by hand: to a session, in rooms filled in the order given."""

    session_id: int = Field(description="目标场次")
    room_ids: list[int] = Field(
        default_factory=list, max_length=20, description="考场（按顺序安排考生），缺省保持原考场"
    )
    confirm: bool = Field(False, description="已知晓提醒（连考等），仍然调整")
    fix: bool = Field(False, description="固定：设为手工安排，重新安排时保留在此")


class FieldProblemOut(BaseModel):
    field: str
    reason: str


class MoveRoomOut(BaseModel):
    room_id: int
    code: str
    name: str
    capacity: int
    seats: int  # this exam's students there
    taken: int  # seats held by the session's other exams
    exams: list[str]  # those other exams


class MoveDutyOut(BaseModel):
    room_id: int
    room: str
    invigilators: list[str]


class MoveCheckOut(BaseModel):
    """What a move would do: refused while it has ``problems``; ``warnings`` need ``confirm``."""

    exam_id: int
    ok: bool
    problems: list[FieldProblemOut]
    warnings: list[str]
    session: SessionOut | None
    rooms: list[MoveRoomOut]
    invigilators: list[MoveDutyOut]
    soft_delta: int


class UnavailabilityIn(_Input):
    """Sessions a student cannot sit or a member of staff cannot invigilate."""

    person_id: int | None = Field(None, description="人员（或给出学号/工号 number）")
    number: str | None = Field(None, min_length=1, max_length=32, description="学号或工号")
    session_ids: list[int] = Field(min_length=1, max_length=60, description="场次")
    reason: str = Field("", max_length=100, description="原因，如参加竞赛、出差")


class UnavailabilityOut(BaseModel):
    id: int
    person_id: int
    name: str
    number: str | None
    role: str  # "student" (不可考) or "staff" (不可监考)
    session: SessionOut
    reason: str
    created_at: datetime


class ExamRoomOut(BaseModel):
    room_id: int
    code: str
    name: str
    seats: int


class ExamOut(BaseModel):
    id: int
    term_id: int
    course_id: int
    course_code: str
    course_name: str
    duration: int
    excluded: bool
    manual: bool
    section_ids: list[int]
    sections: list[str]
    students: int
    session: SessionOut | None
    rooms: list[ExamRoomOut]


class GeneratedOut(BaseModel):
    created: int
    existing: int


class RunIn(_Input):
    time_limit: int = Field(10, ge=1, le=600, description="求解时限（秒）")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    room_ids: list[int] = Field(default_factory=list, max_length=2000, description="考场，缺省全部")


class RunOut(BaseModel):
    id: int
    term_id: int
    time_limit: int
    seed: int
    task_id: int
    status: str
    progress: float
    message: str
    figures: dict[str, Any]
    error: str | None
    feasible: bool | None
    cost: int | None
    applied: bool
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class PlanOut(BaseModel):
    term_id: int
    scheduled: bool
    published: bool
    version: int
    run_id: int | None


class MyExamOut(BaseModel):
    """One exam of a student's timetable (or of a teacher's courses)."""

    exam_id: int
    course_code: str
    course_name: str
    day: date | None
    starts: time | None
    ends: time | None
    room: str | None
    seat: int | None
    row: int | None
    column: int | None


class DutyOut(BaseModel):
    """An invigilation duty (监考任务)."""

    session_id: int
    day: date
    starts: time
    ends: time
    room_id: int
    room: str
    exams: list[str]
    students: int
    colleagues: list[str]


class SeatOut(BaseModel):
    number: int
    row: int
    column: int
    person_id: int
    name: str
    student_no: str | None
    exam: str


class RoomSittingOut(BaseModel):
    """One room in one session: its exams, students and invigilators."""

    session_id: int
    room_id: int
    room: str
    capacity: int
    exams: list[str]
    students: int
    invigilators: list[str]
