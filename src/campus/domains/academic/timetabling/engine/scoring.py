"""An independent scorer: counts the hard violations and soft costs of a list of placements.

Written straight from the rules (the ITC-2007 UD2 validator, README of the benchmark data) with
plain loops and no incremental state, so that it checks the solver rather than sharing its bugs.

Hard counts (a solution is feasible when all are 0):

* ``lectures``: per course |scheduled − required|; a second lecture of a course in a slot it
  already uses is discarded (as the official validator does) and so shows up here;
* ``conflicts``: per pair of courses sharing a curriculum or a teacher, per slot both use, +1;
* ``availability``: per lecture in a slot unavailable to its course or to one of its teachers;
* ``room_occupancy``: per room and slot holding k > 1 lectures, + (k − 1);
* ``room_suitability`` (campus): per lecture in a room of the wrong type, outside the course's
  allowed rooms, or closed at that slot;
* ``fixed`` (campus): per pinned placement missing from the solution.

Soft components (raw counts; ``Score.cost`` applies the weights):

* ``room_capacity``: per lecture, students over the room's capacity;
* ``min_days``: per course, days short of ``min_days``;
* ``isolated``: per curriculum and lecture with no lecture of that curriculum in the period
  before or after on the same day;
* ``room_stability``: per course, distinct rooms − 1;
* ``teacher_preference``: per lecture in a slot one of its teachers would rather not teach;
* ``building_change``: per curriculum, per pair of lectures in consecutive periods of a day
  whose rooms are in different buildings (both known);
* ``preferred_building``: per lecture of a course with a preferred building, elsewhere.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .problem import Placement, Problem

__all__ = ["Score", "score"]


@dataclass(frozen=True)
class Score:
    lectures: int = 0
    conflicts: int = 0
    availability: int = 0
    room_occupancy: int = 0
    room_suitability: int = 0
    fixed: int = 0
    room_capacity: int = 0
    min_days: int = 0
    isolated: int = 0
    room_stability: int = 0
    teacher_preference: int = 0
    building_change: int = 0
    preferred_building: int = 0
    weighted: int = 0  # the soft cost, weights applied

    @property
    def hard(self) -> int:
        return (
            self.lectures
            + self.conflicts
            + self.availability
            + self.room_occupancy
            + self.room_suitability
            + self.fixed
        )

    @property
    def cost(self) -> int:
        return self.weighted

    @property
    def feasible(self) -> bool:
        return self.hard == 0


def score(problem: Problem, placements: Iterable[Placement]) -> Score:
    courses = {c.id: c for c in problem.courses}
    rooms = {r.id: r for r in problem.rooms}
    ppd = problem.periods_per_day

    kept: list[Placement] = []
    used: set[tuple[str, int]] = set()
    for p in placements:
        if p.course not in courses:
            raise ValueError(f"未知课程“{p.course}”")
        if p.room not in rooms:
            raise ValueError(f"未知教室“{p.room}”")
        if not 0 <= p.slot < problem.slots:
            raise ValueError(f"时段 {p.slot} 超出范围")
        if (p.course, p.slot) in used:
            continue
        used.add((p.course, p.slot))
        kept.append(p)

    per_course: dict[str, list[Placement]] = defaultdict(list)
    for p in kept:
        per_course[p.course].append(p)

    lectures = sum(abs(len(per_course[c.id]) - c.lectures) for c in problem.courses)

    # Conflicting pairs: shared curriculum or shared teacher.
    pairs: set[tuple[str, str]] = set()
    groups: list[list[str]] = [list(q.courses) for q in problem.curricula]
    by_teacher: dict[str, list[str]] = defaultdict(list)
    for c in problem.courses:
        for t in c.teachers:
            by_teacher[t].append(c.id)
    groups.extend(by_teacher.values())
    for group in groups:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
    slots_of = {cid: {p.slot for p in ps} for cid, ps in per_course.items()}
    conflicts = sum(len(slots_of.get(a, set()) & slots_of.get(b, set())) for a, b in pairs)

    availability = 0
    suitability = 0
    capacity = 0
    preference = 0
    preferred = 0
    for p in kept:
        course, room = courses[p.course], rooms[p.room]
        teacher_off = any(p.slot in problem.teacher_unavailable.get(t, ()) for t in course.teachers)
        if p.slot in course.unavailable or teacher_off:
            availability += 1
        if (
            (course.room_type is not None and room.room_type != course.room_type)
            or (course.rooms is not None and room.id not in course.rooms)
            or p.slot in room.unavailable
        ):
            suitability += 1
        capacity += max(0, course.students - room.capacity)
        if any(p.slot in problem.teacher_dispreferred.get(t, ()) for t in course.teachers):
            preference += 1
        if course.building is not None and room.building != course.building:
            preferred += 1

    occupancy = sum(k - 1 for k in Counter((p.room, p.slot) for p in kept).values() if k > 1)
    present = Counter((p.course, p.room, p.slot) for p in kept)
    fixed = 0
    for f in problem.fixed:
        if present[(f.course, f.room, f.slot)] > 0:
            present[(f.course, f.room, f.slot)] -= 1
        else:
            fixed += 1

    min_days = 0
    stability = 0
    for c in problem.courses:
        ps = per_course.get(c.id, [])
        min_days += max(0, c.min_days - len({p.slot // ppd for p in ps}))
        stability += max(0, len({p.room for p in ps}) - 1)

    isolated = 0
    changes = 0
    for q in problem.curricula:
        at: dict[int, list[Placement]] = defaultdict(list)
        for cid in q.courses:
            for p in per_course.get(cid, []):
                at[p.slot].append(p)
        for slot, here in at.items():
            period = slot % ppd
            before = period > 0 and bool(at.get(slot - 1))
            after = period < ppd - 1 and bool(at.get(slot + 1))
            if not before and not after:
                isolated += len(here)
            if period < ppd - 1:
                for first in here:
                    for second in at.get(slot + 1, []):
                        ba, bb = rooms[first.room].building, rooms[second.room].building
                        if ba is not None and bb is not None and ba != bb:
                            changes += 1

    w = problem.weights
    weighted = (
        w.room_capacity * capacity
        + w.min_days * min_days
        + w.isolated * isolated
        + w.room_stability * stability
        + w.teacher_preference * preference
        + w.building_change * changes
        + w.preferred_building * preferred
    )
    return Score(
        lectures=lectures,
        conflicts=conflicts,
        availability=availability,
        room_occupancy=occupancy,
        room_suitability=suitability,
        fixed=fixed,
        room_capacity=capacity,
        min_days=min_days,
        isolated=isolated,
        room_stability=stability,
        teacher_preference=preference,
        building_change=changes,
        preferred_building=preferred,
        weighted=weighted,
    )
