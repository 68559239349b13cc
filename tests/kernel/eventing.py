"""Fixtures for the outbox, relay, bus and worker tests (test_outbox*.py, test_bus*.py import
them from here).

These need real commits (a crash must find what was committed and nothing else), so they do
not use the rolled-back ``db`` of tests/conftest.py: they get their own database — a fresh
SQLite file, or ``<name>_events`` next to CAMPUS_DATABASE_URL's PostgreSQL database — migrated
once and emptied before each test. The bus is the one CAMPUS_BROKER_URL names; on RabbitMQ each
test gets its own exchange and queue prefix, deleted afterwards.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit
from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Bus, Dispatcher, InProcessBus, RabbitBus, RetryPolicy
from campus.kernel.cache import MemoryCache
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.events import DeadLetter, Event, OutboxRow, ProcessedEvent, emit
from campus.kernel.manifest import EventHandler, Module
from campus.kernel.runtime import Runtime
from tests.own_database import migrated_database

BROKER_URL = os.environ.get("CAMPUS_BROKER_URL", "memory://")
ON_RABBITMQ = BROKER_URL.startswith("amqp")
EFFECT = "test.handler.effect"
FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)


@pytest.fixture(scope="session")
async def events_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await migrated_database("events", tmp_path_factory.mktemp("events"))


@pytest.fixture
async def fresh_db(events_database_url: str) -> AsyncIterator[Database]:
    """A database of its own, with empty event tables, whose commits are real."""
    db = Database(events_database_url)
    async with db.transaction() as session:
        for table in (OutboxRow, ProcessedEvent, DeadLetter, AuditEntry):
            await session.execute(delete(table))
    yield db
    await db.dispose()


def effect_handler(name: str, pattern: str) -> EventHandler:
    """A handler whose effect is one committed audit entry per event: countable afterwards,
    from any process."""

    async def handle(session: AsyncSession, event: Event) -> None:
        audit.record(session, EFFECT, name, event.id)

    return EventHandler(name, pattern, handle)


@dataclass
class Effects:
    """What handlers did: their committed effect rows, and every call they got."""

    db: Database
    calls: list[tuple[str, str]] = field(default_factory=list)
    sessions: dict[str, list[int]] = field(default_factory=dict)  # handler → session per call

    def handler(
        self,
        name: str,
        pattern: str,
        *,
        fail_times: int = 0,
        always_fail: bool = False,
        fail_on: frozenset[str] = frozenset(),
    ) -> EventHandler:
        """A handler that writes one effect row per event (an audit entry) — and, told to, then
        fails (``fail_on``: always for these event ids), so that its write must be rolled back
        with the attempt."""
        failures_left = {"n": fail_times}
        write_effect = effect_handler(name, pattern).func

        async def handle(session: AsyncSession, event: Event) -> None:
            self.calls.append((name, event.id))
            self.sessions.setdefault(name, []).append(id(session))
            await write_effect(session, event)
            if always_fail or event.id in fail_on or failures_left["n"] > 0:
                failures_left["n"] -= 1
                raise RuntimeError(f"boom in {name}")

        return EventHandler(name, pattern, handle)

    async def count(self, handler: str, event_id: str | None = None) -> int:
        query = (
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == EFFECT, AuditEntry.target_type == handler)
        )
        if event_id is not None:
            query = query.where(AuditEntry.target_id == event_id)
        async with self.db.read() as session:
            return int(await session.scalar(query) or 0)

    def calls_of(self, handler: str) -> list[str]:
        return [event_id for name, event_id in self.calls if name == handler]


@pytest.fixture
def effects(fresh_db: Database) -> Effects:
    return Effects(fresh_db)


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


BusFactory = Callable[..., Awaitable[Bus]]


@pytest.fixture
async def make_bus(fresh_db: Database) -> AsyncIterator[BusFactory]:
    """``await make_bus(handlers, consume=True)``: the configured bus, started, with its own
    exchange and queues on RabbitMQ (removed at the end of the test)."""
    made: list[Bus] = []
    tag = uuid.uuid4().hex[:10]

    async def make(
        handlers: list[EventHandler],
        *,
        consume: bool = True,
        policy: RetryPolicy = FAST_RETRIES,
    ) -> Bus:
        bus = new_bus(tag)
        bus.register(handlers)
        await bus.start()
        if consume:
            await bus.consume(Dispatcher(fresh_db, policy))
        made.append(bus)
        return bus

    yield make
    for bus in made:
        await bus.close()
    queues = {b.queue_name(h) for b in made if isinstance(b, RabbitBus) for h in b.handlers}
    if ON_RABBITMQ:
        await delete_rabbit_topology(tag, queues)


def new_bus(tag: str) -> Bus:
    if ON_RABBITMQ:
        return RabbitBus(
            BROKER_URL,
            exchange=f"campus.events.test.{tag}",
            queue_prefix=f"campus.test.{tag}.",
            requeue_delay=0.05,
        )
    return InProcessBus()


async def delete_rabbit_topology(tag: str, queues: set[str]) -> None:
    import aio_pika

    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        for queue in sorted(queues):
            await channel.queue_delete(queue)
        await channel.exchange_delete(f"campus.events.test.{tag}")
    finally:
        await connection.close()


async def queue_depth(bus: Bus, handler: EventHandler) -> int:
    """Messages waiting in a handler's queue (RabbitMQ), or 0 for the in-process bus."""
    if not isinstance(bus, RabbitBus):
        return 0
    import aio_pika

    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(bus.queue_name(handler), passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def wait_until(
    condition: Callable[[], Awaitable[bool]], seconds: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def delivered(handler: str, outcome: str) -> float:
    """How many events the dispatcher finished for ``handler`` with ``outcome`` (a metric)."""
    value = REGISTRY.get_sample_value(
        "campus_event_deliveries_total", {"handler": handler, "outcome": outcome}
    )
    return value or 0.0


async def commit_event(db: Database, name: str, payload: dict[str, object]) -> Event:
    """An action's transaction: a change (here an audit entry) and its event, committed."""
    async with db.transaction() as session:
        audit.record(session, "test.action", "thing", payload.get("n"))
        return await emit(session, name, payload)


async def outbox_rows(db: Database) -> list[OutboxRow]:
    async with db.read() as session:
        rows = list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))
        session.expunge_all()  # keep them readable after the read-only session rolls back
        return rows


def runtime_on(
    settings: Settings, db: Database, bus: Bus, modules: list[Module] | None = None
) -> Runtime:
    """A process's parts for a relay or worker under test: this database, this bus."""
    return Runtime(settings=settings, db=db, cache=MemoryCache(), bus=bus, modules=modules or [])
