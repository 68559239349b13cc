"""What the solver runs of timetabling (排课) and exam scheduling (考试安排) share: a run is a row
of its topic tied to a background task (``campus.kernel.tasks``), whose status, progress and
figures are the run's; its runner records a cost curve in those figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import tasks

STATUS_LABELS = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "已完成",
    "failed": "失败",
    "cancelled": "已取消",
}
HISTORY_POINTS = 240  # of the cost curve, so that the task's figures stay small


class Run(Protocol):
    """The columns both topics' run tables have."""

    id: int
    task_id: int

    @property
    def term_id(self) -> int | None: ...
    @property
    def time_limit(self) -> int: ...
    @property
    def seed(self) -> int: ...
    @property
    def feasible(self) -> bool | None: ...
    @property
    def cost(self) -> int | None: ...
    @property
    def applied(self) -> bool: ...
    @property
    def report(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


R = TypeVar("R", bound=Run)


async def submit(session: AsyncSession, kind: str, run: R, created_by: int | None) -> R:
    """Store ``run`` with a task of ``kind`` that solves it once the transaction commits. The
    task comes first, as the run keeps its id; the task learns the run's id once there is one."""
    run.task_id = await tasks.submit(session, kind, {"run_id": 0}, created_by=created_by)
    session.add(run)
    await session.flush()
    task = await session.get(tasks.TaskRow, run.task_id)
    assert task is not None
    task.params = {"run_id": run.id}
    return run


async def out_fields(session: AsyncSession, run: Run) -> dict[str, Any]:
    """The fields both topics' ``RunOut`` have: the run's own and its task's."""
    task = await tasks.get(session, run.task_id)
    assert task is not None
    return {
        "id": run.id,
        "term_id": run.term_id,
        "time_limit": run.time_limit,
        "seed": run.seed,
        "task_id": run.task_id,
        "status": task.status,
        "progress": task.progress,
        "message": task.message,
        "figures": task.figures,
        "error": task.error,
        "feasible": run.feasible,
        "cost": run.cost,
        "applied": run.applied,
        "report": run.report,
        "created_at": run.created_at,
        "finished_at": task.finished_at,
    }


def record_cost(history: list[list[float]], elapsed: float, cost: float) -> None:
    """Add the best cost at ``elapsed`` seconds to a run's cost curve: one point a tenth of a
    second (the latest wins), every other point dropped when the curve grows too long."""
    point = [round(elapsed, 1), cost]
    if history and history[-1][0] == point[0]:
        history[-1] = point
    else:
        history.append(point)
    if len(history) > HISTORY_POINTS:
        del history[1::2]
