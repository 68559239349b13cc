"""Instant messaging: messages per second and delivery latency (p50/p99) with N connected
WebSocket clients (default 2,000) chatting one-to-one and in groups.

- The server is the embedded demo server (uvicorn, one worker, production settings, SQLite,
  in-process relay and cache) on a fresh small demo university, on a free loopback port.
- N demo people get a session each, opened with the project's own function
  (``campus.platform.auth.service.open_session``) in this process against the same SQLite file:
  signing 2,000 people in over HTTP would measure argon2id, not chats. They are paired into
  one-to-one conversations, and also put into groups of ``--group-size`` (created the same
  way, before the server is loaded).
- All N clients open the chat socket (``/api/v1/messaging/im/ws``, the session cookie) and
  sync; then, for ``--seconds`` per phase:
  * ``rate``: the clients together send ``--rate`` messages per second (each client at its
    own steady pace, each message to its one-to-one peer or its group at random): delivery
    latency under a steady load;
  * ``max``: ``--senders`` clients each send their next message as soon as the previous one is
    acknowledged (closed loop): the most messages per second the server stores and delivers.
- A message's latency is from the moment the sender's frame is written to the moment a
  recipient's socket has received it (one clock: the clients live in this process). Each
  delivery counts (a group message reaches every member but its sender's socket, which gets
  the ack). Missing deliveries (after a 5 s grace) and error frames are reported.

Traffic stays on 127.0.0.1 and the run stops by itself (``--hard-limit``).

    .venv/bin/python bench/im.py [--clients 2000] [--group-size 20] [--seconds 20]
        [--rate 50] [--senders 200] [--phases rate,max]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from _http_load import demo_server
from _machine import describe

SOCKET = "/api/v1/messaging/im/ws"
CONNECT_PARALLEL = 100
GRACE_SECONDS = 5.0


@dataclass
class Client:
    person_id: int
    cookie: str
    direct: int = 0
    group: int = 0
    connection: ClientConnection | None = None
    acks: dict[str, asyncio.Future[int]] = field(default_factory=dict)


@dataclass
class Tally:
    sent_at: dict[str, float] = field(default_factory=dict)
    expected: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    acked: int = 0
    errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    recording: bool = False

    def reset(self) -> None:
        self.sent_at.clear()
        self.expected.clear()
        self.latencies.clear()
        self.received = self.acked = self.errors = 0
        self.error_codes.clear()


# --- setting up people, sessions and conversations in the database ---------------------------


async def prepare(database_url: str, workdir: Path, count: int, group_size: int) -> list[Client]:
    from sqlalchemy import select

    from campus.entrypoints.http import build_runtime
    from campus.kernel import clock
    from campus.kernel.config import Settings
    from campus.platform.auth import service as auth
    from campus.platform.auth.sessions import SESSION_COOKIE
    from campus.platform.messaging.im import actions
    from campus.platform.messaging.im.models import Conversation, Member
    from campus.platform.users.models import Person

    settings = Settings(database_url=database_url, storage_url=f"file://{workdir}/files")
    runtime = build_runtime(settings)
    try:
        async with runtime.db.read() as session:
            ids = list(
                await session.scalars(
                    select(Person.id).where(Person.status == "active").order_by(Person.id)
                )
            )
        if len(ids) < count:
            raise SystemExit(f"only {len(ids)} active people; {count} clients wanted")
        ids = ids[:count]
        clients: list[Client] = []
        async with runtime.db.transaction() as session:
            for person_id in ids:
                opened = await auth.open_session(session, runtime, person_id, amr=["bench"])
                clients.append(Client(person_id, f"{SESSION_COOKIE}={opened.token}"))
        async with runtime.db.transaction() as session:
            for a, b in zip(clients[0::2], clients[1::2], strict=False):
                conversation, _member = await actions.open_direct(session, a.person_id, b.person_id)
                a.direct = b.direct = conversation.id
            for start in range(0, len(clients), group_size):
                members = clients[start : start + group_size]
                group = Conversation(
                    kind="group",
                    name=f"基准群 {start // group_size + 1}",
                    owner_id=members[0].person_id,
                    last_seq=0,
                    created_at=clock.now(),
                )
                session.add(group)
                await session.flush()
                for index, member in enumerate(members):
                    session.add(
                        Member(
                            conversation_id=group.id,
                            person_id=member.person_id,
                            role="owner" if index == 0 else "member",
                            joined_at=clock.now(),
                        )
                    )
                    member.group = group.id
        return clients
    finally:
        await runtime.close()


# --- the clients -------------------------------------------------------------------------------


def members_by_conversation(clients: list[Client]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = {}
    for client in clients:
        for conversation in (client.direct, client.group):
            if conversation:
                members.setdefault(conversation, []).append(client.person_id)
    return members


async def reader(client: Client, tally: Tally) -> None:
    assert client.connection is not None
    async for raw in client.connection:
        now = time.perf_counter()
        frame = json.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            client_id = frame["message"].get("client_id")
            sent = tally.sent_at.get(client_id or "")
            if sent is not None:
                tally.latencies.append(now - sent)
                tally.received += 1
        elif kind == "ack":
            future = client.acks.pop(frame.get("id", ""), None)
            if future is not None and not future.done():
                future.set_result(int(frame.get("seq") or 0))
        elif kind == "error":
            tally.errors += 1
            code = str(frame.get("code"))
            tally.error_codes[code] = tally.error_codes.get(code, 0) + 1
            future = client.acks.pop(frame.get("id", ""), None)
            if future is not None and not future.done():
                future.set_result(-1)


async def open_all(
    base: str, clients: list[Client], tally: Tally
) -> tuple[float, list[asyncio.Task[None]]]:
    url = base.replace("http://", "ws://") + SOCKET
    gate = asyncio.Semaphore(CONNECT_PARALLEL)
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()

    async def one(client: Client) -> None:
        async with gate:
            client.connection = await connect(
                url,
                additional_headers={"Cookie": client.cookie},
                proxy=None,
                open_timeout=60,
                ping_interval=None,
                max_queue=None,
                compression=None,
            )
            await client.connection.send(json.dumps({"type": "sync", "conversations": []}))
            while json.loads(await client.connection.recv()).get("type") != "synced":
                pass
            tasks.append(asyncio.create_task(reader(client, tally)))

    await asyncio.gather(*(one(c) for c in clients))
    return time.perf_counter() - started, tasks


async def send_one(
    client: Client, conversation: int, tally: Tally, recipients: int
) -> asyncio.Future[int]:
    assert client.connection is not None
    client_id = uuid.uuid4().hex
    future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    client.acks[client_id] = future
    tally.expected[client_id] = recipients
    frame = {
        "type": "send",
        "id": client_id,
        "conversation_id": conversation,
        "text": "基准测试消息 " + client_id[:8],
    }
    tally.sent_at[client_id] = time.perf_counter()
    await client.connection.send(json.dumps(frame, ensure_ascii=False))
    return future


async def steady(
    clients: list[Client], members: dict[int, list[int]], tally: Tally, rate: float, seconds: float
) -> float:
    """Every client sends at its own steady pace so that together they send ``rate`` per second."""
    period = len(clients) / rate
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)
    futures: list[asyncio.Future[int]] = []

    async def pace(client: Client, offset: float) -> None:
        await asyncio.sleep(offset)
        while time.perf_counter() < deadline:
            conversation = client.direct if rng.random() < 0.5 and client.direct else client.group
            futures.append(
                await send_one(client, conversation, tally, len(members[conversation]) - 1)
            )
            await asyncio.sleep(period)

    await asyncio.gather(*(pace(c, rng.random() * period) for c in clients))
    if futures:
        await asyncio.wait(futures, timeout=GRACE_SECONDS)
    tally.acked = sum(1 for f in futures if f.done() and f.result() > 0)
    # Messages are sent within the window only: the rate is per second of it.
    return seconds


async def closed_loop(
    clients: list[Client], members: dict[int, list[int]], tally: Tally, senders: int, seconds: float
) -> float:
    deadline = time.perf_counter() + seconds
    acked = 0

    async def loop(client: Client) -> None:
        nonlocal acked
        turn = 0
        while time.perf_counter() < deadline:
            conversation = client.direct if turn % 2 == 0 and client.direct else client.group
            turn += 1
            future = await send_one(client, conversation, tally, len(members[conversation]) - 1)
            try:
                if await asyncio.wait_for(future, 30) > 0:
                    acked += 1
            except TimeoutError:
                tally.errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in clients[:senders]))
    elapsed = time.perf_counter() - began
    tally.acked = acked
    return elapsed


def report(label: str, tally: Tally, elapsed: float) -> dict[str, Any]:
    ordered = sorted(tally.latencies) or [0.0]

    def pct(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000

    expected = sum(tally.expected.values())
    figures = {
        "phase": label,
        "messages_per_second": tally.acked / elapsed if elapsed else 0.0,
        "messages": tally.acked,
        "deliveries_per_second": tally.received / elapsed if elapsed else 0.0,
        "deliveries": tally.received,
        "missing_deliveries": max(0, expected - tally.received),
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "max_ms": ordered[-1] * 1000,
        "mean_ms": statistics.fmean(ordered) * 1000,
        "errors": tally.errors,
        "error_codes": dict(tally.error_codes),
    }
    print(
        f"{label:6} {figures['messages_per_second']:8.1f} msg/s  "
        f"{figures['deliveries_per_second']:9.1f} deliveries/s  "
        f"p50 {figures['p50_ms']:7.1f} ms  p99 {figures['p99_ms']:7.1f} ms  "
        f"max {figures['max_ms']:7.1f} ms  ({tally.acked} msgs, {tally.received} deliveries, "
        f"{figures['missing_deliveries']} missing, {tally.errors} errors {tally.error_codes or ''})"
    )
    return figures


async def run(base: str, clients: list[Client], args: argparse.Namespace) -> None:
    tally = Tally()
    members = members_by_conversation(clients)
    connect_seconds, readers = await open_all(base, clients, tally)
    print(f"connected {len(clients)} sockets in {connect_seconds:.1f} s")
    for phase in args.phases.split(","):
        tally.reset()
        if phase == "rate":
            elapsed = await steady(clients, members, tally, args.rate, args.seconds)
            await asyncio.sleep(GRACE_SECONDS)
            report(f"rate {args.rate:g}/s", tally, elapsed)
        elif phase == "max":
            elapsed = await closed_loop(clients, members, tally, args.senders, args.seconds)
            await asyncio.sleep(GRACE_SECONDS)
            report(f"max ({args.senders} senders)", tally, elapsed)
        else:
            raise SystemExit(f"unknown phase {phase}")
    for client in clients:
        if client.connection is not None:
            await client.connection.close()
    for task in readers:
        task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--group-size", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=50.0, help="messages/s in the rate phase")
    parser.add_argument(
        "--senders", type=int, default=200, help="closed-loop senders in the max phase"
    )
    parser.add_argument("--phases", default="rate,max")
    parser.add_argument("--hard-limit", type=int, default=1800)
    args = parser.parse_args()
    print("== machine")
    print(describe())
    print(
        f"== im: {args.clients} clients, groups of {args.group_size}, {args.seconds:g} s per phase"
    )
    workdir = Path(tempfile.mkdtemp(prefix="campus-im-bench-"))
    with demo_server("campus-im-bench-", args.hard_limit, workdir=workdir) as (base, seeded):
        print(f"seeded the small demo in {seeded:.0f} s; server at {base}")
        started = time.perf_counter()
        database = f"sqlite+aiosqlite:///{workdir}/campus.db"
        clients = asyncio.run(prepare(database, workdir, args.clients, args.group_size))
        print(
            f"{len(clients)} sessions and conversations prepared "
            f"in {time.perf_counter() - started:.1f} s"
        )
        asyncio.run(run(base, clients, args))


if __name__ == "__main__":
    main()
