"""What the HTTP benchmarks of authentication share: a figure of throughput, signing in over
HTTP as a browser would, and the trivial-route baseline measured with the same client."""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass

import httpx


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
