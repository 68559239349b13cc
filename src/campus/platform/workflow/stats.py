"""Statistics of the service hall for administrators: volume, handling time per service and per
step, overdue work and the steps where applications wait longest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.i18n import _
from campus.platform.workflow.models import HallService, Instance, Task
from campus.platform.workflow.schemas import DayVolume, HallStats, ServiceVolume, StepDuration

FINISHED = ("approved", "rejected", "withdrawn")
BOTTLENECKS = 5


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None


async def hall_stats(session: AsyncSession, days: int) -> HallStats:
    now = clock.now()
    since = now - timedelta(days=days)
    instances = (
        await session.execute(
            select(
                Instance.service_id, Instance.status, Instance.started_at, Instance.ended_at
            ).where(Instance.started_at >= since)
        )
    ).all()
    names = {
        row.id: row.name for row in await session.execute(select(HallService.id, HallService.name))
    }
    services = _service_volumes(instances, names)
    steps = await _step_durations(session, since, now)
    per_day = _per_day(instances, since, days)
    durations = [_hours(r.started_at, r.ended_at) for r in instances if r.ended_at]
    return HallStats(
        days=days,
        applied=len(instances),
        finished=sum(1 for r in instances if r.status in FINISHED),
        running=sum(1 for r in instances if r.status in ("running", "returned")),
        overdue_tasks=sum(s.overdue for s in steps),
        avg_hours=_mean(durations),
        services=services,
        steps=steps,
        bottlenecks=sorted(
            (s for s in steps if s.avg_hours is not None),
            key=lambda s: -(s.avg_hours or 0),
        )[:BOTTLENECKS],
        per_day=per_day,
    )


def _service_volumes(rows: Sequence[Any], names: dict[int, str]) -> list[ServiceVolume]:
    grouped: dict[int | None, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.service_id].append(row)
    volumes = [
        ServiceVolume(
            service_id=service_id,
            name=names.get(service_id or 0) or str(_("其他模块发起")),
            applied=len(items),
            finished=sum(1 for r in items if r.status in FINISHED),
            approved=sum(1 for r in items if r.status == "approved"),
            rejected=sum(1 for r in items if r.status == "rejected"),
            running=sum(1 for r in items if r.status in ("running", "returned")),
            avg_hours=_mean([_hours(r.started_at, r.ended_at) for r in items if r.ended_at]),
        )
        for service_id, items in grouped.items()
    ]
    return sorted(volumes, key=lambda v: -v.applied)


async def _step_durations(
    session: AsyncSession, since: datetime, now: datetime
) -> list[StepDuration]:
    rows = (
        await session.execute(
            select(
                Instance.process_key,
                Task.step_name,
                Task.status,
                Task.created_at,
                Task.acted_at,
                Task.due_at,
            )
            .join(Instance, Instance.id == Task.instance_id)
            .where(Task.kind == "approve", Task.created_at >= since)
        )
    ).all()
    grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        grouped[(row.process_key, row.step_name)].append(row)
    out = []
    for (process_key, step_name), items in grouped.items():
        decided = [r for r in items if r.acted_at is not None and r.status != "cancelled"]
        waiting = [r for r in items if r.status == "pending"]
        out.append(
            StepDuration(
                process_key=process_key,
                step_name=step_name,
                decided=len(decided),
                waiting=len(waiting),
                avg_hours=_mean([_hours(r.created_at, r.acted_at) for r in decided]),
                overdue=sum(1 for r in waiting if r.due_at is not None and r.due_at < now),
            )
        )
    return sorted(out, key=lambda s: (s.process_key, s.step_name))


def _per_day(rows: Sequence[Any], since: datetime, days: int) -> list[DayVolume]:
    applied: dict[str, int] = defaultdict(int)
    finished: dict[str, int] = defaultdict(int)
    for row in rows:
        applied[row.started_at.date().isoformat()] += 1
        if row.ended_at:
            finished[row.ended_at.date().isoformat()] += 1
    labels = [(since + timedelta(days=i + 1)).date().isoformat() for i in range(days)]
    return [DayVolume(day=d, applied=applied[d], finished=finished[d]) for d in labels]
