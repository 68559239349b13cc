"""Waking watchers when the registry changes: long-polls and SSE streams.

The database holds the change index; the cache's pub/sub (Redis across processes, in process
when embedded) only says "the index moved". One listener per process wakes every waiter, who
then reads the index from the database, so a lost message costs at most one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from campus.kernel.cache import Cache, Subscription

log = structlog.get_logger(__name__)

CHANNEL = "registry.changes"


class Waker:
    """Wakes all waiters of one process whenever a change is announced on the channel."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def _start(self) -> None:
        async with self._starting:
            if self._task is not None and not self._task.done():
                return
            subscription = self.cache.subscribe(CHANNEL)
            await subscription.start()
            self._task = asyncio.create_task(self._listen(subscription), name="registry-waker")

    async def _listen(self, subscription: Subscription) -> None:
        try:
            async with subscription:
                async for _message in subscription:
                    self._wake()
        except Exception:  # the next waiter subscribes again
            log.exception("registry_waker_failed")

    def _wake(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_past(
        self, index: int, seconds: float, current: Callable[[], Awaitable[int]]
    ) -> int:
        """The change index once it passes ``index``, or after ``seconds`` whatever it is."""
        await self._start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            woken = self._event  # taken before reading, so no announcement in between is missed
            now = await current()
            remaining = deadline - loop.time()
            if now > index or remaining <= 0:
                return now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), remaining)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


# One waker per cache (so per runtime), the cache held so its id is not reused meanwhile.
_wakers: dict[int, tuple[Cache, Waker]] = {}


def waker(cache: Cache) -> Waker:
    found = _wakers.get(id(cache))
    if found is None:
        found = (cache, Waker(cache))
        _wakers[id(cache)] = found
    return found[1]


async def announce(cache: Cache, index: int) -> None:
    """The change index moved to ``index`` (committed)."""
    await cache.publish(CHANNEL, str(index).encode())
