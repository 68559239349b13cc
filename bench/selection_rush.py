"""Course selection at peak: every student of the demo university tries to select a few sections
in the first minute of a round, over HTTP against the real server, with a share of the requests
aimed at a few hot sections.

- Setup (not measured): a migrated database seeded with the demo university (``--scale``; the
  medium one has about 20,000 students), on SQLite with the in-process cache (embedded) or on
  ``--database-url`` (an empty PostgreSQL database) with ``--redis-url``. A first-come round with
  a waitlist opens on the demo term. The students have signed in before the round opens: their
  sessions are written in process (argon2 sign-ins of 20,000 people would take most of an hour
  and are not what is measured). Each student's picks are drawn at random from the term's open
  sections (``--hot`` of them from ``--hot-sections`` sections), each request with its own
  idempotency key, the whole list shuffled.
- With ``--queue-rate N`` the round has a virtual queue admitting N students a second: every
  student passes the door over HTTP before the rush (``POST …/rounds/{id}/queue``, 64 at a
  time, timed apart: the door's own figure), and each selection carries its admission cookie.
- Load: ``wrk`` (one thread, ``--connections``) sends the list once, in order; if it ends before
  ``--seconds``, it goes round again, and those repeats are answered as replays (a double click
  or a retry): counted apart. The same wrk, the same connections, on ``GET /healthz`` in the same
  run, for the ratio. The server is uvicorn, one worker, production settings.
- Afterwards, from the database: no section holds more students than seats; the places written
  equal the selections answered as accepted (selected or waitlisted: nothing accepted is lost,
  nothing unanswered is in); on Redis, every section's claim set equals its seated students.

Traffic stays on 127.0.0.1 and the run stops by itself (``--hard-limit``).

    .venv/bin/python bench/selection_rush.py [--scale medium] [--students 20000] [--picks 5]
        [--hot 0.1] [--hot-sections 5] [--connections 64] [--seconds 60] [--queue-rate 1000]
        [--database-url postgresql+asyncpg://…/campus_bench --redis-url redis://…/14 [--workers 2]]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _machine import describe
from http_baseline import (
    HOST,
    free_port,
    prepare_database,
    run_wrk,
    start_server,
    stop,
    wait_until_ready,
)

PATH = "/api/v1/academic/selection/sections/{id}/select"
TARGET_PER_SECOND = 3000.0
TARGET_P99_MS = 200.0

# wrk's script: each line of the request file is "path<TAB>cookie<TAB>csrf<TAB>key". Responses
# are sorted by what their body says (accepted, replayed, refused by reason, rate-limited).
WRK_SCRIPT = r"""
local lines, at, threads = {}, 0, {}
counts = {}  -- global: done() reads each thread's through thread:get

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(args[1]) do
    local path, cookie, csrf, key = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)")
    lines[#lines + 1] = {path, cookie, csrf, key}
  end
end

function request()
  at = at + 1
  local item = lines[(at - 1) % #lines + 1]
  return wrk.format("POST", item[1], {
    ["Cookie"] = item[2], ["X-CSRF-Token"] = item[3], ["Idempotency-Key"] = item[4],
    ["Content-Length"] = "0"})
end

local function count(name) counts[name] = (counts[name] or 0) + 1 end

function response(status, headers, body)
  if status == 200 then
    if body:find('"replayed":true', 1, true) then count("replayed")
    elseif body:find('"status":"selected"', 1, true) then count("selected")
    else count("waitlisted") end
  elseif status == 409 then
    count("refused:" .. (body:match('"reason":"([%w_]+)"') or "?"))
  else
    count("status:" .. status)
  end
end

function done(summary, latency, requests)
  local totals, parts = {}, {}
  for _, thread in ipairs(threads) do
    for name, n in pairs(thread:get("counts")) do totals[name] = (totals[name] or 0) + n end
  end
  for name, n in pairs(totals) do parts[#parts + 1] = string.format("%q:%d", name, n) end
  io.write("COUNTS {" .. table.concat(parts, ",") .. "}\n")
end
"""


@dataclass
class Rush:
    seconds: float
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    counts: dict[str, int]


async def open_round(
    url: str, redis_url: str, workdir: Path, args: argparse.Namespace
) -> dict[str, Any]:
    """The round, the sections and the students' sessions, written in process."""
    from sqlalchemy import func, select

    from campus.domains.academic.offering.models import Section, SectionClass, SectionMajor
    from campus.domains.academic.programmes.queries import current_term
    from campus.domains.academic.selection.models import Round
    from campus.domains.academic.status.models import StudentStatus
    from campus.entrypoints.http import build_runtime
    from campus.kernel import clock
    from campus.kernel.config import Settings
    from campus.platform.auth import sessions

    runtime = build_runtime(
        Settings(database_url=url, redis_url=redis_url, storage_url=f"file://{workdir}/files")
    )
    try:
        async with runtime.db.transaction() as session:
            term = await current_term(session)
            assert term is not None, "the demo has no term"
            now = clock.now()
            session.add(
                Round(
                    term_id=term.id, name="正选（压测）", kind="first_come",
                    opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=2),
                    grades=[], major_ids=[], max_credits=Decimal(60), waitlist=True,
                    drop_allowed=True, created_at=now, queue_rate=args.queue_rate,
                )
            )  # fmt: skip
            await session.flush()
            round_id = await session.scalar(select(func.max(Round.id)))
            sections = {
                section_id: capacity
                for section_id, capacity in await session.execute(
                    select(Section.id, Section.capacity).where(
                        Section.term_id == term.id, Section.status == "open"
                    )
                )
            }
            students = {
                person_id: (major_id, grade, class_id)
                for person_id, major_id, grade, class_id in await session.execute(
                    select(
                        StudentStatus.person_id,
                        StudentStatus.major_id,
                        StudentStatus.grade,
                        StudentStatus.class_id,
                    )
                    .where(StudentStatus.in_school.is_(True))
                    .order_by(StudentStatus.id)
                    .limit(args.students)
                )
            }
            taught: dict[int, set[int]] = {}  # class → the sections it is assigned
            for section_id, class_id in await session.execute(
                select(SectionClass.section_id, SectionClass.class_id)
            ):
                taught.setdefault(class_id, set()).add(section_id)
            open_to: dict[int, list[tuple[int, int | None]]] = {}
            for section_id, major_id, grade in await session.execute(
                select(SectionMajor.section_id, SectionMajor.org_unit_id, SectionMajor.grade)
            ):
                if section_id in sections:
                    open_to.setdefault(section_id, []).append((major_id, grade))
            tokens = {}
            for person_id in students:
                token, _row = await sessions.insert(
                    session, person_id=person_id, amr=["pwd"], lifetime_seconds=7200,
                    remember=False, pending=None, user_agent="selection-rush", ip=HOST,
                )  # fmt: skip
                tokens[person_id] = token
    finally:
        await runtime.close()
    return {
        "term_id": term.id,
        "round_id": round_id,
        "sections": sections,
        "tokens": tokens,
        "choices": {
            p: choices(who, sections, open_to, taught.get(who[2] or 0, set()))
            for p, who in students.items()
        },
    }


def choices(
    student: tuple[int, int, int | None],
    sections: dict[int, int],
    open_to: dict[int, list[tuple[int, int | None]]],
    own: set[int],
) -> list[int]:
    """The sections a student finds in the course search and would choose: opened to their
    major and grade, and not already their class's (the hot ones are tried whatever they are
    open to)."""
    major, grade, _class = student
    return [
        s
        for s in sections
        if s not in own and any(m == major and g in (None, grade) for m, g in open_to.get(s, ()))
    ]


async def through_the_door(base: str, world: dict[str, Any], connections: int) -> float:
    """Every student enters the round's queue, ``connections`` at a time, until admitted; their
    admission cookies go into ``world``. The seconds it took."""
    import httpx

    path = f"/api/v1/academic/selection/rounds/{world['round_id']}/queue"
    admissions: dict[int, str] = {}
    refusals: dict[str, int] = {}
    people = list(world["tokens"].items())
    started = time.perf_counter()

    async def one(client: httpx.AsyncClient, person_id: int, token: str) -> None:
        csrf = secrets.token_urlsafe(16)
        headers = {"Cookie": f"campus_session={token}; campus_csrf={csrf}", "X-CSRF-Token": csrf}
        response = await client.post(path, headers=headers)
        while response.status_code == 200 and not response.json()["admitted"]:
            await asyncio.sleep(min(2.0, max(0.05, response.json()["wait_seconds"])))
            response = await client.get(path, headers=headers)
        if response.status_code == 200:
            admissions[person_id] = response.json()["token"]
        else:  # counted, and the student's selections go without an admission (refused)
            key = f"{response.status_code}:{response.text[:80]}"
            refusals[key] = refusals.get(key, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for at in range(0, len(people), connections):
            await asyncio.gather(*(one(client, p, t) for p, t in people[at : at + connections]))
    world["admissions"], world["door_refusals"] = admissions, refusals
    return time.perf_counter() - started


def request_file(
    workdir: Path, world: dict[str, Any], args: argparse.Namespace
) -> tuple[Path, int]:
    lots = random.Random(args.seed)
    offered = sorted({s for mine in world["choices"].values() for s in mine})
    hot = lots.sample(offered, min(args.hot_sections, len(offered)))
    lines = []
    for person_id, token in world["tokens"].items():
        csrf = secrets.token_urlsafe(16)
        cookie = f"campus_session={token}; campus_csrf={csrf}"
        if person_id in world.get("admissions", {}):
            cookie += f"; campus_sel_admit={world['admissions'][person_id]}"
        mine = world["choices"][person_id] or hot
        picks = lots.sample(mine, min(args.picks, len(mine)))
        for n, section in enumerate(picks):
            if lots.random() < args.hot:
                section = hot[n % len(hot)]
            key = f"rush-{person_id}-{secrets.token_hex(8)}"
            lines.append(f"{PATH.format(id=section)}\t{cookie}\t{csrf}\t{key}")
    lots.shuffle(lines)
    path = workdir / "requests.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines)


def rush(base: str, requests: Path, args: argparse.Namespace) -> Rush:
    script = requests.with_name("rush.lua")
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    command = [
        "wrk", "-t1", f"-c{args.connections}", f"-d{round(args.seconds)}s", "--latency",
        "--timeout", "10s", "-s", str(script), base + "/", "--", str(requests),
    ]  # fmt: skip
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=args.seconds + 60
    ).stdout
    latencies = {
        p: float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        for p, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    }
    counts = json.loads(re.search(r"^COUNTS (.*)$", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    sent = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Rush(
        seconds=args.seconds,
        requests=sent,
        per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        counts=counts,
    )


async def verify(url: str, redis_url: str, world: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """What the database (and Redis) hold after the rush."""
    from sqlalchemy import func, select

    from campus.domains.academic.selection.live import seats_key
    from campus.domains.academic.selection.models import Enrollment
    from campus.entrypoints.http import build_runtime
    from campus.kernel.config import Settings

    runtime = build_runtime(
        Settings(database_url=url, redis_url=redis_url, storage_url=f"file://{workdir}/files")
    )
    try:
        async with runtime.db.read() as session:
            rows = list(
                await session.execute(
                    select(Enrollment.section_id, Enrollment.status, func.count()).group_by(
                        Enrollment.section_id, Enrollment.status
                    )
                )
            )
        seated: dict[int, int] = {}
        places = 0
        for section_id, status, n in rows:
            places += n
            if status == "selected":
                seated[section_id] = n
        over = [s for s, n in seated.items() if n > world["sections"].get(s, 0)]
        strays = None
        if redis_url.startswith("redis"):
            strays = 0
            for section_id in world["sections"]:
                claimed = await runtime.cache.claim_count(seats_key(section_id))
                strays += claimed != seated.get(section_id, 0)
    finally:
        await runtime.close()
    return {"places": places, "seated": sum(seated.values()), "over": over, "strays": strays}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--students", type=int, default=20000)
    parser.add_argument("--picks", type=int, default=5)
    parser.add_argument("--hot", type=float, default=0.1)
    parser.add_argument("--hot-sections", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queue-rate", type=int, help="a virtual queue admitting N a second")
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="memory://")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (with --redis-url only)"
    )
    parser.add_argument("--hard-limit", type=int, default=3600)
    args = parser.parse_args()
    if args.workers > 1 and args.redis_url == "memory://":
        raise SystemExit("--workers above 1 needs --redis-url: the in-process cache is per process")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")

    def out_of_time(_signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped: the benchmark ran longer than {args.hard_limit} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.hard_limit)
    print(describe())
    workdir = Path(tempfile.mkdtemp(prefix="campus-selection-rush-"))
    server = None
    try:
        url, seed_seconds = prepare_database(workdir, scale=args.scale, url=args.database_url)
        embedded = url.startswith("sqlite")
        started = time.perf_counter()
        world = asyncio.run(open_round(url, args.redis_url, workdir, args))
        total = sum(min(args.picks, len(c) or args.hot_sections) for c in world["choices"].values())
        backend = "SQLite + in-process cache" if embedded else "PostgreSQL + " + args.redis_url
        backend += f", {args.workers} server process{'es' if args.workers > 1 else ''}"
        print(
            f"\n== setup\n{backend}; "
            f"{args.scale} demo seeded in {seed_seconds:.0f} s; round, {len(world['tokens'])} "
            f"sessions and {total} requests ({args.picks} a student, {args.hot:.0%} at "
            f"{args.hot_sections} hot sections of {len(world['sections'])}) in "
            f"{time.perf_counter() - started:.0f} s; "
            f"{sum(1 for c in world['choices'].values() if c)} students with sections opened to "
            f"them (median {statistics.median(len(c) for c in world['choices'].values()):.0f})"
        )
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = start_server(workdir, url, port, redis_url=args.redis_url, workers=args.workers)
        wait_until_ready(base, server, timeout=120)
        trivial = run_wrk(base + "/healthz", "", 10, args.connections)
        if args.queue_rate:
            door = asyncio.run(through_the_door(base, world, args.connections))
            print(
                f"\n== the door\n{len(world['admissions'])} students entered the queue "
                f"(admitting {args.queue_rate}/s) and were admitted in {door:.0f} s = "
                f"{len(world['admissions']) / door:.0f}/s; not admitted: "
                f"{world['door_refusals'] or 'none'}"
            )
        requests, total = request_file(workdir, world, args)
        result = rush(base, requests, args)
        stop(server)
        server = None
        checked = asyncio.run(verify(url, args.redis_url, world, workdir))
        report(result, trivial, total, checked, args.connections)
    finally:
        signal.alarm(0)
        if server is not None:
            stop(server)
        shutil.rmtree(workdir, ignore_errors=True)


def report(
    result: Rush,
    trivial: Any,
    total: int,
    checked: dict[str, Any],
    connections: int,
) -> None:
    trivial_rps, trivial_p50 = trivial.rps, trivial.p50_ms
    counts = result.counts
    accepted = counts.get("selected", 0) + counts.get("waitlisted", 0)
    refused = {k.split(":", 1)[1]: v for k, v in counts.items() if k.startswith("refused:")}
    other = {k: v for k, v in counts.items() if k.startswith("status:")}
    print("\n== rush")
    print(
        f"{result.requests} selection requests in {result.seconds:.0f} s: "
        f"{result.per_second:.0f}/s (p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms); "
        f"the list of {total} sent "
        f"{'once' if result.requests <= total else 'and repeated (replays)'}"
    )
    print(
        f"accepted {accepted} ({counts.get('selected', 0)} seats, {counts.get('waitlisted', 0)} "
        f"waitlisted) = {accepted / result.seconds:.0f}/s; refused {sum(refused.values())} "
        f"= {sum(refused.values()) / result.seconds:.0f}/s {dict(sorted(refused.items()))}; "
        f"replayed {counts.get('replayed', 0)}; other {other}"
    )
    print(
        f"baseline GET /healthz, same wrk and connections, same run: {trivial_rps:.0f} req/s "
        f"(p50 {trivial_p50:.1f} ms); selection / trivial = {result.per_second / trivial_rps:.3f}"
    )
    # wrk stops at its deadline with up to one request per connection unanswered; the server
    # may still have written those: at most that many places beyond the accepted answers.
    unanswered = checked["places"] - accepted
    lost = unanswered < 0 or unanswered > connections
    print("\n== afterwards")
    print(
        f"places in the database {checked['places']}, accepted answers {accepted} "
        f"(written but unanswered at wrk's deadline: {unanswered}, at most {connections}); "
        f"seated {checked['seated']}; sections over capacity: {len(checked['over'])}"
        + (
            ""
            if checked["strays"] is None
            else f"; Redis claim sets unlike the database: {checked['strays']}"
        )
    )
    met = result.per_second >= TARGET_PER_SECOND and result.p99_ms <= TARGET_P99_MS
    print(
        f"target ≥ {TARGET_PER_SECOND:.0f} requests/s with p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'NOT met'}; nothing oversold: {'yes' if not checked['over'] else 'NO'}"
        f"; nothing lost: {'NO' if lost else 'yes'}"
    )


if __name__ == "__main__":
    main()
