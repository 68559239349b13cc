"""The event bus: in-process dispatch (embedded) or RabbitMQ (production), one interface.

The relay hands committed outbox rows to ``publish_many``. A process that consumes calls
``consume`` with a ``Dispatcher``; from then on every event reaches each registered handler whose
pattern matches its name (RabbitMQ topic rules: ``*`` one dotted word, ``#`` zero or more).

The dispatcher runs one handler for one event in its own transaction, together with the
``event_processed`` row that makes a second delivery a no-op. A failing handler is retried with
exponential backoff; after the last attempt the event goes to ``event_dead_letter``, from where
an administrator replays it. Nothing is acknowledged before one of these has been committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock, context
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.events import DeadLetter, Event, ProcessedEvent, matches
from campus.kernel.manifest import EventHandler

if TYPE_CHECKING:
    from aio_pika.abc import (
        AbstractChannel,
        AbstractExchange,
        AbstractIncomingMessage,
        AbstractQueue,
        AbstractRobustConnection,
    )

log = structlog.get_logger(__name__)

EXCHANGE = "campus.events"
QUEUE_PREFIX = "campus."
ERROR_TEXT_LIMIT = 8000
# Events one handler takes in one transaction on the in-process bus: in the embedded mode the
# transaction holds this process's write turn, so a request waits at most about this many
# handler runs (a few milliseconds each) for it.
TOGETHER = 16

SessionHook = Callable[[AsyncSession], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]

DELIVERIES = Counter(
    "campus_event_deliveries",
    "Events delivered to a handler, by handler and outcome (handled, duplicate, dead_lettered)",
    ["handler", "outcome"],
)
HANDLER_FAILURES = Counter(
    "campus_event_handler_failures", "Failed attempts of an event handler", ["handler"]
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a failing handler is tried, and how long to wait between two attempts."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    factor: float = 2.0

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(
            max_attempts=settings.event_max_attempts,
            base_delay=settings.event_retry_base_seconds,
            max_delay=settings.event_retry_max_seconds,
        )

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after the failed attempt number ``attempt`` (counted from 1)."""
        return float(min(self.max_delay, self.base_delay * self.factor ** (attempt - 1)))


class Outcome(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    IGNORED = "ignored"  # the handler's ``when`` turned the event down


class AlreadyReplayed(Exception):
    """The dead letter was replayed by someone else in the meantime."""


def error_text(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(exc)).strip()
    return text if len(text) <= ERROR_TEXT_LIMIT else "…" + text[-ERROR_TEXT_LIMIT:]


class Dispatcher:
    """Runs handlers idempotently, each invocation in its own transaction."""

    def __init__(
        self, db: Database, policy: RetryPolicy | None = None, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.db = db
        self.policy = policy or RetryPolicy()
        self.sleep = sleep

    async def deliver(self, handler: EventHandler, event: Event) -> Outcome:
        """Handle the event, retrying with backoff; dead-letter it after the last attempt.

        Raises only when not even the dead letter could be written (the database is away): the
        caller must then keep the event (not acknowledge it) and try again later.
        """
        if not handler.wants(event):
            DELIVERIES.labels(handler.name, Outcome.IGNORED.value).inc()
            return Outcome.IGNORED
        with structlog.contextvars.bound_contextvars(
            event_id=event.id, event_name=event.name, handler=handler.name
        ):
            attempt = 0
            while True:
                attempt += 1
                try:
                    outcome = await self.run_once(handler, event)
                except Exception as exc:
                    HANDLER_FAILURES.labels(handler.name).inc()
                    if attempt >= self.policy.max_attempts:
                        await self.record_dead_letter(handler, event, error_text(exc), attempt)
                        log.error("event_dead_lettered", attempts=attempt, error=repr(exc))
                        outcome = Outcome.DEAD_LETTERED
                    else:
                        delay = self.policy.delay_after(attempt)
                        log.warning(
                            "event_handler_failed", attempt=attempt, retry_in=delay, error=repr(exc)
                        )
                        await self.sleep(delay)
                        continue
                DELIVERIES.labels(handler.name, outcome.value).inc()
                return outcome

    async def deliver_together(self, handler: EventHandler, events: Sequence[Event]) -> None:
        """Several events to one handler in one transaction: their markers in one statement,
        one commit. If the handler fails on any of them, nothing of the attempt is kept and each
        event is delivered on its own (``deliver``: retries, then the dead letter), so that one
        bad event neither holds back nor takes down the others."""
        wanted = [event for event in events if handler.wants(event)]
        if len(wanted) < len(events):
            DELIVERIES.labels(handler.name, Outcome.IGNORED.value).inc(len(events) - len(wanted))
        if len(wanted) < 2:
            for event in wanted:
                await self.deliver(handler, event)
            return
        try:
            async with self.db.transaction() as session:
                fresh = await _claim_many(session, handler.name, [e.id for e in wanted])
                for event in wanted:
                    if event.id in fresh:
                        with structlog.contextvars.bound_contextvars(
                            event_id=event.id, event_name=event.name, handler=handler.name
                        ):
                            await handler.func(session, event)
        except Exception as exc:
            log.info("event_batch_split", handler=handler.name, n=len(wanted), error=repr(exc))
            for event in wanted:
                await self.deliver(handler, event)
            return
        DELIVERIES.labels(handler.name, Outcome.HANDLED.value).inc(len(fresh))
        if len(fresh) < len(wanted):
            DELIVERIES.labels(handler.name, Outcome.DUPLICATE.value).inc(len(wanted) - len(fresh))

    async def run_once(
        self, handler: EventHandler, event: Event, *, also: SessionHook | None = None
    ) -> Outcome:
        """One attempt in one transaction: remember the event id, run the handler, then ``also``.

        An event the handler has already processed is not handed to it again (DUPLICATE); ``also``
        runs either way. Any error rolls back everything the attempt wrote and is raised.
        """
        async with self.db.transaction() as session:
            claimed = await _claim(session, handler.name, event.id)
            if claimed:
                await handler.func(session, event)
            if also is not None:
                await also(session)
        return Outcome.HANDLED if claimed else Outcome.DUPLICATE

    async def record_dead_letter(
        self, handler: EventHandler, event: Event, error: str, attempts: int
    ) -> None:
        """Keep the event for a replay; a second failure of the same event adds to its attempts."""
        for _try in range(2):
            try:
                async with self.db.transaction() as session:
                    await _upsert_dead_letter(session, handler.name, event, error, attempts)
                return
            except IntegrityError:
                # Another consumer wrote the same letter at the same moment: update it instead.
                continue
        raise RuntimeError(f"could not dead-letter event {event.id} for {handler.name}")

    async def replay(
        self,
        letter_id: int,
        handler: EventHandler,
        event: Event,
        *,
        on_success: SessionHook | None = None,
        on_failure: SessionHook | None = None,
    ) -> str | None:
        """Run the handler once more for a dead letter; returns None on success, else the error.

        On success the letter is marked replayed in the handler's own transaction, so the two
        cannot disagree. On failure its attempts and error are updated. ``AlreadyReplayed`` is
        raised if somebody else replayed it first.
        """

        async def mark_replayed(session: AsyncSession) -> None:
            result = await session.execute(
                update(DeadLetter)
                .where(DeadLetter.id == letter_id, DeadLetter.replayed_at.is_(None))
                .values(replayed_at=clock.now(), replayed_by=context.actor_id())
            )
            if getattr(result, "rowcount", 0) != 1:
                raise AlreadyReplayed(letter_id)
            if on_success is not None:
                await on_success(session)

        try:
            await self.run_once(handler, event, also=mark_replayed)
        except AlreadyReplayed:
            raise
        except Exception as exc:
            text = error_text(exc)
            async with self.db.transaction() as session:
                await session.execute(
                    update(DeadLetter)
                    .where(DeadLetter.id == letter_id)
                    .values(attempts=DeadLetter.attempts + 1, error=text, failed_at=clock.now())
                )
                if on_failure is not None:
                    await on_failure(session)
            return text
        return None


async def _claim(session: AsyncSession, handler: str, event_id: str) -> bool:
    """Insert the processed marker; False when it exists (the handler saw this event already).

    PostgreSQL makes a concurrent second insert of the same key wait for the first transaction,
    so two consumers of one redelivered message cannot both run the handler.
    """
    values = {"handler": handler, "event_id": event_id, "processed_at": clock.now()}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            make(ProcessedEvent)
            .values(**values)
            .on_conflict_do_nothing()
            .returning(ProcessedEvent.event_id)
        )
        return (await session.scalar(statement)) is not None
    exists = await session.scalar(
        select(ProcessedEvent.event_id).where(
            ProcessedEvent.handler == handler, ProcessedEvent.event_id == event_id
        )
    )
    if exists is not None:
        return False
    await session.execute(insert(ProcessedEvent).values(**values))
    return True


async def _claim_many(session: AsyncSession, handler: str, event_ids: list[str]) -> set[str]:
    """``_claim`` for several events at once: the ids whose marker this call inserted."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return {i for i in event_ids if await _claim(session, handler, i)}
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    now = clock.now()
    rows = [{"handler": handler, "event_id": i, "processed_at": now} for i in event_ids]
    statement = (
        make(ProcessedEvent)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(ProcessedEvent.event_id)
    )
    return set(await session.scalars(statement))


async def _upsert_dead_letter(
    session: AsyncSession, handler: str, event: Event, error: str, attempts: int
) -> None:
    letter = await session.scalar(
        select(DeadLetter).where(DeadLetter.handler == handler, DeadLetter.event_id == event.id)
    )
    now = clock.now()
    if letter is None:
        session.add(
            DeadLetter(
                handler=handler,
                event_id=event.id,
                name=event.name,
                event=event.model_dump(mode="json"),
                error=error,
                attempts=attempts,
                failed_at=now,
            )
        )
        await session.flush()
        return
    letter.attempts += attempts
    letter.error = error
    letter.failed_at = now
    letter.replayed_at = None
    letter.replayed_by = None


@dataclass(frozen=True)
class PublishReport:
    """How many of the events, in order, the bus has accepted; the error that stopped it."""

    published: int
    error: BaseException | None = None


class BusNotConsuming(RuntimeError):
    """The in-process bus can deliver only while this process consumes."""


class Bus(ABC):
    def __init__(self) -> None:
        self.handlers: list[EventHandler] = []
        self.dispatcher: Dispatcher | None = None
        # Event name → its handlers: the patterns are matched once per name, not per event.
        self._routes: dict[str, list[EventHandler]] = {}

    def register(self, handlers: Iterable[EventHandler]) -> None:
        """The handlers this process knows (those of its enabled modules); names are unique."""
        registered = list(handlers)
        names = [h.name for h in registered]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"event handler names used twice: {', '.join(duplicates)}")
        self.handlers = registered
        self._routes = {}

    def handler(self, name: str) -> EventHandler | None:
        return next((h for h in self.handlers if h.name == name), None)

    def handlers_for(self, event_name: str) -> list[EventHandler]:
        found = self._routes.get(event_name)
        if found is None:
            found = [h for h in self.handlers if matches(h.pattern, event_name)]
            self._routes[event_name] = found
        return found

    @abstractmethod
    async def publish(self, event: Event) -> None: ...

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        for index, event in enumerate(events):
            try:
                await self.publish(event)
            except Exception as exc:
                return PublishReport(index, exc)
        return PublishReport(len(events))

    async def start(self) -> None:
        return None

    async def consume(self, dispatcher: Dispatcher) -> None:
        """Start delivering events to the registered handlers through ``dispatcher``."""
        self.dispatcher = dispatcher

    async def close(self) -> None:
        self.dispatcher = None

    async def ping(self) -> None:
        return None


class InProcessBus(Bus):
    """Publishing an event delivers it, there and then, to every matching handler in turn.

    The relay marks an event sent only once ``publish`` has returned, so an event is never lost
    between the outbox and a handler; a failing handler holds the relay for its retries.
    """

    async def publish(self, event: Event) -> None:
        dispatcher = self._consuming()
        for handler in self.handlers_for(event.name):
            await dispatcher.deliver(handler, event)

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        """Each handler gets its share of the events in order, up to ``TOGETHER`` of them in
        one transaction (a handler's transaction per event was most of the cost of a notice).
        Handlers run one after another rather than event by event: like RabbitMQ's queue per
        handler, nothing orders one handler's work against another's. An error (the database
        is away) reports nothing published: the relay publishes the batch again, and what was
        handled is a duplicate then."""
        try:
            dispatcher = self._consuming()
            shares: dict[str, tuple[EventHandler, list[Event]]] = {}
            for event in events:
                for handler in self.handlers_for(event.name):
                    shares.setdefault(handler.name, (handler, []))[1].append(event)
            for handler, share in shares.values():
                for start in range(0, len(share), TOGETHER):
                    await dispatcher.deliver_together(handler, share[start : start + TOGETHER])
        except Exception as exc:
            return PublishReport(0, exc)
        return PublishReport(len(events))

    def _consuming(self) -> Dispatcher:
        if self.dispatcher is None:
            raise BusNotConsuming("no consumer in this process: the event stays in the outbox")
        return self.dispatcher


class RabbitBus(Bus):
    """RabbitMQ: a durable topic exchange, one durable queue per handler bound by its pattern,
    persistent messages with publisher confirms, acknowledgements after the handler's commit."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = EXCHANGE,
        queue_prefix: str = QUEUE_PREFIX,
        prefetch: int = 16,
        publish_timeout: float = 10.0,
        requeue_delay: float = 1.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.exchange_name = exchange
        self.queue_prefix = queue_prefix
        self.prefetch = prefetch
        self.publish_timeout = publish_timeout
        self.requeue_delay = requeue_delay
        self.shutdown_grace = shutdown_grace
        self._connection: AbstractRobustConnection | None = None
        self._exchange: AbstractExchange | None = None
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self._in_flight: set[asyncio.Task[Any]] = set()

    def queue_name(self, handler: EventHandler) -> str:
        return f"{self.queue_prefix}{handler.name}"

    async def start(self) -> None:
        """Connect and declare the exchange and every registered handler's queue, so that no
        event published from now on misses a handler whose consumer is not running yet."""
        import aio_pika

        if self._connection is not None:
            return
        self._connection = await aio_pika.connect_robust(self.url)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await self._declare_exchange(channel)
        for handler in self.handlers:
            await self._declare_queue(channel, self._exchange, handler)

    async def _declare_exchange(self, channel: AbstractChannel) -> AbstractExchange:
        from aio_pika import ExchangeType

        return await channel.declare_exchange(self.exchange_name, ExchangeType.TOPIC, durable=True)

    async def _declare_queue(
        self, channel: AbstractChannel, exchange: AbstractExchange, handler: EventHandler
    ) -> AbstractQueue:
        queue = await channel.declare_queue(self.queue_name(handler), durable=True)
        await queue.bind(exchange, routing_key=handler.pattern)
        return queue

    async def publish(self, event: Event) -> None:
        from aio_pika import DeliveryMode, Message

        if self._exchange is None:
            raise RuntimeError("the RabbitMQ bus is not started")
        message = Message(
            event.model_dump_json().encode(),
            content_type="application/json",
            delivery_mode=DeliveryMode.PERSISTENT,
            message_id=event.id,
            type=event.name,
            timestamp=event.occurred_at,
        )
        await self._exchange.publish(
            message, routing_key=event.name, mandatory=False, timeout=self.publish_timeout
        )

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        # One channel sends in order; the confirms are awaited together rather than one by one.
        results = await asyncio.gather(*(self.publish(e) for e in events), return_exceptions=True)
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                return PublishReport(index, result)
        return PublishReport(len(events))

    async def consume(self, dispatcher: Dispatcher) -> None:
        await self.start()
        assert self._connection is not None
        self.dispatcher = dispatcher
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        exchange = await self._declare_exchange(channel)
        for handler in self.handlers:
            queue = await self._declare_queue(channel, exchange, handler)
            tag = await queue.consume(partial(self._on_message, handler), no_ack=False)
            self._consumers.append((queue, tag))

    async def _on_message(self, handler: EventHandler, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._handle(handler, message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _handle(self, handler: EventHandler, message: AbstractIncomingMessage) -> None:
        dispatcher = self.dispatcher
        if dispatcher is None:
            await message.nack(requeue=True)
            return
        try:
            event = _decode(message)
            if event is None:
                await dispatcher.record_dead_letter(
                    handler, _undecodable(message), "message body is not a Campus event", 0
                )
            else:
                await dispatcher.deliver(handler, event)
        except Exception:
            # Not even the dead letter could be written: give the message back, a little later.
            log.exception("event_delivery_failed", handler=handler.name)
            await asyncio.sleep(self.requeue_delay)
            await message.nack(requeue=True)
            return
        await message.ack()

    async def close(self) -> None:
        """Stop taking messages, let those being handled finish, then disconnect."""
        for queue, tag in self._consumers:
            with contextlib.suppress(Exception):
                await queue.cancel(tag)
        self._consumers.clear()
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=self.shutdown_grace)
        self.dispatcher = None
        self._exchange = None
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    async def ping(self) -> None:
        import aio_pika

        if self._connection is not None:
            if self._connection.is_closed:
                raise ConnectionError("the RabbitMQ connection is closed")
            return
        connection = await aio_pika.connect(self.url, timeout=5)
        await connection.close()


def _decode(message: AbstractIncomingMessage) -> Event | None:
    try:
        return Event.model_validate_json(message.body)
    except ValidationError:
        return None


def _undecodable(message: AbstractIncomingMessage) -> Event:
    """An envelope for a message that is not an event, so that it is kept, not dropped."""
    return Event(
        id=uuid.uuid4().hex,
        name=message.routing_key or "unknown",
        payload={"raw": message.body[:ERROR_TEXT_LIMIT].decode("utf-8", "replace")},
    )


def create_bus(url: str) -> Bus:
    if url.startswith("memory://"):
        return InProcessBus()
    if url.startswith(("amqp://", "amqps://")):
        return RabbitBus(url)
    raise ValueError(f"unsupported CAMPUS_BROKER_URL: {url}")
