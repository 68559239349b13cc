"""Scheduled jobs: each manifest's ``ScheduledJob`` runs every ``every_seconds`` in the worker
(and in the web process in embedded mode).

Time is cut into windows of ``every_seconds``; a run first claims its window in the cache
(``set_if_absent``). With Redis the claim is shared, so however many workers run, a job runs once
per window; with the in-process cache, once per window in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter

from campus.kernel.cache import Cache
from campus.kernel.manifest import ScheduledJob

if TYPE_CHECKING:
    from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

JOB_RUNS = Counter("campus_job_runs", "Scheduled job runs, by job and result", ["job", "result"])


def window_of(job: ScheduledJob, now: float) -> int:
    return int(now // job.every_seconds)


async def run_job_once(job: ScheduledJob, cache: Cache) -> bool:
    """Run the job if its current window is unclaimed; returns whether it ran.

    A failure is logged and counted; the next window tries again.
    """
    window = window_of(job, time.time())
    claim = f"job:{job.name}:{window}"
    if not await cache.set_if_absent(claim, b"1", ttl=job.every_seconds + 60):
        return False
    try:
        await job.func()
    except Exception:
        log.exception("job_failed", job=job.name)
        JOB_RUNS.labels(job.name, "failed").inc()
    else:
        JOB_RUNS.labels(job.name, "ok").inc()
    return True


class JobRunner:
    """One task per job; ``stop`` lets running jobs finish for up to ``grace`` seconds."""

    def __init__(self, jobs: Sequence[ScheduledJob], cache: Cache, *, grace: float = 10.0) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            raise ValueError("scheduled job names must be unique")
        if any(job.every_seconds <= 0 for job in jobs):
            raise ValueError("a scheduled job needs every_seconds > 0")
        self.jobs = list(jobs)
        self.cache = cache
        self.grace = grace
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(job), name=f"job:{job.name}") for job in self.jobs
        ]

    async def _loop(self, job: ScheduledJob) -> None:
        while not self._stopping.is_set():
            await run_job_once(job, self.cache)
            next_window = (window_of(job, time.time()) + 1) * job.every_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), max(0.0, next_window - time.time()))

    async def stop(self) -> None:
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=self.grace)
        for task in pending:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        # Background tasks this process was running end as failed (and may be resubmitted).
        from campus.kernel.tasks import stop_runners

        await stop_runners()


PURGE_EVERY_SECONDS = 3600.0


def scheduled_jobs(runtime: Runtime) -> list[ScheduledJob]:
    """The kernel's own jobs and those the enabled modules' manifests declare."""
    from campus.kernel.relay import purge_delivered
    from campus.kernel.tasks import task_jobs

    async def purge() -> None:
        removed = await purge_delivered(runtime.db)
        log.info("delivered_events_purged", rows=removed)

    kernel = [
        ScheduledJob("kernel.purge_delivered_events", PURGE_EVERY_SECONDS, purge),
        *task_jobs(runtime),
    ]
    return [*kernel, *(job for module in runtime.modules for job in module.jobs)]
