"""The API gateway's cost: the same request straight to an upstream and through the gateway
(key-auth and a route rate limit), in one run: the latency the gateway adds (p50, p99) and the
throughput through it as a share of the direct throughput.

- Upstream: a tiny Starlette app (``bench/_upstream.py``, a 200-byte JSON answer) under uvicorn
  on a loopback port, one worker.
- Gateway: the embedded demo server (uvicorn, one worker, production settings, SQLite with the
  small demo, relay and jobs in the server). Set up through its admin API (not measured): a
  service with the upstream's fixed URL, a route requiring a consumer with a limit of 1,000,000
  calls a minute (so every request counts against it and none is refused), a consumer and its
  API key; one warm-up request.
- Latency: ``wrk`` with one connection for ``--seconds`` on the upstream, then the same through
  the gateway (``GET /gw/bench/items`` with header ``apikey``): p50 and p99 each, and the
  difference. Throughput: the same with ``--connections`` connections.
- Targets: at most 1 ms added at p50; at least 50 % of the direct throughput.

Traffic stays on 127.0.0.1; the run stops by itself (``--hard-limit``).

    .venv/bin/python bench/gateway.py [--seconds 15] [--connections 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import httpx

from _http_load import demo_server, session_headers, signed_in
from _machine import describe
from http_baseline import HOST, Run, free_port, run_wrk, stop, wait_until_ready

ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
TARGET_ADDED_P50_MS = 1.0
TARGET_SHARE = 0.5
BENCH = Path(__file__).resolve().parent


def start_upstream(port: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", "_upstream:app", "--host", HOST, "--port", str(port),
        "--workers", "1", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=BENCH)


async def configure(base: str, upstream: str) -> str:
    """The service, route, consumer and key on the gateway; the key."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        jar = await signed_in(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        headers = session_headers(jar)
        steps = [
            ("/api/v1/gateway/services", {"name": "bench", "url": upstream}),
            (
                "/api/v1/gateway/routes",
                {"name": "bench-all", "service": "bench", "rate_limit_per_minute": 1_000_000},
            ),
            ("/api/v1/gateway/consumers", {"username": "bench-app"}),
            ("/api/v1/gateway/consumers/bench-app/credentials", {"kind": "key"}),
        ]
        answer = None
        for path, body in steps:
            answer = await http.post(path, json=body, headers=headers)
            if answer.status_code != 201:
                raise SystemExit(f"{path}: {answer.status_code} {answer.text}")
        assert answer is not None
        key = str(answer.json()["key"])
        warm = await http.get("/gw/bench/items", headers={"apikey": key})
        if warm.status_code != 200:
            raise SystemExit(f"warm-up through the gateway: {warm.status_code} {warm.text}")
        return key


def pair(
    direct_url: str, gateway_url: str, key: str, seconds: float, connections: int
) -> tuple[Run, Run]:
    direct = run_wrk(direct_url, "", seconds, connections)
    through = run_wrk(gateway_url, "", seconds, connections, (f"apikey: {key}",))
    if direct.errors or through.errors:
        raise SystemExit(f"errors: direct {direct.errors}, through the gateway {through.errors}")
    return direct, through


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3, help="alternating pairs; medians reported")
    parser.add_argument("--hard-limit", type=int, default=1800)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    print(describe())
    port = free_port()
    upstream_url = f"http://{HOST}:{port}"
    upstream = start_upstream(port)
    try:
        wait_until_ready(upstream_url, upstream)
        with demo_server("campus-bench-gateway-", args.hard_limit) as (base, _seed):
            key = asyncio.run(configure(base, upstream_url))
            direct_url, gateway_url = f"{upstream_url}/items", f"{base}/gw/bench/items"
            latency = [
                pair(direct_url, gateway_url, key, args.seconds, 1) for _ in range(args.runs)
            ]
            load = [
                pair(direct_url, gateway_url, key, args.seconds, args.connections)
                for _ in range(args.runs)
            ]
    finally:
        stop(upstream)
    report(latency, load, args)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(
    latency: list[tuple[Run, Run]], load: list[tuple[Run, Run]], args: argparse.Namespace
) -> None:
    print(f"\n== latency, one connection, {args.seconds:.0f} s each, {args.runs} alternating pairs")
    for label, index in (("direct", 0), ("through the gateway", 1)):
        runs = [p[index] for p in latency]
        print(
            f"{label:<22} p50 {_median([r.p50_ms for r in runs]):7.2f} ms   "
            f"p99 {_median([r.p99_ms for r in runs]):7.2f} ms   "
            f"{_median([r.rps for r in runs]):8.0f} req/s"
        )
    added_p50 = _median([t.p50_ms - d.p50_ms for d, t in latency])
    added_p99 = _median([t.p99_ms - d.p99_ms for d, t in latency])
    print(f"added by the gateway: p50 {added_p50:.2f} ms, p99 {added_p99:.2f} ms (median of pairs)")
    print(f"\n== throughput, {args.connections} connections, {args.seconds:.0f} s each")
    for label, index in (("direct", 0), ("through the gateway", 1)):
        runs = [p[index] for p in load]
        print(
            f"{label:<22} {_median([r.rps for r in runs]):8.0f} req/s   "
            f"p50 {_median([r.p50_ms for r in runs]):7.2f} ms   "
            f"p99 {_median([r.p99_ms for r in runs]):7.2f} ms"
        )
    share = _median([t.rps / d.rps for d, t in load])
    print(f"through / direct, same run: {share:.2f} (median of pairs)")
    print(
        f"\ntargets: added p50 <= {TARGET_ADDED_P50_MS} ms: "
        f"{'met' if added_p50 <= TARGET_ADDED_P50_MS else 'NOT met'}; "
        f"share >= {TARGET_SHARE:.0%}: {'met' if share >= TARGET_SHARE else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
