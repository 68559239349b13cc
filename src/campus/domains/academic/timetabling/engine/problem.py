"""The timetabling problem and its solution, as plain immutable data.

A *course* is what the ITC-2007 curriculum-based track calls a course and what a university
calls a section (教学班): it meets ``lectures`` times a week, each lecture one slot. A slot is a
(day, period) pair numbered ``day * periods_per_day + period``; on campus a period of the
problem is one block (大节) of the period grid. Courses in one *curriculum* share students (a
class, 行政班) and may not meet at the same time; nor may courses sharing a teacher.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Room:
    id: str
    capacity: int
    room_type: str | None = None
    building: str | None = None
    unavailable: frozenset[int] = frozenset()  # slots the room is closed


@dataclass(frozen=True)
class Course:
    id: str
    teachers: tuple[str, ...]
    lectures: int
    min_days: int
    students: int
    room_type: str | None = None  # the room must be of this type, when set
    unavailable: frozenset[int] = frozenset()  # slots the course may not use
    rooms: frozenset[str] | None = None  # the only rooms it may use, when set
    building: str | None = None  # preferred building (soft)


@dataclass(frozen=True)
class Curriculum:
    id: str
    courses: tuple[str, ...]


@dataclass(frozen=True)
class Weights:
    """Weights of the soft constraints; the defaults are ITC-2007's UD2."""

    room_capacity: int = 1  # per student over the room's capacity, per lecture
    min_days: int = 5  # per day short of the course's min_days
    isolated: int = 2  # per lecture with no neighbour of its curriculum that day
    room_stability: int = 1  # per room beyond the first a course uses
    teacher_preference: int = 0  # per lecture in a slot its teacher would rather not teach
    building_change: int = 0  # per curriculum moving building between consecutive periods
    preferred_building: int = 0  # per lecture outside its course's preferred building


@dataclass(frozen=True)
class Placement:
    course: str
    room: str
    slot: int


@dataclass(frozen=True)
class Problem:
    name: str
    days: int
    periods_per_day: int
    courses: tuple[Course, ...]
    rooms: tuple[Room, ...]
    curricula: tuple[Curriculum, ...]
    weights: Weights = Weights()
    fixed: tuple[Placement, ...] = ()  # lectures pinned by hand: kept where they are
    teacher_unavailable: Mapping[str, frozenset[int]] = field(default_factory=dict)
    teacher_dispreferred: Mapping[str, frozenset[int]] = field(default_factory=dict)  # soft

    @property
    def slots(self) -> int:
        return self.days * self.periods_per_day

    def slot(self, day: int, period: int) -> int:
        return day * self.periods_per_day + period

    def day_period(self, slot: int) -> tuple[int, int]:
        return divmod(slot, self.periods_per_day)
