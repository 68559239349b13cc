"""The paced line of the cache (``Cache.pace``), the same on the in-process cache and on Redis:
turns in order of arrival, one interval apart, never before now, across concurrent callers."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from campus.kernel.cache import Cache, RedisCache
from tests.kernel.test_cache import REDIS_URL, cache, n

__all__ = ["cache"]  # the fixture, on both backends


async def test_turns_go_in_order_of_arrival_one_interval_apart(cache: Cache) -> None:
    before = time.time()
    turns = [await cache.pace(n("line"), 0.5, 60) for _ in range(4)]
    assert before <= turns[0] <= time.time()
    assert [round(b - a, 3) for a, b in itertools.pairwise(turns)] == [0.5, 0.5, 0.5]


async def test_concurrent_callers_each_get_a_turn_of_their_own(cache: Cache) -> None:
    turns = await asyncio.gather(*(cache.pace(n("crowd"), 0.01, 60) for _ in range(50)))
    ordered = sorted(turns)
    assert len({round(t, 4) for t in turns}) == 50
    assert all(b - a >= 0.01 - 1e-6 for a, b in itertools.pairwise(ordered))  # never closer


async def test_a_line_left_idle_starts_again_at_now(cache: Cache) -> None:
    await cache.pace(n("idle"), 0.05, 60)
    await asyncio.sleep(0.2)
    before = time.time()
    turn = await cache.pace(n("idle"), 0.05, 60)
    assert before <= turn <= time.time()


async def test_the_mark_of_a_line_expires_with_its_ttl(cache: Cache) -> None:
    await cache.pace(n("short"), 100.0, 0.2)
    await asyncio.sleep(0.3)
    assert await cache.get(n("short")) is None
    assert await cache.pace(n("short"), 100.0, 0.2) <= time.time()


@pytest.mark.skipif(REDIS_URL is None, reason="no Redis answers on 127.0.0.1:6379")
async def test_two_processes_on_one_redis_share_one_line() -> None:
    assert REDIS_URL is not None
    first, second = RedisCache(REDIS_URL), RedisCache(REDIS_URL)
    try:
        turns = await asyncio.gather(
            *(c.pace(n("shared"), 0.01, 60) for _ in range(20) for c in (first, second))
        )
        ordered = sorted(turns)
        assert all(b - a >= 0.01 - 1e-6 for a, b in itertools.pairwise(ordered))  # never closer
    finally:
        await first.delete(n("shared"))
        await first.close()
        await second.close()
