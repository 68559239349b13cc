"""Events per second from the outbox to a handler: outbox → relay → RabbitMQ → handler, and
outbox → relay → in-process bus → handler, measured in the same run on the same database.

Each run commits N events first (100 per transaction, not timed), then starts the consumer and
the relay and times until the handler has committed all N (each handler invocation is its own
transaction: an audit entry plus the processed-event marker). The figures are medians of the
runs; the ratio is RabbitMQ over in-process. RabbitMQ is skipped, with a notice, when it does not
answer. The whole benchmark stops by itself within its time budget.

    .venv/bin/python bench/outbox.py [--events 2000] [--runs 3] [--database-url URL]
                                     [--broker-url amqp://guest:guest@127.0.0.1:5672/]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, migrate
from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Bus, Dispatcher, InProcessBus, Outcome, RabbitBus, RetryPolicy
from campus.kernel.cache import MemoryCache
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.events import DeadLetter, Event, OutboxRow, ProcessedEvent, emit
from campus.kernel.logging import configure_logging
from campus.kernel.manifest import EventHandler
from campus.kernel.relay import BackgroundRelay
from campus.kernel.runtime import Runtime

BUDGET_SECONDS = 100.0
EFFECT = "bench.outbox.effect"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class Results:
    runs: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def redact(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}"


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs (nproc), {model}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def handler(name: str) -> EventHandler:
    async def handle(session: AsyncSession, event: Event) -> None:
        audit.record(session, EFFECT, "event", event.id)

    return EventHandler(name, "bench.#", handle)


class CountingDispatcher(Dispatcher):
    """Counts invocations once their transaction has committed, and says when all are in."""

    def __init__(self, db: Database, expected: int) -> None:
        super().__init__(db, RetryPolicy())
        self.committed = 0
        self.expected = expected
        self.all_committed = asyncio.Event()

    async def run_once(self, handler: EventHandler, event: Event, **kwargs: Any) -> Outcome:
        outcome = await super().run_once(handler, event, **kwargs)
        if outcome is Outcome.HANDLED:
            self.committed += 1
            if self.committed >= self.expected:
                self.all_committed.set()
        return outcome


async def empty_tables(db: Database) -> None:
    async with db.transaction() as session:
        for table in (OutboxRow, ProcessedEvent, DeadLetter, AuditEntry):
            await session.execute(delete(table))


async def commit_events(db: Database, count: int) -> None:
    for start in range(0, count, 100):
        async with db.transaction() as session:
            for n in range(start, min(count, start + 100)):
                await emit(session, "bench.thing.happened", {"n": n})


async def effects(db: Database) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == EFFECT)
        )
    return int(count or 0)


async def one_run(db: Database, bus: Bus, events: int, deadline: float) -> float:
    """Events per second of one run; raises TimeoutError past the deadline."""
    await empty_tables(db)
    await commit_events(db, events)
    name = f"bench.{uuid.uuid4().hex[:8]}"
    bus.register([handler(name)])
    await bus.start()
    runtime = Runtime(
        settings=Settings(database_url=db.url),
        db=db,
        cache=MemoryCache(),
        bus=bus,
        modules=[],
    )
    relay = BackgroundRelay(runtime, interval=0.01)
    dispatcher = CountingDispatcher(db, events)
    started = time.perf_counter()
    await bus.consume(dispatcher)
    relay.start()
    try:
        try:
            await asyncio.wait_for(
                dispatcher.all_committed.wait(), max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            raise TimeoutError(f"{dispatcher.committed} of {events} handled") from None
        elapsed = time.perf_counter() - started
    finally:
        await relay.stop()
        await bus.close()
    committed = await effects(db)
    if committed != events:
        raise AssertionError(f"{committed} effects committed for {events} events")
    return events / elapsed


async def rabbit_answers(url: str) -> str | None:
    """None when RabbitMQ answers, else why not."""
    import aio_pika

    try:
        connection = await aio_pika.connect(url, timeout=3)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    await connection.close()
    return None


async def delete_topology(url: str, bus: RabbitBus, names: list[str]) -> None:
    import aio_pika

    connection = await aio_pika.connect(url, timeout=3)
    try:
        channel = await connection.channel()
        for name in names:
            await channel.queue_delete(f"{bus.queue_prefix}{name}")
        await channel.exchange_delete(bus.exchange_name)
    finally:
        await connection.close()


async def measure(args: argparse.Namespace, db: Database, results: Results) -> None:
    deadline = time.monotonic() + BUDGET_SECONDS
    buses: list[tuple[str, object]] = [("in-process", None)]
    reason = await rabbit_answers(args.broker_url)
    if reason is None:
        buses.insert(0, ("RabbitMQ", args.broker_url))
    else:
        notice = f"RabbitMQ skipped: {redact(args.broker_url)} does not answer ({reason})"
        print(notice, flush=True)
        results.notes.append(notice)
    for run in range(args.runs):
        for label, url in buses:
            tag = uuid.uuid4().hex[:8]
            bus: Bus = (
                RabbitBus(str(url), exchange=f"campus.bench.{tag}", queue_prefix=f"bench.{tag}.")
                if url
                else InProcessBus()
            )
            try:
                rate = await one_run(db, bus, args.events, deadline)
            except TimeoutError as exc:
                results.notes.append(f"{label} run {run + 1} stopped at the time budget: {exc}")
                return
            finally:
                if isinstance(bus, RabbitBus):
                    await delete_topology(str(url), bus, [h.name for h in bus.handlers])
            results.runs.setdefault(label, []).append(rate)
            print(f"  run {run + 1} {label:<10} {rate:8.0f} events/s", flush=True)


def report(args: argparse.Namespace, results: Results, database: str) -> None:
    print(f"\nmachine : {machine()}")
    print(f"database: {database}")
    print(f"broker  : {redact(args.broker_url)} (RabbitMQ runs), memory:// (in-process runs)")
    print(f"events  : {args.events} per run, {args.runs} runs per bus\n")
    medians = {label: statistics.median(rates) for label, rates in results.runs.items()}
    for label, rates in results.runs.items():
        runs = ", ".join(f"{r:.0f}" for r in rates)
        print(f"{label:<10} median {medians[label]:8.0f} events/s   (runs: {runs})")
    if "RabbitMQ" in medians and "in-process" in medians:
        ratio = medians["RabbitMQ"] / medians["in-process"]
        print(f"\nratio RabbitMQ / in-process: {ratio:.2f}")
    for note in results.notes:
        print(f"note: {note}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--broker-url", default=os.environ.get("CAMPUS_BROKER_URL", DEFAULT_BROKER))
    args = parser.parse_args()
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/outbox-bench.db"
        await asyncio.to_thread(migrate.upgrade, url)
        db = Database(url)
        results = Results()
        print(f"outbox → relay → bus → handler, {args.events} events per run", flush=True)
        try:
            await measure(args, db, results)
        finally:
            await db.dispose()
        report(
            args,
            results,
            url.split("://", 1)[0] + (" (temporary file)" if not args.database_url else ""),
        )
    if not results.runs:
        sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main())
