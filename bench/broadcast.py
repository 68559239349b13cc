"""Campus-wide notifications: one message to every person of a large campus, and to N live
SSE clients connected to one server process.

- The server is the embedded demo server (uvicorn, one worker, production settings, SQLite,
  in-process relay and cache) on a fresh small demo university whose people are multiplied in
  SQL to ``--people`` (default 60,000: the large campus; copies of seeded students, without
  identity numbers), on a free loopback port.
- Inbox: the administrator sends one campus-wide notification over HTTP. It is stored once and
  read per person (fan-out on read), so it is in every inbox when the send commits: the
  figure is the send's response time, and the time until ``--sample`` inboxes of other people
  (read over HTTP with their own sessions, generated people among them) all list it. The
  baseline in the same run is the same message targeted at the root org unit, i.e. the same
  60,000 people fanned out on write (one recipient row each, in batches).
- Live: N clients (``--clients``, a comma list run in increasing steps on the same
  connections, e.g. 1000,5000,10000) open ``GET /api/v1/messaging/live`` with raw asyncio
  sockets in this process (the server is another process) and wait for the stream's first
  event. Then a campus-wide notification is sent; each client notes when its stream carries
  that notification's id. Latency is from just before the send to the arrival (one clock);
  p50/p99/max and how many of the N received it within ``--grace`` seconds.
- Sessions are opened with the project's own function (``auth.service.open_session``) in this
  process against the same SQLite file: signing 10,000 people in over HTTP would measure
  argon2id.

Traffic stays on 127.0.0.1 and the run stops by itself (``--hard-limit``).

    .venv/bin/python bench/broadcast.py [--people 60000] [--clients 1000,5000,10000]
        [--sample 50] [--grace 30] [--keep-files]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import shutil
import signal
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _http_load import HOST, session_headers, signed_in
from _machine import describe

SEND = "/api/v1/messaging/notifications"
INBOX = "/api/v1/messaging/inbox"
LIVE = "/api/v1/messaging/live"
ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
CONNECT_PARALLEL = 200
TARGET_INBOX_SECONDS = 1.0
TARGET_LIVE_P99_SECONDS = 2.0
STUDENTS = "('undergraduate', 'postgraduate')"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


# --- the campus: people multiplied in SQL, sessions opened in-process ---------------------------


def fill_people(database: Path, target: int) -> int:
    """Copy seeded students (without identity numbers: those are unique) until ``target``
    active people exist; returns how many there are."""
    with sqlite3.connect(database) as db:
        count = db.execute("SELECT count(*) FROM users_person WHERE status = 'active'").fetchone()[
            0
        ]
        while count < target:
            db.execute(
                f"""INSERT INTO users_person (name, gender, id_type, id_number, person_type,
                        org_unit_id, class_id, status, created_at, updated_at)
                    SELECT name, gender, id_type, NULL, person_type, org_unit_id, class_id,
                        'active', created_at, updated_at
                    FROM users_person WHERE person_type IN {STUDENTS} AND status = 'active'
                    ORDER BY id LIMIT ?""",
                (target - count,),
            )
            count = db.execute(
                "SELECT count(*) FROM users_person WHERE status = 'active'"
            ).fetchone()[0]
        db.commit()
    return int(count)


async def open_sessions(database_url: str, workdir: Path, count: int) -> list[tuple[int, str]]:
    """``count`` sessions of active people, the most recently created (generated) first."""
    from sqlalchemy import select

    from campus.entrypoints.http import build_runtime
    from campus.kernel.config import Settings
    from campus.platform.auth import service as auth
    from campus.platform.auth.sessions import SESSION_COOKIE
    from campus.platform.users.models import Person

    runtime = build_runtime(
        Settings(database_url=database_url, storage_url=f"file://{workdir}/files")
    )
    try:
        async with runtime.db.read() as session:
            ids = list(
                await session.scalars(
                    select(Person.id)
                    .where(Person.status == "active")
                    .order_by(Person.id.desc())
                    .limit(count)
                )
            )
        opened: list[tuple[int, str]] = []
        for start in range(0, len(ids), 500):
            async with runtime.db.transaction() as session:
                for person_id in ids[start : start + 500]:
                    token = (
                        await auth.open_session(session, runtime, person_id, amr=["bench"])
                    ).token
                    opened.append((person_id, f"{SESSION_COOKIE}={token}"))
        return opened
    finally:
        await runtime.close()


def start(workdir: Path, people: int) -> tuple[Any, str, float, int]:
    """Seed, multiply the people, start the server; returns it, its URL, seed time, people."""
    from http_baseline import free_port, prepare_database, start_server, wait_until_ready

    database_url, seed_seconds = prepare_database(workdir)
    total = fill_people(workdir / "campus.db", people)
    port = free_port()
    base = f"http://{HOST}:{port}"
    server = start_server(workdir, database_url, port)
    wait_until_ready(base, server, timeout=60)
    return server, base, seed_seconds, total


# --- phase 1: in every inbox ---------------------------------------------------------------------


async def send(http: httpx.AsyncClient, admin: dict[str, str], **body: Any) -> tuple[int, float]:
    began = time.perf_counter()
    response = await http.post(SEND, json={"category": "system", **body}, headers=admin)
    elapsed = time.perf_counter() - began
    if response.status_code != 201:
        raise SystemExit(f"send failed: {response.status_code} {response.text}")
    return int(response.json()["id"]), elapsed


async def listed_everywhere(
    http: httpx.AsyncClient, cookies: list[str], notification_id: int
) -> float:
    """Seconds until every sampled inbox lists the notification first (each read once: it is
    visible from the commit on)."""
    began = time.perf_counter()

    async def check(cookie: str) -> bool:
        response = await http.get(INBOX, params={"page_size": 1}, headers={"Cookie": cookie})
        items = response.json().get("items", []) if response.status_code == 200 else []
        return bool(items) and items[0]["id"] == notification_id

    results = await asyncio.gather(*(check(c) for c in cookies))
    if not all(results):
        raise SystemExit(f"{results.count(False)} sampled inboxes do not list it")
    return time.perf_counter() - began


async def inbox_phase(base: str, sessions: list[tuple[int, str]], sample: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        jar = await signed_in(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        admin = session_headers(jar)
        roots = (await http.get("/api/v1/users/org-units", headers=admin)).json()
        cookies = [cookie for _pid, cookie in sessions[:sample]]
        wide_id, wide_send = await send(
            http, admin, title="全校：基准测试广播", audience={"everyone": True}
        )
        wide_visible = await listed_everywhere(http, cookies, wide_id)
        stats = (await http.get(f"{SEND}/{wide_id}/stats", headers=admin)).json()
        list_id, list_send = await send(
            http, admin, title="全校：逐人写入", audience={"org_unit_ids": [roots[0]["id"]]}
        )
        list_visible = await listed_everywhere(http, cookies, list_id)
        list_rows = (await http.get(f"{SEND}/{list_id}/stats", headers=admin)).json()
    print("\n== in every inbox")
    print(f"audience (people the rule matches now): {stats['audience_size']}")
    print(
        f"campus-wide, fan-out on read:  send {wide_send * 1000:8.1f} ms   "
        f"+ {len(cookies)} other inboxes list it {wide_visible * 1000:7.1f} ms"
    )
    print(
        f"root org unit, fan-out on write ({list_rows['audience_size']} rows): "
        f"send {list_send * 1000:8.1f} ms   + inboxes {list_visible * 1000:7.1f} ms"
    )
    print(
        f"ratio write/read fan-out: {list_send / wide_send:.1f}x   "
        f"target in every inbox <= {TARGET_INBOX_SECONDS:g} s: "
        f"{'met' if wide_send <= TARGET_INBOX_SECONDS else 'MISSED'}"
    )


# --- phase 2: live SSE clients -------------------------------------------------------------------


@dataclass
class Client:
    cookie: str
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    arrivals: dict[bytes, float] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    closed: bool = False


class Watch:
    """What every client looks for in its stream: the current notification's title."""

    def __init__(self) -> None:
        self.marker = b""
        self.received = asyncio.Event()
        self.expected = 0
        self.count = 0


async def connect(client: Client, port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
    writer.write(
        (
            f"GET {LIVE} HTTP/1.1\r\nHost: {HOST}:{port}\r\nCookie: {client.cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError(head.decode(errors="replace")[:200])
    buffer = b""
    while b"event: unread" not in buffer:  # the stream's first event: connected
        chunk = await reader.read(65536)
        if not chunk:
            raise RuntimeError("closed before the first event")
        buffer += chunk
    client.reader, client.writer = reader, writer


async def listen(client: Client, watch: Watch) -> None:
    assert client.reader is not None
    tail = b""
    while True:
        chunk = await client.reader.read(65536)
        now = time.perf_counter()
        if not chunk:
            client.closed = True
            return
        data = tail + chunk
        marker = watch.marker
        if marker and marker not in client.arrivals and marker in data:
            client.arrivals[marker] = now
            watch.count += 1
            if watch.count >= watch.expected:
                watch.received.set()
        tail = data[-64:]


async def connect_all(clients: list[Client], port: int, watch: Watch) -> tuple[int, float]:
    gate = asyncio.Semaphore(CONNECT_PARALLEL)
    failures = 0
    began = time.perf_counter()

    async def one(client: Client) -> None:
        nonlocal failures
        async with gate:
            try:
                await connect(client, port)
            except (OSError, RuntimeError, asyncio.IncompleteReadError) as exc:
                failures += 1
                if failures <= 3:
                    print(f"   connect failed: {exc!r}")
                return
            client.task = asyncio.create_task(listen(client, watch))

    await asyncio.gather(*(one(c) for c in clients))
    return failures, time.perf_counter() - began


async def live_phase(
    base: str, sessions: list[tuple[int, str]], steps: list[int], grace: float
) -> None:
    port = int(base.rsplit(":", 1)[1])
    watch = Watch()
    connected: list[Client] = []
    results: list[tuple[int, int, float, float, float, float]] = []
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        jar = await signed_in(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        admin = session_headers(jar)
        for step in steps:
            wanted = min(step, len(sessions))
            fresh = [Client(cookie) for _pid, cookie in sessions[len(connected) : wanted]]
            failures, took = await connect_all(fresh, port, watch)
            connected += [c for c in fresh if c.task is not None]
            alive = [c for c in connected if not c.closed]
            print(
                f"   {len(alive)} clients connected ({len(fresh)} new in {took:.1f} s, "
                f"{failures} failed)"
            )
            if failures and len(alive) < wanted:
                print("   stopping: the server took no more connections")
            watch.received = asyncio.Event()
            watch.count, watch.expected = 0, len(alive)
            # The title is unique and known before the send (frames may arrive before its
            # response does): clients look for it in the frame's JSON.
            title = f"直播测试 {len(alive)} {time.time_ns()}"
            watch.marker = f'"title":"{title}"'.encode()
            began = time.perf_counter()
            _notification_id, send_seconds = await send(
                http, admin, title=title, audience={"everyone": True}
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.received.wait(), grace)
            latencies = [
                c.arrivals[watch.marker] - began for c in alive if watch.marker in c.arrivals
            ]
            results.append(
                (
                    len(alive),
                    len(latencies),
                    send_seconds,
                    percentile(latencies, 0.5),
                    percentile(latencies, 0.99),
                    max(latencies) if latencies else float("nan"),
                )
            )
            if failures and len(alive) < wanted:
                break
    for client in connected:
        if client.task is not None:
            client.task.cancel()
        if client.writer is not None:
            client.writer.close()
    print("\n== live SSE clients on one server process")
    print(" clients  received   send ms   p50 ms   p99 ms   max ms")
    for n, got, send_s, p50, p99, worst in results:
        print(
            f"{n:8d} {got:9d} {send_s * 1000:9.1f} {p50 * 1000:8.1f} {p99 * 1000:8.1f} "
            f"{worst * 1000:8.1f}"
        )
    best = max((r for r in results if r[1] == r[0]), default=None, key=lambda r: r[0])
    if best is not None:
        verdict = "met" if best[4] <= TARGET_LIVE_P99_SECONDS else "MISSED"
        print(
            f"largest N with every client served: {best[0]}   p99 {best[4]:.2f} s "
            f"(target <= {TARGET_LIVE_P99_SECONDS:g} s: {verdict})"
        )


# --- the run -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--clients", default="1000,5000,10000")
    parser.add_argument("--sample", type=int, default=50, help="inboxes read after the send")
    parser.add_argument("--grace", type=float, default=30.0)
    parser.add_argument("--hard-limit", type=int, default=1800)
    parser.add_argument("--keep-files", action="store_true")
    args = parser.parse_args()
    steps = sorted({int(n) for n in args.clients.split(",") if n.strip()})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def out_of_time(_signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped: the benchmark ran longer than {args.hard_limit} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.hard_limit)
    print("== machine")
    print(describe())
    print(f"open files allowed: {hard} (was {soft})")
    workdir = Path(tempfile.mkdtemp(prefix="campus-broadcast-bench-"))
    server = None
    try:
        server, base, seeded, total = start(workdir, args.people)
        print(f"seeded the small demo in {seeded:.0f} s, {total} active people; server at {base}")
        began = time.perf_counter()
        database = f"sqlite+aiosqlite:///{workdir}/campus.db"
        wanted = max(max(steps, default=0), args.sample)
        sessions = asyncio.run(open_sessions(database, workdir, wanted))
        print(f"{len(sessions)} sessions opened in {time.perf_counter() - began:.1f} s")
        asyncio.run(inbox_phase(base, sessions, args.sample))
        asyncio.run(live_phase(base, sessions, steps, args.grace))
    finally:
        signal.alarm(0)
        if server is not None:
            from http_baseline import stop

            stop(server)
        if args.keep_files:
            print(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
