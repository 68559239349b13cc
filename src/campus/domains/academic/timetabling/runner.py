"""The timetabling run as a background task (``campus.kernel.tasks``): the problem is built
from the database here, solved in a spawned process (the solver is CPU-bound), its progress
written as the task's figures (phase, best cost, hard violations, elapsed, the cost curve), and
the best timetable stored in one transaction when the solver returns."""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select

from campus.domains.academic import runs
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.timetabling import build, queries
from campus.domains.academic.timetabling.engine import problem as engine
from campus.domains.academic.timetabling.engine import scoring
from campus.domains.academic.timetabling.models import Lecture, Run, Timetable
from campus.kernel import audit, clock
from campus.kernel.tasks import TaskContext, TaskFailed, TaskKind

KIND = "academic.timetabling.solve"
MAX_CONFLICTS = 50


# ---------------------------------------------------------------- the child process


def solve_in_child(payload: dict[str, Any], report: Any, should_stop: Any) -> dict[str, Any]:
    """Run the engine (in the spawned process) and return plain data."""
    from campus.domains.academic.timetabling.engine.solve import solve

    problem: engine.Problem = payload["problem"]
    started = time.monotonic()

    def on_progress(phase: str, elapsed: float, hard: int, soft: int) -> None:
        report(
            {
                "phase": phase,
                "cost": None if soft < 0 else int(soft),
                "hard": None if hard < 0 else int(hard),
                "elapsed": float(elapsed),
            }
        )

    result = solve(
        problem,
        seconds=payload["seconds"],
        seed=payload["seed"],
        keep=payload.get("keep"),
        on_progress=on_progress,
        should_stop=should_stop,
    )
    placements = list(result.placements)
    # The stored verdict is the independent scorer's, not the solver's own word.
    score = scoring.score(problem, placements)
    conflicts = list(result.conflicts)
    if not placements and not conflicts:
        conflicts.append("时限内未找到满足全部硬约束的课表，请延长时限或放宽约束")
    return {
        "placements": [(p.course, p.room, p.slot) for p in placements],
        "hard": int(score.hard),
        "cost": int(score.cost),
        "feasible": bool(placements) and bool(score.feasible),
        "status": result.status,
        "conflicts": conflicts[:MAX_CONFLICTS],
        "warnings": list(result.warnings)[:MAX_CONFLICTS],
        "elapsed": round(time.monotonic() - started, 2),
    }


# ---------------------------------------------------------------- the task


async def run_task(ctx: TaskContext) -> dict[str, Any]:
    run_id = int(ctx.params["run_id"])
    async with ctx.db.read() as session:
        run = await session.get(Run, run_id)
        if run is None:
            raise TaskFailed("排课运行不存在")
        await ctx.progress(0.0, "构建问题", {"phase": "build"}, force=True)
        built: build.Built | None = None
        keep: list[engine.Placement] | None = None
        if run.mode == "benchmark":
            from campus.domains.academic.timetabling.engine import itc2007

            problem = itc2007.loads(run.instance or "")
        else:
            term = await session.get(Term, run.term_id)
            if term is None:
                raise TaskFailed("学期不存在")
            built = await build.build_problem(session, term)
            problem = built.problem
            if not problem.courses:
                raise TaskFailed("本学期没有需要排课的教学班")
            if not problem.rooms:
                raise TaskFailed("没有可用的教室")
            if run.mode == "reschedule":
                keep = await build.draft_placements(session, term.id, built.grid)
        seconds, seed = run.time_limit, run.seed
    history: list[list[float]] = []
    latest: dict[str, Any] = {}

    async def on_report(data: dict[str, Any]) -> None:
        latest.update({k: v for k, v in data.items() if v is not None})
        if latest.get("cost") is not None:
            runs.record_cost(history, float(latest.get("elapsed", 0.0)), latest["cost"])
        fraction = min(0.99, float(latest.get("elapsed", 0.0)) / max(1, seconds))
        await ctx.progress(
            fraction, _phase_label(latest.get("phase", "")), _figures(latest, history)
        )

    payload = {"problem": problem, "seconds": seconds, "seed": seed, "keep": keep}
    outcome: dict[str, Any] = await ctx.run_in_process(solve_in_child, payload, on_report)
    latest.update(phase="done", cost=outcome["cost"], hard=outcome["hard"])
    latest["elapsed"] = outcome["elapsed"]
    if outcome["cost"] is not None:
        history.append([outcome["elapsed"], outcome["cost"]])
    await ctx.progress(1.0, "保存结果", _figures(latest, history), force=True)
    stored = await _store(ctx, run_id, built, keep, outcome, history)
    await ctx.progress(1.0, "完成", _figures(latest, history), force=True)
    return stored


def _phase_label(phase: str) -> str:
    labels = {
        "build": "构建问题",
        "construct": "构造初始解",
        "cpsat": "CP-SAT 求解",
        "cp-sat": "CP-SAT 求解",
        "improve": "模拟退火优化",
        "infeasible": "无可行解",
        "unknown": "时限内未找到可行解",
        "local": "局部搜索优化",
        "local_search": "局部搜索优化",
        "search": "局部搜索优化",
        "done": "完成",
    }
    return labels.get(phase.lower(), phase or "求解中")


def _figures(latest: dict[str, Any], history: list[list[float]]) -> dict[str, Any]:
    return {
        "phase": latest.get("phase", ""),
        "cost": latest.get("cost"),
        "hard": latest.get("hard"),
        "elapsed": round(float(latest.get("elapsed", 0.0)), 1),
        "history": list(history),
    }


async def _store(
    ctx: TaskContext,
    run_id: int,
    built: build.Built | None,
    keep: list[engine.Placement] | None,
    outcome: dict[str, Any],
    history: list[list[float]],
) -> dict[str, Any]:
    """Record the outcome on the run and, for a feasible term run not cancelled, make its
    placements the term's draft, all in one transaction."""
    placements = [engine.Placement(c, r, s) for c, r, s in outcome["placements"]]
    async with ctx.db.transaction() as session:
        run = await session.get(Run, run_id)
        assert run is not None
        run.feasible = outcome["feasible"]
        run.hard = outcome["hard"]
        run.cost = outcome["cost"]
        report: dict[str, Any] = {"history": history, "elapsed": outcome["elapsed"]}
        if built is not None:
            names = await queries.engine_names(session, built)
            report["conflicts"] = [queries.readable(c, names) for c in outcome["conflicts"]]
            report["warnings"] = [queries.readable(w, names) for w in outcome["warnings"]]
        else:
            report["conflicts"] = outcome["conflicts"]
            report["placements"] = outcome["placements"]
        if (
            built is not None
            and run.term_id is not None
            and not ctx.cancelled
            and outcome["feasible"]
        ):
            moves = await replace_draft(session, run.term_id, built, placements, keep)
            run.applied = True
            run.moved = len(moves) if keep is not None else None
            report["moves"] = moves if keep is not None else []
            await bump_revision(session, run.term_id, run.id)
            audit.record(
                session,
                "academic.timetable.run_applied",
                "term",
                run.term_id,
                after={"run_id": run.id, "cost": run.cost, "moved": run.moved},
            )
        run.report = report
    return {"feasible": outcome["feasible"], "hard": outcome["hard"], "cost": outcome["cost"]}


async def replace_draft(
    session: Any,
    term_id: int,
    built: build.Built,
    placements: list[engine.Placement],
    keep: list[engine.Placement] | None,
) -> list[dict[str, Any]]:
    """Replace the term's lectures by ``placements``. A lecture that stays where it was keeps
    its number and pin; returns the lectures that moved (re-scheduling)."""
    old = {
        (row.section_id, row.number): row
        for row in await session.scalars(select(Lecture).where(Lecture.term_id == term_id))
    }
    by_section: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for p in placements:
        day, block = built.grid.day_block(p.slot)
        by_section[build.id_of(p.course)].append((day, block, build.id_of(p.room)))
    rows: list[dict[str, Any]] = []
    moves: list[dict[str, Any]] = []
    for section_id, placed in sorted(by_section.items()):
        previous = {n: row for (s, n), row in old.items() if s == section_id}
        left = list(placed)
        numbered: dict[int, tuple[int, int, int]] = {}
        for number, row in sorted(previous.items()):
            spot = (row.day, row.block, row.room_id)
            if spot in left:
                left.remove(spot)
                numbered[number] = spot
        free = [n for n in range(len(placed)) if n not in numbered]
        for number, spot in zip(free, sorted(left), strict=False):
            numbered[number] = spot
            before = previous.get(number)
            if before is not None:
                moves.append(
                    {
                        "section_id": section_id,
                        "section": built.sections[section_id].name,
                        "number": number,
                        "from": [before.day, before.block, before.room_id],
                        "to": list(spot),
                    }
                )
        for number, (day, block, room_id) in sorted(numbered.items()):
            pinned = previous[number].pinned if number in previous else False
            rows.append(
                {
                    "term_id": term_id,
                    "section_id": section_id,
                    "number": number,
                    "day": day,
                    "block": block,
                    "room_id": room_id,
                    "pinned": pinned,
                }
            )
    await session.execute(delete(Lecture).where(Lecture.term_id == term_id))
    if rows:
        await session.execute(insert(Lecture), rows)
    return moves


async def bump_revision(session: Any, term_id: int, run_id: int | None) -> Timetable:
    """The term's draft changed: a new revision (of the run that made it, if any)."""
    timetable = await session.scalar(select(Timetable).where(Timetable.term_id == term_id))
    if timetable is None:
        timetable = Timetable(term_id=term_id, revision=0, published_version=0)
        session.add(timetable)
    timetable.revision = (timetable.revision or 0) + 1
    timetable.updated_at = clock.now()
    if run_id is not None:
        timetable.run_id = run_id
    await session.flush()
    return timetable


TASKS = (TaskKind(KIND, run_task),)
