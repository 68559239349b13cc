"""The cache contract, checked the same way against the in-process cache and against Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from campus.kernel.cache import Cache, MemoryCache, RedisCache, create_cache, lock
from tests.kernel.conftest import closed_port, redis_test_url

REDIS_URL = redis_test_url()
BACKENDS = [
    "memory",
    pytest.param(
        "redis",
        marks=pytest.mark.skipif(REDIS_URL is None, reason="no Redis answers on 127.0.0.1:6379"),
    ),
]


# Other test runs may share the Redis database at the same time: every key and channel of this
# run carries its own prefix, and only those are deleted afterwards.
RUN = uuid.uuid4().hex[:12]


def n(name: str) -> str:
    """A key or channel name of this test run."""
    return f"test:{RUN}:{name}"


@pytest.fixture(params=BACKENDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    if request.param == "memory":
        yield MemoryCache()
        return
    assert REDIS_URL is not None
    redis = RedisCache(REDIS_URL)
    try:
        yield redis
    finally:
        mine = [key async for key in redis._redis.scan_iter(match=f"*test:{RUN}:*")]
        if mine:
            await redis._redis.delete(*mine)
        await redis.close()


async def _wait_for_fresh_window(window_seconds: float, needed: float) -> None:
    """Sleep past the next window boundary if fewer than ``needed`` seconds of this one remain."""
    remaining = window_seconds - (time.time() % window_seconds)
    if remaining < needed:
        await asyncio.sleep(remaining + 0.02)


async def test_get_returns_what_set_stored_and_delete_removes_it(cache: Cache) -> None:
    assert await cache.get(n("k")) is None
    await cache.set(n("k"), b"one")
    await cache.set(n("k"), b"two")
    await cache.set(n("other"), b"x")
    assert await cache.get(n("k")) == b"two"
    await cache.delete(n("k"), n("other"), n("never-set"))
    assert await cache.get(n("k")) is None
    assert await cache.get(n("other")) is None


async def test_values_expire_after_their_ttl_and_only_then(cache: Cache) -> None:
    await cache.set(n("short"), b"v", ttl=0.3)
    await cache.set(n("forever"), b"v")
    assert await cache.get(n("short")) == b"v"
    await asyncio.sleep(0.45)
    assert await cache.get(n("short")) is None
    assert await cache.get(n("forever")) == b"v"


async def test_set_if_absent_writes_only_the_first_time(cache: Cache) -> None:
    assert await cache.set_if_absent(n("once"), b"first", ttl=0.3) is True
    assert await cache.set_if_absent(n("once"), b"second", ttl=0.3) is False
    assert await cache.get(n("once")) == b"first"
    await asyncio.sleep(0.45)
    assert await cache.set_if_absent(n("once"), b"third") is True
    assert await cache.get(n("once")) == b"third"


async def test_delete_if_equal_spares_a_changed_value(cache: Cache) -> None:
    await cache.set(n("owner"), b"me")
    assert await cache.delete_if_equal(n("owner"), b"you") is False
    assert await cache.get(n("owner")) == b"me"
    assert await cache.delete_if_equal(n("owner"), b"me") is True
    assert await cache.get(n("owner")) is None
    assert await cache.delete_if_equal(n("owner"), b"me") is False


async def test_incr_counts_from_the_amount_and_adds(cache: Cache) -> None:
    assert await cache.incr(n("n")) == 1
    assert await cache.incr(n("n"), 5) == 6
    assert await cache.incr(n("n"), -2) == 4
    assert await cache.get(n("n")) == b"4"


async def test_incr_sets_the_ttl_when_created_and_does_not_extend_it(cache: Cache) -> None:
    assert await cache.incr(n("c"), ttl=0.6) == 1
    await asyncio.sleep(0.35)
    assert await cache.incr(n("c"), ttl=0.6) == 2
    await asyncio.sleep(0.35)
    # 0.7 s after creation: expired, although the second incr came only 0.35 s ago.
    assert await cache.incr(n("c"), ttl=0.6) == 1


async def test_concurrent_increments_are_not_lost(cache: Cache) -> None:
    await asyncio.gather(*(cache.incr(n("hits")) for _ in range(200)))
    assert await cache.get(n("hits")) == b"200"


async def test_rate_limit_allows_exactly_the_limit_per_window(cache: Cache) -> None:
    await _wait_for_fresh_window(60, needed=2)
    decisions = [await cache.hit(n("login:alice"), limit=5, window_seconds=60) for _ in range(8)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0, 0, 0]
    assert all(0 < d.retry_after <= 60 for d in decisions)
    # Another key has a budget of its own.
    assert (await cache.hit(n("login:bob"), limit=5, window_seconds=60)).allowed


async def test_rate_limit_allows_again_in_the_next_window(cache: Cache) -> None:
    await _wait_for_fresh_window(1, needed=0.8)
    assert (await cache.hit(n("burst"), limit=1, window_seconds=1)).allowed
    refused = await cache.hit(n("burst"), limit=1, window_seconds=1)
    assert not refused.allowed
    await asyncio.sleep(refused.retry_after + 0.05)
    assert (await cache.hit(n("burst"), limit=1, window_seconds=1)).allowed


async def test_a_subscriber_receives_what_is_published_on_its_channel(cache: Cache) -> None:
    async with cache.subscribe(n("news")) as first, cache.subscribe(n("news")) as second:
        await cache.publish(n("sports"), b"not for us")
        await cache.publish(n("news"), b"hello")
        await cache.publish(n("news"), b"again")
        assert await asyncio.wait_for(anext(first), 2) == b"hello"
        assert await asyncio.wait_for(anext(first), 2) == b"again"
        assert await asyncio.wait_for(anext(second), 2) == b"hello"


async def test_a_closed_subscription_ends_its_iteration(cache: Cache) -> None:
    subscription = cache.subscribe(n("closing"))
    await subscription.start()
    await subscription.aclose()
    await cache.publish(n("closing"), b"after close")
    with pytest.raises(StopAsyncIteration):
        await anext(subscription)


async def test_iterating_a_subscription_starts_it(cache: Cache) -> None:
    received: list[bytes] = []

    async def listen() -> None:
        async for message in cache.subscribe(n("lazy")):
            received.append(message)
            return

    listener = asyncio.create_task(listen())
    # The listener subscribes on its first iteration; publish until it has heard one message.
    for _ in range(100):
        await cache.publish(n("lazy"), b"ping")
        if listener.done():
            break
        await asyncio.sleep(0.02)
    await asyncio.wait_for(listener, 2)
    assert received == [b"ping"]


async def test_lock_excludes_a_second_holder_until_released(cache: Cache) -> None:
    async with lock(cache, n("nightly-job")) as first:
        async with lock(cache, n("nightly-job")) as second:
            assert first is True
            assert second is False
        async with lock(cache, n("other-job")) as unrelated:
            assert unrelated is True
    async with lock(cache, n("nightly-job")) as after_release:
        assert after_release is True


async def test_only_one_of_many_concurrent_contenders_gets_the_lock(cache: Cache) -> None:
    gate = asyncio.Event()

    async def contend() -> bool:
        async with lock(cache, n("contended")) as got:
            await gate.wait()
            return got

    contenders = [asyncio.create_task(contend()) for _ in range(20)]
    await asyncio.sleep(0.1)
    gate.set()
    assert sum(await asyncio.gather(*contenders)) == 1


async def test_an_expired_holder_does_not_release_the_next_holders_lock(cache: Cache) -> None:
    stale = lock(cache, n("report"), ttl=0.2)
    assert await stale.__aenter__() is True
    await asyncio.sleep(0.35)
    current = lock(cache, n("report"), ttl=10)
    assert await current.__aenter__() is True
    await stale.__aexit__(None, None, None)
    async with lock(cache, n("report")) as third:
        assert third is False, "the stale holder must not have released the current lock"
    await current.__aexit__(None, None, None)


async def test_memory_cache_purges_expired_entries_nobody_reads_again() -> None:
    cache = MemoryCache(sweep_every=16)
    for window in range(16):
        await cache.incr(f"rl:ip:{window}", ttl=0.05)
    await asyncio.sleep(0.1)
    for key in range(16):
        await cache.set(f"live:{key}", b"v")
    assert len(cache) <= 16 + 1
    assert await cache.get("live:0") == b"v"


async def test_memory_subscriptions_leave_no_channel_behind() -> None:
    cache = MemoryCache()
    async with cache.subscribe("temp"):
        assert "temp" in cache._channels
    assert "temp" not in cache._channels


async def test_create_cache_chooses_by_url() -> None:
    assert isinstance(create_cache("memory://"), MemoryCache)
    redis = create_cache("redis://127.0.0.1:6379/15")
    assert isinstance(redis, RedisCache)
    await redis.close()
    with pytest.raises(ValueError, match="unsupported"):
        create_cache("memcached://127.0.0.1")


async def test_ping_fails_fast_when_redis_is_not_there() -> None:
    redis = RedisCache(f"redis://127.0.0.1:{closed_port()}/0")
    try:
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(redis.ping(), 5)
    finally:
        await redis.close()
