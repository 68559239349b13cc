"""The live hub: pushes frames to the open pages (SSE) and sockets (IM) of people, across processes.

One hub per process, attached lazily to the runtime. A frame is published once on the cache's
pub/sub channel ``messaging.live`` (in-process MemoryCache when embedded, Redis when
CAMPUS_REDIS_URL is set); every process's hub receives it and hands it to its own connections of
the people it names. The work per frame is a dictionary lookup per named person (or one pass over
the local connections for a campus-wide frame) and a ``put_nowait`` per connection: no database.

Frames are best-effort hints; what they announce is already committed (``push_after_commit``),
so a client that missed some (disconnected, too slow) resynchronises from the database: the
inbox for notifications, per-conversation sequence numbers for IM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from campus.kernel.db import after_commit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

Frame = dict[str, Any]

CHANNEL = "messaging.live"
QUEUE_SIZE = 256
# A frame sent to a connection that has fallen this far behind replaces its queue with one
# "resync" frame: the client reloads what it missed from the database instead.
RESYNC: Frame = {"type": "resync"}
# Presence across processes: per person and time window, a counter in the cache of the
# processes that have the person connected. A process counts itself in the current window on
# its first connection of the person and again in each new window (the refresh runs several
# times a window); its last connection closing takes it off every recent counter it is on. A
# person is online while the current or the previous window counts someone, so one process
# closing its last connection never hides another's, and the counts of a process that died
# run out with their windows (stale for at most two windows).
PRESENCE_WINDOW = 45.0
PRESENCE_REFRESH = 15.0
PRESENCE_TTL = 2 * PRESENCE_WINDOW + PRESENCE_REFRESH
RECONNECT_DELAY = 1.0
_ENCODED_CACHE = 64


def _window() -> int:
    return int(time.time() // PRESENCE_WINDOW)


def _presence_key(person_id: int, window: int) -> str:
    return f"msg:online:{person_id}:{window}"


@dataclass(eq=False)
class Connection:
    """One open page or socket of one person in this process."""

    person_id: int
    queue: asyncio.Queue[Frame] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    # Set once the hub gave up on a slow consumer: its queue holds only RESYNC from then on.
    dropped: bool = False

    def deliver(self, frame: Frame) -> bool:
        """Queue one frame; on overflow, drop the backlog for one RESYNC. False once dropped."""
        if self.dropped:
            return False
        try:
            self.queue.put_nowait(frame)
            return True
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)
            self.dropped = True
            return False


class Hub:
    """The connections of one process and its single subscription to the live channel."""

    def __init__(self, runtime: Runtime, channel: str = CHANNEL) -> None:
        self._runtime = runtime
        self.channel = channel
        self._by_person: dict[int, set[Connection]] = {}
        # The presence windows this process is counted in, per person it has connected.
        self._counted: dict[int, set[int]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None
        self._ready: asyncio.Event | None = None

    # ---------------------------------------------------------------- connections

    @property
    def connection_count(self) -> int:
        return sum(len(c) for c in self._by_person.values())

    def connections_of(self, person_id: int) -> frozenset[Connection]:
        return frozenset(self._by_person.get(person_id, ()))

    def online(self, person_id: int) -> bool:
        return bool(self._by_person.get(person_id))

    async def add(self, connection: Connection) -> None:
        await self.start()
        first = connection.person_id not in self._by_person
        self._by_person.setdefault(connection.person_id, set()).add(connection)
        if first:
            await self._count_in(connection.person_id)

    async def remove(self, connection: Connection) -> None:
        peers = self._by_person.get(connection.person_id)
        if peers is None:
            return
        peers.discard(connection)
        if not peers:
            del self._by_person[connection.person_id]
            await self._count_out(connection.person_id)

    # ---------------------------------------------------------------- delivery

    def deliver_local(self, person_ids: Iterable[int] | None, frame: Frame) -> int:
        """Hand a frame to this process's connections of those people (all when None)."""
        delivered = 0
        if person_ids is None:
            targets: Iterable[set[Connection]] = list(self._by_person.values())
        else:
            targets = [c for pid in set(person_ids) if (c := self._by_person.get(pid))]
        for connections in targets:
            for connection in list(connections):
                if connection.deliver(frame):
                    delivered += 1
        return delivered

    async def publish(self, person_ids: list[int] | None, frame: Frame) -> None:
        message = json.dumps({"to": person_ids, "frame": frame}, ensure_ascii=False)
        await self._runtime.cache.publish(self.channel, message.encode())

    # ---------------------------------------------------------------- the listener

    async def start(self) -> None:
        """Subscribe once, before the first connection registers, so none misses a frame."""
        if self._ready is None:
            self._ready = asyncio.Event()
            self._listener = asyncio.create_task(self._listen(), name="messaging-live-hub")
            self._presence = asyncio.create_task(
                self._refresh_presence(), name="messaging-live-presence"
            )
        await self._ready.wait()

    async def stop(self) -> None:
        for task in (self._listener, self._presence):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._listener = self._presence = None
        self._ready = None

    async def _listen(self) -> None:
        assert self._ready is not None
        while True:
            try:
                async with self._runtime.cache.subscribe(self.channel) as messages:
                    self._ready.set()
                    async for raw in messages:
                        self._dispatch(raw)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Frames published while the subscription is down are lost; clients resync on
                # their next reconnect. Keep the process serving.
                log.exception("live_hub_subscription_failed")
                self._ready.set()
                await asyncio.sleep(RECONNECT_DELAY)

    def _dispatch(self, raw: bytes) -> None:
        try:
            message = json.loads(raw)
            self.deliver_local(message["to"], message["frame"])
        except Exception:
            log.exception("live_hub_bad_message")

    # ---------------------------------------------------------------- presence

    async def _count_in(self, person_id: int) -> None:
        """Count this process in the person's current window, once per window."""
        if person_id not in self._by_person:
            return  # gone while a refresh was under way
        window = _window()
        counted = self._counted.setdefault(person_id, set())
        if window in counted:
            return
        counted.add(window)
        try:
            await self._runtime.cache.incr(_presence_key(person_id, window), 1, ttl=PRESENCE_TTL)
        except Exception:
            counted.discard(window)  # the next refresh tries again

    async def _count_out(self, person_id: int) -> None:
        """Take this process off the person's counters that still decide presence (the
        bookkeeping is dropped first, so a connection arriving meanwhile counts afresh)."""
        windows = self._counted.pop(person_id, set())
        current = _window()
        for window in sorted(w for w in windows if w >= current - 1):
            with contextlib.suppress(Exception):
                await self._runtime.cache.incr(
                    _presence_key(person_id, window), -1, ttl=PRESENCE_TTL
                )

    async def refresh_presence(self) -> None:
        """Count every connected person in the current window; forget windows past use."""
        floor = _window() - 1
        for person_id in list(self._by_person):
            await self._count_in(person_id)
            counted = self._counted.get(person_id)
            if counted:
                counted.intersection_update({w for w in counted if w >= floor})

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(PRESENCE_REFRESH)
            await self.refresh_presence()


# One hub per runtime; keyed by identity because a Runtime is not hashable. The runtime is
# held so that its id is not reused while the hub lives.
_hubs: dict[int, tuple[Runtime, Hub]] = {}


def hub(runtime: Runtime) -> Hub:
    """The process's hub for this runtime, created on first use."""
    found = _hubs.get(id(runtime))
    if found is None:
        found = (runtime, Hub(runtime, CHANNEL))
        _hubs[id(runtime)] = found
    return found[1]


async def close(runtime: Runtime) -> None:
    """Stop the runtime's hub (tests, shutdown)."""
    found = _hubs.pop(id(runtime), None)
    if found is not None:
        await found[1].stop()


# ---------------------------------------------------------------- the interface other modules use


async def send(runtime: Runtime, person_ids: Iterable[int], frame: Frame) -> None:
    """Publish a frame once; every process delivers it to its connections of those people."""
    targets = sorted(set(person_ids))
    if targets:
        await hub(runtime).publish(targets, frame)


async def send_all(runtime: Runtime, frame: Frame) -> None:
    """Publish a frame to every connection on every process (campus-wide)."""
    await hub(runtime).publish(None, frame)


def push_after_commit(
    session: AsyncSession, runtime: Runtime, person_ids: Iterable[int] | None, frame: Frame
) -> None:
    """Send the frame once the session's transaction commits, never if it rolls back.
    ``person_ids=None`` sends to everyone."""
    targets = None if person_ids is None else list(person_ids)

    async def push() -> None:
        if targets is None:
            await send_all(runtime, frame)
        else:
            await send(runtime, targets, frame)

    after_commit(session, push)


@asynccontextmanager
async def connect(runtime: Runtime, person_id: int) -> AsyncIterator[Connection]:
    """Register a connection of this person for the block; frames arrive on its ``queue``."""
    connection = Connection(person_id)
    the_hub = hub(runtime)
    await the_hub.add(connection)
    try:
        yield connection
    finally:
        await the_hub.remove(connection)


def online(runtime: Runtime, person_id: int) -> bool:
    """Whether the person has an open connection on this process."""
    return hub(runtime).online(person_id)


async def is_online(runtime: Runtime, person_id: int) -> bool:
    """Whether the person has an open connection on any process: this one's connections, or a
    process counted in the current or previous presence window (see PRESENCE_WINDOW)."""
    if online(runtime, person_id):
        return True
    current = _window()
    for window in (current, current - 1):
        raw = await runtime.cache.get(_presence_key(person_id, window))
        if raw is not None and int(raw) > 0:
            return True
    return False


_encoded: dict[int, tuple[Frame, str]] = {}


def encode(frame: Frame) -> str:
    """The frame as JSON, encoded once however many connections send it (campus-wide frames
    reach every connection as the same object)."""
    found = _encoded.get(id(frame))
    if found is not None and found[0] is frame:
        return found[1]
    text = json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
    if len(_encoded) >= _ENCODED_CACHE:
        _encoded.pop(next(iter(_encoded)))
    _encoded[id(frame)] = (frame, text)
    return text
