"""Cache, counters, rate limits and pub/sub: in-process (embedded) or Redis, one interface.

Chosen by ``CAMPUS_REDIS_URL``: ``memory://`` or ``redis://host:port/db``.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis import asyncio as aioredis


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float


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
    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add to a counter atomically; ``ttl`` is set when the counter is created."""

    @abstractmethod
    async def publish(self, channel: str, message: bytes) -> None: ...

    @abstractmethod
    def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        """Messages published to ``channel`` from now on, until the iterator is closed."""

    @abstractmethod
    async def ping(self) -> None: ...

    async def close(self) -> None:
        return None

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Count one hit in a fixed window; allowed while the count stays within ``limit``."""
        window = int(time.time() // window_seconds)
        bucket = f"rl:{key}:{window}"
        count = await self.incr(bucket, 1, ttl=window_seconds + 1)
        retry_after = (window + 1) * window_seconds - time.time()
        return RateDecision(count <= limit, max(0, limit - count), max(0.0, retry_after))


class MemoryCache(Cache):
    def __init__(self) -> None:
        self._data: dict[str, tuple[bytes, float | None]] = {}
        self._channels: dict[str, set[asyncio.Queue[bytes]]] = defaultdict(set)

    def _alive(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            del self._data[key]
            return None
        return value

    @staticmethod
    def _expiry(ttl: float | None) -> float | None:
        return None if ttl is None else time.monotonic() + ttl

    async def get(self, key: str) -> bytes | None:
        return self._alive(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._data[key] = (value, self._expiry(ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._alive(key) is not None:
            return False
        self._data[key] = (value, self._expiry(ttl))
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        current = self._alive(key)
        if current is None:
            value = amount
            self._data[key] = (str(value).encode(), self._expiry(ttl))
        else:
            value = int(current) + amount
            self._data[key] = (str(value).encode(), self._data[key][1])
        return value

    async def publish(self, channel: str, message: bytes) -> None:
        for queue in list(self._channels.get(channel, ())):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._channels[channel].add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._channels[channel].discard(queue)

    async def ping(self) -> None:
        return None


class RedisCache(Cache):
    def __init__(self, url: str) -> None:
        self._redis = aioredis.from_url(url)

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

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            if ttl is not None:
                pipe.pexpire(key, max(1, int(ttl * 1000)), nx=True)
            result = await pipe.execute()
        return int(result[0])

    async def publish(self, channel: str, message: bytes) -> None:
        await self._redis.publish(channel, message)

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(channel)
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield bytes(message["data"])
        finally:
            await pubsub.unsubscribe(channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def ping(self) -> None:
        await self._redis.ping()

    async def close(self) -> None:
        await self._redis.aclose()


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))


def create_cache(url: str) -> Cache:
    if url.startswith("memory://"):
        return MemoryCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"unsupported CAMPUS_REDIS_URL: {url}")


@asynccontextmanager
async def lock(cache: Cache, key: str, ttl: float = 30.0) -> AsyncIterator[bool]:
    """A best-effort exclusive lock; yields whether it was obtained."""
    got = await cache.set_if_absent(f"lock:{key}", b"1", ttl)
    try:
        yield got
    finally:
        if got:
            await cache.delete(f"lock:{key}")
