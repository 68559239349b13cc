"""Live seats: the numbers on the open course-search pages move as seats are taken, without
every selection reaching every page.

Each committed seat change publishes its section's id on the cache's channel (Redis pub/sub
across processes, in process when embedded). One ticker per process listens, gathers the ids,
and once a second sends each of its open pages one frame with those sections' seats taken, read
from their claim sets: at peak, one frame a second per page however many selections there are.
Frames are hints; a page that misses some still shows what it was drawn with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from campus.kernel.cache import Cache, Subscription

log = structlog.get_logger(__name__)

CHANNEL = "academic.selection.seats"
TICK_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 8  # frames a slow page may fall behind by; older ones are dropped


def seats_key(section_id: int) -> str:
    return f"acad:seats:{section_id}"


class SeatTicker:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache
        self.pages: set[asyncio.Queue[str]] = set()
        self.changed: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._starting = asyncio.Lock()

    async def _start(self) -> None:
        """Listens from the first page on; subscribed before that page is served, so that no
        change announced after it opened is missed."""
        async with self._starting:
            if self._tasks:
                return
            subscription = self.cache.subscribe(CHANNEL)
            await subscription.start()
            self._tasks = [
                asyncio.create_task(self._listen(subscription), name="selection-seats-listen"),
                asyncio.create_task(self._tick(), name="selection-seats-tick"),
            ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _listen(self, subscription: Subscription) -> None:
        async with subscription:
            async for message in subscription:
                if message.isdigit():
                    self.changed.add(int(message))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tick()
            except Exception:  # a failed read of the cache skips one tick, not the ticker
                log.exception("selection_seats_tick_failed")

    async def tick(self) -> None:
        """One frame of the sections changed since the last, to every open page."""
        if not self.changed or not self.pages:
            return
        ids, self.changed = sorted(self.changed), set()
        taken = {str(i): await self.cache.claim_count(seats_key(i)) for i in ids}
        frame = f"event: seats\ndata: {json.dumps(taken)}\n\n"
        for page in self.pages:
            if page.full():
                page.get_nowait()
            page.put_nowait(frame)

    @asynccontextmanager
    async def watching(self) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue of frames for one open page, for as long as it is open."""
        await self._start()
        page: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self.pages.add(page)
        try:
            yield page
        finally:
            self.pages.discard(page)


# One ticker per cache (so per runtime); keyed by identity, the cache held so its id is not
# reused while the ticker lives.
_tickers: dict[int, tuple[Cache, SeatTicker]] = {}


def ticker(cache: Cache) -> SeatTicker:
    found = _tickers.get(id(cache))
    if found is None:
        found = (cache, SeatTicker(cache))
        _tickers[id(cache)] = found
    return found[1]


async def announce(cache: Cache, section_id: int) -> None:
    """A seat of the section was taken or given back (committed)."""
    await cache.publish(CHANNEL, str(section_id).encode())


async def frames(cache: Cache) -> AsyncIterator[str]:
    """The SSE stream of one page: seat frames, and a comment now and then to keep it open."""
    async with ticker(cache).watching() as page:
        yield ": seats\n\n"
        while True:
            try:
                yield await asyncio.wait_for(page.get(), KEEPALIVE_SECONDS)
            except TimeoutError:
                yield ": keepalive\n\n"
