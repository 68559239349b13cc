"""GPA and ranks of the seeded demo university: every student with published results (or one
major's cohort) has their GPA computed from their results the way ``/academic/grades/me``
computes it (the counted attempt of each course, credits as weights), then the students are
ranked within their major's cohort and their class.

Prints the number of students and results, the seconds to read the results and to compute
GPAs and ranks, students per second, and the GPA distribution on the 4.0 and 5.0 tables.

    .venv/bin/python bench/gpa.py [--scale small] [--major-id N --grade YYYY]
        [--database sqlite+aiosqlite:////path/to/seeded.db]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from _machine import describe


def seed(scale: str, folder: Path) -> str:
    url = f"sqlite+aiosqlite:///{folder}/campus.db"
    env = {**os.environ, "CAMPUS_DATABASE_URL": url, "CAMPUS_STORAGE_URL": f"file://{folder}/f"}
    campus = str(Path(sys.executable).parent / "campus")
    started = time.perf_counter()
    subprocess.run([campus, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run([campus, "seed", "--scale", scale], env=env, check=True, capture_output=True)
    print(f"seeded the {scale} demo in {time.perf_counter() - started:.0f} s")
    return url


def _spread(values: list[Decimal]) -> str:
    if not values:
        return "no GPA"
    floats = sorted(float(v) for v in values)
    deciles = statistics.quantiles(floats, n=10)
    return (
        f"mean {statistics.fmean(floats):.2f}, median {statistics.median(floats):.2f}, "
        f"p10 {deciles[0]:.2f}, p90 {deciles[-1]:.2f}, min {floats[0]:.2f}, max {floats[-1]:.2f}"
    )


async def run(url: str, major_id: int | None, grade: int | None) -> None:
    from sqlalchemy import func, select

    from campus.domains.academic.grades import queries, results
    from campus.domains.academic.grades.models import CourseResult
    from campus.entrypoints.http import build_runtime
    from campus.kernel import runtime as runtime_module
    from campus.kernel.config import Settings
    from campus.platform.users import service as users

    runtime = build_runtime(Settings(database_url=url))
    runtime_module.set_current(runtime)
    try:
        async with runtime.db.read() as session:
            if major_id is not None:
                if grade is None:
                    raise SystemExit("--major-id needs --grade")
                people = await results.major_cohort(session, major_id, grade)
            else:
                people = sorted(
                    set(await session.scalars(select(CourseResult.person_id).distinct()))
                )
            count = await session.scalar(
                select(func.count()).where(CourseResult.person_id.in_(people))
                if len(people) < 30_000
                else select(func.count()).select_from(CourseResult)
            )
            print(f"{len(people):,} students, {count or 0:,} published results")
            started = time.perf_counter()
            rules = await results.current_policy(session)
            tried = await queries.attempts_by_person(session, people)
            read = time.perf_counter() - started
            refs = await users.get_people(session, people)
            classes = {c.id: c for c in await users.list_classes(session)}
            for scale in ("4.0", "5.0"):
                started = time.perf_counter()
                gpas = {
                    pid: results.scales.gpa_of(found, rules, scale) for pid, found in tried.items()
                }
                computed = time.perf_counter() - started
                started = time.perf_counter()
                by_cohort: dict[tuple[int, int], dict[int, object]] = defaultdict(dict)
                by_class: dict[int, dict[int, object]] = defaultdict(dict)
                for pid, gpa in gpas.items():
                    ref = refs.get(pid)
                    klass = classes.get(ref.class_id or 0) if ref else None
                    if klass is None:
                        continue
                    by_cohort[(klass.org_unit_id, klass.grade)][pid] = gpa
                    by_class[klass.id][pid] = gpa
                ranked = sum(len(results.ranks(g)) for g in by_cohort.values())  # type: ignore[arg-type]
                ranked_class = sum(len(results.ranks(g)) for g in by_class.values())  # type: ignore[arg-type]
                ranking = time.perf_counter() - started
                values = [g.gpa for g in gpas.values() if g.gpa is not None]
                rate = len(gpas) / computed if computed else float("inf")
                print(
                    f"\n{scale} table: GPA of {len(gpas):,} students in {computed * 1000:.0f} ms "
                    f"({rate:,.0f}/s); ranked {ranked:,} in {len(by_cohort)} major cohorts and "
                    f"{ranked_class:,} in {len(by_class)} classes in {ranking * 1000:.0f} ms"
                )
                print(f"  GPA {_spread(values)}")
                failing = sum(1 for g in gpas.values() if g.failed_credits > 0)
                print(f"  students with failed credits (counted attempts): {failing:,}")
            print(f"\nreading the results: {read * 1000:.0f} ms")
            one = people[0] if people else None
            if one is not None:
                started = time.perf_counter()
                await results.my_results(session, one, "4.0")
                print(
                    f"one student's page data (/academic/grades/me, with both ranks): "
                    f"{(time.perf_counter() - started) * 1000:.0f} ms"
                )
    finally:
        await runtime.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--database", help="an already seeded database (else a fresh SQLite)")
    parser.add_argument("--major-id", type=int)
    parser.add_argument("--grade", type=int)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or seed(args.scale, Path(folder))
        asyncio.run(run(url, args.major_id, args.grade))


if __name__ == "__main__":
    main()
