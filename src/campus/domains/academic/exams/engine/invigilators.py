"""Invigilators (监考): staff for every room in use in every period.

A *session* is one room in one period (all the exams sitting there together). It needs two
invigilators, one when it seats at most ``small_room`` students. Nobody is in two places at
once or on duty in a period they are unavailable, and the sessions are shared out as evenly as
the unavailabilities allow: least-loaded first, then duties moved from the busiest to the least
busy while the gap is 2 or more.

After a change to a timetable already staffed (an exam moved by hand, someone now unavailable),
``repair_invigilators`` keeps every duty that is still valid and fills only the places left.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class InvigilationError(ValueError):
    """Not enough invigilators (message in Chinese)."""


@dataclass(frozen=True)
class Invigilator:
    id: str
    unavailable: frozenset[int] = frozenset()  # periods


@dataclass(frozen=True)
class Session:
    period: int
    room: str
    students: int


def needed(session: Session, *, small_room: int = 30) -> int:
    return 1 if session.students <= small_room else 2


def assign_invigilators(
    sessions: Sequence[Session],
    invigilators: Sequence[Invigilator],
    *,
    small_room: int = 30,
    seed: int = 0,
    period_names: dict[int, str] | None = None,
) -> list[tuple[str, ...]]:
    """The invigilators of each session, in the order of ``sessions``."""
    ids = [person.id for person in invigilators]
    if len(set(ids)) != len(ids):
        raise InvigilationError("监考人员名单中有重复")
    keys = [(s.period, s.room) for s in sessions]
    if len(set(keys)) != len(keys):
        raise InvigilationError("同一时段同一考场出现了两次")
    rng = random.Random(seed)  # noqa: S311 - a shuffle, not a secret
    tiebreak = {person.id: rng.random() for person in invigilators}
    load: dict[str, int] = dict.fromkeys(ids, 0)
    by_period: dict[int, list[int]] = defaultdict(list)
    for index, session in enumerate(sessions):
        by_period[session.period].append(index)
    names = period_names or {}
    shortages = []
    for period, indexes in sorted(by_period.items()):
        need = sum(needed(sessions[i], small_room=small_room) for i in indexes)
        free = [p.id for p in invigilators if period not in p.unavailable]
        if len(free) < need:
            shortages.append(
                f"时段 {names.get(period, period)} 需要 {need} 名监考人员，只有 {len(free)} 名有空"
            )
    if shortages:
        raise InvigilationError("监考人员不足：" + "；".join(shortages))
    unavailable = {p.id: p.unavailable for p in invigilators}
    out: list[list[str]] = [[] for _ in sessions]
    busy: dict[int, set[str]] = defaultdict(set)
    # the periods with the fewest free invigilators first
    order = sorted(
        by_period,
        key=lambda q: (sum(1 for p in invigilators if q not in p.unavailable), q),
    )
    for period in order:
        free = [i for i in ids if period not in unavailable[i]]
        for index in sorted(by_period[period], key=lambda i: -sessions[i].students):
            for _ in range(needed(sessions[index], small_room=small_room)):
                pick = min(
                    (i for i in free if i not in busy[period]),
                    key=lambda i: (load[i], tiebreak[i]),
                )
                out[index].append(pick)
                busy[period].add(pick)
                load[pick] += 1
    # even out: move a duty from the busiest to someone with 2 fewer who is free then
    improved = True
    while improved and ids:
        improved = False
        for heavy in sorted(ids, key=lambda i: -load[i]):
            for light in sorted(ids, key=lambda i: load[i]):
                if load[heavy] - load[light] < 2:
                    break
                for index, staff in enumerate(out):
                    period = sessions[index].period
                    if (
                        heavy in staff
                        and light not in busy[period]
                        and period not in unavailable[light]
                    ):
                        staff[staff.index(heavy)] = light
                        busy[period].discard(heavy)
                        busy[period].add(light)
                        load[heavy] -= 1
                        load[light] += 1
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
    return [tuple(staff) for staff in out]


def repair_invigilators(
    sessions: Sequence[Session],
    current: Sequence[Sequence[str]],
    invigilators: Sequence[Invigilator],
    *,
    prefer: Mapping[int, Sequence[str]] | None = None,
    small_room: int = 30,
    seed: int = 0,
    period_names: dict[int, str] | None = None,
) -> list[tuple[str, ...]]:
    """The invigilators of each session after a change, changing as few duties as possible.

    ``current[i]`` are those on duty in ``sessions[i]`` now (none for a new session). A session
    keeps those still free (not unavailable then, not kept in another room of the period), up to
    the number it needs; the places left go to ``prefer[period]`` first (in order), then to the
    least-loaded free invigilators. Not enough people free in a period → ``InvigilationError``.
    """
    if len(current) != len(sessions):
        raise ValueError("现有监考安排与考场数不符")
    unavailable = {p.id: p.unavailable for p in invigilators}
    rng = random.Random(seed)  # noqa: S311 - a shuffle, not a secret
    tiebreak = {person.id: rng.random() for person in invigilators}
    out: list[list[str]] = [[] for _ in sessions]
    busy: dict[int, set[str]] = defaultdict(set)
    load: dict[str, int] = dict.fromkeys(unavailable, 0)
    for index, (session, people) in enumerate(zip(sessions, current, strict=True)):
        for person in people:
            if len(out[index]) >= needed(session, small_room=small_room):
                break
            if session.period in unavailable.get(person, ()) or person in busy[session.period]:
                continue
            out[index].append(person)
            busy[session.period].add(person)
            load[person] = load.get(person, 0) + 1
    names = period_names or {}
    shortages: list[str] = []
    order = sorted(range(len(sessions)), key=lambda i: (sessions[i].period, -sessions[i].students))
    for index in order:
        session = sessions[index]
        q = session.period
        short = needed(session, small_room=small_room) - len(out[index])
        if short <= 0:
            continue
        first = [p for p in (prefer or {}).get(q, ()) if p in unavailable]
        rest = sorted(unavailable, key=lambda p: (load[p], tiebreak[p]))
        for person in [*first, *rest]:
            if short == 0:
                break
            if q in unavailable[person] or person in busy[q]:
                continue
            out[index].append(person)
            busy[q].add(person)
            load[person] += 1
            short -= 1
        if short:
            need = sum(needed(s, small_room=small_room) for s in sessions if s.period == q)
            free = sum(1 for p in unavailable if q not in unavailable[p])
            shortages.append(f"时段 {names.get(q, q)} 需要 {need} 名监考人员，只有 {free} 名有空")
    if shortages:
        raise InvigilationError("监考人员不足：" + "；".join(dict.fromkeys(shortages)))
    return [tuple(people) for people in out]
