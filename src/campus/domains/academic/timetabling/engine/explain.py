"""Why a lecture can or cannot go to each slot: the data behind the drag-and-drop timetable.

``explain(problem, placements, course, moving=...)`` looks at the timetable without the lecture
being dragged (``moving``) and answers, for every slot, the hard reasons that forbid it (the
course or a teacher unavailable, a teacher busy with another course, a curriculum already in
class, no free room of the right type) and the free rooms that would take it, best fit first.
Soft remarks (rooms too small, a teacher's dispreferred slot) go to ``notes``: they do not
forbid the slot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .problem import Placement, Problem

__all__ = ["SlotInfo", "explain"]


@dataclass(frozen=True)
class SlotInfo:
    slot: int
    day: int
    period: int
    reasons: tuple[str, ...]  # hard: why the lecture cannot go here (empty when it can)
    rooms: tuple[str, ...]  # free rooms that fit the course's type and room list, best first
    notes: tuple[str, ...] = ()  # soft remarks

    @property
    def free(self) -> bool:
        return not self.reasons


def explain(
    problem: Problem,
    placements: Iterable[Placement],
    course: str,
    *,
    moving: Placement | None = None,
) -> list[SlotInfo]:
    """One entry per slot, in slot order. Raises ``KeyError`` for an unknown course."""
    courses = {c.id: c for c in problem.courses}
    target = courses[course]
    rest = list(placements)
    if moving is not None and moving in rest:
        rest.remove(moving)

    curricula_of: dict[str, list[str]] = defaultdict(list)
    for q in problem.curricula:
        for cid in q.courses:
            curricula_of[cid].append(q.id)
    mine = set(curricula_of[course])
    by_slot: dict[int, list[Placement]] = defaultdict(list)
    for p in rest:
        by_slot[p.slot].append(p)

    suitable = [
        r
        for r in problem.rooms
        if (target.room_type is None or r.room_type == target.room_type)
        and (target.rooms is None or r.id in target.rooms)
    ]
    need = (f"“{target.room_type}”类" if target.room_type is not None else "") + (
        "指定的" if target.rooms is not None else ""
    )

    out: list[SlotInfo] = []
    for slot in range(problem.slots):
        day, period = problem.day_period(slot)
        reasons: list[str] = []
        notes: list[str] = []
        if slot in target.unavailable:
            reasons.append(f"课程“{course}”此时段不可排课")
        for t in target.teachers:
            if slot in problem.teacher_unavailable.get(t, ()):
                reasons.append(f"教师“{t}”此时段不可上课")
            if slot in problem.teacher_dispreferred.get(t, ()):
                notes.append(f"教师“{t}”不希望此时段上课")
        here = by_slot.get(slot, [])
        for p in here:
            if p.course == course:
                reasons.append(f"课程“{course}”此时段已有一次课")
                continue
            other = courses.get(p.course)
            if other is None:
                continue
            for t in target.teachers:
                if t in other.teachers:
                    reasons.append(f"教师“{t}”此时在上“{p.course}”")
            for qid in curricula_of.get(p.course, []):
                if qid in mine:
                    reasons.append(f"课程组“{qid}”此时有“{p.course}”")
        occupied = {p.room for p in here}
        free_rooms = [r for r in suitable if r.id not in occupied and slot not in r.unavailable]
        if not free_rooms:
            reasons.append(f"没有空闲的{need}教室" if need else "没有空闲的教室")
        else:
            free_rooms.sort(
                key=lambda r: (
                    r.capacity < target.students,
                    abs(r.capacity - target.students),
                    r.id,
                )
            )
            if all(r.capacity < target.students for r in free_rooms):
                notes.append(f"空闲教室容量都不足 {target.students} 人")
        out.append(
            SlotInfo(
                slot=slot,
                day=day,
                period=period,
                reasons=tuple(dict.fromkeys(reasons)),
                rooms=tuple(r.id for r in free_rooms),
                notes=tuple(notes),
            )
        )
    return out
