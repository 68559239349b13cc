"""The cache contract, checked the same way against the in-process cache and against Redis."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError

from campus.kernel.cache import (
    Cache,
    Claim,
    MemoryCache,
    RedisCache,
    _claim_keys,
    create_cache,
    lock,
)
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


async def test_a_cold_set_answers_cold_until_warmed_then_fills_to_its_limit(cache: Cache) -> None:
    seats = n("course:1")
    assert await cache.claim(seats, "carol", 3) is Claim.COLD
    assert await cache.claim_count(seats) == 0
    await cache.warm(seats, ["alice", "bob"])
    assert await cache.claimed(seats) == {"alice", "bob"}, "a COLD claim adds nothing"
    assert await cache.claim(seats, "carol", 3) is Claim.TAKEN
    assert await cache.claim(seats, "dave", 3) is Claim.FULL
    assert await cache.claim(seats, "alice", 3) is Claim.HELD
    assert await cache.claimed(seats) == {"alice", "bob", "carol"}
    assert await cache.claim_count(seats) == 3
    # Another set is cold and counted apart.
    assert await cache.claim(n("course:2"), "dave", 3) is Claim.COLD


async def test_a_repeated_claim_is_held_once_even_when_the_set_is_full(cache: Cache) -> None:
    seats = n("repeat")
    await cache.warm(seats, [])
    assert await cache.claim(seats, "alice", 1) is Claim.TAKEN
    assert await cache.claim(seats, "alice", 1) is Claim.HELD
    assert await cache.claim(seats, "bob", 1) is Claim.FULL
    assert await cache.claim_count(seats) == 1


async def test_a_set_warmed_beyond_a_lowered_limit_is_full(cache: Cache) -> None:
    seats = n("lowered")
    await cache.warm(seats, ["a", "b", "c"])
    assert await cache.claim(seats, "d", 2) is Claim.FULL
    assert await cache.claim(seats, "a", 2) is Claim.HELD


async def test_release_frees_the_place_for_another_and_for_a_new_claim(cache: Cache) -> None:
    seats = n("release")
    assert await cache.release(seats, "alice") is False, "a cold set holds nobody"
    await cache.warm(seats, [])
    assert await cache.claim(seats, "alice", 1) is Claim.TAKEN
    assert await cache.claim(seats, "bob", 1) is Claim.FULL
    assert await cache.release(seats, "alice") is True
    assert await cache.release(seats, "alice") is False
    assert await cache.claim(seats, "bob", 1) is Claim.TAKEN
    assert await cache.release(seats, "bob") is True
    assert await cache.claim(seats, "alice", 1) is Claim.TAKEN
    assert await cache.claimed(seats) == {"alice"}
    assert await cache.unsettled(seats, 0) == ["alice"], "a release drops its pending mark"


async def test_handover_passes_a_place_without_freeing_it_in_between(cache: Cache) -> None:
    seats, cold = n("handover"), n("handover-cold")
    await cache.warm(seats, ["a", "b"])
    assert await cache.handover(seats, "a", "w") is True
    assert await cache.claimed(seats) == {"b", "w"}
    assert await cache.unsettled(seats, 0) == ["w"], "the new holder is pending until settled"
    assert await cache.claim(seats, "x", 2) is Claim.FULL, "the seat never came free"
    # Nothing changes unless the giver holds a place and the taker does not.
    assert await cache.handover(seats, "a", "y") is False
    assert await cache.handover(seats, "b", "w") is False
    assert await cache.handover(cold, "a", "b") is False
    assert await cache.claimed(seats) == {"b", "w"}


async def test_unsettled_lists_claims_pending_longer_than_asked_oldest_first(cache: Cache) -> None:
    seats = n("pending")
    await cache.warm(seats, ["loaded"])
    assert await cache.claim(seats, "early", 10) is Claim.TAKEN
    await asyncio.sleep(0.3)
    assert await cache.claim(seats, "late", 10) is Claim.TAKEN
    assert await cache.claim(seats, "early", 10) is Claim.HELD
    assert await cache.unsettled(seats, 0.2) == ["early"], "a HELD repeat keeps the first time"
    assert await cache.unsettled(seats, 0) == ["early", "late"], "warmed members are settled"
    await cache.settle(seats, "early")
    await cache.settle(seats, "nobody")
    assert await cache.unsettled(seats, 0) == ["late"]
    assert await cache.claimed(seats) == {"loaded", "early", "late"}, "settling keeps the place"
    assert await cache.unsettled(n("never-warmed"), 0) == []


async def test_cool_forgets_members_pending_claims_and_warmth(cache: Cache) -> None:
    seats = n("cool")
    await cache.warm(seats, ["alice"])
    assert await cache.claim(seats, "bob", 5) is Claim.TAKEN
    await cache.cool(seats)
    assert await cache.claim(seats, "bob", 5) is Claim.COLD
    assert await cache.claimed(seats) == set()
    assert await cache.unsettled(seats, 0) == []
    await cache.warm(seats, ["carol"])
    assert await cache.claimed(seats) == {"carol"}


async def test_concurrent_warms_and_claims_stay_within_the_limit_and_lose_no_claim(
    cache: Cache,
) -> None:
    """Every process that found the set cold warms it with what it read from the database, while
    claims keep arriving: no warm undoes a claim taken since another warmed the set."""
    seats = n("warm-race")
    enrolled = [f"old{i}" for i in range(5)]
    calls: list[Any] = []
    for i in range(40):
        calls.append(cache.claim(seats, f"new{i}", 10))
        if i % 5 == 4:
            calls.append(cache.warm(seats, enrolled))
    outcomes = [o for o in await asyncio.gather(*calls) if o is not None]
    assert set(outcomes) <= {Claim.COLD, Claim.TAKEN, Claim.FULL}
    taken = {f"new{i}" for i, outcome in enumerate(outcomes) if outcome is Claim.TAKEN}
    assert await cache.claimed(seats) == set(enrolled) | taken
    assert await cache.claim_count(seats) <= 10
    await cache.warm(seats, enrolled)
    assert await cache.claimed(seats) == set(enrolled) | taken


async def test_many_concurrent_claims_take_exactly_the_limit(cache: Cache) -> None:
    seats = n("rush")
    await cache.warm(seats, [])
    outcomes = await asyncio.gather(*(cache.claim(seats, f"s{i}", 17) for i in range(200)))
    assert outcomes.count(Claim.TAKEN) == 17
    assert outcomes.count(Claim.FULL) == 183
    assert await cache.claim_count(seats) == 17
    assert await cache.claimed(seats) == {
        f"s{i}" for i, outcome in enumerate(outcomes) if outcome is Claim.TAKEN
    }


PEOPLE = ["ann", "ben", "cai", "dan", "eve", "fan"]


@st.composite
def claim_scripts(draw: st.DrawFn) -> tuple[int, set[str], list[tuple[str, str]]]:
    """A limit, the members the database holds (within it), and claims and releases."""
    limit = draw(st.integers(0, 4))
    loaded = draw(st.sets(st.sampled_from(PEOPLE), max_size=limit))
    ops = st.tuples(st.sampled_from(["claim", "release"]), st.sampled_from(PEOPLE))
    return limit, loaded, draw(st.lists(ops, max_size=30))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=claim_scripts())
async def test_claims_and_releases_behave_as_a_plain_set_within_the_limit(
    cache: Cache, script: tuple[int, set[str], list[tuple[str, str]]]
) -> None:
    limit, loaded, ops = script
    seats = n("model")
    await cache.cool(seats)
    await cache.warm(seats, loaded)
    model = set(loaded)
    for op, person in ops:
        if op == "claim":
            if person in model:
                expected = Claim.HELD
            elif len(model) >= limit:
                expected = Claim.FULL
            else:
                expected = Claim.TAKEN
                model.add(person)
            assert await cache.claim(seats, person, limit) is expected
        else:
            assert await cache.release(seats, person) is (person in model)
            model.discard(person)
        assert await cache.claim_count(seats) <= limit
        assert await cache.claimed(seats) == model


def test_a_claim_sets_redis_keys_share_one_cluster_slot() -> None:
    """One script touches all three, which Redis Cluster allows only within one slot."""
    for key in ("offering:42", "a{b}", "x}y"):
        assert len({key_slot(k.encode()) for k in _claim_keys(key)}) == 1


async def test_count_in_turn_stops_at_the_first_counter_past_its_limit(cache: Cache) -> None:
    counters = [(n("route"), 3, 60.0), (n("consumer"), 2, 60.0), (n("quota"), 5, 60.0)]
    assert await cache.count_in_turn(counters) is None
    assert await cache.count_in_turn(counters) is None
    assert await cache.count_in_turn(counters) == 1  # the consumer's third call
    assert await cache.count_in_turn(counters) == 0  # the route's fourth: nothing after it
    assert [await cache.get(k) for k, _limit, _ttl in counters] == [b"4", b"3", b"2"]
    assert await cache.count_in_turn([]) is None


async def test_count_in_turn_sets_the_ttl_when_created(cache: Cache) -> None:
    assert await cache.count_in_turn([(n("c"), 5, 0.3)]) is None
    await asyncio.sleep(0.45)
    assert await cache.get(n("c")) is None


async def test_two_caches_counting_in_turn_concurrently_admit_exactly_the_limit() -> None:
    if REDIS_URL is None:
        pytest.skip("no Redis answers on 127.0.0.1:6379")
    first, second = RedisCache(REDIS_URL), RedisCache(REDIS_URL)
    counters = [(n("shared-route"), 1000, 60.0), (n("shared-consumer"), 25, 60.0)]
    try:
        refused = await asyncio.gather(
            *(cache.count_in_turn(counters) for _ in range(50) for cache in (first, second))
        )
        assert refused.count(None) == 25
        assert await first.get(n("shared-route")) == b"100"
    finally:
        await first.delete(n("shared-route"), n("shared-consumer"))
        await first.close()
        await second.close()
