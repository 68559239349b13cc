"""Scheduled work of the service center: evicting lapsed instances and probing health URLs."""

from __future__ import annotations

import asyncio
import time

import httpx
import structlog

from campus.kernel import runtime
from campus.kernel.manifest import ScheduledJob
from campus.kernel.runtime import Runtime
from campus.platform.registry import actions, queries, store
from campus.platform.registry.sql_store import EVICT_BATCH

log = structlog.get_logger(__name__)

# Every lease is at least MIN_TTL (5 s) long, so a lapsed one is evicted within 2 x TTL.
EVICT_EVERY_SECONDS = 5.0
HEALTH_EVERY_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 2.0
PROBES_AT_ONCE = 20


async def evict_expired(rt: Runtime) -> int:
    """Remove every instance whose lease lapsed (batch by batch); returns how many. On etcd,
    which deletes them itself, record those it deleted since the last run."""
    instances = store.of(rt)
    evicted = 0
    while True:
        async with rt.db.transaction() as session:
            batch = await actions.do_evict_expired(session, instances)
        evicted += batch
        if batch < EVICT_BATCH:
            break
    async with rt.db.transaction() as session:
        await actions.do_purge_changes(session, instances)
    return evicted


async def probe(client: httpx.AsyncClient, instance_id: str, url: str) -> actions.ProbeResult:
    """One GET of a health URL: healthy on a 2xx within the timeout."""
    started = time.perf_counter()
    try:
        response = await client.get(url, timeout=HEALTH_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        elapsed = int((time.perf_counter() - started) * 1000)
        error = f"{type(exc).__name__}: {exc}".strip(": ")
        return actions.ProbeResult(instance_id, False, None, elapsed, error)
    elapsed = int((time.perf_counter() - started) * 1000)
    ok = response.is_success
    error = "" if ok else f"HTTP {response.status_code}"
    return actions.ProbeResult(instance_id, ok, response.status_code, elapsed, error)


async def check_health(rt: Runtime, client: httpx.AsyncClient) -> list[actions.ProbeResult]:
    """Probe every live instance that declared a health URL, and record the results."""
    instances = store.of(rt)
    async with rt.db.read() as session:
        targets = await queries.probe_targets(instances, session)
    limit = asyncio.Semaphore(PROBES_AT_ONCE)

    async def bounded(instance_id: str, url: str) -> actions.ProbeResult:
        async with limit:
            return await probe(client, instance_id, url)

    results = await asyncio.gather(*(bounded(i, url) for i, url in targets))
    async with rt.db.transaction() as session:
        for result in results:
            await actions.do_record_probe(session, instances, result)
    return list(results)


async def evict_job() -> None:
    evicted = await evict_expired(runtime.current())
    if evicted:
        log.info("registry_instances_evicted", count=evicted)


async def health_job() -> None:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        await check_health(runtime.current(), client)


EVICT = ScheduledJob("registry.evict_expired", EVICT_EVERY_SECONDS, evict_job)
HEALTH = ScheduledJob("registry.health_checks", HEALTH_EVERY_SECONDS, health_job)
