"""The chat WebSocket against real servers on a database of the module's own (requests really
commit): offline sync gets exactly what was missed, once; resends are idempotent; concurrent
senders get gap-free seqs; broken frames and floods get error frames and the socket stays
open; and two server processes sharing one cache deliver to each other's sockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from websockets.exceptions import InvalidStatus

from campus.entrypoints.http import build_runtime
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext, seed_all
from campus.platform.messaging.im import socket as chat_socket
from campus.platform.messaging.im.models import Message
from campus.platform.users import service as users
from tests.conftest import clear_cache
from tests.own_database import migrated_database
from tests.platform.messaging.im.socketing import Served, Socket, open_socket, serve, sign_in

IM = "/api/v1/messaging/im"


@dataclass
class World:
    settings: Settings
    runtime: Runtime
    demo: SeedContext
    served: Served


@pytest.fixture(scope="module")
async def world(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = await migrated_database("im_socket", tmp_path_factory.mktemp("im_socket"))
    own = settings.model_copy(update={"database_url": url})
    own_runtime = build_runtime(own)
    demo = await seed_all(own_runtime, "small", 2026)
    async with serve(own, own_runtime) as served:
        yield World(own, own_runtime, demo, served)
    await own_runtime.close()
    # The kernel serves one runtime per process; give the other tests theirs back.
    runtime_module.set_current(runtime)


@dataclass
class Chatter:
    id: int
    name: str
    http: httpx.AsyncClient


async def chatter(world: World, role: str, base_url: str | None = None) -> Chatter:
    login = next(x for x in world.demo.logins if x.role == role)
    http = await sign_in(base_url or world.served.base_url, login.login, login.password)
    async with world.runtime.db.read() as session:
        person = await users.find_person_by_login(session, login.login)
    assert person is not None
    return Chatter(person.id, person.name, http)


@pytest.fixture
async def pair(world: World) -> AsyncIterator[tuple[Chatter, Chatter]]:
    a = await chatter(world, "student")
    b = await chatter(world, "counselor")
    yield a, b
    await a.http.aclose()
    await b.http.aclose()


@pytest.fixture(autouse=True)
async def no_rate_carry_over(world: World) -> None:
    """Rate-limit windows of earlier tests do not limit this one."""
    await clear_cache(world.runtime)


async def open_direct(a: Chatter, b: Chatter) -> int:
    response = await a.http.post(f"{IM}/conversations/direct", json={"person_id": b.id})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def last_seq(a: Chatter, conversation_id: int) -> int:
    response = await a.http.get(f"{IM}/conversations/{conversation_id}")
    return int(response.json()["last_seq"])


def text_frame(conversation_id: int, text: str, client_id: str | None = None) -> dict[str, Any]:
    return {
        "type": "send",
        "id": client_id or uuid.uuid4().hex,
        "conversation_id": conversation_id,
        "text": text,
    }


async def say(sock: Socket, conversation_id: int, text: str) -> dict[str, Any]:
    frame = text_frame(conversation_id, text)
    await sock.send(frame)
    ack = await sock.expect("ack")
    assert ack["id"] == frame["id"], ack
    return ack


def seqs(frames: list[dict[str, Any]], conversation_id: int) -> list[int]:
    return [
        f["message"]["seq"]
        for f in frames
        if f["type"] in ("message", "recall") and f["message"]["conversation_id"] == conversation_id
    ]


# ---------------------------------------------------------------- offline sync


async def test_reconnecting_gets_exactly_what_was_missed_once(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    a, b = pair
    conversation = await open_direct(a, b)
    start = await last_seq(a, conversation)
    async with open_socket(world.served, a.http) as sa:
        await sa.sync({conversation: start}, conversations=[conversation])
        async with open_socket(world.served, b.http) as sb:
            await sb.sync({conversation: start}, conversations=[conversation])
            for n in range(3):
                await say(sa, conversation, f"在线消息{n}")
            live = await sb.drain()
            assert seqs(live, conversation) == [start + 1, start + 2, start + 3]
        # b is offline: four messages and a recall go by.
        acks = [await say(sa, conversation, f"离线消息{n}") for n in range(4)]
        recall = {"type": "recall", "id": "r1", "conversation_id": conversation}
        await sa.send({**recall, "seq": acks[0]["seq"]})
        # Committed once acknowledged: only then is it there for b to miss.
        assert (await sa.expect("ack"))["id"] == "r1"
        async with open_socket(world.served, b.http) as sb:
            missed = await sb.sync({conversation: start + 3}, conversations=[conversation])
            got = seqs(missed, conversation)
            assert got == list(range(start + 4, start + 9)), got
            assert missed[-1]["type"] == "recall" and missed[-1]["seq"] == acks[0]["seq"]
            texts = [f["message"]["text"] for f in missed if f["type"] == "message"]
            assert texts == ["", "离线消息1", "离线消息2", "离线消息3"], "recalled text is gone"
            again = await sb.sync({conversation: start + 3}, conversations=[conversation])
            assert again == [], "a second sync on the same socket sends nothing twice"
            ack = await say(sa, conversation, "重连后的新消息")
            after = await sb.drain()
            assert seqs(after, conversation) == [ack["seq"]]


async def test_live_frames_during_a_sync_are_not_doubled(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    a, b = pair
    conversation = await open_direct(a, b)
    start = await last_seq(a, conversation)
    async with open_socket(world.served, a.http) as sa, open_socket(world.served, b.http) as sb:
        burst = [sa.send(text_frame(conversation, f"并发{n}")) for n in range(10)]
        sending = asyncio.gather(*burst)
        synced = await sb.sync({conversation: start}, conversations=[conversation])
        await sending
        await sa.drain()
        rest = await sb.drain(0.8)
        everything = seqs(synced, conversation) + seqs(rest, conversation)
        assert sorted(everything) == list(range(start + 1, start + 11))
        assert len(everything) == len(set(everything)), "each message once"


# ---------------------------------------------------------------- idempotency and concurrency


async def test_a_resent_client_id_is_stored_once(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    a, b = pair
    conversation = await open_direct(a, b)
    start = await last_seq(a, conversation)
    frame = text_frame(conversation, "网络不好，重发一次")
    async with open_socket(world.served, a.http) as sa, open_socket(world.served, b.http) as sb:
        await sb.sync({conversation: start}, conversations=[conversation])
        await sa.send(frame)
        first = await sa.expect("ack")
        await sa.send(frame)
        second = await sa.expect("ack")
        assert (first["seq"], first["duplicate"]) == (start + 1, False)
        assert (second["seq"], second["duplicate"]) == (start + 1, True)
        received = await sb.drain()
        assert seqs(received, conversation) == [start + 1]
        own = await sa.drain()
        assert seqs(own, conversation) == [], "the sender's socket gets its message in the ack"
    async with world.runtime.db.read() as session:
        stored = await session.scalar(select(func.count()).where(Message.client_id == frame["id"]))
    assert stored == 1


async def test_concurrent_senders_get_gap_free_seqs(world: World) -> None:
    people = [await chatter(world, role) for role in ("student", "counselor", "teacher", "staff")]
    owner = people[0]
    made = await owner.http.post(
        f"{IM}/conversations/groups",
        json={"name": "并发测试群", "members": [p.id for p in people[1:]]},
    )
    assert made.status_code == 201, made.text
    conversation = made.json()["id"]
    start = await last_seq(owner, conversation)
    per_sender = 8

    async def burst(who: Chatter) -> list[int]:
        async with open_socket(world.served, who.http) as sock:
            frames = [text_frame(conversation, f"{who.name}-{n}") for n in range(per_sender)]
            for frame in frames:
                await sock.send(frame)
            acks = {}
            async with asyncio.timeout(30):
                while len(acks) < per_sender:
                    got = await sock.next(30)
                    if got["type"] == "ack":
                        acks[got["id"]] = got["seq"]
                    assert got["type"] != "error", got
            return [acks[f["id"]] for f in frames]

    results = await asyncio.gather(*(burst(p) for p in people))
    for own in results:
        assert own == sorted(own), "one sender's messages keep their order"
    every = sorted(s for own in results for s in own)
    assert every == list(range(start + 1, start + 1 + per_sender * len(people)))
    async with world.runtime.db.read() as session:
        stored = list(
            await session.scalars(
                select(Message.seq)
                .where(Message.conversation_id == conversation, Message.seq > start)
                .order_by(Message.seq)
            )
        )
    assert stored == every
    for who in people:
        await who.http.aclose()


# ---------------------------------------------------------------- bad input


async def test_broken_frames_get_error_frames_and_the_socket_stays_open(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    a, b = pair
    conversation = await open_direct(a, b)
    before = await last_seq(a, conversation)
    async with open_socket(world.served, a.http) as sa:
        cases: list[tuple[Any, str, str | None]] = [
            ("not json {", "invalid-input", "frame"),
            ("[1, 2]", "invalid-input", "frame"),
            ('{"no": "type"}', "invalid-input", "type"),
            ({"type": "shout"}, "invalid-input", "type"),
            (
                {"type": "send", "conversation_id": conversation, "text": "缺 id"},
                "invalid-input",
                "id",
            ),
            (
                {"type": "read", "conversation_id": "x", "seq": 1},
                "invalid-input",
                "conversation_id",
            ),
            ({"type": "send", "id": "a", "conversation_id": conversation}, "invalid-input", "text"),
            ({"type": "sync", "since": {"x": 1}}, "invalid-input", None),
            (json.dumps(text_frame(conversation, "长" * 6000)), "payload-too-large", None),
            (b"\x00\x01binary", "invalid-input", "frame"),
        ]
        for raw, code, field in cases:
            await sa.send(raw)
            error = await sa.expect("error")
            assert error["code"] == code, (raw, error)
            if field is not None:
                assert field in [e["field"] for e in error.get("errors", [])], (raw, error)
            assert error["detail"], "errors explain themselves (in Chinese)"
        await sa.send({"type": "ping", "id": "still-there"})
        pong = await sa.expect("pong")
        assert pong["id"] == "still-there"
    assert await last_seq(a, conversation) == before, "nothing stored"


async def test_refusals_over_the_socket(world: World, pair: tuple[Chatter, Chatter]) -> None:
    a, b = pair
    teacher = await chatter(world, "teacher")
    theirs = await open_direct(b, teacher)
    mine = await open_direct(a, b)
    async with open_socket(world.served, a.http) as sa, open_socket(world.served, b.http) as sb:
        before = await last_seq(b, theirs)
        await sa.send(text_frame(theirs, "偷偷插话", "intruder"))
        error = await sa.expect("error")
        assert (error["code"], error["status"], error["id"]) == ("forbidden", 403, "intruder")
        assert await last_seq(b, theirs) == before
        await sa.send({"type": "send", "id": "nobody", "to": 99999999, "text": "在吗"})
        error = await sa.expect("error")
        assert error["code"] == "invalid-input" and error["errors"][0]["field"] == "to"
        ack = await say(sb, mine, "我发的")
        await sa.send({"type": "recall", "conversation_id": mine, "seq": ack["seq"]})
        error = await sa.expect("error")
        assert error["status"] == 403
    await teacher.http.aclose()


async def test_flooding_is_limited_with_an_error_frame(
    world: World, pair: tuple[Chatter, Chatter], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _b = pair
    monkeypatch.setattr(chat_socket, "FRAMES_PER_WINDOW", 5)
    async with open_socket(world.served, a.http) as sa:
        for n in range(9):
            await sa.send({"type": "ping", "id": str(n)})
        frames = await sa.drain()
        pongs = [f for f in frames if f["type"] == "pong"]
        limited = [f for f in frames if f["type"] == "error"]
        assert 1 <= len(pongs) <= 5
        assert len(pongs) + len(limited) == 9
        assert all(f["code"] == "too-many-requests" and f["status"] == 429 for f in limited)
        assert limited[0]["retry_after"] >= 0
        assert not sa.closed.is_set()


async def test_the_socket_needs_a_session_and_our_origin(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    async with open_socket(world.served, None) as anonymous:
        error = await anonymous.expect("error")
        assert error["code"] == "unauthenticated"
        await asyncio.wait_for(anonymous.closed.wait(), 5)
        assert anonymous.connection.close_code == chat_socket.CLOSE_UNAUTHENTICATED
    a, _b = pair
    with pytest.raises(InvalidStatus) as refused:
        async with open_socket(world.served, a.http, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with open_socket(world.served, a.http, origin=world.served.base_url) as ok:
        await ok.send({"type": "ping"})
        assert (await ok.expect("pong"))["type"] == "pong"


# ---------------------------------------------------------------- typing, presence, read


async def test_typing_presence_and_read_receipts(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    a, b = pair
    conversation = await open_direct(a, b)
    async with open_socket(world.served, a.http) as sa:
        await sa.sync(conversations=[conversation])
        async with open_socket(world.served, b.http) as sb:
            online = await sa.expect("presence")
            assert (online["person_id"], online["online"]) == (b.id, True)
            await sb.sync(conversations=[conversation])
            await sb.send({"type": "typing", "conversation_id": conversation})
            typing = await sa.expect("typing")
            assert (typing["person_id"], typing["name"]) == (b.id, b.name)
            assert [f for f in await sb.drain() if f["type"] == "typing"] == []
            ack = await say(sa, conversation, "看到了吗")
            await sb.send({"type": "read", "conversation_id": conversation, "seq": ack["seq"]})
            read = await sa.expect("read")
            assert (read["person_id"], read["seq"]) == (b.id, ack["seq"])
        offline = await sa.expect("presence")
        assert (offline["person_id"], offline["online"]) == (b.id, False)


# ---------------------------------------------------------------- two processes


async def test_two_processes_deliver_to_each_others_sockets(
    world: World, pair: tuple[Chatter, Chatter]
) -> None:
    """A second app instance (its own runtime and live hub, the same database) shares the
    first one's cache, as two processes share Redis."""
    second = build_runtime(world.settings)
    second.cache = world.runtime.cache
    a, _b = pair
    try:
        async with serve(world.settings, second) as other:
            b = await chatter(world, "counselor", other.base_url)
            conversation = await open_direct(a, b)
            start = await last_seq(a, conversation)
            async with open_socket(world.served, a.http) as sa, open_socket(other, b.http) as sb:
                await sa.sync({conversation: start}, conversations=[conversation])
                await sb.sync({conversation: start}, conversations=[conversation])
                ack = await say(sa, conversation, "来自一号进程")
                got = await sb.expect("message")
                assert (got["message"]["seq"], got["message"]["text"]) == (
                    ack["seq"],
                    "来自一号进程",
                )
                back = await say(sb, conversation, "二号进程收到")
                echo = await sa.expect("message")
                assert echo["message"]["seq"] == back["seq"]
            await b.http.aclose()
    finally:
        await second.db.dispose()
        runtime_module.set_current(world.runtime)
