"""Fixtures of the course selection tests: a term of their own with sections of three courses
open to major A (two of them meeting at the same time), a first-come round open now, and
students of class A with status records, signed in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering.models import Section, SectionMajor
from campus.domains.academic.programmes.queries import current_term
from campus.domains.academic.selection.actions import seats_key
from campus.domains.academic.selection.models import Round
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.timetabling.models import PublishedLecture
from campus.entrypoints.http import build_runtime
from campus.kernel import clock
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import seed_all
from tests.domains.academic import factories
from tests.own_database import migrated_database
from tests.platform.access.conftest import SignIn, Tree, student_in
from tests.platform.users.conftest import id_number

API = "/api/v1/academic/selection"


@dataclass
class World:
    term_id: int
    round_id: int
    # sections by name: x1 (course X, 2 seats, Monday block 1), x2 (course X, Tuesday),
    # y (course Y, Monday block 1: clashes with x1), z (course Z, 1 seat, Wednesday)
    sections: dict[str, int]
    college_id: int
    major_id: int
    class_id: int
    other_major_id: int  # college B, standing in for one of its majors


async def _meets(session: Any, term_id: int, section_id: int, room_id: int, day: int) -> None:
    session.add(
        PublishedLecture(
            term_id=term_id,
            version=1,
            section_id=section_id,
            number=1,
            day=day,
            block=1,
            room_id=room_id,
        )
    )


@pytest.fixture
async def world(db: Runtime, tree: Tree) -> AsyncIterator[World]:
    async with db.db.transaction() as session:
        term = await factories.add_term(session)
        building = await factories.add_building(session)
        room = await factories.add_room(session, building.id)
        courses = {
            name: await factories.add_course(
                session, org_unit_id=tree.college_a, name=f"课程{name}", credits=Decimal(credits)
            )
            for name, credits in (("X", "3"), ("Y", "2"), ("Z", "2"))
        }
        plan = {"x1": ("X", 2, 0), "x2": ("X", 5, 1), "y": ("Y", 5, 0), "z": ("Z", 1, 2)}
        sections: dict[str, int] = {}
        for name, (course, capacity, day) in plan.items():
            section = await factories.add_section(
                session,
                term_id=term.id,
                course_id=courses[course].id,
                org_unit_id=tree.college_a,
                capacity=capacity,
                name=f"{course}（{name}）",
            )
            session.add(SectionMajor(section_id=section.id, org_unit_id=tree.major_a, grade=None))
            await _meets(session, term.id, section.id, room.id, day)
            sections[name] = section.id
        now = clock.now()
        found = Round(
            term_id=term.id,
            name="正选",
            kind="first_come",
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(hours=1),
            grades=[],
            major_ids=[],
            max_credits=Decimal("6"),
            waitlist=True,
            drop_allowed=True,
            created_at=now,
        )
        session.add(found)
        await session.flush()
        world = World(
            term.id,
            found.id,
            sections,
            tree.college_a,
            tree.major_a,
            tree.class_a,
            tree.college_b,
        )
    yield world
    # Section ids may come again in a later test (rolled back): forget their claim sets.
    for section_id in sections.values():
        await db.cache.cool(seats_key(section_id))


Student = Callable[..., Awaitable[tuple[httpx.AsyncClient, int]]]


@pytest.fixture
async def student(
    db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, world: World
) -> Student:
    """``await student(grade=2024, in_school=True, major_id=…)``: a new student of class A with
    a status record, signed in; their client and person id. A man, unless ``female``."""

    async def make(female: bool = False, **overrides: Any) -> tuple[httpx.AsyncClient, int]:
        woman = {"gender": "2", "id_number": id_number(male=False)} if female else {}
        person = await student_in(admin, tree, **woman)
        values: dict[str, Any] = {
            "person_id": person["id"],
            "student_no": person["student_no"],
            "name": person["name"],
            "level": "undergraduate",
            "college_id": world.college_id,
            "major_id": world.major_id,
            "class_id": world.class_id,
            "grade": 2024,
            "enrolled_on": date(2024, 9, 1),
            "expected_graduation": date(2028, 6, 30),
            "years": 4,
            "status": "在读",
            "in_school": True,
            "updated_at": clock.now(),
            **overrides,
        }
        async with db.db.transaction() as session:
            session.add(StudentStatus(**values))
        client = await sign_in(person)
        return client, int(person["id"])

    return make


def select_key() -> dict[str, str]:
    return {"Idempotency-Key": factories.unique("key-") + "-request"}


async def choose(client: httpx.AsyncClient, section_id: int, **headers: str) -> httpx.Response:
    return await client.post(f"{API}/sections/{section_id}/select", headers=headers or select_key())


async def few_seats(session: AsyncSession, seats: int, count: int) -> tuple[int, list[int]]:
    """In a database seeded with the demo: a section of ``seats`` seats with no lectures yet
    (so nothing clashes) open to the majors of the demo's first ``count`` students in school, and
    a first-come round open now. The section's id and the students'."""
    term = await current_term(session)
    assert term is not None
    now = clock.now()
    some_college = await session.scalar(select(StudentStatus.college_id).limit(1))
    assert some_college is not None
    course = Course(
        code=f"RUSH{uuid.uuid4().hex[:6]}",
        name="抢课测试",
        name_en="Rush",
        credits=Decimal(2),
        lecture_hours=32,
        assessment="exam",
        org_unit_id=some_college,
        created_at=now,
        updated_at=now,
    )
    session.add(course)
    await session.flush()
    section = Section(
        term_id=term.id,
        course_id=course.id,
        code=f"RUSH-{uuid.uuid4().hex[:8]}",
        name="抢课（01）",
        org_unit_id=some_college,
        capacity=seats,
        lectures_per_week=1,
        min_days=1,
        week_from=1,
        week_to=16,
        week_parity="all",
        room_type="multimedia",
        status="open",
        note="",
        created_at=now,
        updated_at=now,
    )
    session.add(section)
    session.add(
        Round(
            term_id=term.id,
            name="正选",
            kind="first_come",
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(hours=3),
            grades=[],
            major_ids=[],
            max_credits=Decimal(40),
            waitlist=True,
            drop_allowed=True,
            created_at=now,
        )
    )
    await session.flush()
    chosen = list(
        await session.execute(
            select(StudentStatus.person_id, StudentStatus.major_id)
            .where(StudentStatus.in_school.is_(True))
            .order_by(StudentStatus.id)
            .limit(count)
        )
    )
    session.add_all(
        SectionMajor(section_id=section.id, org_unit_id=major, grade=None)
        for major in {major for _, major in chosen}
    )
    await session.flush()
    return section.id, [person_id for person_id, _ in chosen]


@pytest.fixture(scope="package")
async def seeded_settings(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Settings of a database of the package's own, migrated and seeded with the demo once, for
    the tests whose requests must really commit (the rush, the crash); each makes its own
    section there."""
    url = await migrated_database("acad_selection", tmp_path_factory.mktemp("acad_selection"))
    own = settings.model_copy(update={"database_url": url})
    seeding = build_runtime(own)
    try:
        await seed_all(seeding, "small", 2026)
    finally:
        await seeding.close()
        # The kernel serves one runtime per process; give the other tests theirs back.
        runtime_module.set_current(runtime)
    return own
