"""A correction after publication (成绩更正) goes through the workflow engine: the teacher
files it, the registrar approves it from their to-do list, and only then does the student's
result change; a rejection leaves it as it was. Refused: before publication, out of scale,
a second open correction of the same result, someone else's section."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.domains.academic.grades.handlers import HANDLERS
from campus.domains.academic.grades.models import CourseResult
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests import approvals
from tests.approvals import People
from tests.domains.academic.grades.conftest import API, HTML, School, enter_all, publish, set_up
from tests.platform.access.conftest import (
    SignIn,
    assert_problem,
    audit_of,
    outbox_events,
    staff_in,
)

decide_all = partial(approvals.decide_all, handlers=HANDLERS, comment="核对无误")


@pytest.fixture
async def people(app: Any, db: Runtime) -> AsyncIterator[People]:
    found = People(app, db, "Grades@2026pw")
    yield found
    await found.aclose()


@pytest.fixture
async def approver(admin: httpx.AsyncClient, school: School, sign_in: SignIn) -> httpx.AsyncClient:
    """Someone holding the registrar role, who gets the correction's approval task."""
    person = await staff_in(admin, school.tree, school.tree.college_a)
    return await sign_in(person, [("registrar", ScopeKind.ALL, None)])


async def result_of(db: Runtime, school: School, person_id: int) -> tuple[Any, ...]:
    async with db.db.read() as session:
        found = await session.scalar(
            select(CourseResult).where(
                CourseResult.section_id == school.section_id, CourseResult.person_id == person_id
            )
        )
        assert found is not None
        return found.score, found.passed, found.grade_point


async def test_a_correction_changes_the_result_only_when_approved(
    db: Runtime, school: School, people: People, approver: httpx.AsyncClient
) -> None:
    url = f"{API}/sections/{school.section_id}/corrections"
    failing = school.students[1]["id"]  # 55.5
    body = {"person_id": failing, "score": "61", "reason": "期末试卷漏计一题"}
    assert_problem(await school.teacher.post(url, json=body), 409, "state")  # not published yet
    await set_up(school)
    await enter_all(school)
    await publish(school)
    for bad, field in (
        ({"score": "101"}, "score"),
        ({"score": "55.5"}, "score"),
        ({"person_id": 1}, "person_id"),
    ):
        assert_problem(await school.teacher.post(url, json={**body, **bad}), 422, field)
    assert_problem(await school.stranger.post(url, json=body), 404)
    response = await school.teacher.post(url, json=body)
    assert response.status_code == 201, response.text
    correction = response.json()
    assert correction["state"] == "pending" and correction["before"]["score"] == "55.5"
    assert_problem(await school.teacher.post(url, json={**body, "score": "62"}), 409, "person_id")
    assert await result_of(db, school, failing) == (Decimal("55.5"), False, Decimal(0))
    steps = await decide_all(db, people, correction["instance_id"])
    assert steps == ["approved"]
    assert await result_of(db, school, failing) == (Decimal("61.0"), True, Decimal("1.0"))
    [found] = (await school.teacher.get(url)).json()
    assert found["state"] == "approved"
    sheet = (await school.teacher.get(f"{API}/sections/{school.section_id}")).json()
    entry = next(e for e in sheet["entries"] if e["person_id"] == failing)
    assert Decimal(entry["total"]) == Decimal("61.0")
    assert [a["after"]["correction_id"] for a in await audit_of(db, "academic.grade.correct")][
        -1
    ] == correction["id"]
    corrected = await outbox_events(db, "academic.grades.corrected")
    assert corrected[-1].payload["person_id"] == failing
    # A second correction of the same result, rejected: nothing changes.
    response = await school.teacher.post(url, json={**body, "score": "99"})
    assert response.status_code == 201, response.text
    steps = await decide_all(db, people, response.json()["instance_id"], "reject")
    assert await result_of(db, school, failing) == (Decimal("61.0"), True, Decimal("1.0"))
    states = [c["state"] for c in (await school.teacher.get(url)).json()]
    assert states == ["rejected", "approved"]


async def test_the_sheet_page_files_a_correction(school: School) -> None:
    await set_up(school)
    await enter_all(school)
    await publish(school)
    page_url = f"/academic/grades/sections/{school.section_id}"
    page = await school.teacher.get(page_url, headers=HTML)
    assert 'data-testid="correction-form"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    form = {
        "csrf_token": token.group(1),
        "person_id": str(school.students[0]["id"]),
        "score": "88",
        "reason": "平时成绩登记有误",
    }
    response = await school.teacher.post(f"{page_url}/corrections", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    page = await school.teacher.get(page_url, headers=HTML)
    assert page.text.count('data-testid="correction-row"') == 1 and "审批中" in page.text
    response = await school.teacher.post(
        f"{page_url}/corrections", data={**form, "score": "150"}, headers=HTML
    )
    assert response.status_code == 303  # back to the page with the refusal
    page = await school.teacher.get(page_url, headers=HTML)
    assert "须在 0–100 之间" in page.text
