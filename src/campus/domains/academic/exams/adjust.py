"""Changing a stored exam timetable by hand, planned before anything is written: moving one exam
(调整考试: another session and/or rooms, or, for a manual exam, no session) and keeping the
invigilators right after a change.

``plan_move`` reads the stored timetable back as the engine's problem and solution, asks the
engine's ``check_move`` what the move breaks (students in two exams at once, students who cannot
sit then, seats, duration) and what it makes worse (warnings), then seats the rooms the exam
joins and works out the term's duties after the move (``repair_invigilators``: every duty still
valid kept). ``actions`` writes a plan only when it has no problems. Reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.exams import build, runner
from campus.domains.academic.exams.engine import problem as engine
from campus.domains.academic.exams.engine.invigilators import (
    InvigilationError,
    Invigilator,
    Session,
    repair_invigilators,
)
from campus.domains.academic.exams.engine.moves import check_move
from campus.domains.academic.exams.engine.seating import SeatingError, Sitting, seat_period
from campus.domains.academic.exams.models import Exam, ExamRoom, ExamSeat, Invigilation
from campus.kernel.errors import Conflict, FieldError
from campus.kernel.i18n import _
from campus.platform.users import service as users

FIELDS = {"period": "session_id", "rooms": "room_ids"}
EXAMPLES = 3  # students named in a problem

Duties = dict[tuple[int, int], tuple[int, ...]]  # (session id, room id) → people on duty


@dataclass
class RoomUse:
    room: build.RoomInfo
    seats: int  # the exam's students there
    taken: int  # seats held by the session's other exams
    exams: list[str]  # those other exams


@dataclass
class MovePlan:
    exam: Exam
    session_id: int | None
    rooms: list[RoomUse] = field(default_factory=list)
    problems: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    soft_delta: int = 0
    seats: list[dict[str, Any]] = field(default_factory=list)  # ExamSeat rows to write
    reseat: list[tuple[int, int]] = field(default_factory=list)  # room-sessions seated again
    duties: Duties = field(default_factory=dict)  # the term's duties after the move
    names: dict[int, str] = field(default_factory=dict)  # people on duty → names

    @property
    def ok(self) -> bool:
        return not self.problems


async def plan_move(
    session: AsyncSession, term: Term, exam: Exam, session_id: int | None, room_ids: list[int]
) -> MovePlan:
    """What moving ``exam`` to ``session_id`` in ``room_ids`` (its present rooms when empty;
    none for a manual exam held elsewhere) would break and write. ``session_id`` None takes a
    manual exam out of the timetable."""
    built = await build.build_problem(session, term, [], moving=exam.id, rooms_in_use=True)
    index = built.index(exam.id)
    plan = MovePlan(exam, session_id)
    if index is None:  # no students: nothing to check, seat or invigilate
        if room_ids:
            raise Conflict.on("room_ids", _("该考试没有学生，无需考场"))
        plan.duties = await current_duties(session, term.id)
        return plan
    solution = await build.stored_solution(session, built)
    placements = list(solution.placements)
    if session_id is None:
        placements[index] = None
        after = engine.Solution(tuple(placements))
    else:
        if not room_ids:
            room_ids = list(
                await session.scalars(
                    select(ExamRoom.room_id)
                    .where(ExamRoom.exam_id == exam.id)
                    .order_by(ExamRoom.position)
                )
            )
        placement = _placement(built, solution, index, session_id, room_ids, plan)
        check = check_move(
            built.problem,
            solution,
            index,
            placement,
            names={i: built.names[e] for i, e in enumerate(built.exam_ids)},
        )
        plan.soft_delta = check.soft_delta
        plan.warnings = [w.message for w in check.warnings]
        people = await users.get_people(
            session, sorted({int(s) for i in check.problems for s in i.students[:EXAMPLES]})
        )
        for issue in check.problems:
            named = [people[int(s)].name for s in issue.students[:EXAMPLES] if int(s) in people]
            reason = issue.message + (f"（如 {'、'.join(named)}）" if named else "")
            plan.problems.append(FieldError(FIELDS[issue.where], reason))
        if plan.problems:
            return plan
        after = check.solution
        try:
            if plan.rooms:  # a manual exam held outside the exam rooms has no seats here
                await _seat(session, built, plan, exam, session_id)
        except SeatingError as exc:
            plan.problems.append(FieldError("room_ids", str(exc)))
            return plan
    try:
        plan.duties = await duties_after(session, built, after)
    except InvigilationError as exc:
        plan.problems.append(FieldError("session_id", str(exc)))
        return plan
    people = await users.get_people(session, sorted({p for d in plan.duties.values() for p in d}))
    plan.names = {p: ref.name for p, ref in people.items()}
    return plan


def _placement(
    built: build.Built,
    solution: engine.Solution,
    index: int,
    session_id: int,
    room_ids: list[int],
    plan: MovePlan,
) -> engine.Placement:
    """The exam in the session, its students filling the rooms' free seats in the order given
    (any left over in the last room, which the check then finds too small)."""
    period = built.session_ids.index(session_id)
    room_of = {r.id: i for i, r in enumerate(built.rooms)}
    problem = built.problem
    taken: dict[int, int] = defaultdict(int)
    sharing: dict[int, list[str]] = defaultdict(list)
    for e, p in enumerate(solution.placements):
        if e == index or p is None or p.period != period:
            continue
        for r, seats in zip(p.rooms, engine.seats_per_room(problem, e, p), strict=True):
            taken[r] += seats
            sharing[r].append(built.names[built.exam_ids[e]])
    rooms = [room_of[r] for r in dict.fromkeys(room_ids)]
    left = problem.exams[index].size
    chosen: list[tuple[int, int]] = []
    for position, r in enumerate(rooms):
        free = max(0, problem.rooms[r].capacity - taken[r])
        take = left if position == len(rooms) - 1 else min(left, free)
        if take > 0:
            chosen.append((r, take))
            left -= take
    for r, seats in chosen:
        plan.rooms.append(RoomUse(built.rooms[r], seats, taken[r], sharing[r]))
    return engine.Placement(
        period=period,
        rooms=tuple(r for r, _s in chosen),
        seats=tuple(s for _r, s in chosen) if len(chosen) > 1 else (),
    )


async def _seat(
    session: AsyncSession,
    built: build.Built,
    plan: MovePlan,
    exam: Exam,
    session_id: int,
) -> None:
    """Seats of the room-sessions the exam joins: its students and those of the other exams
    already there, seated again together (alternate columns)."""
    targets = [use.room for use in plan.rooms]
    there: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for other, person, room in await session.execute(
        select(ExamSeat.exam_id, ExamSeat.person_id, ExamSeat.room_id)
        .join(Exam, Exam.id == ExamSeat.exam_id)
        .where(
            Exam.session_id == session_id,
            ExamSeat.room_id.in_([r.id for r in targets] or [0]),
            ExamSeat.exam_id != exam.id,
        )
        .order_by(ExamSeat.number)
    ):
        there[other][room].append(person)
    sittings = [
        Sitting(
            exam=str(other),
            students=tuple(str(p) for people in by_room.values() for p in people),
            rooms=tuple((str(r), len(people)) for r, people in by_room.items()),
        )
        for other, by_room in sorted(there.items())
    ]
    sittings.append(
        Sitting(
            exam=str(exam.id),
            students=tuple(str(s) for s in built.students[exam.id]),
            rooms=tuple((str(use.room.id), use.seats) for use in plan.rooms),
        )
    )
    grid = [runner.seat_room(room) for room in targets]
    for seat in seat_period(sittings, grid, seed=exam.id):
        plan.seats.append(
            {
                "exam_id": int(seat.exam),
                "person_id": int(seat.student),
                "room_id": int(seat.room),
                "row": seat.row,
                "column": seat.column,
                "number": seat.number,
            }
        )
    plan.reseat = [(session_id, room.id) for room in targets]


async def current_duties(session: AsyncSession, term_id: int) -> Duties:
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for session_id, room_id, person_id in await session.execute(
        select(Invigilation.session_id, Invigilation.room_id, Invigilation.person_id)
        .where(Invigilation.term_id == term_id)
        .order_by(Invigilation.id)
    ):
        found[session_id, room_id].append(person_id)
    return {key: tuple(people) for key, people in found.items()}


async def duties_after(
    session: AsyncSession,
    built: build.Built,
    solution: engine.Solution,
    away: dict[int, set[int]] | None = None,
) -> Duties:
    """The term's duties for the rooms in use in ``solution``: each room-session keeps those
    of its invigilators still free then; the places left go to the teachers of that session's
    exams first, then to the least-loaded of the pool (``runner.invigilator_pool``). ``away``
    adds unavailable sessions not stored yet (person → session ids)."""
    problem = built.problem
    used: dict[tuple[int, int], int] = defaultdict(int)
    teachers: dict[int, list[str]] = defaultdict(list)
    for e, p in enumerate(solution.placements):
        if p is None:
            continue
        for r, seats in zip(p.rooms, engine.seats_per_room(problem, e, p), strict=True):
            used[p.period, r] += seats
        for t in built.teachers.get(built.exam_ids[e], []):
            if str(t) not in teachers[p.period]:
                teachers[p.period].append(str(t))
    keys = sorted(used)
    now = await current_duties(session, built.term_id)
    staff, everyone, unavailable = await runner.invigilator_pool(session, built)
    period_of = {s: i for i, s in enumerate(built.session_ids)}
    holders = {person for people in now.values() for person in people}
    stored = await build.unavailable_of(session, built.term_id)
    pool: dict[int, set[int]] = {person: set(unavailable[person]) for person in everyone}
    for person in sorted(holders - set(pool)):  # on duty although outside the pool: may stay
        pool[person] = {period_of[s] for s in stored.get(person, ()) if s in period_of}
    for person, sessions in (away or {}).items():
        if person in pool:
            pool[person] |= {period_of[s] for s in sessions if s in period_of}
    on_staff = {str(p) for p in staff}
    prefer = {q: [t for t in people if t in on_staff] for q, people in teachers.items()}
    out = repair_invigilators(
        [Session(q, str(built.rooms[r].id), used[q, r]) for q, r in keys],
        [
            tuple(str(p) for p in now.get((built.session_ids[q], built.rooms[r].id), ()))
            for q, r in keys
        ],
        [Invigilator(str(p), frozenset(periods)) for p, periods in pool.items()],
        prefer=prefer,
        period_names=runner.period_names(built),
    )
    return {
        (built.session_ids[q], built.rooms[r].id): tuple(int(p) for p in people)
        for (q, r), people in zip(keys, out, strict=True)
    }


async def write_duties(session: AsyncSession, term_id: int, duties: Duties) -> int:
    """Store the term's duties, touching only the room-sessions that changed; returns how
    many duties were added (people newly on duty somewhere)."""
    now = await current_duties(session, term_id)
    changed = [key for key in set(now) | set(duties) if now.get(key) != duties.get(key)]
    for session_id, room_id in changed:
        await session.execute(
            delete(Invigilation).where(
                Invigilation.session_id == session_id, Invigilation.room_id == room_id
            )
        )
    rows = [
        {"term_id": term_id, "session_id": s, "room_id": r, "person_id": p}
        for s, r in sorted(changed)
        for p in duties.get((s, r), ())
    ]
    if rows:
        await session.execute(insert(Invigilation), rows)
    return sum(1 for key in changed for p in duties.get(key, ()) if p not in now.get(key, ()))
