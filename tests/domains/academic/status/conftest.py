"""Fixtures of the student status tests: the permission center's test tree with a later class
of major A and a second major (with a class) in college B, students with status records opened
by the registrar, clients signed in as anyone, and the workflow driven to its outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.domains.academic.status import models
from campus.domains.academic.status.handlers import HANDLERS
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests import approvals
from tests.approvals import WORKFLOW, Clients, People, open_tasks, outcome_events
from tests.conftest import LoginAs
from tests.domains.academic import factories
from tests.domains.academic.conftest import HTML
from tests.platform.access.conftest import SignIn, Tree, assert_problem, student_in
from tests.platform.users.conftest import create_org

__all__ = [
    "HTML",
    "WORKFLOW",
    "Clients",
    "SignIn",
    "Tree",
    "assert_problem",
    "open_tasks",
    "outcome_events",
    "student_in",
]

API = "/api/v1/academic/status"
PASSWORD = "Status@2026pw"


@dataclass(frozen=True)
class Places:
    """The test tree, plus class_a2 (major A, a later cohort) and major B with class_b."""

    tree: Tree
    class_a2: int
    major_b: int
    class_b: int


@pytest.fixture
async def places(admin: httpx.AsyncClient, tree: Tree) -> Places:
    class_a2 = await factories.create_class(admin, tree.major_a, 2025, "甲2501班")
    major_b = await create_org(
        admin, name="乙专业", kind="major", parent_id=tree.college_b, discipline_code="080902"
    )
    class_b = await factories.create_class(admin, major_b["id"], 2024, "乙2401班")
    return Places(tree, class_a2, major_b["id"], class_b)


@pytest.fixture
async def registrar(login_as: LoginAs) -> httpx.AsyncClient:
    """The demo "staff" login, who holds the registrar (教务处) role campus-wide."""
    return await login_as("staff")


async def open_record(registrar: httpx.AsyncClient, person_id: int) -> dict[str, Any]:
    response = await registrar.post(f"{API}/records", json={"person_id": person_id})
    assert response.status_code == 201, response.text
    return dict(response.json())


Enrolled = Callable[..., Awaitable[tuple[httpx.AsyncClient, dict[str, Any]]]]


@pytest.fixture
async def enrolled(
    admin: httpx.AsyncClient, tree: Tree, registrar: httpx.AsyncClient, sign_in: SignIn
) -> Enrolled:
    """``await enrolled()``: a new student of class A with a record, and their client."""

    async def make(**overrides: Any) -> tuple[httpx.AsyncClient, dict[str, Any]]:
        person = await student_in(admin, tree, **overrides)
        await open_record(registrar, person["id"])
        return await sign_in(person), person

    return make


@pytest.fixture
async def as_person(app, db: Runtime, login_as: LoginAs) -> AsyncIterator[Clients]:  # type: ignore[no-untyped-def]
    """``await as_person(person_id)``: a client signed in as anyone."""
    people = People(app, db, PASSWORD)
    yield people
    await people.aclose()


# The module's handlers get the outcomes; a refusal gives its reason.
deliver_outcomes = partial(approvals.deliver_outcomes, handlers=HANDLERS)
decide_all = partial(approvals.decide_all, handlers=HANDLERS, comment="材料不全，不同意")


async def record(client: httpx.AsyncClient, person_id: int) -> dict[str, Any]:
    response = await client.get(f"{API}/records/{person_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def file(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    body.setdefault("reason", "个人原因，特此申请")
    return await client.post(f"{API}/changes", json=body)


async def filed(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await file(client, **body)
    assert response.status_code == 201, response.text
    return dict(response.json())


Approved = Callable[..., Awaitable[tuple[dict[str, Any], list[str]]]]


@pytest.fixture
def approved(db: Runtime, as_person: Clients) -> Approved:
    """``await approved(client, **body)``: a change filed by ``client`` and approved at every
    step, its outcome handled; the change as filed and the steps decided."""

    async def file_and_approve(
        client: httpx.AsyncClient, **body: Any
    ) -> tuple[dict[str, Any], list[str]]:
        change = await filed(client, **body)
        steps = await decide_all(db, as_person, change["instance_id"])
        assert steps and steps[-1] == "approved", steps
        return change, steps

    return file_and_approve


async def status_counts(db: Runtime) -> dict[str, int]:
    """Rows of the module's tables, the outbox and the audit log (refusals write none)."""
    tables = factories.by_table(
        models.StudentStatus, models.StatusChange, models.StatusHistory, models.GraduationBatch
    )
    return await factories.count_rows(
        db, {**tables, "outbox": OutboxRow, "audit": factories.AUDITED}
    )


async def changed_events(db: Runtime, person_id: int) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload)
            .where(OutboxRow.name == "academic.student_status.changed")
            .order_by(OutboxRow.id)
        )
        return [dict(p) for p in rows if p.get("person_id") == person_id]
