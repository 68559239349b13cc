"""The bus and its dispatcher: topic routing, idempotent handling, retries, dead letters.

Every test runs on the bus CAMPUS_BROKER_URL names (in-process by default, RabbitMQ in CI).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from campus.kernel.bus import (
    TOGETHER,
    BusNotConsuming,
    Dispatcher,
    InProcessBus,
    Outcome,
    RabbitBus,
    RetryPolicy,
    create_bus,
)
from campus.kernel.db import Database
from campus.kernel.events import DeadLetter, Event, ProcessedEvent
from campus.kernel.manifest import EventHandler
from tests.kernel.eventing import (
    BROKER_URL,
    FAST_RETRIES,
    ON_RABBITMQ,
    BusFactory,
    Effects,
    delivered,
    queue_depth,
    unique,
    wait_until,
)


def event(name: str, **payload: object) -> Event:
    return Event(name=name, payload=dict(payload))


async def dead_letters(db: Database, handler: str) -> list[DeadLetter]:
    async with db.read() as session:
        rows = list(await session.scalars(select(DeadLetter).where(DeadLetter.handler == handler)))
        session.expunge_all()  # keep them readable after the read-only session rolls back
        return rows


async def settled(handler: EventHandler, count: int) -> None:
    """Wait until the dispatcher has finished ``count`` deliveries for ``handler``."""

    async def done() -> bool:
        total = sum(delivered(handler.name, o.value) for o in Outcome)
        return total >= count

    await wait_until(done, what=f"{count} deliveries to {handler.name}")


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=6, base_delay=0.5, max_delay=3.0)
    assert [policy.delay_after(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_create_bus_follows_the_url() -> None:
    assert isinstance(create_bus("memory://"), InProcessBus)
    assert isinstance(create_bus("amqp://guest:guest@127.0.0.1:5672/"), RabbitBus)
    with pytest.raises(ValueError, match="unsupported"):
        create_bus("kafka://somewhere")


def test_handler_names_must_be_unique() -> None:
    async def noop(session: object, event: Event) -> None:
        return None

    bus = InProcessBus()
    with pytest.raises(ValueError, match=r"twice: a\.b"):
        bus.register([EventHandler("a.b", "#", noop), EventHandler("a.b", "x.*", noop)])


async def test_in_process_bus_refuses_to_publish_without_a_consumer() -> None:
    bus = InProcessBus()
    with pytest.raises(BusNotConsuming):
        await bus.publish(event("users.person.created"))
    report = await bus.publish_many([event("a.b"), event("a.c")])
    assert report.published == 0
    assert isinstance(report.error, BusNotConsuming)


async def test_topic_patterns_route_as_rabbitmq_does(
    make_bus: BusFactory, effects: Effects
) -> None:
    one_word = effects.handler(unique("star"), "users.*")
    any_depth = effects.handler(unique("hash"), "users.#")
    everything = effects.handler(unique("all"), "#")
    exact = effects.handler(unique("exact"), "users.person.created")
    bus = await make_bus([one_word, any_depth, everything, exact])
    created = event("users.person.created", id=1)
    renamed = event("users.renamed", id=2)
    other = event("fees.bill.paid", id=3)

    report = await bus.publish_many([created, renamed, other])
    assert report.published == 3
    await settled(everything, 3)
    await settled(any_depth, 2)
    await settled(one_word, 1)
    await settled(exact, 1)
    if ON_RABBITMQ:
        await asyncio.sleep(0.2)  # room for a wrongly routed message to show up

    assert sorted(effects.calls_of(one_word.name)) == [renamed.id]
    assert sorted(effects.calls_of(any_depth.name)) == sorted([created.id, renamed.id])
    assert sorted(effects.calls_of(everything.name)) == sorted([created.id, renamed.id, other.id])
    assert effects.calls_of(exact.name) == [created.id]
    assert await effects.count(everything.name) == 3


async def test_a_duplicate_delivery_is_handled_once(
    make_bus: BusFactory, effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("dup"), "orders.#")
    bus = await make_bus([handler])
    placed = event("orders.placed", n=1)

    for _ in range(3):
        await bus.publish(placed)
    await settled(handler, 3)

    assert await effects.count(handler.name, placed.id) == 1
    assert effects.calls_of(handler.name) == [placed.id], "the handler itself ran once"
    assert delivered(handler.name, "handled") == 1
    assert delivered(handler.name, "duplicate") == 2
    async with fresh_db.read() as session:
        markers = await session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.handler == handler.name)
        )
    assert markers == 1


async def test_concurrent_deliveries_of_one_event_have_one_effect(
    effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("race"), "#")
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    placed = event("orders.placed", n=2)

    outcomes = await asyncio.gather(*(dispatcher.deliver(handler, placed) for _ in range(5)))

    assert sorted(outcomes) == sorted([Outcome.HANDLED] + [Outcome.DUPLICATE] * 4)
    assert await effects.count(handler.name, placed.id) == 1


async def test_a_handler_whose_condition_turns_an_event_down_leaves_no_trace(
    effects: Effects, fresh_db: Database
) -> None:
    picky = replace(
        effects.handler(unique("picky"), "orders.#"), when=lambda e: e.payload.get("n") == 1
    )
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    wanted, other = event("orders.placed", n=1), event("orders.placed", n=2)

    assert await dispatcher.deliver(picky, other) is Outcome.IGNORED
    assert await dispatcher.deliver(picky, wanted) is Outcome.HANDLED
    assert effects.calls_of(picky.name) == [wanted.id]
    async with fresh_db.read() as session:
        markers = list(
            await session.scalars(
                select(ProcessedEvent.event_id).where(ProcessedEvent.handler == picky.name)
            )
        )
    assert markers == [wanted.id], "a turned-down event was recorded as processed"


async def test_each_handler_keeps_its_own_record_of_processed_events(
    make_bus: BusFactory, effects: Effects
) -> None:
    first = effects.handler(unique("first"), "grades.#")
    second = effects.handler(unique("second"), "grades.#")
    bus = await make_bus([first, second])
    posted = event("grades.posted", n=3)

    await bus.publish(posted)
    await bus.publish(posted)
    await settled(first, 2)
    await settled(second, 2)

    assert await effects.count(first.name, posted.id) == 1
    assert await effects.count(second.name, posted.id) == 1


async def test_a_failing_handler_is_retried_with_backoff_then_succeeds(
    effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("flaky"), "#", fail_times=2)
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(max_attempts=4, base_delay=0.25, max_delay=10)
    dispatcher = Dispatcher(fresh_db, policy, sleep=record_wait)
    booked = event("rooms.booked", n=4)

    assert await dispatcher.deliver(handler, booked) == Outcome.HANDLED

    assert waits == [0.25, 0.5]
    assert effects.calls_of(handler.name) == [booked.id] * 3
    assert await effects.count(handler.name, booked.id) == 1, "failed attempts wrote nothing"
    assert await dead_letters(fresh_db, handler.name) == []


async def test_a_handler_that_keeps_failing_is_dead_lettered_with_the_whole_event(
    make_bus: BusFactory, effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("broken"), "library.#", always_fail=True)
    bus = await make_bus([handler])
    lent = event("library.book.lent", book="三体", reader=7)

    await bus.publish(lent)
    await settled(handler, 1)

    assert effects.calls_of(handler.name) == [lent.id] * FAST_RETRIES.max_attempts
    assert await effects.count(handler.name) == 0, "every attempt was rolled back"
    (letter,) = await dead_letters(fresh_db, handler.name)
    assert letter.event_id == lent.id
    assert letter.name == "library.book.lent"
    assert letter.attempts == FAST_RETRIES.max_attempts
    assert "RuntimeError: boom in" in letter.error
    assert letter.replayed_at is None
    assert letter.to_event() == lent
    assert delivered(handler.name, "dead_lettered") == 1
    await wait_until(lambda: _queue_is_empty(bus, handler), what="the message to be acknowledged")


async def _queue_is_empty(bus: object, handler: EventHandler) -> bool:
    return await queue_depth(bus, handler) == 0  # type: ignore[arg-type]


async def test_a_second_dead_lettering_of_the_same_event_adds_to_the_letter(
    effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("again"), "#", always_fail=True)
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    failed = event("cards.topped_up", n=5)

    await dispatcher.deliver(handler, failed)
    await dispatcher.deliver(handler, failed)

    (letter,) = await dead_letters(fresh_db, handler.name)
    assert letter.attempts == 2 * FAST_RETRIES.max_attempts


async def test_replay_runs_the_handler_once_and_marks_the_letter(
    effects: Effects, fresh_db: Database
) -> None:
    broken = effects.handler(unique("fixed"), "#", fail_times=FAST_RETRIES.max_attempts)
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    paid = event("fees.bill.paid", n=6)
    await dispatcher.deliver(broken, paid)
    (letter,) = await dead_letters(fresh_db, broken.name)

    assert await dispatcher.replay(letter.id, broken, letter.to_event()) is None

    (replayed,) = await dead_letters(fresh_db, broken.name)
    assert replayed.replayed_at is not None
    assert await effects.count(broken.name, paid.id) == 1


async def test_a_failed_replay_counts_the_attempt_and_keeps_the_letter(
    effects: Effects, fresh_db: Database
) -> None:
    broken = effects.handler(unique("still"), "#", always_fail=True)
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    paid = event("fees.bill.paid", n=7)
    await dispatcher.deliver(broken, paid)
    (letter,) = await dead_letters(fresh_db, broken.name)

    error = await dispatcher.replay(letter.id, broken, letter.to_event())

    assert error is not None and "boom in" in error
    (after,) = await dead_letters(fresh_db, broken.name)
    assert after.replayed_at is None
    assert after.attempts == FAST_RETRIES.max_attempts + 1
    assert await effects.count(broken.name) == 0


@pytest.mark.skipif(not ON_RABBITMQ, reason="RabbitMQ only: CAMPUS_BROKER_URL=amqp://…")
async def test_rabbitmq_keeps_events_for_a_handler_whose_consumer_is_down(
    make_bus: BusFactory, effects: Effects
) -> None:
    handler = effects.handler(unique("later"), "dorm.#")
    publisher = await make_bus([handler], consume=False)
    assigned = [event("dorm.bed.assigned", bed=n) for n in range(5)]

    assert (await publisher.publish_many(assigned)).published == 5
    assert await queue_depth(publisher, handler) == 5, "durable queue declared at start"
    assert effects.calls == []

    await make_bus([handler])  # the same exchange and queues: the consumer comes up
    await settled(handler, 5)
    assert sorted(effects.calls_of(handler.name)) == sorted(e.id for e in assigned)


@pytest.mark.skipif(not ON_RABBITMQ, reason="RabbitMQ only: CAMPUS_BROKER_URL=amqp://…")
async def test_rabbitmq_topology_is_durable_and_messages_persistent(
    make_bus: BusFactory, effects: Effects
) -> None:
    import aio_pika

    handler = effects.handler(unique("durable"), "hr.*")
    bus = await make_bus([handler], consume=False)
    assert isinstance(bus, RabbitBus)
    await bus.publish(event("hr.hired", n=1))

    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(bus.queue_name(handler), passive=True)
        message = await queue.get(no_ack=False, timeout=5)
        assert message is not None
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        assert message.routing_key == "hr.hired"
        assert Event.model_validate_json(message.body).name == "hr.hired"
        await message.nack(requeue=True)
        # Re-declaring as non-durable is refused: the broker has them as durable.
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
            await (await connection.channel()).declare_queue(bus.queue_name(handler), durable=False)
        with pytest.raises(aio_pika.exceptions.ChannelPreconditionFailed):
            await (await connection.channel()).declare_exchange(
                bus.exchange_name, aio_pika.ExchangeType.TOPIC, durable=False
            )
    finally:
        await connection.close()


@pytest.mark.skipif(not ON_RABBITMQ, reason="RabbitMQ only: CAMPUS_BROKER_URL=amqp://…")
async def test_rabbitmq_message_that_is_no_event_is_kept_as_a_dead_letter(
    make_bus: BusFactory, effects: Effects, fresh_db: Database
) -> None:
    import aio_pika

    handler = effects.handler(unique("garbage"), "odd.#")
    bus = await make_bus([handler])
    assert isinstance(bus, RabbitBus)
    connection = await aio_pika.connect(BROKER_URL)
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(bus.exchange_name)
        await exchange.publish(aio_pika.Message(b"not json"), routing_key="odd.thing")
    finally:
        await connection.close()

    async def kept() -> bool:
        return len(await dead_letters(fresh_db, handler.name)) == 1

    await wait_until(kept, what="the undecodable message to be dead-lettered")
    (letter,) = await dead_letters(fresh_db, handler.name)
    assert letter.name == "odd.thing"
    assert letter.event["payload"] == {"raw": "not json"}
    assert effects.calls == []


# ---------------------------------------------------------------- in-process: together


async def test_events_for_one_handler_are_handled_together_and_once_each(
    effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("together"), "#")
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    first, second, third, fourth = (event("orders.placed", n=n) for n in range(4))

    await dispatcher.deliver_together(handler, [first, second, third])
    await dispatcher.deliver_together(handler, [first, second, fourth])

    assert effects.calls_of(handler.name) == [first.id, second.id, third.id, fourth.id]
    sessions = effects.sessions[handler.name]
    assert len(set(sessions[:3])) == 1, "one transaction for the three"
    for each in (first, second, third, fourth):
        assert await effects.count(handler.name, each.id) == 1
    assert delivered(handler.name, "handled") == 4
    assert delivered(handler.name, "duplicate") == 2


async def test_one_bad_event_among_many_is_dead_lettered_alone(
    effects: Effects, fresh_db: Database
) -> None:
    first, bad, last = (event("fees.bill.paid", n=n) for n in range(3))
    handler = effects.handler(unique("one_bad"), "#", fail_on=frozenset({bad.id}))
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)

    await dispatcher.deliver_together(handler, [first, bad, last])

    assert await effects.count(handler.name, first.id) == 1
    assert await effects.count(handler.name, last.id) == 1
    assert await effects.count(handler.name, bad.id) == 0, "the failed attempts wrote nothing"
    assert await effects.count(handler.name) == 2, "the batch's attempt left nothing behind"
    (letter,) = await dead_letters(fresh_db, handler.name)
    assert letter.event_id == bad.id
    calls = effects.calls_of(handler.name)
    assert calls[:2] == [first.id, bad.id], "the batch stopped at the bad event"
    assert calls[2:] == [first.id] + [bad.id] * FAST_RETRIES.max_attempts + [last.id]


async def test_in_process_publishing_hands_each_handler_its_share_in_order(
    effects: Effects, fresh_db: Database
) -> None:
    orders = effects.handler(unique("orders"), "orders.#")
    everything = effects.handler(unique("every"), "#")
    picky = replace(
        effects.handler(unique("picky_share"), "#"), when=lambda e: e.payload.get("n") == 0
    )
    bus = InProcessBus()
    bus.register([orders, everything, picky])
    await bus.consume(Dispatcher(fresh_db, FAST_RETRIES))
    published = [
        event("orders.placed" if n % 2 else "rooms.booked", n=n) for n in range(TOGETHER + 5)
    ]

    report = await bus.publish_many(published)

    assert report.published == len(published)
    assert effects.calls_of(everything.name) == [e.id for e in published]
    assert effects.calls_of(orders.name) == [e.id for e in published if e.name == "orders.placed"]
    assert effects.calls_of(picky.name) == [published[0].id]
    assert len(set(effects.sessions[everything.name])) == 2, "at most TOGETHER a transaction"
    assert await effects.count(everything.name) == len(published)


async def test_in_process_publishing_reports_nothing_published_when_delivery_fails(
    effects: Effects, fresh_db: Database
) -> None:
    handler = effects.handler(unique("away"), "#")
    dispatcher = Dispatcher(fresh_db, FAST_RETRIES)
    bus = InProcessBus()
    bus.register([handler])
    await bus.consume(dispatcher)

    async def database_away(*_args: object) -> None:
        raise ConnectionError("the database is away")

    dispatcher.deliver_together = database_away  # type: ignore[method-assign]
    report = await bus.publish_many([event("orders.placed", n=1)])

    assert report.published == 0
    assert isinstance(report.error, ConnectionError)
