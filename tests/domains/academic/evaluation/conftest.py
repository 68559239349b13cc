"""Fixtures of the teaching evaluation tests: a term of their own with sections of college A
(two taught to class A by one teacher, one elective a student holds a seat in, one they only
wait for) and one of college B; an evaluation office (a role with the evaluation codes,
campus-wide), a reader of college B only, the teacher, and students of class A signed in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from campus.domains.academic.permissions import EVALUATION_MANAGE, EVALUATION_READ
from campus.domains.academic.selection.models import Enrollment
from campus.domains.academic.status.models import StudentStatus
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.access import actions as access_actions
from campus.platform.access.scopes import ScopeKind
from tests.domains.academic import factories
from tests.platform.access.conftest import SignIn, Tree, staff_in, student_in

API = "/api/v1/academic/evaluation"
ITEMS = [
    {"dimension": "教学态度", "text": "备课充分，讲课认真"},
    {"dimension": "教学内容", "text": "内容充实，重点突出"},
    {"dimension": "教学效果", "text": "收获很大"},
]


@dataclass
class World:
    term_id: int
    sections: dict[str, int]  # s1, s2 (class A), elective (a seat), waiting (waitlisted), b
    teacher: httpx.AsyncClient
    teacher_id: int
    class_id: int


@pytest.fixture
async def world(db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> World:
    teacher = await staff_in(admin, tree, tree.college_a)
    async with db.db.transaction() as session:
        term = await factories.add_term(session, name="评教测试学期")
        sections: dict[str, int] = {}
        for name, college, classes in (
            ("s1", tree.college_a, [tree.class_a]),
            ("s2", tree.college_a, [tree.class_a]),
            ("elective", tree.college_a, []),
            ("waiting", tree.college_a, []),
            ("b", tree.college_b, []),
        ):
            course = await factories.add_course(session, org_unit_id=college, name=f"课{name}")
            section = await factories.add_section(
                session,
                term_id=term.id,
                course_id=course.id,
                org_unit_id=college,
                teacher_id=teacher["id"] if name in ("s1", "s2") else None,
                class_ids=classes,
                name=f"评教{name}班",
            )
            sections[name] = section.id
    client = await sign_in(teacher)
    return World(term.id, sections, client, int(teacher["id"]), tree.class_a)


async def _role(db: Runtime, code: str, codes: list[str]) -> None:
    async with db.db.transaction() as session:
        await access_actions.do_ensure_role(session, code, code, codes, builtin=False)


@pytest.fixture
async def office(
    db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> httpx.AsyncClient:
    """教务处's evaluation desk: both codes, campus-wide."""
    await _role(db, "test_eval_office", [EVALUATION_MANAGE, EVALUATION_READ])
    person = await staff_in(admin, tree, tree.college_a)
    return await sign_in(person, [("test_eval_office", ScopeKind.ALL, None)])


@pytest.fixture
async def reader_b(
    db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> httpx.AsyncClient:
    """A leader of college B: reads college B's completion and results only."""
    await _role(db, "test_eval_reader", [EVALUATION_READ])
    person = await staff_in(admin, tree, tree.college_b)
    return await sign_in(person, [("test_eval_reader", ScopeKind.SUBTREE, tree.college_b)])


Student = Callable[..., Awaitable[tuple[httpx.AsyncClient, int]]]


@pytest.fixture
async def student(
    db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, world: World
) -> Student:
    """``await student()``: a new student of class A in school, signed in, holding a seat of
    the elective and waiting for the other; their client and person id."""

    async def make(**overrides: Any) -> tuple[httpx.AsyncClient, int]:
        person = await student_in(admin, tree)
        now = clock.now()
        async with db.db.transaction() as session:
            session.add(
                StudentStatus(
                    **{
                        "person_id": person["id"],
                        "student_no": person["student_no"],
                        "name": person["name"],
                        "level": "undergraduate",
                        "college_id": tree.college_a,
                        "major_id": tree.major_a,
                        "class_id": tree.class_a,
                        "grade": 2024,
                        "enrolled_on": date(2024, 9, 1),
                        "expected_graduation": date(2028, 6, 30),
                        "years": 4,
                        "status": "在读",
                        "in_school": True,
                        "updated_at": now,
                        **overrides,
                    }
                )
            )
            for name, status in (("elective", "selected"), ("waiting", "waitlisted")):
                session.add(
                    Enrollment(
                        term_id=world.term_id,
                        section_id=world.sections[name],
                        course_id=0,
                        person_id=person["id"],
                        round_id=None,
                        status=status,
                        source="self",
                        credits=Decimal(2),
                        queued_at=now,
                        updated_at=now,
                    )
                )
        client = await sign_in(person)
        return client, int(person["id"])

    return make


def form_body(term_id: int, **overrides: Any) -> dict[str, Any]:
    now = clock.now()
    body: dict[str, Any] = {
        "term_id": term_id,
        "name": "测试学期学生评教",
        "opens_at": (now - timedelta(hours=1)).isoformat(),
        "closes_at": (now + timedelta(days=7)).isoformat(),
        "min_answers": 3,
        "items": ITEMS,
    }
    return {**body, **overrides}


async def publish(office: httpx.AsyncClient, term_id: int, **overrides: Any) -> dict[str, Any]:
    response = await office.post(f"{API}/forms", json=form_body(term_id, **overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def ballot(form: dict[str, Any], scores: list[int], comment: str = "") -> dict[str, Any]:
    return {
        "scores": {str(i["id"]): s for i, s in zip(form["items"], scores, strict=True)},
        "comment": comment,
    }


async def answer(
    client: httpx.AsyncClient,
    section_id: int,
    form: dict[str, Any],
    scores: list[int],
    comment: str = "",
) -> httpx.Response:
    return await client.post(f"{API}/sections/{section_id}", json=ballot(form, scores, comment))
