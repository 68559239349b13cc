"""Rows of the academic tables made directly by a test, for the tests that need a small term of
their own before the module's own screens could make one: a term with its grid of periods and
its holidays, a building with rooms, courses, and sections with their teachers and classes.

Plain functions of an open session: keyword overrides replace any column's default, and each
function flushes, so the rows come back with their ids. ``create_class`` is the exception: an
administrative class belongs to the users module, so it is made through its API. Last,
``count_rows`` counts rows, to prove that a refusal wrote nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.grades.models import CourseResult
from campus.domains.academic.offering.models import Section, SectionClass, SectionTeacher
from campus.domains.academic.rooms.models import Building, Room
from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from tests.platform.users.conftest import unique

Row = TypeVar("Row")

# The blocks (大节) of a teaching day: two in the morning, two in the afternoon.
BLOCKS = {
    1: (time(8, 0), time(9, 40)),
    2: (time(10, 0), time(11, 40)),
    3: (time(14, 0), time(15, 40)),
    4: (time(16, 0), time(17, 40)),
}


async def _added(session: AsyncSession, row: Row) -> Row:
    session.add(row)
    await session.flush()
    return row


async def add_term(session: AsyncSession, **overrides: Any) -> Term:
    """An autumn term from Monday 2026-09-07: 16 teaching weeks of 5 days, exams in 17–18."""
    values: dict[str, Any] = {
        "code": unique("T"),
        "name": "测试学期",
        "academic_year": 2026,
        "season": 1,
        "start_date": date(2026, 9, 7),
        "end_date": date(2027, 1, 15),
        "teaching_weeks": 16,
        "exam_week_from": 17,
        "exam_week_to": 18,
        "days_per_week": 5,
        "current": False,
        "created_at": clock.now(),
    }
    return await _added(session, Term(**{**values, **overrides}))


async def add_grid(
    session: AsyncSession, term_id: int, *, blocks: int = 4, split: bool = False
) -> list[Period]:
    """The periods (节) of the day's first ``blocks`` blocks, numbered from 1: one period a
    block, or with ``split`` two of 45 minutes each (8:00–8:45 and 8:55–9:40)."""
    periods: list[Period] = []
    for block in range(1, blocks + 1):
        starts, ends = BLOCKS[block]
        spans = [(starts, time(starts.hour, 45)), (time(starts.hour, 55), ends)]
        for begin, end in spans if split else [(starts, ends)]:
            periods.append(
                Period(
                    term_id=term_id,
                    number=len(periods) + 1,
                    block=block,
                    starts=begin,
                    ends=end,
                    part="morning" if block < 3 else "afternoon",
                )
            )
    session.add_all(periods)
    await session.flush()
    return periods


async def add_holiday(
    session: AsyncSession, term_id: int, day: date, name: str = "测试假日"
) -> TermDay:
    return await _added(session, TermDay(term_id=term_id, day=day, kind="holiday", name=name))


async def add_building(session: AsyncSession, **overrides: Any) -> Building:
    values: dict[str, Any] = {
        "code": unique("B"),
        "name": "测试楼",
        "campus": "主校区",
        "sort_order": 0,
    }
    return await _added(session, Building(**{**values, **overrides}))


async def add_room(session: AsyncSession, building_id: int, **overrides: Any) -> Room:
    """A multimedia room of 60 seats, 30 of them for exams."""
    values: dict[str, Any] = {
        "code": unique("R"),
        "name": "测试教室",
        "building_id": building_id,
        "floor": 1,
        "room_type": "multimedia",
        "capacity": 60,
        "exam_capacity": 30,
        "active": True,
    }
    return await _added(session, Room(**{**values, **overrides}))


async def add_rooms(
    session: AsyncSession,
    building_id: int,
    count: int,
    *,
    name: str = "教室",
    code: str | None = None,
    **overrides: Any,
) -> list[Room]:
    """``count`` rooms alike, named ``name`` + 0, 1…; their codes ``code`` + 0, 1… (else
    unique ones)."""
    return [
        await add_room(
            session,
            building_id,
            name=f"{name}{i}",
            code=f"{code}{i}" if code is not None else unique("R"),
            **overrides,
        )
        for i in range(count)
    ]


async def add_course(session: AsyncSession, *, org_unit_id: int, **overrides: Any) -> Course:
    """A course of 3 credits and 48 lecture hours assessed by exam (its English name its name)."""
    now = clock.now()
    values: dict[str, Any] = {
        "code": unique("K"),
        "name": "测试课程",
        "credits": Decimal("3"),
        "lecture_hours": 48,
        "assessment": "exam",
        "org_unit_id": org_unit_id,
        "created_at": now,
        "updated_at": now,
        **overrides,
    }
    values.setdefault("name_en", values["name"])
    return await _added(session, Course(**values))


async def add_section(
    session: AsyncSession,
    *,
    term_id: int,
    course_id: int,
    org_unit_id: int,
    teacher_id: int | None = None,
    class_ids: Iterable[int] = (),
    **overrides: Any,
) -> Section:
    """An open section of 50 seats, two lectures a week on two days in weeks 1–16 in a
    multimedia room; ``teacher_id`` its main teacher, ``class_ids`` the classes taught."""
    now = clock.now()
    values: dict[str, Any] = {
        "term_id": term_id,
        "course_id": course_id,
        "code": unique("S"),
        "name": "测试教学班",
        "org_unit_id": org_unit_id,
        "capacity": 50,
        "lectures_per_week": 2,
        "week_from": 1,
        "week_to": 16,
        "week_parity": "all",
        "room_type": "multimedia",
        "status": "open",
        "note": "",
        "created_at": now,
        "updated_at": now,
        **overrides,
    }
    values.setdefault("min_days", values["lectures_per_week"])
    section = await _added(session, Section(**values))
    if teacher_id is not None:
        session.add(SectionTeacher(section_id=section.id, person_id=teacher_id, main=True))
    session.add_all(SectionClass(section_id=section.id, class_id=c) for c in class_ids)
    await session.flush()
    return section


async def create_class(admin: httpx.AsyncClient, major_id: int, grade: int, name: str) -> int:
    """An administrative class of the major, made through the users API; its id."""
    response = await admin.post(
        "/api/v1/users/classes",
        json={"code": unique("C"), "name": name, "org_unit_id": major_id, "grade": grade},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


# The audit log but for audited refusals (written outside the refused request's transaction).
AUDITED = (AuditEntry, AuditEntry.action != "access.denied")


def by_table(*models: Any) -> dict[str, Any]:
    """Entries of ``count_rows`` for these models, named by their tables."""
    return {model.__tablename__: model for model in models}


async def count_rows(db: Runtime, counted: Mapping[str, Any]) -> dict[str, int]:
    """How many rows each entry of ``counted`` finds: a model, or a tuple of a model and the
    conditions its rows meet."""
    found: dict[str, int] = {}
    async with db.db.read() as session:
        for name, what in counted.items():
            model, *where = what if isinstance(what, tuple) else (what,)
            stmt = select(func.count()).select_from(model).where(*where)
            found[name] = int(await session.scalar(stmt) or 0)
    return found


async def add_result(
    session: AsyncSession,
    person_id: int,
    course: Course,
    term_id: int,
    *,
    score: Decimal | None = Decimal(85),
    level: str = "",
    passed: bool = True,
    attempt: str = "normal",
) -> CourseResult:
    """A published course result (as the grades part writes on publishing a sheet); a level
    without a score is a five-level result."""
    return await _added(
        session,
        CourseResult(
            person_id=person_id,
            course_id=course.id,
            term_id=term_id,
            credits=course.credits,
            scale="percentage" if score is not None else "five_level",
            score=score,
            level=level,
            special="",
            grade_point=Decimal(0),
            passed=passed,
            attempt=attempt,
            published_at=clock.now(),
        ),
    )
