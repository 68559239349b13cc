"""Rate limits stay exact under concurrency: many requests at once through the gateway, and
(on Redis) two caches standing for two gateway processes counting one limit together."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from campus.kernel.cache import RedisCache
from campus.kernel.config import Settings
from tests.platform.gateway.conftest import Setup, Upstreams, echo, unique


async def test_concurrent_requests_never_pass_the_limit(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    name = await setup.open_service()
    consumer = await setup.consumer(rate_limit_per_minute=10)
    service = await setup.service()
    await setup.route(service["name"])
    key = {"apikey": (await setup.credential(consumer["username"]))["key"]}
    assert (await caller.get(f"/gw/{name}/warm")).status_code == 200  # configuration read
    responses = await asyncio.gather(
        *(caller.get(f"/gw/{service['name']}/x", headers=key) for _ in range(30))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 20


async def test_two_processes_sharing_redis_count_one_limit(settings: Settings) -> None:
    if not settings.redis_url.startswith("redis"):
        pytest.skip("needs CAMPUS_REDIS_URL=redis://…")
    first, second = RedisCache(settings.redis_url), RedisCache(settings.redis_url)
    key = f"gw:consumer:{unique('app')}"
    try:
        decisions = await asyncio.gather(
            *(cache.hit(key, 25, 60.0) for _ in range(50) for cache in (first, second))
        )
    finally:
        await first.close()
        await second.close()
    assert sum(d.allowed for d in decisions) == 25
