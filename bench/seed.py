"""Time and peak memory of seeding the medium demo university (``campus seed --scale medium``).

Each backend is measured in a child process of its own, so that its peak resident memory
(getrusage max RSS) is its own: a fresh SQLite file, then PostgreSQL when it answers.
The whole ``seed_all`` is measured (users, roles, credentials), after the migration.

    .venv/bin/python bench/seed.py [--scale medium] [--seed 2026] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0
TARGET_MIB = 1024.0
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/campus_bench_seed"
STUDENTS = "('undergraduate', 'postgraduate')"
COUNTS = {
    "students": f"SELECT count(*) FROM users_person WHERE person_type IN {STUDENTS}",
    "staff": "SELECT count(*) FROM users_person WHERE person_type IN ('faculty', 'staff')",
    "classes": "SELECT count(*) FROM users_class",
    "org_units": "SELECT count(*) FROM users_org_unit",
    "credentials": "SELECT count(*) FROM auth_credential",
}


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def _prepare_postgres(url: str) -> None:
    """Create the database if needed and empty it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    server = dict(
        host=parsed.host, port=parsed.port or 5432, user=parsed.username, password=parsed.password
    )
    admin = await asyncpg.connect(database="postgres", timeout=3, **server)
    try:
        exists = await admin.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await admin.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(database=parsed.database, timeout=3, **server)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def _measure(url: str, scale: str, seed: int) -> dict[str, object]:
    from sqlalchemy import text

    from campus.entrypoints.http import build_runtime
    from campus.kernel import migrate
    from campus.kernel.config import Settings
    from campus.kernel.seeding import seed_all

    if url.startswith("postgresql"):
        await _prepare_postgres(url)
    await asyncio.to_thread(migrate.upgrade, url)
    runtime = build_runtime(Settings(database_url=url, log_level="WARNING"))
    baseline = _rss_mib()
    started = time.perf_counter()
    try:
        await seed_all(runtime, scale, seed)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        peak = _rss_mib()
        async with runtime.db.read() as session:
            counts = {name: await session.scalar(text(sql)) for name, sql in COUNTS.items()}
    finally:
        await runtime.close()
    return {"seconds": elapsed, "peak_mib": peak, "baseline_mib": baseline, "counts": counts}


def _child(url: str, scale: str, seed: int) -> None:
    print(json.dumps(asyncio.run(_measure(url, scale, seed))))


def _run_child(url: str, scale: str, seed: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, "--scale", scale, "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _postgres_reachable(url: str) -> str | None:
    """None when the server answers, else why not."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)

    async def probe() -> None:
        conn = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database="postgres",
            timeout=3,
        )
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _report(name: str, result: dict[str, object]) -> None:
    seconds = float(result["seconds"])  # type: ignore[arg-type]
    peak = float(result["peak_mib"])  # type: ignore[arg-type]
    baseline = float(result["baseline_mib"])  # type: ignore[arg-type]
    counts: dict[str, int] = result["counts"]  # type: ignore[assignment]
    people = counts["students"] + counts["staff"]
    time_ok = "OK" if seconds <= TARGET_SECONDS else "OVER TARGET"
    mem_ok = "OK" if peak <= TARGET_MIB else "OVER TARGET"
    print(f"\n{name}")
    print(
        f"  seeded     {counts['students']:,} students, {counts['staff']:,} staff, "
        f"{counts['classes']:,} classes, {counts['org_units']:,} org units, "
        f"{counts['credentials']:,} credentials"
    )
    print(
        f"  time       {seconds:6.1f} s   ({people / seconds:,.0f} people/s)   "
        f"target ≤ {TARGET_SECONDS:.0f} s: {time_ok} ({seconds / TARGET_SECONDS:.0%} of target)"
    )
    print(
        f"  peak RSS   {peak:6.0f} MiB (process before seeding: {baseline:.0f} MiB, "
        f"×{peak / baseline:.2f})   target ≤ {TARGET_MIB:.0f} MiB: {mem_ok} "
        f"({peak / TARGET_MIB:.0%} of target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--pg", default=os.environ.get("CAMPUS_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.scale, args.seed)
        return

    print(f"seed benchmark: campus seed --scale {args.scale} --seed {args.seed}")
    print(
        f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {_cpu_model()}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench-seed.db"
        _report("SQLite (fresh file, WAL)", _run_child(url, args.scale, args.seed))
    problem = _postgres_reachable(args.pg)
    if problem is None:
        _report(
            f"PostgreSQL ({args.pg.split('@')[-1]})", _run_child(args.pg, args.scale, args.seed)
        )
    else:
        print(f"\nPostgreSQL: not measured, {args.pg.split('@')[-1]} is unreachable ({problem})")


if __name__ == "__main__":
    main()
