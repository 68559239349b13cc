"""The demo university (``campus seed``): realistic, consistent and deterministic.

Most checks read the session's seeded small university; the determinism checks seed the user
center into fresh SQLite files of their own.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from campus.entrypoints.http import build_runtime
from campus.kernel import migrate
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import DemoLogin, SeedContext
from campus.platform.auth.seed import INITIAL_PASSWORD
from campus.platform.users import idcard
from campus.platform.users import seed as users_seed
from campus.platform.users.demo_data import COLLEGES, MOBILE_PREFIXES, REGIONS
from campus.platform.users.models import AdminClass, Identity, OrgUnit, Person, Position
from tests.conftest import LoginAs

DEMO_ROLES = ("admin", "user_admin", "staff", "teacher", "counselor", "student")
DISCIPLINE_CODE = re.compile(r"^\d{6}[KT]?$")


async def _rows(runtime: Runtime, model: Any, *exclude: str) -> list[dict[str, Any]]:
    columns = [c for c in model.__table__.columns if c.name not in exclude]
    async with runtime.db.read() as session:
        result = await session.execute(select(*columns).order_by(model.id))
        return [dict(row._mapping) for row in result]


# --- the plan, at every scale (no database) ---------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "low", "high"),
    [("small", 2_000, 2_700), ("medium", 18_000, 23_000), ("large", 55_000, 66_000)],
)
def test_every_scale_plans_classes_of_30_to_40(scale: str, low: int, high: int) -> None:
    plans = users_seed.plan_classes(users_seed.SCALES[scale], 2026, random.Random(1))
    assert all(30 <= plan.size <= 40 for plan in plans)
    assert low <= sum(plan.size for plan in plans) <= high
    assert len({plan.code for plan in plans}) == len(plans)
    majors_with_students = {plan.major.code for plan in plans if not plan.postgraduate}
    assert majors_with_students == {m.code for c in COLLEGES for m in c.majors}
    assert any(plan.postgraduate for plan in plans)
    undergraduate_grades = {plan.grade for plan in plans if not plan.postgraduate}
    assert {2023, 2024, 2025, 2026} <= undergraduate_grades


def test_catalogue_has_12_colleges_and_60_majors_with_real_codes() -> None:
    majors = [m for c in COLLEGES for m in c.majors]
    assert len(COLLEGES) >= 12
    assert len(majors) >= 60
    assert len({m.code for m in majors}) == len(majors)
    assert all(DISCIPLINE_CODE.match(m.code) for m in majors)
    names = {m.code: m.name for m in majors}
    assert names["080901"] == "计算机科学与技术"
    assert names["080902"] == "软件工程"
    assert names["020301K"] == "金融学"


def test_academic_year_starts_in_september() -> None:
    assert users_seed.academic_year(date(2026, 8, 31)) == 2025
    assert users_seed.academic_year(date(2026, 9, 1)) == 2026


# --- the seeded small university ----------------------------------------------------------------


async def test_university_has_colleges_majors_and_offices(db: Runtime) -> None:
    units = await _rows(db, OrgUnit)
    kinds = Counter(unit["kind"] for unit in units)
    assert kinds["university"] == 1
    assert kinds["college"] >= 12
    assert kinds["major"] >= 60
    names = {unit["name"] for unit in units if unit["kind"] == "office"}
    assert {"教务处", "学生工作处", "财务处", "后勤保障处", "保卫处", "图书馆"} <= names
    paths = {unit["id"]: unit["path"] for unit in units}
    for unit in units:
        parent = unit["parent_id"]
        assert unit["path"] == ("/" if parent is None else paths[parent]) + f"{unit['id']}/"
    majors = [unit for unit in units if unit["kind"] == "major"]
    assert all(DISCIPLINE_CODE.match(unit["discipline_code"]) for unit in majors)


async def test_every_identity_number_is_well_formed_and_agrees(db: Runtime) -> None:
    async with db.db.read() as session:
        rows = (
            await session.execute(
                select(Person.id_number, Person.gender, Person.birth_date, Person.native_place)
            )
        ).all()
    assert len(rows) > 2_000
    for number, gender, born, native_place in rows:
        assert number is not None
        assert idcard.problem_with(number) is None, number
        assert idcard.gender_of(number) == gender
        assert idcard.birth_date_of(number) == born
        assert number[:6] == native_place
        assert native_place in REGIONS


async def test_numbers_phones_and_emails_are_unique(db: Runtime) -> None:
    async with db.db.read() as session:
        numbers = list(await session.scalars(select(Identity.value)))
        people = (await session.execute(select(Person.phone, Person.email))).all()
        persons = await session.scalar(select(func.count(Person.id)))
    assert len(numbers) == len(set(numbers)) == persons
    phones = [phone for phone, _ in people]
    emails = [email for _, email in people]
    assert len(set(phones)) == len(phones)
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"1[3-9]\d{9}", p) and p[:3] in MOBILE_PREFIXES for p in phones)


async def test_classes_hold_30_to_40_students_of_their_major(db: Runtime) -> None:
    async with db.db.read() as session:
        sizes = (
            await session.execute(
                select(AdminClass.id, func.count(Person.id))
                .outerjoin(Person, Person.class_id == AdminClass.id)
                .group_by(AdminClass.id)
            )
        ).all()
        mismatched = await session.scalar(
            select(func.count(Person.id))
            .join(AdminClass, AdminClass.id == Person.class_id)
            .where(Person.org_unit_id != AdminClass.org_unit_id)
        )
    assert sizes
    assert all(30 <= size <= 40 for _, size in sizes)
    assert mismatched == 0


async def test_students_numbers_and_ages_follow_their_grade(db: Runtime) -> None:
    async with db.db.read() as session:
        rows = (
            await session.execute(
                select(Person.person_type, Person.birth_date, AdminClass.grade, Identity.value)
                .join(AdminClass, AdminClass.id == Person.class_id)
                .join(Identity, Identity.person_id == Person.id)
            )
        ).all()
    assert {row[0] for row in rows} == {"undergraduate", "postgraduate"}
    for person_type, born, grade, number in rows:
        assert number.startswith(str(grade))
        age = (date(grade, 9, 1) - born).days / 365.25
        assert (16.9 < age < 20.1) if person_type == "undergraduate" else (21.2 < age < 28.1)


async def test_posts_deans_heads_and_a_counselor_for_every_class(db: Runtime) -> None:
    async with db.db.read() as session:
        kinds = {
            kind: count
            for kind, count in await session.execute(
                select(Position.kind, func.count(Position.id)).group_by(Position.kind)
            )
        }
        classes = await session.scalar(select(func.count(AdminClass.id)))
        counselled = await session.scalar(
            select(func.count(func.distinct(Position.class_id))).where(Position.kind == "counselor")
        )
        counselors = await session.scalar(
            select(func.count(func.distinct(Position.person_id))).where(
                Position.kind == "counselor"
            )
        )
        dean_types = set(
            await session.scalars(
                select(Person.person_type)
                .join(Position, Position.person_id == Person.id)
                .where(Position.kind == "dean")
            )
        )
    assert kinds["dean"] == len(COLLEGES)
    assert kinds["head"] >= 10
    assert kinds["counselor"] == classes == counselled
    assert 1 < counselors < classes  # one counselor looks after a group of classes
    assert dean_types == {"faculty"}


# --- demo logins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", DEMO_ROLES)
async def test_every_demo_login_signs_in(role: str, login_as: LoginAs, demo: SeedContext) -> None:
    login = next(x for x in demo.logins if x.role == role)
    client = await login_as(role)
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["login"] == login.login
    assert response.json()["name"] == login.name


async def test_demo_logins_are_real_people_of_their_kind(db: Runtime, demo: SeedContext) -> None:
    assert {x.role for x in demo.logins} == set(DEMO_ROLES)
    assert ("A0001", "Admin@2026") in {(x.login, x.password) for x in demo.logins}
    expected = {
        "admin": "staff",
        "user_admin": "staff",
        "staff": "staff",
        "teacher": "faculty",
        "counselor": "staff",
        "student": "undergraduate",
    }
    async with db.db.read() as session:
        for login in demo.logins:
            person = (
                await session.execute(
                    select(Person.name, Person.person_type, Person.class_id)
                    .join(Identity, Identity.person_id == Person.id)
                    .where(Identity.value == login.login)
                )
            ).one()
            assert person.name == login.name
            assert person.person_type == expected[login.role]
        student_class = await _class_of(session, _login(demo, "student"))
        counselor_classes = set(
            await session.scalars(
                select(Position.class_id)
                .join(Identity, Identity.person_id == Position.person_id)
                .where(Identity.value == _login(demo, "counselor").login)
            )
        )
    assert student_class in counselor_classes


def _login(demo: SeedContext, role: str) -> DemoLogin:
    return next(x for x in demo.logins if x.role == role)


async def _class_of(session: Any, login: DemoLogin) -> int | None:
    return await session.scalar(
        select(Person.class_id)
        .join(Identity, Identity.person_id == Person.id)
        .where(Identity.value == login.login)
    )


async def test_other_people_sign_in_with_the_initial_password(
    anon: Any, db: Runtime, demo: SeedContext
) -> None:
    demo_numbers = {x.login for x in demo.logins}
    async with db.db.read() as session:
        numbers = await session.scalars(
            select(Identity.value).where(Identity.kind == "student_no").order_by(Identity.id)
        )
        someone = next(n for n in numbers if n not in demo_numbers)
    response = await anon.post(
        "/api/v1/auth/login", json={"login": someone, "password": INITIAL_PASSWORD}
    )
    assert response.status_code == 200
    wrong = await anon.post(
        "/api/v1/auth/login", json={"login": someone, "password": "Student@2026"}
    )
    assert wrong.status_code == 401


# --- determinism, on fresh files ---------------------------------------------------------------

Snapshot = dict[str, Any]


async def _seed_users_into_fresh_file(path: Path, seed: int) -> Snapshot:
    """Only the user center's seed: it owns every row compared here, and stays fast."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate.upgrade, url)
    runtime = build_runtime(
        Settings(database_url=url, environment="test", log_level="WARNING", relay_in_process=False)
    )
    try:
        ctx = SeedContext(runtime=runtime, scale="small", seed=seed)
        await users_seed.seed(ctx)
        stamps = ("created_at", "updated_at")
        return {
            "people": await _rows(runtime, Person, *stamps),
            "identities": await _rows(runtime, Identity),
            "units": await _rows(runtime, OrgUnit),
            "classes": await _rows(runtime, AdminClass),
            "positions": await _rows(runtime, Position, *stamps),
            "logins": ctx.logins,
        }
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
async def fresh_seeds(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[list[Snapshot]]:
    """Seeds 7, 7 (with the global random state disturbed in between) and 8."""
    tmp = tmp_path_factory.mktemp("seeds")
    first = await _seed_users_into_fresh_file(tmp / "a.db", 7)
    random.seed(99)  # the seed must not depend on the process's global random state
    random.random()
    second = await _seed_users_into_fresh_file(tmp / "b.db", 7)
    other = await _seed_users_into_fresh_file(tmp / "c.db", 8)
    yield [first, second, other]


async def test_same_seed_gives_the_same_university(fresh_seeds: list[Snapshot]) -> None:
    first, second, _ = fresh_seeds
    assert len(first["people"]) > 2_000
    for table in ("people", "identities", "units", "classes", "positions", "logins"):
        assert first[table] == second[table], table


async def test_another_seed_gives_other_people(fresh_seeds: list[Snapshot]) -> None:
    first, _, other = fresh_seeds
    assert first["units"] == other["units"]  # the colleges and majors are the catalogue
    assert first["people"] != other["people"]
    names = [row["name"] for row in first["people"]]
    assert names != [row["name"] for row in other["people"]]
    id_numbers = {row["id_number"] for row in first["people"]}
    assert len(id_numbers & {row["id_number"] for row in other["people"]}) < len(id_numbers) // 10
