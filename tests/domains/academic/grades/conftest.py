"""Fixtures of the grade tests: a term of the test's own with a course of college A and a
section taught by a teacher to class A (three students), a teacher of no section, reviewers
of college A and college B (``academic.grade.review`` scoped to their college) and the
registrar publishing campus-wide (``academic.grade.publish``), each signed in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from campus.domains.academic.grades import models
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.domains.academic import factories
from tests.domains.academic.conftest import HTML
from tests.platform.access.conftest import SignIn, Tree, staff_in, student_in

__all__ = ["API", "HTML", "School", "change_policy", "grade_counts"]

API = "/api/v1/academic/grades"


@dataclass
class School:
    tree: Tree
    term_id: int
    course_id: int
    section_id: int
    other_section_id: int  # of college B, taught by someone else
    teacher: httpx.AsyncClient
    stranger: httpx.AsyncClient  # a teacher of no section here
    reviewer: httpx.AsyncClient  # college A
    reviewer_b: httpx.AsyncClient  # college B
    registrar: httpx.AsyncClient  # publishes campus-wide
    students: list[dict[str, Any]]
    student: httpx.AsyncClient  # the first student
    teacher_id: int = 0


async def make_role(admin: httpx.AsyncClient, name: str, codes: list[str]) -> str:
    code = f"{name}_{uuid.uuid4().hex[:8]}"
    response = await admin.post(
        "/api/v1/access/roles", json={"code": code, "name": code, "permissions": codes}
    )
    assert response.status_code == 201, response.text
    return code


@pytest.fixture
async def school(db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> School:
    review = await make_role(admin, "grade_review", ["academic.grade.review"])
    publish = await make_role(admin, "grade_publish", ["academic.grade.publish"])
    teacher = await staff_in(admin, tree, tree.college_a)
    other_teacher = await staff_in(admin, tree, tree.college_b)
    students = [await student_in(admin, tree, name=name) for name in ("赵一", "钱二", "孙三")]
    async with db.db.transaction() as session:
        term = await factories.add_term(session)
        course = await factories.add_course(
            session, org_unit_id=tree.college_a, name="数据结构", credits=Decimal(3)
        )
        course_b = await factories.add_course(session, org_unit_id=tree.college_b, name="乙课")
        section = await factories.add_section(
            session,
            term_id=term.id,
            course_id=course.id,
            org_unit_id=tree.college_a,
            teacher_id=teacher["id"],
            class_ids=[tree.class_a],
            name="数据结构（01班）",
        )
        other = await factories.add_section(
            session,
            term_id=term.id,
            course_id=course_b.id,
            org_unit_id=tree.college_b,
            teacher_id=other_teacher["id"],
        )
    return School(
        tree=tree,
        term_id=term.id,
        course_id=course.id,
        section_id=section.id,
        other_section_id=other.id,
        teacher=await sign_in(teacher),
        stranger=await sign_in(other_teacher),
        reviewer=await sign_in(
            await staff_in(admin, tree, tree.college_a),
            [(review, ScopeKind.SUBTREE, tree.college_a)],
        ),
        reviewer_b=await sign_in(
            await staff_in(admin, tree, tree.college_b),
            [(review, ScopeKind.SUBTREE, tree.college_b)],
        ),
        registrar=await sign_in(
            await staff_in(admin, tree, tree.college_a), [(publish, ScopeKind.ALL, None)]
        ),
        students=students,
        student=await sign_in(students[0]),
        teacher_id=teacher["id"],
    )


async def grade_counts(db: Runtime) -> dict[str, int]:
    return await factories.count_rows(
        db,
        factories.by_table(models.GradeSheet, models.GradeEntry, models.CourseResult),
    )


SETUP = {
    "scale": "percentage",
    "components": [
        {"name": "平时", "weight": 30},
        {"name": "期中", "weight": 20},
        {"name": "期末", "weight": 50},
    ],
}


async def set_up(school: School, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await school.teacher.put(
        f"{API}/sections/{school.section_id}/setup", json=body or SETUP
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def enter_all(
    school: School, marks: list[tuple[Any, Any, Any]] | None = None
) -> dict[str, Any]:
    """Marks for the three students (平时, 期中, 期末), default 80/70/90, 60/50/55, 95/100/98."""
    marks = marks or [(80, 70, 90), (60, 50, 55), (95, 100, 98)]
    entries = [
        {"person_id": s["id"], "marks": {"c1": a, "c2": b, "c3": c}}
        for s, (a, b, c) in zip(school.students, marks, strict=True)
    ]
    response = await school.teacher.put(
        f"{API}/sections/{school.section_id}/entries", json={"entries": entries}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def change_policy(school: School, **changes: Any) -> dict[str, Any]:
    """The registrar changes the grade policy through the API: the policy in force with
    ``changes`` (top-level fields; ``scales`` replaced whole)."""
    current = (await school.registrar.get(f"{API}/policy")).json()
    response = await school.registrar.put(f"{API}/policy", json={**current, **changes})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def publish(school: School, section_id: int | None = None) -> None:
    base = f"{API}/sections/{section_id or school.section_id}"
    for client, step in (
        (school.teacher, "submit"),
        (school.reviewer, "review"),
        (school.registrar, "publish"),
    ):
        response = await client.post(f"{base}/{step}")
        assert response.status_code == 200, (step, response.text)
