"""The outbox and its relay: committed events only, in order, marked sent, retried on failure,
safe with several relays."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from campus.kernel.bus import Bus, PublishReport
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.events import Event, OutboxRow, ProcessedEvent, emit
from campus.kernel.relay import BackgroundRelay, PublishFailed, purge_delivered, relay_batch
from tests.kernel.eventing import (
    BusFactory,
    Effects,
    commit_event,
    outbox_rows,
    runtime_on,
    unique,
    wait_until,
)


class RecordingBus(Bus):
    """Accepts everything and remembers it; optionally slow, to widen races between relays."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.events: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.events.append(event)

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super().publish_many(events)


class FailingBus(RecordingBus):
    """Refuses the event at position ``fail_at`` of every batch while ``failing`` is set."""

    def __init__(self, fail_at: int = 0) -> None:
        super().__init__()
        self.fail_at = fail_at
        self.failing = True
        self.refusals = 0

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        if not self.failing:
            return await super().publish_many(events)
        accepted = events[: self.fail_at]
        self.events.extend(accepted)
        self.refusals += 1
        return PublishReport(len(accepted), ConnectionError("broker unreachable"))


async def commit_events(db: Database, name: str, count: int) -> list[Event]:
    return [await commit_event(db, name, {"n": n}) for n in range(count)]


async def unsent(db: Database) -> int:
    async with db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
        )
    return int(count or 0)


async def test_an_event_is_committed_with_the_change_it_describes(fresh_db: Database) -> None:
    placed = await commit_event(fresh_db, "orders.placed", {"n": 1})

    (row,) = await outbox_rows(fresh_db)
    assert row.event_id == placed.id
    assert row.name == "orders.placed"
    assert row.payload == {"n": 1}
    assert row.sent_at is None
    assert row.to_event() == placed


async def test_a_rolled_back_transaction_leaves_no_event(fresh_db: Database) -> None:
    bus = RecordingBus()
    with pytest.raises(RuntimeError, match="the action failed"):
        async with fresh_db.transaction() as session:
            await emit(session, "orders.placed", {"n": 2})
            raise RuntimeError("the action failed after emitting")

    assert await outbox_rows(fresh_db) == []
    assert await relay_batch(fresh_db, bus) == 0
    assert bus.events == []


async def test_the_relay_publishes_committed_events_in_order_and_marks_them_sent(
    fresh_db: Database,
) -> None:
    emitted = await commit_events(fresh_db, "grades.posted", 25)
    bus = RecordingBus()

    assert await relay_batch(fresh_db, bus, batch=10) == 10
    assert [e.id for e in bus.events] == [e.id for e in emitted[:10]]
    assert await unsent(fresh_db) == 15
    assert await relay_batch(fresh_db, bus, batch=10) == 10
    assert await relay_batch(fresh_db, bus, batch=10) == 5
    assert await relay_batch(fresh_db, bus, batch=10) == 0

    assert [e.id for e in bus.events] == [e.id for e in emitted]
    assert all(row.sent_at is not None for row in await outbox_rows(fresh_db))


async def test_a_refused_event_stays_unsent_with_its_error_and_later_ones_wait(
    fresh_db: Database,
) -> None:
    emitted = await commit_events(fresh_db, "fees.bill.issued", 5)
    bus = FailingBus(fail_at=2)

    with pytest.raises(PublishFailed) as failure:
        await relay_batch(fresh_db, bus)

    assert failure.value.published == 2
    rows = await outbox_rows(fresh_db)
    assert [row.sent_at is not None for row in rows] == [True, True, False, False, False]
    assert rows[2].attempts == 1
    assert "broker unreachable" in (rows[2].last_error or "")

    bus.failing = False
    assert await relay_batch(fresh_db, bus) == 3
    assert [e.id for e in bus.events] == [e.id for e in emitted], "order kept across the failure"
    assert await unsent(fresh_db) == 0


async def test_the_background_relay_backs_off_while_the_bus_refuses(
    fresh_db: Database, settings: Settings
) -> None:
    await commit_events(fresh_db, "cards.topped_up", 3)
    bus = FailingBus(fail_at=0)
    relay = BackgroundRelay(runtime_on(settings, fresh_db, bus), interval=0.01, max_backoff=1.0)
    relay.start()
    await asyncio.sleep(0.6)
    refusals_while_down = bus.refusals
    bus.failing = False

    async def all_sent() -> bool:
        return await unsent(fresh_db) == 0

    await wait_until(all_sent, seconds=5, what="the relay to recover")
    await relay.stop()

    # Without backoff a 10 ms loop would have tried about 60 times in 0.6 s.
    assert 2 <= refusals_while_down <= 8
    assert (await outbox_rows(fresh_db))[0].attempts == refusals_while_down
    assert len(bus.events) == 3


async def test_several_relays_share_the_backlog_and_every_event_is_handled_once(
    fresh_db: Database, make_bus: BusFactory, effects: Effects, settings: Settings
) -> None:
    handler = effects.handler(unique("shared"), "timetable.#")
    bus = await make_bus([handler])
    emitted = await commit_events(fresh_db, "timetable.slot.changed", 120)

    relays = []
    for _ in range(3):
        relays.append(BackgroundRelay(runtime_on(settings, fresh_db, bus), interval=0.01, batch=15))
    for relay in relays:
        relay.start()

    async def handled_all() -> bool:
        return await effects.count(handler.name) >= len(emitted)

    await wait_until(handled_all, seconds=60, what="every event to be handled")
    await wait_until(lambda: _nothing_unsent(fresh_db), what="every row to be marked sent")
    for relay in relays:
        await relay.stop()

    for event in emitted:
        assert await effects.count(handler.name, event.id) == 1, event.id


async def _nothing_unsent(db: Database) -> bool:
    return await unsent(db) == 0


async def test_on_postgresql_concurrent_relays_never_publish_a_row_twice(
    fresh_db: Database,
) -> None:
    if fresh_db.dialect != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) exist on PostgreSQL only")
    emitted = await commit_events(fresh_db, "library.book.returned", 90)
    bus = RecordingBus(delay=0.2)

    counts = await asyncio.gather(*(relay_batch(fresh_db, bus, batch=30) for _ in range(3)))

    assert sorted(counts) == [30, 30, 30]
    published = [e.id for e in bus.events]
    assert len(published) == len(set(published)) == 90
    assert set(published) == {e.id for e in emitted}


async def test_purge_removes_only_what_is_old_and_delivered(fresh_db: Database) -> None:
    await commit_events(fresh_db, "old.thing", 2)
    await relay_batch(fresh_db, RecordingBus())
    await commit_events(fresh_db, "new.thing", 1)
    long_ago = (await outbox_rows(fresh_db))[0].occurred_at - timedelta(days=30)
    async with fresh_db.transaction() as session:
        await session.execute(
            update(OutboxRow).where(OutboxRow.name == "old.thing").values(sent_at=long_ago)
        )
        session.add(ProcessedEvent(handler="h", event_id="a" * 32, processed_at=long_ago))

    removed = await purge_delivered(fresh_db, older_than=timedelta(days=7))

    assert removed == 3
    rows = await outbox_rows(fresh_db)
    assert [row.name for row in rows] == ["new.thing"], "unsent rows are never purged"
