"""What the HTTP benchmarks of authentication share: a figure of throughput, signing in over
HTTP as a browser would, and the trivial-route baseline measured with the same client."""

from __future__ import annotations

import asyncio
import signal
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Throughput:
    operations: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


def cookie_header(jar: dict[str, str]) -> str:
    # Production cookies are Secure; over plain HTTP the benchmark sends them itself.
    return "; ".join(f"{k}={v}" for k, v in jar.items())


async def signed_in(http: httpx.AsyncClient, login: str, password: str) -> dict[str, str]:
    first = await http.get("/login")
    jar = {"campus_csrf": first.cookies["campus_csrf"]}
    response = await http.post(
        "/api/v1/auth/login",
        json={"login": login, "password": password},
        headers={"X-CSRF-Token": jar["campus_csrf"], "Cookie": cookie_header(jar)},
    )
    if response.status_code != 200:
        raise SystemExit(f"sign-in failed: {response.status_code} {response.text}")
    jar.update(dict(response.cookies))
    return jar


def session_headers(jar: dict[str, str]) -> dict[str, str]:
    """What a signed-in browser sends with a write: its cookies and the CSRF token."""
    return {"X-CSRF-Token": jar["campus_csrf"], "Cookie": cookie_header(jar)}


async def signed_in_first_time(
    http: httpx.AsyncClient, login: str, initial_password: str, new_password: str
) -> dict[str, str]:
    """Signs a seeded person in with their initial password and changes it, as their first
    sign-in requires (until then the session carries no permissions)."""
    jar = await signed_in(http, login, initial_password)
    response = await http.post(
        "/api/v1/auth/password",
        json={"current_password": initial_password, "new_password": new_password},
        headers=session_headers(jar),
    )
    if response.status_code != 200:
        raise SystemExit(f"password change failed: {response.status_code} {response.text}")
    jar.update(dict(response.cookies))
    return jar


async def measure_trivial(base_url: str, *, seconds: float, concurrency: int) -> Throughput:
    """The same client against GET /healthz: what the HTTP stack alone allows."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                response = await http.get("/healthz")
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    return throughput(latencies, elapsed, errors)


def throughput(latencies: list[float], elapsed: float, errors: int) -> Throughput:
    ordered = sorted(latencies) or [0.0]
    return Throughput(
        operations=len(latencies) - errors,
        seconds=elapsed,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        errors=errors,
    )


@contextmanager
def demo_server(
    prefix: str, hard_limit_seconds: int, *, workdir: Path | None = None
) -> Iterator[tuple[str, float]]:
    """A Campus server (uvicorn, one worker, production settings) on a fresh SQLite file with
    the small demo seeded, on a free loopback port; yields its base URL and the seeding time.
    The whole run is cut off after ``hard_limit_seconds`` so that it always ends by itself.
    ``workdir`` (default: a new temporary directory) is where the database file
    ``campus.db`` and the server's log go, for a benchmark that reads them afterwards."""
    from http_baseline import free_port, prepare_database, start_server, stop, wait_until_ready

    def out_of_time(_signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped: the benchmark ran longer than {hard_limit_seconds} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(hard_limit_seconds)
    workdir = workdir or Path(tempfile.mkdtemp(prefix=prefix))
    server = None
    try:
        database_url, seed_seconds = prepare_database(workdir)
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = start_server(workdir, database_url, port)
        wait_until_ready(base, server)
        yield base, seed_seconds
    finally:
        signal.alarm(0)
        if server is not None:
            stop(server)


def print_results(rows: list[tuple[str, Throughput]], width: int = 26) -> None:
    print("\n== results")
    for label, run in rows:
        print(
            f"{label:{width}} {run.per_second:8.0f} /s   p50 {run.p50_ms:6.2f} ms   "
            f"p99 {run.p99_ms:6.2f} ms   {run.operations} ok, {run.errors} errors"
        )
