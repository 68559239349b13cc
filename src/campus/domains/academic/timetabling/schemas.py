"""Input and output of timetabling. Days are 0-based (0 Monday), blocks 1-based (大节)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RunIn(_Input):
    mode: Literal["full", "reschedule"] = "full"
    time_limit: int = Field(30, ge=1, le=1800, description="求解时限（秒）")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class RunOut(BaseModel):
    id: int
    term_id: int | None
    mode: str
    name: str
    time_limit: int
    seed: int
    task_id: int
    status: str
    progress: float
    message: str
    figures: dict[str, Any]
    error: str | None
    feasible: bool | None
    hard: int | None
    cost: int | None
    moved: int | None
    applied: bool
    report: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None


class Slot(_Input):
    day: int = Field(ge=0, le=6)
    block: int = Field(ge=1, le=20)


class MoveIn(Slot):
    room_id: int | None = Field(None, description="目标教室，缺省为原教室")


class PinIn(_Input):
    pinned: bool


class TeacherTimeIn(Slot):
    person_id: int
    kind: Literal["unavailable", "avoid"] = "unavailable"
    reason: str = Field("", max_length=200)


class RoomClosureIn(Slot):
    room_id: int
    reason: str = Field("", max_length=200)


class FixedSlotIn(Slot):
    section_id: int
    number: int = Field(ge=0, le=20)
    room_id: int


class LectureOut(BaseModel):
    id: int
    section_id: int
    section: str
    course_code: str
    number: int
    day: int
    block: int
    room_id: int
    room: str
    building: str
    teachers: list[str]
    classes: list[str]
    weeks: str
    pinned: bool = False


class SlotOption(BaseModel):
    day: int
    block: int
    ok: bool
    room_id: int | None
    reasons: list[str]
    warnings: list[str] = []


class TimetableOut(BaseModel):
    term_id: int
    revision: int
    published_version: int
    published_at: datetime | None
    lectures: int


class FreeRoomOut(BaseModel):
    id: int
    code: str
    name: str
    building: str
    room_type: str
    capacity: int


class ConstraintOut(BaseModel):
    id: int
    day: int
    block: int
    reason: str
    person_id: int | None = None
    room_id: int | None = None
    kind: str | None = None
    section_id: int | None = None
    number: int | None = None
