"""Cache, counters, rate limits, locks, bounded claims and pub/sub: in-process (embedded) or
Redis, one interface.

Chosen by ``CAMPUS_REDIS_URL``: ``memory://`` or ``redis://host:port/db``.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from redis import asyncio as aioredis

REDIS_CONNECT_TIMEOUT = 5.0
# Commands wait up to REDIS_POOL_WAIT for one of REDIS_POOL_SIZE connections instead of failing
# when a burst of requests needs more at once.
REDIS_POOL_SIZE = 64
REDIS_POOL_WAIT = 5.0
# Each subscription holds a connection while it lives; they come from a pool of their own so
# that many listeners cannot starve ordinary commands.
REDIS_SUBSCRIBER_POOL_SIZE = 1000
SUBSCRIBE_CONFIRM_TIMEOUT = 5.0

# Deletes a key only while it still holds the caller's value (a lock's owner token).
_COMPARE_AND_DELETE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""

# Claims one seat: KEYS are the set, its warm marker and its pending zset; ARGV the member, the
# limit and the time now. The check and the add are one script, so no two callers can both take
# the last seat.
_CLAIM = """
if redis.call('exists', KEYS[2]) == 0 then
    return 'cold'
end
if redis.call('sismember', KEYS[1], ARGV[1]) == 1 then
    return 'held'
end
if redis.call('scard', KEYS[1]) >= tonumber(ARGV[2]) then
    return 'full'
end
redis.call('sadd', KEYS[1], ARGV[1])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[1])
return 'taken'
"""

# Hands one seat from one member to another: KEYS as for a claim, ARGV the member giving the seat
# up, the one taking it and the time now. One script, so the seat is never free in between for a
# third caller to take (a waitlist is served before anyone else).
_HANDOVER = """
if redis.call('sismember', KEYS[1], ARGV[1]) == 0 then
    return 0
end
if redis.call('sismember', KEYS[1], ARGV[2]) == 1 then
    return 0
end
redis.call('srem', KEYS[1], ARGV[1])
redis.call('zrem', KEYS[3], ARGV[1])
redis.call('sadd', KEYS[1], ARGV[2])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[2])
return 1
"""

# Reserves the next turn of a paced line: KEYS the line's next free turn; ARGV the time now, the
# interval between turns and the key's life in ms. Read and move on in one step, so turns are
# handed out in order of arrival, ``interval`` apart, to callers of any process.
_PACE = """
local now = tonumber(ARGV[1])
local turn = tonumber(redis.call('get', KEYS[1]) or '0')
if turn < now then
    turn = now
end
redis.call('set', KEYS[1], string.format('%.6f', turn + tonumber(ARGV[2])), 'PX', ARGV[3])
return string.format('%.6f', turn)
"""


# Counters in turn: each created with its expiry if new, then incremented; the first to go past
# its limit stops the turn (those after it are not counted). Returns its 1-based index, or 0.
_COUNT_IN_TURN = """
for i, key in ipairs(KEYS) do
  redis.call('set', key, 0, 'PX', ARGV[2 * i - 1], 'NX')
  if redis.call('incr', key) > tonumber(ARGV[2 * i]) then
    return i
  end
end
return 0
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float


class Claim(StrEnum):
    """What ``Cache.claim`` did."""

    TAKEN = "taken"  # added now, pending until settled
    HELD = "held"  # already a member: a repeated request (a double click, a retry)
    FULL = "full"  # ``limit`` members or more
    COLD = "cold"  # never warmed: load the members from the database, ``warm``, claim again


class Subscription(ABC):
    """The messages published to one channel once the subscription has started.

    ``async with cache.subscribe(channel) as messages:`` starts it before the block runs, so
    nothing published inside the block is missed; a bare ``async for`` starts it on the first
    iteration. Closing it (leaving the block, or ``aclose()``) unsubscribes.
    """

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._started = False
        self._closed = False

    @abstractmethod
    async def _start(self) -> None: ...

    @abstractmethod
    async def _receive(self) -> bytes: ...

    @abstractmethod
    async def _stop(self) -> None: ...

    async def start(self) -> None:
        if self._started:
            return
        try:
            await self._start()
        except BaseException:
            with contextlib.suppress(Exception):
                await self._stop()
            raise
        self._started = True

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            await self._stop()

    async def __aenter__(self) -> Subscription:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> bytes:
        if self._closed:
            raise StopAsyncIteration
        await self.start()
        return await self._receive()


class Cache(ABC):
    """Keys are strings, values bytes; ``ttl`` in seconds."""

    @abstractmethod
    async def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    @abstractmethod
    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool: ...

    @abstractmethod
    async def delete(self, *keys: str) -> None: ...

    @abstractmethod
    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        """Delete ``key`` only while it holds ``value``, atomically; returns whether it did."""

    @abstractmethod
    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to a counter atomically; ``ttl`` is set when the counter is created."""

    @abstractmethod
    async def publish(self, channel: str, message: bytes) -> None: ...

    @abstractmethod
    def subscribe(self, channel: str) -> Subscription:
        """Messages published to ``channel`` once the subscription has started."""

    @abstractmethod
    async def ping(self) -> None: ...

    async def close(self) -> None:
        return None

    async def count_in_turn(self, counters: Sequence[tuple[str, int, float]]) -> int | None:
        """Add one to each counter ``(key, limit, ttl)`` in order (``ttl`` set when the counter
        is created), stopping at the first whose count goes past its limit: its index, or None
        when none did. Those after it are not counted. One round trip with Redis."""
        for index, (key, limit, ttl) in enumerate(counters):
            if await self.incr(key, 1, ttl=ttl) > limit:
                return index
        return None

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Count one hit in a fixed window; allowed while the count stays within ``limit``."""
        window = int(time.time() // window_seconds)
        bucket = f"rl:{key}:{window}"
        count = await self.incr(bucket, 1, ttl=window_seconds + 1)
        retry_after = (window + 1) * window_seconds - time.time()
        return RateDecision(count <= limit, max(0, limit - count), max(0.0, retry_after))

    @abstractmethod
    async def pace(self, key: str, interval: float, ttl: float) -> float:
        """The next turn of the paced line ``key`` (time.time() seconds), reserved atomically:
        turns go in order of arrival, ``interval`` seconds apart, none earlier than now (a line
        nobody used for a while starts again at now). ``ttl`` keeps the line's mark alive that
        long after the last turn handed out. A virtual queue admitting one caller per
        ``interval``: each waits until their turn."""

    # Bounded claim sets ("seats"): the database stays the record; the set decides, atomically
    # and without touching the database, who gets one of ``limit`` places at peak load.

    @abstractmethod
    async def claim(self, key: str, member: str, limit: int) -> Claim:
        """Add ``member`` to the set ``key`` unless it holds ``limit`` members already, in one
        atomic step. A member taken now stays pending until ``settle``, so that a claim whose
        database write never happened (a crash between the two) can be found and released."""

    @abstractmethod
    async def warm(self, key: str, members: Iterable[str]) -> None:
        """Add the members read from the database and mark the set warm, in one atomic step.

        It only ever adds, so processes that all found the set cold may all warm it with their own
        reading: none undoes the claims taken since another one warmed it."""

    @abstractmethod
    async def release(self, key: str, member: str) -> bool:
        """Give ``member``'s place back (pending or not); whether it held one."""

    @abstractmethod
    async def handover(self, key: str, giver: str, taker: str) -> bool:
        """Pass ``giver``'s place to ``taker`` in one atomic step (pending for ``taker`` until
        settled); ``False``, changing nothing, unless ``giver`` holds one and ``taker`` not."""

    @abstractmethod
    async def settle(self, key: str, member: str) -> None:
        """``member``'s claim is in the database now: no longer a candidate for the sweeper."""

    @abstractmethod
    async def unsettled(self, key: str, older_than_seconds: float) -> list[str]:
        """Members taken at least ``older_than_seconds`` ago and not settled since, oldest first:
        what a sweeper releases when their database write never happened."""

    # builtins.set: within a cache class, ``set`` is the method.
    @abstractmethod
    async def claimed(self, key: str) -> builtins.set[str]: ...

    @abstractmethod
    async def claim_count(self, key: str) -> int: ...

    @abstractmethod
    async def cool(self, key: str) -> None:
        """Forget the set, its pending claims and its warm mark: the next claim answers COLD, so
        the set is loaded afresh from the database (after a round ends or its limit changes)."""


@dataclass
class _Seats:
    """One warm claim set of the in-process cache: its members, and when each pending one was
    taken."""

    members: set[str] = field(default_factory=set)
    pending: dict[str, float] = field(default_factory=dict)


class MemoryCache(Cache):
    """One process's cache. Expired entries are purged as writes go on, so keys that are never
    read again (rate-limit windows, one-off tokens) do not pile up.

    Claim methods never await between reading and changing a set, so each is atomic in the
    event loop."""

    def __init__(self, sweep_every: int = 1024) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        # A key present here is a warm set; ``cool`` removes it.
        self._seats: dict[str, _Seats] = {}
        self._channels: dict[str, set[asyncio.Queue[bytes]]] = {}
        self._sweep_every = sweep_every
        self._writes_until_sweep = sweep_every

    def __len__(self) -> int:
        """Entries held, including expired ones not yet purged."""
        return len(self._data)

    def _alive(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        self._data[key] = (value, expires)
        self._writes_until_sweep -= 1
        if self._writes_until_sweep <= 0:
            self.purge_expired()
            # As many writes until the next sweep as entries survived this one: constant cost
            # per write, and at most about twice the live entries are ever held.
            self._writes_until_sweep = max(self._sweep_every, len(self._data))

    def purge_expired(self) -> int:
        now = time.monotonic()
        dead = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for key in dead:
            del self._data[key]
        return len(dead)

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        return self._alive(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._store(key, value, self._expiry(ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._alive(key) is not None:
            return False
        self._store(key, value, self._expiry(ttl))
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        if self._alive(key) != value:
            return False
        del self._data[key]
        return True

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        current = self._alive(key)
        if current is None:
            value = amount
            self._store(key, str(value).encode(), self._expiry(ttl))
        else:
            value = int(current) + amount
            self._data[key] = (str(value).encode(), self._data[key][1])
        return value

    async def publish(self, channel: str, message: bytes) -> None:
        for queue in list(self._channels.get(channel, ())):
            queue.put_nowait(message)

    def subscribe(self, channel: str) -> Subscription:
        return _MemorySubscription(self._channels, channel)

    async def ping(self) -> None:
        return None

    async def pace(self, key: str, interval: float, ttl: float) -> float:
        now = time.time()
        current = self._alive(key)
        turn = max(now, float(current) if current is not None else 0.0)
        self._store(key, repr(turn + interval).encode(), self._expiry(ttl))
        return turn

    async def claim(self, key: str, member: str, limit: int) -> Claim:
        seats = self._seats.get(key)
        if seats is None:
            return Claim.COLD
        if member in seats.members:
            return Claim.HELD
        if len(seats.members) >= limit:
            return Claim.FULL
        seats.members.add(member)
        seats.pending[member] = time.time()
        return Claim.TAKEN

    async def warm(self, key: str, members: Iterable[str]) -> None:
        self._seats.setdefault(key, _Seats()).members.update(members)

    async def release(self, key: str, member: str) -> bool:
        seats = self._seats.get(key)
        if seats is None or member not in seats.members:
            return False
        seats.members.remove(member)
        seats.pending.pop(member, None)
        return True

    async def handover(self, key: str, giver: str, taker: str) -> bool:
        seats = self._seats.get(key)
        if seats is None or giver not in seats.members or taker in seats.members:
            return False
        seats.members.remove(giver)
        seats.pending.pop(giver, None)
        seats.members.add(taker)
        seats.pending[taker] = time.time()
        return True

    async def settle(self, key: str, member: str) -> None:
        seats = self._seats.get(key)
        if seats is not None:
            seats.pending.pop(member, None)

    async def unsettled(self, key: str, older_than_seconds: float) -> list[str]:
        seats = self._seats.get(key)
        if seats is None:
            return []
        cutoff = time.time() - older_than_seconds
        old = [(taken, member) for member, taken in seats.pending.items() if taken <= cutoff]
        return [member for _, member in sorted(old)]

    async def claimed(self, key: str) -> builtins.set[str]:
        seats = self._seats.get(key)
        return set() if seats is None else set(seats.members)

    async def claim_count(self, key: str) -> int:
        seats = self._seats.get(key)
        return 0 if seats is None else len(seats.members)

    async def cool(self, key: str) -> None:
        self._seats.pop(key, None)


class _MemorySubscription(Subscription):
    def __init__(self, channels: dict[str, set[asyncio.Queue[bytes]]], channel: str) -> None:
        super().__init__(channel)
        self._channels = channels
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def _start(self) -> None:
        self._channels.setdefault(self.channel, set()).add(self._queue)

    async def _receive(self) -> bytes:
        return await self._queue.get()

    async def _stop(self) -> None:
        listeners = self._channels.get(self.channel)
        if listeners is not None:
            listeners.discard(self._queue)
            if not listeners:
                del self._channels[self.channel]


class RedisCache(Cache):
    def __init__(self, url: str) -> None:
        commands = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_POOL_SIZE,
            timeout=REDIS_POOL_WAIT,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        )
        subscribers = aioredis.ConnectionPool.from_url(
            url,
            max_connections=REDIS_SUBSCRIBER_POOL_SIZE,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT,
        )
        self._redis = aioredis.Redis.from_pool(commands)
        self._subscriber = aioredis.Redis.from_pool(subscribers)
        self._compare_and_delete = self._redis.register_script(_COMPARE_AND_DELETE)
        self._claim = self._redis.register_script(_CLAIM)
        self._handover = self._redis.register_script(_HANDOVER)
        self._pace = self._redis.register_script(_PACE)
        self._count_in_turn = self._redis.register_script(_COUNT_IN_TURN)

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(key)
        return value if value is None or isinstance(value, bytes) else value.encode()

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._redis.set(key, value, px=_ms(ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        return bool(await self._redis.set(key, value, px=_ms(ttl), nx=True))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self._redis.delete(*keys)

    async def delete_if_equal(self, key: str, value: bytes) -> bool:
        return bool(await self._compare_and_delete(keys=[key], args=[value]))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            if ttl is not None:
                # Creates the counter with its expiry only if it does not exist (any Redis version).
                pipe.set(key, 0, px=_ms(ttl), nx=True)
            pipe.incrby(key, amount)
            result = await pipe.execute()
        return int(result[-1])

    async def count_in_turn(self, counters: Sequence[tuple[str, int, float]]) -> int | None:
        if not counters:
            return None
        args: list[int] = []
        for _key, limit, ttl in counters:
            args += [max(1, int(ttl * 1000)), limit]
        over = int(await self._count_in_turn(keys=[c[0] for c in counters], args=args))
        return over - 1 if over else None

    async def publish(self, channel: str, message: bytes) -> None:
        await self._redis.publish(channel, message)

    def subscribe(self, channel: str) -> Subscription:
        return _RedisSubscription(self._subscriber, channel)

    async def ping(self) -> None:
        await self._redis.ping()

    async def pace(self, key: str, interval: float, ttl: float) -> float:
        life = max(1, int(ttl * 1000))
        turn = await self._pace(keys=[key], args=[repr(time.time()), repr(interval), life])
        return float(_text(turn))

    async def claim(self, key: str, member: str, limit: int) -> Claim:
        seats, warm, pending = _claim_keys(key)
        result = await self._claim(keys=[seats, warm, pending], args=[member, limit, time.time()])
        return Claim(_text(result))

    async def warm(self, key: str, members: Iterable[str]) -> None:
        seats, warm, _ = _claim_keys(key)
        loaded = list(members)
        # MULTI: no claim sees the warm mark before the members are in.
        async with self._redis.pipeline(transaction=True) as pipe:
            if loaded:
                pipe.sadd(seats, *loaded)
            pipe.set(warm, 1)
            await pipe.execute()

    async def release(self, key: str, member: str) -> bool:
        seats, _, pending = _claim_keys(key)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.srem(seats, member)
            pipe.zrem(pending, member)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def handover(self, key: str, giver: str, taker: str) -> bool:
        seats, warm, pending = _claim_keys(key)
        done = await self._handover(keys=[seats, warm, pending], args=[giver, taker, time.time()])
        return bool(done)

    async def settle(self, key: str, member: str) -> None:
        _, _, pending = _claim_keys(key)
        await self._redis.zrem(pending, member)

    async def unsettled(self, key: str, older_than_seconds: float) -> list[str]:
        _, _, pending = _claim_keys(key)
        members = await self._redis.zrangebyscore(pending, "-inf", time.time() - older_than_seconds)
        return [_text(member) for member in members]

    async def claimed(self, key: str) -> builtins.set[str]:
        seats, _, _ = _claim_keys(key)
        return {_text(member) for member in await self._redis.smembers(seats)}

    async def claim_count(self, key: str) -> int:
        seats, _, _ = _claim_keys(key)
        return int(await self._redis.scard(seats))

    async def cool(self, key: str) -> None:
        await self._redis.delete(*_claim_keys(key))

    async def close(self) -> None:
        try:
            await self._redis.aclose()
        finally:
            await self._subscriber.aclose()


class _RedisSubscription(Subscription):
    def __init__(self, redis: aioredis.Redis, channel: str) -> None:
        super().__init__(channel)
        self._pubsub = redis.pubsub()

    async def _start(self) -> None:
        await self._pubsub.subscribe(self.channel)
        # SUBSCRIBE is only in effect once Redis confirms it; wait, so no later publish is missed.
        async with asyncio.timeout(SUBSCRIBE_CONFIRM_TIMEOUT):
            while True:
                message = await self._pubsub.get_message(timeout=SUBSCRIBE_CONFIRM_TIMEOUT)
                if message is not None and message.get("type") == "subscribe":
                    return

    async def _receive(self) -> bytes:
        while True:
            message: dict[str, Any] | None = await self._pubsub.get_message(
                ignore_subscribe_messages=True, timeout=None
            )
            if message is not None and message.get("type") == "message":
                return bytes(message["data"])

    async def _stop(self) -> None:
        try:
            await self._pubsub.unsubscribe(self.channel)
        finally:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


def _claim_keys(key: str) -> tuple[str, str, str]:
    """The Redis keys of a claim set: its members, warm mark and pending zset. The hash tag puts
    the three in one Redis Cluster slot, as one script must touch them together."""
    return f"claims:{{{key}}}", f"claims:{{{key}}}:warm", f"claims:{{{key}}}:pending"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def create_cache(url: str) -> Cache:
    if url.startswith("memory://"):
        return MemoryCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"unsupported CAMPUS_REDIS_URL: {url}")


@asynccontextmanager
async def lock(cache: Cache, key: str, ttl: float = 30.0) -> AsyncIterator[bool]:
    """A best-effort exclusive lock that expires after ``ttl``; yields whether it was obtained.

    Each holder stores its own token and releases only a lock still holding it, so a holder whose
    lock expired cannot release the lock someone else has taken since.
    """
    name = f"lock:{key}"
    token = secrets.token_bytes(16)
    got = await cache.set_if_absent(name, token, ttl)
    try:
        yield got
    finally:
        if got:
            await cache.delete_if_equal(name, token)
