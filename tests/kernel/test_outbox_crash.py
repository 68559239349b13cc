"""The crash the outbox exists for: a relay process dies between the bus accepting events and
marking them sent. After a restart every event reaches its idempotent handler exactly once."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from campus.kernel.bus import Bus, RabbitBus
from campus.kernel.db import Database
from campus.kernel.events import Event
from campus.kernel.relay import relay_batch
from tests.kernel.eventing import (
    BROKER_URL,
    BusFactory,
    Effects,
    commit_event,
    delivered,
    outbox_rows,
    unique,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
BATCH = 10


async def run_dying_relay(
    url: str, bus: Bus, handler: str, pattern: str, survive: int
) -> tuple[int, str]:
    exchange = bus.exchange_name if isinstance(bus, RabbitBus) else ""
    prefix = bus.queue_prefix if isinstance(bus, RabbitBus) else ""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.kernel.outbox_child",
        url,
        BROKER_URL,
        exchange,
        prefix,
        handler,
        pattern,
        str(survive),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode is not None
    return child.returncode, output.decode(errors="replace")


async def effects_per_event(effects: Effects, handler: str, events: list[Event]) -> list[int]:
    return [await effects.count(handler, event.id) for event in events]


@pytest.mark.parametrize(
    "survive", [0, 4, BATCH], ids=["before-publishing", "mid-batch", "before-marking-sent"]
)
async def test_a_killed_relay_loses_nothing_and_duplicates_nothing(
    survive: int,
    fresh_db: Database,
    events_database_url: str,
    make_bus: BusFactory,
    effects: Effects,
) -> None:
    handler = effects.handler(unique("crash"), "exams.#")
    bus = await make_bus([handler])
    recorded = [
        await commit_event(fresh_db, "exams.grade.recorded", {"n": n}) for n in range(BATCH)
    ]

    code, output = await run_dying_relay(
        events_database_url, bus, handler.name, handler.pattern, survive
    )

    assert code == -signal.SIGKILL, output
    assert all(row.sent_at is None for row in await outbox_rows(fresh_db)), "none marked sent"
    expected_before = [1] * survive + [0] * (BATCH - survive)

    async def published_ones_handled() -> bool:
        return await effects_per_event(effects, handler.name, recorded) == expected_before

    await wait_until(published_ones_handled, what="what the dead relay published to be handled")

    async def restarted_relay_done() -> bool:
        await relay_batch(fresh_db, bus)
        return all(row.sent_at is not None for row in await outbox_rows(fresh_db))

    await wait_until(restarted_relay_done, what="the restarted relay to publish everything")

    async def all_deliveries_settled() -> bool:
        return delivered(handler.name, "duplicate") >= survive and (
            await effects_per_event(effects, handler.name, recorded) == [1] * BATCH
        )

    await wait_until(all_deliveries_settled, what="every event to be handled")
    assert await effects_per_event(effects, handler.name, recorded) == [1] * BATCH
    assert delivered(handler.name, "duplicate") == survive, "republished ones were skipped"
    assert await effects.count(handler.name) == BATCH
