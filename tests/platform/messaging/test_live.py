"""The live hub: frames reach the connections of the people named, on every process sharing the
cache, only after the transaction that caused them commits."""

from __future__ import annotations

import asyncio

import pytest

from campus.kernel.runtime import Runtime
from campus.platform.messaging import live

TIMEOUT = 2.0


def twin(runtime: Runtime) -> Runtime:
    """A second "process": its own hub, the same cache (Redis or, embedded, the shared memory)."""
    return Runtime(settings=runtime.settings, db=runtime.db, cache=runtime.cache, bus=runtime.bus)


async def receive(connection: live.Connection) -> live.Frame:
    return await asyncio.wait_for(connection.queue.get(), TIMEOUT)


async def nothing_arrives(connection: live.Connection, wait: float = 0.2) -> None:
    await asyncio.sleep(wait)
    assert connection.queue.empty(), connection.queue.get_nowait()


async def test_two_runtimes_deliver_to_each_others_connections(runtime: Runtime) -> None:
    other = twin(runtime)
    try:
        async with (
            live.connect(runtime, 901) as here,
            live.connect(other, 902) as there,
            live.connect(other, 903) as bystander,
        ):
            await live.send(runtime, [902], {"type": "notification", "id": 1})
            await live.send(other, [901], {"type": "notification", "id": 2})
            assert await receive(there) == {"type": "notification", "id": 1}
            assert await receive(here) == {"type": "notification", "id": 2}
            await nothing_arrives(bystander)
    finally:
        await live.close(other)


async def test_send_all_reaches_every_connection_on_every_runtime(runtime: Runtime) -> None:
    other = twin(runtime)
    try:
        async with live.connect(runtime, 911) as a, live.connect(other, 912) as b:
            await live.send_all(other, {"type": "notification", "id": 3})
            assert await receive(a) == {"type": "notification", "id": 3}
            assert await receive(b) == {"type": "notification", "id": 3}
    finally:
        await live.close(other)


async def test_every_connection_of_a_person_gets_the_frame_once(runtime: Runtime) -> None:
    async with live.connect(runtime, 921) as tab1, live.connect(runtime, 921) as tab2:
        await live.send(runtime, [921, 921], {"type": "post", "id": 7})
        assert await receive(tab1) == {"type": "post", "id": 7}
        assert await receive(tab2) == {"type": "post", "id": 7}
        await nothing_arrives(tab1)
        await nothing_arrives(tab2)


async def test_a_closed_connection_is_forgotten(runtime: Runtime) -> None:
    async with live.connect(runtime, 931):
        assert live.online(runtime, 931)
        assert await live.is_online(runtime, 931)
    assert not live.online(runtime, 931)
    assert not await live.is_online(runtime, 931)


async def test_push_after_commit_sends_on_commit(db: Runtime) -> None:
    async with live.connect(db, 941) as connection:
        async with db.db.transaction() as session:
            live.push_after_commit(session, db, [941], {"type": "notification", "id": 5})
            await nothing_arrives(connection, 0.05)
        assert await receive(connection) == {"type": "notification", "id": 5}


async def test_rollback_pushes_nothing(db: Runtime) -> None:
    async with live.connect(db, 951) as connection:
        with pytest.raises(RuntimeError):
            async with db.db.transaction() as session:
                live.push_after_commit(session, db, [951], {"type": "notification", "id": 6})
                live.push_after_commit(session, db, None, {"type": "notification", "id": 6})
                raise RuntimeError("the request failed")
        await nothing_arrives(connection, 0.3)


async def test_a_slow_consumer_is_dropped_and_told_to_resync(runtime: Runtime) -> None:
    async with live.connect(runtime, 961) as connection:
        for n in range(live.QUEUE_SIZE + 5):
            live.hub(runtime).deliver_local([961], {"type": "post", "id": n})
        assert connection.dropped
        assert connection.queue.qsize() == 1
        assert connection.queue.get_nowait() == live.RESYNC


def test_a_frame_is_encoded_once_for_all_connections() -> None:
    frame: live.Frame = {"type": "notification", "title": "停水通知"}
    first = live.encode(frame)
    assert first == '{"type":"notification","title":"停水通知"}'
    frame["title"] = "changed"  # the same object: the cached text is reused
    assert live.encode(frame) is first
