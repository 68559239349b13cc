"""Scheduled work of the API center: the request log keeps KEEP_DAYS days."""

from __future__ import annotations

from campus.kernel import runtime
from campus.kernel.manifest import ScheduledJob
from campus.platform.gateway import stats


async def purge_log() -> None:
    await stats.purge(runtime.current())


PURGE = ScheduledJob("gateway.purge_log", 3600.0, purge_log)
