"""Watching the registry: the long-poll returns as soon as the change index passes the one
given, or at its timeout with the same index; the SSE stream delivers each change."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.platform.messaging.sse import SseStream
from tests.platform.registry.conftest import Owner, unique


async def test_a_long_poll_returns_when_the_service_changes(owner: Owner) -> None:
    service = unique()
    first = (await owner.discover(service)).json()
    assert first["instances"] == []
    started = time.monotonic()
    poll = asyncio.create_task(owner.discover(service, index=first["index"], wait="10s"))
    await asyncio.sleep(0.3)
    assert not poll.done(), "the poll waits while nothing changes"
    registered = (await owner.register(service, instance_id="watched")).json()
    answer = await asyncio.wait_for(poll, 5)
    assert answer.status_code == 200
    assert time.monotonic() - started < 5
    body = answer.json()
    assert body["index"] >= registered["index"] > first["index"]
    assert answer.headers["x-registry-index"] == str(body["index"])
    assert [i["id"] for i in body["instances"]] == ["watched"]


async def test_a_long_poll_times_out_with_the_same_index(owner: Owner) -> None:
    service = unique()
    index = (await owner.discover(service)).json()["index"]
    started = time.monotonic()
    answer = await owner.discover(service, index=index, wait="400ms")
    assert time.monotonic() - started >= 0.35
    assert answer.status_code == 200
    assert answer.json()["index"] == index


async def test_a_long_poll_behind_the_index_returns_at_once(owner: Owner) -> None:
    service = unique()
    await owner.register(service)
    index = (await owner.discover(service)).json()["index"]
    started = time.monotonic()
    answer = await owner.discover(service, index=index - 1, wait="10s")
    assert time.monotonic() - started < 2
    assert len(answer.json()["instances"]) == 1


async def test_a_malformed_wait_is_refused(owner: Owner) -> None:
    for wait in ("soon", "10h", "301s"):
        response = await owner.discover(unique(), index=0, wait=wait)
        assert response.status_code == 422, wait
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["field"] == "wait"
    negative = await owner.discover(unique(), index=-1)
    assert negative.json()["errors"][0]["field"] == "index"


async def test_the_sse_stream_delivers_changes(app, admin: httpx.AsyncClient, owner: Owner) -> None:  # type: ignore[no-untyped-def]
    service = unique()
    async with SseStream(app, admin, path="/api/v1/registry/watch") as stream:
        await stream.started()
        assert stream.status == 200
        # Tests share one database connection: let the stream settle into waiting before each
        # write, so that its reads and the write do not interleave on that connection.
        await asyncio.sleep(0.3)
        registered = (await owner.register(service, instance_id="streamed")).json()
        change = await stream.next_of("change", 5)
        assert change.data["service"] == service
        assert change.data["instance_id"] == "streamed"
        assert change.data["kind"] == "registered"
        assert change.id == str(registered["index"])
        await asyncio.sleep(0.3)
        await owner.deregister("streamed")
        gone = await stream.next_of("change", 5)
        assert (gone.data["kind"], gone.data["index"]) == ("deregistered", registered["index"] + 1)


async def test_the_sse_stream_replays_from_last_event_id(
    app, admin: httpx.AsyncClient, owner: Owner
) -> None:  # type: ignore[no-untyped-def]
    service = unique()
    first = (await owner.register(service, instance_id=unique("a"))).json()["index"]
    await owner.register(service, instance_id=unique("b"))
    async with SseStream(app, admin, path="/api/v1/registry/watch", last_event_id=first) as stream:
        change = await stream.next_of("change", 5)
        assert int(change.data["index"]) > first
        assert change.data["service"] == service
