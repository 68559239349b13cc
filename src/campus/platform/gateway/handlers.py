"""Scheduled work of the API center: the request log keeps KEEP_DAYS days; the API catalog
reads every service's document again every ten minutes."""

from __future__ import annotations

from campus.kernel import runtime
from campus.kernel.manifest import ScheduledJob
from campus.platform.gateway import proxy, stats
from campus.platform.gateway.apis import actions as catalog


async def purge_log() -> None:
    await stats.purge(runtime.current())


PURGE = ScheduledJob("gateway.purge_log", 3600.0, purge_log)


async def refresh_catalog() -> None:
    await catalog.refresh(runtime.current(), proxy.client())


REFRESH_CATALOG = ScheduledJob("gateway.refresh_api_catalog", 600.0, refresh_catalog)
