"""The exam timetabling problem and its solution, as plain immutable data.

Entities are referred to by their index in the problem's tuples (exam 0, period 3, room 1), as in
the ITC-2007 files; each also carries an ``id`` for the campus (a course code, a room number).

An *exam* is one paper sat by its students at the same time: on campus a course's exam for all
its sections (教学班) together. It has a duration (minutes) and its students; it may be split over
several rooms (``max_rooms`` > 1) when no single room seats them all. ITC-2007 exams use exactly
one room. A *period* is one exam slot (date, start, duration); periods with the same date form a
day, consecutive periods of a day are "in a row". Rooms are counted in exam seats (考试座位),
usually about half the teaching seats.

Two campus additions to the competition's model, both hard: ``unavailable`` gives the periods a
student cannot sit any exam (a competition, a hospital stay), and ``fixed`` pins exams to a
placement made by hand (the registrar's, or an exam organised outside the solver: then with no
rooms), which the solver never changes and plans the other exams around.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

StudentId = int | str


class Kind(StrEnum):
    AFTER = "AFTER"  # first in a strictly later period than second
    EXAM_COINCIDENCE = "EXAM_COINCIDENCE"  # same period
    EXCLUSION = "EXCLUSION"  # different periods


@dataclass(frozen=True)
class Exam:
    duration: int  # minutes
    students: tuple[StudentId, ...]
    id: str = ""
    max_rooms: int = 1  # rooms it may be split over

    @property
    def size(self) -> int:
        return len(self.students)


@dataclass(frozen=True)
class Period:
    date: dt.date
    start: dt.time
    duration: int  # minutes
    penalty: int = 0
    id: str = ""


@dataclass(frozen=True)
class Room:
    capacity: int  # exam seats
    penalty: int = 0
    id: str = ""


@dataclass(frozen=True)
class PeriodConstraint:
    first: int
    kind: Kind
    second: int


@dataclass(frozen=True)
class Weightings:
    """The institutional weightings (ITC-2007 ``[InstitutionalWeightings]``)."""

    two_in_a_row: int = 0
    two_in_a_day: int = 0
    period_spread: int = 0  # a gap in periods, not a weight: each pair within it costs 1
    non_mixed_durations: int = 0
    front_load_exams: int = 0  # the k largest exams …
    front_load_periods: int = 0  # … placed in one of the last t periods …
    front_load_penalty: int = 0  # … cost this each


@dataclass(frozen=True)
class ExamProblem:
    exams: tuple[Exam, ...]
    periods: tuple[Period, ...]
    rooms: tuple[Room, ...]
    constraints: tuple[PeriodConstraint, ...] = ()
    room_exclusive: frozenset[int] = frozenset()  # exams alone in their room(s)
    weightings: Weightings = field(default_factory=Weightings)
    name: str = ""
    # student → the periods they cannot sit any exam
    unavailable: Mapping[StudentId, frozenset[int]] = field(default_factory=dict)
    # exam → the placement it keeps (rooms may be empty: held outside the exam rooms)
    fixed: Mapping[int, Placement] = field(default_factory=dict)

    @cached_property
    def days(self) -> tuple[int, ...]:
        """The day number (0, 1, …) of each period: periods with the same date form a day."""
        out: list[int] = []
        numbers: dict[dt.date, int] = {}
        for period in self.periods:
            out.append(numbers.setdefault(period.date, len(numbers)))
        return tuple(out)

    @cached_property
    def largest(self) -> frozenset[int]:
        """The exams front load applies to: the k largest by students, ties by lower index."""
        order = sorted(range(len(self.exams)), key=lambda e: (-self.exams[e].size, e))
        return frozenset(order[: self.weightings.front_load_exams])

    @cached_property
    def front_load_start(self) -> int:
        """The first of the last t periods (the ones the largest exams should avoid)."""
        return max(0, len(self.periods) - self.weightings.front_load_periods)


@dataclass(frozen=True)
class Placement:
    """Where an exam sits: its period and room(s). ``seats`` says how many of its students sit in
    each room; empty means all in the one room (or, split, filling the rooms in order)."""

    period: int
    rooms: tuple[int, ...]
    seats: tuple[int, ...] = ()


@dataclass(frozen=True)
class Solution:
    placements: tuple[Placement | None, ...]  # by exam index; None = not placed


def seats_per_room(problem: ExamProblem, exam: int, placement: Placement) -> tuple[int, ...]:
    """Students of ``exam`` in each of ``placement.rooms``."""
    size = problem.exams[exam].size
    if placement.seats:
        return placement.seats
    if len(placement.rooms) == 1:
        return (size,)
    out: list[int] = []
    left = size
    for index, room in enumerate(placement.rooms):
        last = index == len(placement.rooms) - 1
        take = left if last else min(left, problem.rooms[room].capacity)
        out.append(take)
        left -= take
    return tuple(out)


def same_placement(problem: ExamProblem, exam: int, one: Placement, other: Placement) -> bool:
    """Whether two placements of ``exam`` put it in the same period and rooms with the same
    number of its students in each."""
    return (
        one.period == other.period
        and one.rooms == other.rooms
        and seats_per_room(problem, exam, one) == seats_per_room(problem, exam, other)
    )
