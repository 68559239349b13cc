"""HTTP baseline: requests/s and latency of the real app, for a trivial route, for the cheapest
signed-in route (the session check alone) and for reading one person by id as an administrator.

The app runs as it does in production (uvicorn, one worker, JSON access log, the outbox relay in
process) on a migrated SQLite file seeded with the small demo university. The load comes from
another process: ``wrk`` when it is installed, otherwise an httpx client with bounded
concurrency started from this script. Each route gets a warm-up and several timed runs; the
medians are reported, and the ratio of the person read to the trivial route is the figure that
other benchmarks can compare with. Traffic goes to 127.0.0.1 only; the whole run stops by itself
in under two minutes.

    .venv/bin/python bench/http_baseline.py [--runs 3] [--seconds 5] [--connections 16]
                                            [--generator auto|wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from _machine import describe

HOST = "127.0.0.1"
ADMIN_LOGIN = "A0001"
ADMIN_PASSWORD = "Admin@2026"
TRIVIAL = "/healthz"
PERSON = "/api/v1/users/people/{id}"
SESSION_READ = "/api/v1/auth/me"
HARD_LIMIT_SECONDS = 115
WARMUP_SECONDS = 2.0


@dataclass(frozen=True)
class Run:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


# --- the load generators ----------------------------------------------------------------------

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(
    url: str, cookie: str, seconds: float, connections: int, headers: tuple[str, ...] = ()
) -> Run:
    """wrk, one thread, ``connections`` connections; ``headers`` as "Name: value" lines."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    percent = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+(?:us|ms|s))\s*$", out, re.MULTILINE))
    if "99" not in percent:
        raise SystemExit(f"wrk printed no latency distribution:\n{out}")
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Run(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_wrk_ms(percent["50"]),
        p99_ms=_wrk_ms(percent["99"]),
        requests=requests,
        errors=errors,
    )


def _wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _WRK_UNITS[unit]


async def _httpx_load(url: str, cookie: str, seconds: float, connections: int) -> Run:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Cookie": cookie} if cookie else {}
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=10) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while (started := time.perf_counter()) < deadline:
                try:
                    response = await client.get(url)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Run(
        rps=len(latencies) / elapsed,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        requests=len(latencies),
        errors=errors,
    )


def run_httpx(url: str, cookie: str, seconds: float, connections: int) -> Run:
    """The httpx generator in a process of its own, so it does not share this one's CPU time."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--load",
            url,
            "--cookie",
            cookie,
            "--seconds",
            str(seconds),
            "--connections",
            str(connections),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    return Run(**json.loads(out))


# --- the app under test -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def prepare_database(
    workdir: Path, *, scale: str = "small", url: str | None = None
) -> tuple[str, float]:
    """Migrate a database and seed the demo university (``scale``) into it: a fresh SQLite
    file in ``workdir``, or ``url`` (an empty database)."""
    from campus.entrypoints.http import build_runtime
    from campus.kernel import migrate
    from campus.kernel.config import Settings
    from campus.kernel.seeding import seed_all

    url = url or f"sqlite+aiosqlite:///{workdir}/campus.db"
    started = time.perf_counter()
    migrate.upgrade(url)
    settings = Settings(database_url=url, storage_url=f"file://{workdir}/files")

    async def seed() -> None:
        runtime = build_runtime(settings)
        try:
            await seed_all(runtime, scale, 2026)
        finally:
            await runtime.close()

    asyncio.run(seed())
    return url, time.perf_counter() - started


def start_server(
    workdir: Path, database_url: str, port: int, *, redis_url: str = "memory://", workers: int = 1
) -> subprocess.Popen[bytes]:
    """``workers`` > 1 only with a shared cache (Redis): the in-process one is per process."""
    env = {
        **os.environ,
        "CAMPUS_DATABASE_URL": database_url,
        "CAMPUS_REDIS_URL": redis_url,
        "CAMPUS_BROKER_URL": "memory://",
        "CAMPUS_STORAGE_URL": f"file://{workdir}/files",
        "CAMPUS_ENVIRONMENT": "production",
        "CAMPUS_LOG_LEVEL": "INFO",
        "CAMPUS_SECRET_KEY": secrets.token_urlsafe(48),
    }
    log = (workdir / "server.log").open("wb")
    # The app writes its own access line per request, so uvicorn's is switched off.
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "campus.entrypoints.http:create_app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not become ready in time")


def sign_in(base: str) -> str:
    """The Cookie header of an administrator's session.

    In production the cookies are marked Secure, which a client will not send back over plain
    HTTP; the benchmark sends them itself, as a TLS-terminating proxy would pass them on.
    """
    with httpx.Client(base_url=base, timeout=10) as client:
        first = client.get(TRIVIAL)
        csrf = first.cookies["campus_csrf"]
        response = client.post(
            "/api/v1/auth/login",
            json={"login": ADMIN_LOGIN, "password": ADMIN_PASSWORD},
            headers={"X-CSRF-Token": csrf, "Cookie": f"campus_csrf={csrf}"},
        )
        if response.status_code != 200:
            raise SystemExit(f"sign-in failed: {response.status_code} {response.text}")
        cookies = {**dict(first.cookies), **dict(response.cookies)}
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def person_read_path(base: str, cookie: str) -> tuple[str, str]:
    """The path of one student's record, or of /auth/me when the person route is missing."""
    headers = {"Cookie": cookie}
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        listing = client.get("/api/v1/users/people", params={"type": "undergraduate"})
        if listing.status_code == 200 and listing.json().get("items"):
            person_id = listing.json()["items"][0]["id"]
            path = PERSON.format(id=person_id)
            if client.get(path).status_code == 200:
                return path, f"GET {PERSON} (a student, id {person_id})"
    return SESSION_READ, f"GET {SESSION_READ} (the person route is not available)"


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- the measurement --------------------------------------------------------------------------


def measure(args: argparse.Namespace) -> None:
    started = time.monotonic()
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "httpx"
    load = run_wrk if generator == "wrk" else run_httpx

    print("== machine")
    print(describe())
    workdir = Path(tempfile.mkdtemp(prefix="campus-http-bench-"))
    server: subprocess.Popen[bytes] | None = None
    # A last resort if something hangs: the run must end by itself.
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(HARD_LIMIT_SECONDS)
    try:
        database_url, seed_seconds = prepare_database(workdir)
        port = free_port()
        base = f"http://{HOST}:{port}"
        server = start_server(workdir, database_url, port)
        wait_until_ready(base, server)
        cookie = sign_in(base)
        read_path, read_label = person_read_path(base, cookie)
        print("\n== setup")
        print(f"database: SQLite, small demo seeded in {seed_seconds:.1f} s (migration included)")
        print(
            "server: uvicorn, 1 worker, environment=production (JSON access log), relay in process"
        )
        print(
            f"load generator: {generator} (separate process), {args.connections} connections,"
            f" {args.runs} runs of {args.seconds:.0f} s per route after a "
            f"{WARMUP_SECONDS:.0f} s warm-up"
        )

        targets = [
            ("trivial", f"GET {TRIVIAL}", TRIVIAL, ""),
            ("signed-in", f"GET {SESSION_READ} (session check only)", SESSION_READ, cookie),
            ("person", read_label, read_path, cookie),
        ]
        results: dict[str, list[Run]] = {}
        for key, label, path, route_cookie in targets:
            url = base + path
            load(url, route_cookie, WARMUP_SECONDS, args.connections)
            runs = []
            for n in range(args.runs):
                if time.monotonic() - started > HARD_LIMIT_SECONDS - args.seconds - 10:
                    print(f"(stopping early: the time budget is spent after {n} runs)")
                    break
                run = load(url, route_cookie, args.seconds, args.connections)
                runs.append(run)
            results[key] = runs
            print(f"\n== {label}")
            for n, run in enumerate(runs, 1):
                print(
                    f"run {n}: {run.rps:8.0f} req/s   p50 {run.p50_ms:6.2f} ms   "
                    f"p99 {run.p99_ms:6.2f} ms   {run.requests} requests, {run.errors} errors"
                )
        report(results, read_label)
        print(f"\nserver access-log lines written: {_access_lines(workdir / 'server.log')}")
    finally:
        signal.alarm(0)
        if server is not None:
            stop(server)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"total wall time: {time.monotonic() - started:.0f} s")


def _out_of_time(signum: int, frame: object) -> None:
    raise TimeoutError(f"the benchmark ran past its hard limit of {HARD_LIMIT_SECONDS} s")


def report(results: dict[str, list[Run]], read_label: str) -> None:
    def median(key: str, field: str) -> float:
        return statistics.median(getattr(run, field) for run in results[key])

    print("\n== medians")
    print(f"{'route':<58} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    labels = {
        "trivial": f"GET {TRIVIAL}",
        "signed-in": f"GET {SESSION_READ}",
        "person": read_label,
    }
    for key, label in labels.items():
        print(
            f"{label:<58} {median(key, 'rps'):8.0f} {median(key, 'p50_ms'):8.2f} "
            f"{median(key, 'p99_ms'):8.2f}"
        )
    trivial = median("trivial", "rps")
    print(f"\nratio person-read / trivial (req/s): {median('person', 'rps') / trivial:.3f}")
    print(f"ratio signed-in /auth/me / trivial (req/s): {median('signed-in', 'rps') / trivial:.3f}")
    errors = sum(run.errors for runs in results.values() for run in runs)
    if errors:
        print(f"WARNING: {errors} requests failed or did not answer 200")


def _access_lines(log: Path) -> int:
    try:
        return sum(1 for line in log.open("rb") if b'"http_request"' in line)
    except OSError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--generator", choices=("auto", "wrk", "httpx"), default="auto")
    # The httpx generator's own process: drives one URL and prints its figures as JSON.
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        run = asyncio.run(_httpx_load(args.load, args.cookie, args.seconds, args.connections))
        print(json.dumps(run.__dict__))
        return
    measure(args)


if __name__ == "__main__":
    main()
