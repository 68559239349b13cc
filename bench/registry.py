"""Service registry on one node: registrations/s and heartbeats/s over HTTP, and the time from an
instance's death to its eviction as a watcher sees it.

- Setup (not measured): the embedded demo server (uvicorn, one worker, production settings,
  SQLite with the small demo, relay and scheduled jobs in the server). The administrator signs in
  and creates one registry credential (``POST /api/v1/registry/credentials``).
- Registrations: ``--instances`` distinct instances of ``--services`` services registered with
  that token (``POST /api/v1/registry/instances``, ``--concurrency`` in flight), each a new row,
  a change index bump and an event. Then heartbeats (``PUT …/{id}/heartbeat``) on those
  instances for ``--seconds``. The trivial route (``GET /healthz``, the same client) in the same
  run, for the ratio.
- Death to eviction: ``--deaths`` times, an instance with a 5 s lease registers, beats once and
  dies (no more heartbeats); a watcher long-polls its service
  (``GET …/services/{name}/instances?index=N&wait=30s``) until the instance is gone from the
  answer. The time from its last heartbeat to that answer is at most two leases by design
  (lease 5 s, the eviction job every 5 s) and at least one lease.

Traffic stays on 127.0.0.1 and the whole run stops by itself (``--hard-limit``).

    .venv/bin/python bench/registry.py [--instances 2000] [--services 20] [--concurrency 32]
        [--seconds 20] [--deaths 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field

import httpx

from _http_load import (
    Throughput,
    demo_server,
    measure_trivial,
    print_results,
    session_headers,
    signed_in,
    throughput,
)
from _machine import describe

ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
API = "/api/v1/registry"
DEATH_TTL = 5


@dataclass(frozen=True)
class Figures:
    registrations: Throughput
    heartbeats: Throughput
    trivial: Throughput
    deaths_seconds: list[float]
    failures: Counter[str] = field(default_factory=Counter)


async def timed(
    request: Awaitable[httpx.Response], latencies: list[float], failures: Counter[str], ok: int
) -> None:
    """One request's latency, and what went wrong if its status is not ``ok`` (200 or 201)."""
    started = time.perf_counter()
    try:
        response = await request
    except httpx.TransportError as error:  # counted as an error, as another answer is
        failures[type(error).__name__] += 1
    else:
        if response.status_code != ok:
            failures[f"{response.status_code} {response.text[:120]}"] += 1
    latencies.append((time.perf_counter() - started) * 1000)


async def registry_token(http: httpx.AsyncClient) -> str:
    jar = await signed_in(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    response = await http.post(
        f"{API}/credentials",
        json={"owner": "bench", "description": "bench/registry.py"},
        headers=session_headers(jar),
    )
    if response.status_code != 201:
        raise SystemExit(f"credential: {response.status_code} {response.text}")
    return str(response.json()["token"])


def instance(n: int, services: int, ttl: int = 60) -> dict[str, object]:
    return {
        "service": f"bench-svc-{n % services}",
        "instance_id": f"bench-{n}",
        "version": "1.0.0",
        "address": f"http://10.0.{n // 250}.{n % 250 + 1}:8000",
        "modules": ["bench"],
        "ttl_seconds": ttl,
    }


async def in_flight(
    concurrency: int,
    jobs: list[tuple[str, str, dict[str, object] | None]],
    http: httpx.AsyncClient,
    failures: Counter[str],
) -> Throughput:
    """Each job (method, path, body) once, ``concurrency`` at a time; 201 counts."""
    latencies: list[float] = []
    queue = list(reversed(jobs))
    before = failures.total()

    async def worker() -> None:
        while queue:
            method, path, body = queue.pop()
            await timed(http.request(method, path, json=body), latencies, failures, 201)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return throughput(latencies, time.perf_counter() - began, failures.total() - before)


async def heartbeats_for(
    http: httpx.AsyncClient, ids: list[str], seconds: float, concurrency: int,
    failures: Counter[str],
) -> Throughput:  # fmt: skip
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    before = failures.total()

    async def worker(offset: int) -> None:
        n = offset
        while time.perf_counter() < deadline:
            n += concurrency
            beat = http.put(f"{API}/instances/{ids[n % len(ids)]}/heartbeat")
            await timed(beat, latencies, failures, 200)

    began = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return throughput(latencies, time.perf_counter() - began, failures.total() - before)


async def one_death(http: httpx.AsyncClient, n: int) -> float:
    """Seconds from the instance's last heartbeat until a long-poll answer no longer lists it."""
    body = instance(1_000_000 + n, 1, ttl=DEATH_TTL) | {"service": f"bench-death-{n}"}
    registered = await http.post(f"{API}/instances", json=body)
    registered.raise_for_status()
    index = int(registered.json()["index"])
    (await http.put(f"{API}/instances/{body['instance_id']}/heartbeat")).raise_for_status()
    died = time.perf_counter()
    path = f"{API}/services/{body['service']}/instances"
    while True:
        answer = await http.get(path, params={"index": index, "wait": "30s"}, timeout=40)
        answer.raise_for_status()
        found = answer.json()
        if all(i["id"] != body["instance_id"] for i in found["instances"]):
            return time.perf_counter() - died
        index = int(found["index"])


async def measure(base: str, args: argparse.Namespace) -> Figures:
    # Idle connections are dropped before uvicorn's 5 s keep-alive closes them from its side,
    # so that a request never races a closing connection (the long-polls leave others idle).
    limits = httpx.Limits(max_connections=args.concurrency + 4, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as admin:
        token = await registry_token(admin)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=30) as http:
        jobs: list[tuple[str, str, dict[str, object] | None]] = [
            ("POST", f"{API}/instances", instance(n, args.services)) for n in range(args.instances)
        ]
        failures: Counter[str] = Counter()
        registrations = await in_flight(args.concurrency, jobs, http, failures)
        ids = [f"bench-{n}" for n in range(args.instances)]
        beats = await heartbeats_for(http, ids, args.seconds, args.concurrency, failures)
        trivial = await measure_trivial(base, seconds=args.seconds, concurrency=args.concurrency)
        deaths = [await one_death(http, n) for n in range(args.deaths)]
    return Figures(registrations, beats, trivial, deaths, failures)


def report(figures: Figures) -> None:
    print_results(
        [
            ("registrations", figures.registrations),
            ("heartbeats", figures.heartbeats),
            ("GET /healthz (same client)", figures.trivial),
        ]
    )
    trivial = figures.trivial.per_second
    for label, run in (
        ("registrations", figures.registrations),
        ("heartbeats", figures.heartbeats),
    ):
        print(f"{label} / trivial route, same run: {run.per_second / trivial:.3f}")
    for reason, count in figures.failures.most_common():
        print(f"failed {count}×: {reason}")
    deaths = figures.deaths_seconds
    print(
        f"\n== death to eviction, seen by a long-polling watcher (lease {DEATH_TTL} s)\n"
        f"median {statistics.median(deaths):.1f} s, min {min(deaths):.1f} s, "
        f"max {max(deaths):.1f} s over {len(deaths)} instances (bound: {2 * DEATH_TTL} s "
        "plus a job's run)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--services", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--deaths", type=int, default=5)
    parser.add_argument("--hard-limit", type=int, default=900, help="seconds")
    args = parser.parse_args()
    print(describe())
    with demo_server("campus-registry-bench-", args.hard_limit) as (base, seed_seconds):
        print(f"\n== setup\nembedded demo server, small demo seeded in {seed_seconds:.1f} s")
        report(asyncio.run(measure(base, args)))


if __name__ == "__main__":
    main()
