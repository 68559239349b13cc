"""The outbox relay: publishes committed outbox rows to the bus, in id order, and marks them sent.

A row is marked sent in the same transaction that selected it, after the bus has accepted it
(RabbitMQ: publisher confirm; in-process: every handler has committed or dead-lettered it). A
relay that dies in between leaves the row unsent and it is published again: handlers are
idempotent, so that costs a duplicate delivery, never a lost event.

Several relays may run at once. On PostgreSQL each locks the rows it publishes with
``FOR UPDATE SKIP LOCKED``, so they share the backlog without publishing a row twice. SQLite has
one writer at a time and no row locks: two relays there may both publish a row, which the
handlers' idempotency absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy import delete, select, update

from campus.kernel import clock
from campus.kernel.bus import Bus, Dispatcher, RetryPolicy, error_text
from campus.kernel.db import Database
from campus.kernel.events import OutboxRow, ProcessedEvent
from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

DEFAULT_BATCH = 200
# Sent events and processed markers are kept this long: a redelivery comes within minutes.
RETENTION = timedelta(days=7)

PUBLISHED = Counter("campus_outbox_published", "Outbox events published to the bus")
PUBLISH_FAILURES = Counter("campus_outbox_publish_failures", "Failed publications of the relay")


class PublishFailed(Exception):
    """The bus refused an event; the rows before it were marked sent, the rest stay unsent."""

    def __init__(self, published: int, cause: BaseException) -> None:
        super().__init__(f"published {published}, then: {cause!r}")
        self.published = published
        self.cause = cause


async def relay_once(runtime: Runtime, batch: int = DEFAULT_BATCH) -> int:
    """Publish up to ``batch`` unsent events in order; returns how many were published."""
    return await relay_batch(runtime.db, runtime.bus, batch)


async def relay_batch(db: Database, bus: Bus, batch: int = DEFAULT_BATCH) -> int:
    """One batch; raises ``PublishFailed`` after recording the failure on the row it hit."""
    failure: PublishFailed | None = None
    async with db.transaction() as session:
        rows = (
            await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        report = await bus.publish_many([row.to_event() for row in rows])
        if report.published:
            await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row.id for row in rows[: report.published]]))
                .values(sent_at=clock.now()),
                execution_options={"synchronize_session": False},
            )
        if report.error is not None:
            stuck = rows[report.published]
            stuck.attempts = (stuck.attempts or 0) + 1
            stuck.last_error = error_text(report.error)
            failure = PublishFailed(report.published, report.error)
    PUBLISHED.inc(report.published)
    if failure is not None:
        PUBLISH_FAILURES.inc()
        raise failure
    return report.published


async def purge_delivered(db: Database, older_than: timedelta = RETENTION) -> int:
    """Delete sent outbox rows and processed markers older than ``older_than``."""
    cutoff = clock.now() - older_than
    async with db.transaction() as session:
        sent = await session.execute(
            delete(OutboxRow).where(OutboxRow.sent_at.is_not(None), OutboxRow.sent_at < cutoff)
        )
        processed = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.processed_at < cutoff)
        )
    return int(getattr(sent, "rowcount", 0) or 0) + int(getattr(processed, "rowcount", 0) or 0)


class BackgroundRelay:
    """Relays continuously: at once while there is a backlog, every ``interval`` when idle, and
    with exponential backoff (up to ``max_backoff``) while the bus refuses events."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        interval: float = 0.2,
        batch: int = DEFAULT_BATCH,
        max_backoff: float = 30.0,
        grace: float = 10.0,
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.batch = batch
        self.max_backoff = max_backoff
        self.grace = grace
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                published = await relay_once(self.runtime, self.batch)
                failures = 0
            except Exception as exc:
                failures += 1
                delay = min(self.max_backoff, self.interval * 2**failures)
                log.warning("relay_publish_failed", error=repr(exc), retry_in=delay)
                await self._pause(delay)
                continue
            if published < self.batch:
                await self._pause(self.interval)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def stop(self) -> None:
        """Let the batch in hand finish (up to ``grace`` seconds), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        task, self._task = self._task, None
        done, _pending = await asyncio.wait({task}, timeout=self.grace)
        if not done:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def start_background_relay(runtime: Runtime) -> BackgroundRelay:
    relay = BackgroundRelay(runtime)
    relay.start()
    return relay


class EventPipeline:
    """The event machinery one process runs: the bus with the enabled modules' handlers, their
    consumers (``consume``) and the outbox relay (``relay``). The web app's lifespan and the
    worker both start one."""

    def __init__(self, runtime: Runtime, *, consume: bool, relay: bool) -> None:
        self.runtime = runtime
        self.consume = consume
        self.relay_enabled = relay
        self.relay: BackgroundRelay | None = None

    async def start(self) -> None:
        bus = self.runtime.bus
        bus.register(h for module in self.runtime.modules for h in module.handlers)
        await bus.start()
        if self.consume:
            policy = RetryPolicy.from_settings(self.runtime.settings)
            await bus.consume(Dispatcher(self.runtime.db, policy))
        if self.relay_enabled:
            self.relay = start_background_relay(self.runtime)

    async def stop(self) -> None:
        """Relay first, so nothing new is published; then the consumers finish what they hold."""
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        await self.runtime.bus.close()
