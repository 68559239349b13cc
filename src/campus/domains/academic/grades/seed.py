"""Grades' part of the demo university: published course results for every student's earlier
terms, from their programme's courses of those terms (bulk inserts), so that GPA, ranks,
transcripts and graduation audits have data. Scores are drawn from the seed: each student an
ability, each course a spread; a few fail, and some of those passed a make-up (补考) the next
term. Courses assessed by 考查 get a five-level grade."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any, cast

import structlog
from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.calendar.queries import default_name
from campus.domains.academic.calendar.seed import TEACHING_WEEKS, WEEKS, term_dates
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.grades import actions, scales
from campus.domains.academic.grades.models import CourseResult
from campus.domains.academic.programmes.models import Programme, ProgrammeCourse
from campus.domains.academic.programmes.queries import current_term, term_number
from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES

log = structlog.get_logger(__name__)
CHUNK = 5000
RESULTS = cast(Table, CourseResult.__table__)  # Core inserts: one executemany a chunk
MAX_STUDENTS = 3000  # bounds the seed's time at larger scales
FIVE = {Decimal(95): "excellent", Decimal(85): "good", Decimal(75): "fair", Decimal(65): "pass"}


async def seed(ctx: SeedContext) -> None:
    started = time.perf_counter()
    async with ctx.runtime.db.transaction() as session:
        await actions.ensure_correction_process(session)
        await actions.ensure_policy(session)  # the grade policy: today's tables and rules
        first: list[int] = []
        for login in ctx.logins:
            if login.role == "student":
                found = await users.find_person_by_login(session, login.login)
                first += [found.id] if found is not None else []
        count = await seed_results(session, ctx.rng("academic.grades"), first)
    log.info(
        "academic_grades_seeded", results=count, seconds=round(time.perf_counter() - started, 2)
    )


async def seed_results(session: AsyncSession, rng: random.Random, first: Sequence[int] = ()) -> int:
    """Results for at most ``MAX_STUDENTS`` students, whole classes, the classes of the
    students ``first`` (the demo logins) first."""
    now_term = await current_term(session)
    if now_term is None or await session.scalar(select(CourseResult.id).limit(1)) is not None:
        return 0
    classes = {c.id: c for c in await users.list_classes(session)}
    if classes:
        oldest = min(c.grade for c in classes.values())
        await past_terms(session, range(oldest, now_term.academic_year))
    earlier = list(
        await session.scalars(
            select(Term)
            .where(Term.start_date < now_term.start_date, Term.season.in_((1, 2)))
            .order_by(Term.start_date)
        )
    )
    if not earlier:
        return 0
    programmes: dict[tuple[int, int], int] = {}
    for p in await session.scalars(
        select(Programme).where(Programme.status == "published").order_by(Programme.version)
    ):
        programmes[(p.major_id, p.cohort)] = p.id  # the latest version wins
    plan: dict[int, dict[int, list[tuple[int, Decimal, str]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for programme_id, term_no, course_id, credits, assessment in await session.execute(
        select(
            ProgrammeCourse.programme_id,
            ProgrammeCourse.term,
            Course.id,
            Course.credits,
            Course.assessment,
        )
        .join(Course, Course.id == ProgrammeCourse.course_id)
        .where(ProgrammeCourse.programme_id.in_(list(programmes.values())))
    ):
        plan[programme_id][term_no].append((course_id, credits, assessment))
    every = await users.person_ids_of_types(session, STUDENT_TYPES, status=None)
    people = await users.get_people(session, every)
    ids = _bounded(every, people, first)
    published = clock.now()
    rows: list[dict[str, Any]] = []
    total = 0
    for pid in ids:
        person = people.get(pid)
        klass = classes.get(person.class_id or 0) if person else None
        if klass is None:
            continue
        programme = programmes.get((klass.org_unit_id, klass.grade))
        if programme is None:
            continue
        ability = rng.gauss(80, 7)
        for index, term in enumerate(earlier):
            number = term_number(term, klass.grade)
            if number is None:
                continue
            for course_id, credits, assessment in plan[programme].get(number, ()):
                score = Decimal(max(0.0, min(100.0, rng.gauss(ability, 9)))).quantize(
                    scales.ONE_PLACE
                )
                rows.append(
                    _row(pid, course_id, term.id, credits, assessment, score, "normal", published)
                )
                if score < scales.PASS_MARK and index + 1 < len(earlier) and rng.random() < 0.7:
                    makeup = Decimal(rng.randint(55, 75))
                    rows.append(
                        _row(
                            pid,
                            course_id,
                            earlier[index + 1].id,
                            credits,
                            assessment,
                            makeup,
                            "makeup",
                            published,
                        )
                    )
        if len(rows) >= CHUNK:
            await session.execute(insert(RESULTS), rows)
            total += len(rows)
            rows = []
    if rows:
        await session.execute(insert(RESULTS), rows)
        total += len(rows)
    return total


def _bounded(ids: Sequence[int], people: dict[int, Any], first: Sequence[int]) -> list[int]:
    by_class: dict[int, list[int]] = defaultdict(list)
    for pid in ids:
        person = people.get(pid)
        if person is not None and person.class_id is not None:
            by_class[person.class_id].append(pid)
    wanted = [people[p].class_id for p in first if p in people and people[p].class_id]
    order = list(dict.fromkeys([*wanted, *sorted(by_class)]))
    chosen: list[int] = []
    for class_id in order:
        if len(chosen) >= MAX_STUDENTS:
            break
        chosen += by_class.get(class_id, [])
    return chosen


async def past_terms(session: AsyncSession, years: range) -> None:
    """The autumn and spring terms of these academic years, where the calendar has none (the
    demo calendar holds only the current year): bare terms, without periods or holidays,
    for the results of earlier years to belong to."""
    have = set(await session.scalars(select(Term.code)))
    for year in years:
        for season, start in enumerate(term_dates(year), start=1):
            code = f"{year}-{year + 1}-{season}"
            if code in have:
                continue
            session.add(
                Term(
                    code=code,
                    name=default_name(code),
                    academic_year=year,
                    season=season,
                    start_date=start,
                    end_date=start + timedelta(weeks=WEEKS) - timedelta(days=1),
                    teaching_weeks=TEACHING_WEEKS,
                    exam_week_from=TEACHING_WEEKS + 1,
                    exam_week_to=WEEKS,
                    days_per_week=5,
                    current=False,
                    created_at=clock.now(),
                )
            )
    await session.flush()


def _row(
    person_id: int,
    course_id: int,
    term_id: int,
    credits: Decimal,
    assessment: str,
    score: Decimal,
    attempt: str,
    published: Any,
) -> dict[str, Any]:
    if assessment == "check":  # 考查: a five-level grade
        level = next((lv for floor, lv in FIVE.items() if score >= floor - 5), "fail")
        scale, kept = "five_level", None
    else:
        level, scale, kept = scales.level_of_score(score), "percentage", score
    passed = scales.passed_of(scale, kept, level, "")
    return {
        "person_id": person_id,
        "course_id": course_id,
        "term_id": term_id,
        "section_id": None,
        "sheet_id": None,
        "credits": credits,
        "scale": scale,
        "score": kept,
        "level": level,
        "special": "",
        "grade_point": scales.points(scales.DEFAULT_POLICY, scales.DEFAULT_SCALE, kept, level)
        or Decimal(0),
        "passed": passed,
        "attempt": attempt,
        "published_at": published,
    }
