"""Exam scheduling as a background task (``campus.kernel.tasks``): the problem is built from
the database, solved in a spawned process with live progress (phase, exams left, best cost,
the cost curve), checked by the engine's independent scorer, then seated (``seating``) and
given invigilators (``invigilators``: the sections' teachers first, the owning colleges' staff
when they are not enough; nobody in a session they are unavailable). Exams fixed by hand keep
their session and rooms but are seated again with the exams that share their rooms.
Everything is stored in one transaction; an infeasible outcome stores nothing but the engine's
reasons."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select

from campus.domains.academic import runs
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.exams import build
from campus.domains.academic.exams.engine import problem as engine
from campus.domains.academic.exams.engine import scoring
from campus.domains.academic.exams.engine.invigilators import (
    InvigilationError,
    Invigilator,
    Session,
    assign_invigilators,
)
from campus.domains.academic.exams.engine.seating import (
    SeatingError,
    SeatRoom,
    Sitting,
    seat_period,
)
from campus.domains.academic.exams.models import (
    Exam,
    ExamPlan,
    ExamRoom,
    ExamRun,
    ExamSeat,
    Invigilation,
)
from campus.kernel import audit, clock
from campus.kernel.tasks import TaskContext, TaskFailed, TaskKind
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES

KIND = "academic.exams.solve"
SEAT_COLUMNS = 8


def solve_in_child(payload: dict[str, Any], report: Any, should_stop: Any) -> dict[str, Any]:
    """Run the engine (in the spawned process) and return plain data."""
    from campus.domains.academic.exams.engine.solve import Progress, solve

    problem: engine.ExamProblem = payload["problem"]
    started = time.monotonic()

    def on_progress(progress: Progress) -> None:
        report(
            {
                "phase": progress.phase,
                "unplaced": progress.unplaced,
                "cost": progress.cost,
                "elapsed": progress.elapsed,
            }
        )

    result = solve(
        problem,
        seconds=payload["seconds"],
        seed=payload["seed"],
        on_progress=on_progress,
        should_stop=should_stop,
    )
    placements: list[Any] = []
    feasible = False
    cost = None
    reasons = list(result.reasons)
    if result.feasible and result.solution is not None:
        # The stored verdict is the independent scorer's, not the solver's own word.
        score = scoring.score(problem, result.solution)
        feasible = score.feasible
        cost = score.soft_total
        if not feasible:
            reasons.append(f"求解结果违反 {score.hard_total} 项硬约束：{score.hard}")
        placements = [
            None
            if p is None
            else (p.period, list(p.rooms), list(engine.seats_per_room(problem, e, p)))
            for e, p in enumerate(result.solution.placements)
        ]
    return {
        "feasible": feasible,
        "cost": cost,
        "reasons": reasons[:50],
        "placements": placements,
        "elapsed": round(time.monotonic() - started, 2),
    }


async def run_task(ctx: TaskContext) -> dict[str, Any]:
    run_id = int(ctx.params["run_id"])
    async with ctx.db.read() as session:
        run = await session.get(ExamRun, run_id)
        if run is None:
            raise TaskFailed("考试安排运行不存在")
        term = await session.get(Term, run.term_id)
        if term is None:
            raise TaskFailed("学期不存在")
        await ctx.progress(0.0, "构建问题", {"phase": "build"}, force=True)
        built = await build.build_problem(session, term, list(run.room_ids or []))
        seconds, seed = run.time_limit, run.seed
    total = len(built.problem.exams)
    history: list[list[float]] = []
    latest: dict[str, Any] = {"exams": total}

    async def on_report(data: dict[str, Any]) -> None:
        latest.update(data)
        if latest.get("cost") is not None:
            runs.record_cost(history, float(latest.get("elapsed", 0.0)), latest["cost"])
        fraction = min(0.99, float(latest.get("elapsed", 0.0)) / max(1, seconds))
        await ctx.progress(fraction, _label(latest.get("phase", "")), _figures(latest, history))

    payload = {"problem": built.problem, "seconds": seconds, "seed": seed}
    outcome: dict[str, Any] = await ctx.run_in_process(solve_in_child, payload, on_report)
    latest.update(phase="done", cost=outcome["cost"], elapsed=outcome["elapsed"], unplaced=0)
    if outcome["cost"] is not None:
        history.append([outcome["elapsed"], outcome["cost"]])
    await ctx.progress(1.0, "安排座位与监考", _figures(latest, history), force=True)
    stored = await _store(ctx, run_id, built, outcome, history)
    await ctx.progress(1.0, "完成", _figures(latest, history), force=True)
    return stored


def _label(phase: str) -> str:
    return {
        "build": "构建问题",
        "construct": "构造初始安排",
        "improve": "模拟退火优化",
        "done": "完成",
    }.get(phase, phase or "求解中")


def _figures(latest: dict[str, Any], history: list[list[float]]) -> dict[str, Any]:
    return {
        "phase": latest.get("phase", ""),
        "exams": latest.get("exams"),
        "unplaced": latest.get("unplaced"),
        "cost": latest.get("cost"),
        "elapsed": round(float(latest.get("elapsed", 0.0)), 1),
        "history": list(history),
    }


def seat_room(room: build.RoomInfo) -> SeatRoom:
    """A room's exam seats as a grid: ``SEAT_COLUMNS`` columns, as many rows as needed."""
    columns = max(1, min(SEAT_COLUMNS, room.seats))
    return SeatRoom(id=str(room.id), rows=math.ceil(room.seats / columns), columns=columns)


async def _college_of(session: Any, org_unit_id: int, cache: dict[int, int]) -> int:
    if org_unit_id in cache:
        return cache[org_unit_id]
    unit = await users.get_org_unit(session, org_unit_id)
    found = org_unit_id
    while unit is not None and unit.kind not in ("college", "university"):
        if unit.parent_id is None:
            break
        found = unit.parent_id
        unit = await users.get_org_unit(session, unit.parent_id)
    if unit is not None and unit.kind == "university":
        found = org_unit_id
    cache[org_unit_id] = found
    return found


def _arrange(
    built: build.Built, placements: list[Any], seed: int
) -> tuple[list[dict[str, Any]], list[tuple[int, int, int]]]:
    """The seats of every student (rows for ``ExamSeat``) and the room-sessions in use
    (period index, room index, students)."""
    by_period: dict[int, list[int]] = defaultdict(list)
    for e, placement in enumerate(placements):
        if placement[1]:  # an exam held outside the exam rooms has no seats here
            by_period[placement[0]].append(e)
    seats: list[dict[str, Any]] = []
    sittings_used: list[tuple[int, int, int]] = []
    for period, exams in sorted(by_period.items()):
        used: dict[int, int] = defaultdict(int)
        sittings = []
        for e in exams:
            _p, rooms, counts = placements[e]
            exam_id = built.exam_ids[e]
            for r, count in zip(rooms, counts, strict=True):
                used[r] += count
            sittings.append(
                Sitting(
                    exam=str(exam_id),
                    students=tuple(str(s) for s in built.students[exam_id]),
                    rooms=tuple(
                        (str(built.rooms[r].id), c) for r, c in zip(rooms, counts, strict=True)
                    ),
                )
            )
        grid = [seat_room(built.rooms[r]) for r in sorted(used)]
        for seat in seat_period(sittings, grid, seed=seed):
            seats.append(
                {
                    "exam_id": int(seat.exam),
                    "person_id": int(seat.student),
                    "room_id": int(seat.room),
                    "row": seat.row,
                    "column": seat.column,
                    "number": seat.number,
                }
            )
        sittings_used += [(period, r, n) for r, n in sorted(used.items()) if n > 0]
    return seats, sittings_used


async def invigilator_pool(
    session: Any, built: build.Built
) -> tuple[list[int], list[int], dict[int, frozenset[int]]]:
    """Who may invigilate the exams of ``built``: the sections' teachers who are staff, then
    everyone on the staff of the owning colleges; and each one's unavailable periods."""
    teachers: list[int] = []
    for exam_id in built.exam_ids:
        teachers += [p for p in built.teachers.get(exam_id, []) if p not in teachers]
    staff = await users.people_of_types(session, teachers, STAFF_TYPES)
    cache: dict[int, int] = {}
    colleges = sorted({await _college_of(session, o, cache) for o in built.owners.values()})
    others = await users.people_in_groups(session, org_unit_ids=colleges, person_types=STAFF_TYPES)
    everyone = list(staff) + [p for p in others if p not in staff]
    period_of = {sid: i for i, sid in enumerate(built.session_ids)}
    away = await build.unavailable_of(session, built.term_id)
    unavailable = {
        p: frozenset(period_of[s] for s in away.get(p, ()) if s in period_of) for p in everyone
    }
    return staff, everyone, unavailable


async def _invigilate(
    session: Any, built: build.Built, placements: list[Any], used: list[tuple[int, int, int]]
) -> list[tuple[str, ...]]:
    """Invigilators of each room-session: the teachers of the exams' sections first; the staff
    of the owning colleges join when the teachers are not enough."""
    staff, everyone, unavailable = await invigilator_pool(session, built)
    sessions = [Session(period=p, room=str(built.rooms[r].id), students=n) for p, r, n in used]
    names = period_names(built)

    def pool(people: list[int]) -> list[Invigilator]:
        return [Invigilator(str(p), unavailable[p]) for p in people]

    try:
        return assign_invigilators(sessions, pool(staff), period_names=names)
    except InvigilationError:
        pass
    duties = assign_invigilators(sessions, pool(everyone), period_names=names)
    return _teachers_first(built, placements, sessions, duties, set(staff), unavailable)


def period_names(built: build.Built) -> dict[int, str]:
    return {i: f"{p.date} {p.start:%H:%M}" for i, p in enumerate(built.problem.periods)}


def _teachers_first(
    built: build.Built,
    placements: list[Any],
    sessions: list[Session],
    duties: list[tuple[str, ...]],
    staff: set[int],
    unavailable: dict[int, frozenset[int]],
) -> list[tuple[str, ...]]:
    """Give a period's duties held by colleagues to the teachers of that period's exams who
    are still free then (nobody is ever in two rooms at once, nor on duty when unavailable)."""
    teachers_of: dict[int, list[str]] = defaultdict(list)
    for e, placement in enumerate(placements):
        for person in built.teachers.get(built.exam_ids[e], []):
            if person in staff and str(person) not in teachers_of[placement[0]]:
                teachers_of[placement[0]].append(str(person))
    busy: dict[int, set[str]] = defaultdict(set)
    for s, people in zip(sessions, duties, strict=True):
        busy[s.period].update(people)
    out = [list(people) for people in duties]
    teacher_ids = {str(p) for p in staff}
    for index, s in enumerate(sessions):
        for slot, holder in enumerate(out[index]):
            if holder in teacher_ids:
                continue
            free = [
                t
                for t in teachers_of[s.period]
                if t not in busy[s.period] and s.period not in unavailable[int(t)]
            ]
            if free:
                out[index][slot] = free[0]
                busy[s.period].discard(holder)
                busy[s.period].add(free[0])
    return [tuple(people) for people in out]


async def _store(
    ctx: TaskContext,
    run_id: int,
    built: build.Built,
    outcome: dict[str, Any],
    history: list[list[float]],
) -> dict[str, Any]:
    """Record the outcome on the run and, when feasible and not cancelled, the exams' sessions,
    rooms, seats and invigilators, all in one transaction."""
    feasible = bool(outcome["feasible"])
    reasons = list(outcome["reasons"])
    async with ctx.db.transaction() as session:
        run = await session.get(ExamRun, run_id)
        assert run is not None
        report: dict[str, Any] = {"history": history, "elapsed": outcome["elapsed"]}
        placements = outcome["placements"]
        if feasible and not ctx.cancelled:
            try:
                seats, used = _arrange(built, placements, run.seed)
                staff = await _invigilate(session, built, placements, used)
            except (SeatingError, InvigilationError) as exc:
                feasible = False
                reasons.append(str(exc))
            else:
                await _replace(session, run, built, placements, seats, used, staff)
                report["exams"] = len(built.exam_ids)
                report["seats"] = len(seats)
                report["duties"] = sum(len(s) for s in staff)
        run.feasible = feasible
        run.cost = outcome["cost"] if feasible else None
        report["reasons"] = reasons
        run.report = report
    return {"feasible": feasible, "cost": outcome["cost"] if feasible else None}


async def _replace(
    session: Any,
    run: ExamRun,
    built: build.Built,
    placements: list[Any],
    seats: list[dict[str, Any]],
    used: list[tuple[int, int, int]],
    staff: list[tuple[str, ...]],
) -> None:
    term_id = run.term_id
    scheduled = select(Exam.id).where(
        Exam.term_id == term_id, Exam.excluded.is_(False), Exam.manual.is_(False)
    )
    await session.execute(delete(ExamRoom).where(ExamRoom.exam_id.in_(scheduled)))
    await session.execute(delete(ExamSeat).where(ExamSeat.exam_id.in_(scheduled)))
    # the fixed exams keep their rooms but are seated again, with those sharing them
    await session.execute(delete(ExamSeat).where(ExamSeat.exam_id.in_(list(built.fixed) or [0])))
    await session.execute(delete(Invigilation).where(Invigilation.term_id == term_id))
    now = clock.now()
    for exam in await session.scalars(
        select(Exam).where(Exam.term_id == term_id, Exam.excluded.is_(False), ~Exam.manual)
    ):
        exam.session_id = None
    placed_ids = set(built.exam_ids)
    for e, exam_id in enumerate(built.exam_ids):
        period, rooms, counts = placements[e]
        exam = await session.get(Exam, exam_id)
        exam.students = len(built.students[exam_id])
        exam.updated_at = now
        if exam_id in built.fixed:
            continue
        exam.session_id = built.session_ids[period]
        for position, (r, count) in enumerate(zip(rooms, counts, strict=True)):
            session.add(
                ExamRoom(exam_id=exam_id, room_id=built.rooms[r].id, seats=count, position=position)
            )
    if seats:
        await session.execute(insert(ExamSeat), seats)
    duties = [
        {
            "term_id": term_id,
            "session_id": built.session_ids[p],
            "room_id": built.rooms[r].id,
            "person_id": int(person),
        }
        for (p, r, _n), people in zip(used, staff, strict=True)
        for person in people
    ]
    if duties:
        await session.execute(insert(Invigilation), duties)
    plan = await session.scalar(select(ExamPlan).where(ExamPlan.term_id == term_id))
    if plan is None:
        plan = ExamPlan(term_id=term_id, published=False, version=0)
        session.add(plan)
    plan.run_id = run.id
    plan.scheduled_at = now
    plan.published = False
    run.applied = True
    await session.flush()
    audit.record(
        session,
        "academic.exams.scheduled",
        "term",
        term_id,
        after={"run_id": run.id, "exams": len(placed_ids), "seats": len(seats)},
    )


TASKS = (TaskKind(KIND, run_task),)
