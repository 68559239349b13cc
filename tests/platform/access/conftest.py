"""Fixtures of the permission center's tests: an admin client, a small org tree of the test's
own (two colleges, a major below the first), people made through the user center's API, and
clients signed in as people holding grants the test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.access import actions
from campus.platform.access.models import Grant, Role
from campus.platform.access.scopes import ScopeKind
from campus.platform.auth import service as auth_service
from tests.conftest import LoginAs, _client
from tests.platform.users.conftest import (
    Campus,
    create_org,
    create_person,
    root_id,
    staff_body,
    student_body,
    unique,
)

PASSWORD = "Test@2026pw"

__all__ = ["Campus", "Tree", "create_person", "staff_body", "student_body", "unique"]


@dataclass(frozen=True)
class Tree:
    """The test's units: college A with a major below it, and college B beside it."""

    root_id: int
    college_a: int
    major_a: int
    college_b: int
    class_a: int


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def tree(admin: httpx.AsyncClient) -> Tree:
    root = await root_id(admin)
    college_a = await create_org(admin, name="甲学院", kind="college", parent_id=root)
    major_a = await create_org(
        admin, name="甲专业", kind="major", parent_id=college_a["id"], discipline_code="080901"
    )
    college_b = await create_org(admin, name="乙学院", kind="college", parent_id=root)
    response = await admin.post(
        "/api/v1/users/classes",
        json={"code": unique("C"), "name": "甲2401班", "org_unit_id": major_a["id"], "grade": 2024},
    )
    assert response.status_code == 201, response.text
    return Tree(root, college_a["id"], major_a["id"], college_b["id"], response.json()["id"])


def campus_of(tree: Tree) -> Campus:
    """The user center's test helpers take a ``Campus``; the class sits in college A."""
    return Campus(
        root_id=tree.root_id,
        college_id=tree.college_a,
        major_id=tree.major_a,
        class_id=tree.class_a,
        other_college_id=tree.college_b,
        college_code="",
        major_code="",
        class_code="",
    )


async def student_in(admin: httpx.AsyncClient, tree: Tree, **overrides: Any) -> dict[str, Any]:
    """A student of the class in college A (their org unit is major A)."""
    return await create_person(admin, student_body(campus_of(tree), **overrides))


async def staff_in(admin: httpx.AsyncClient, tree: Tree, org_unit_id: int) -> dict[str, Any]:
    return await create_person(admin, staff_body(campus_of(tree), org_unit_id=org_unit_id))


Grants = Sequence[tuple[str, ScopeKind, int | None]]
SignIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def sign_in(app, db: Runtime) -> AsyncIterator[SignIn]:  # type: ignore[no-untyped-def]
    """``await sign_in(person, [("teacher", ScopeKind.SUBTREE, unit_id)])``: a client signed in
    as that person, who first receives those grants."""
    clients: list[httpx.AsyncClient] = []

    async def make(person: dict[str, Any], grants: Grants = ()) -> httpx.AsyncClient:
        login = person["student_no"] or person["staff_no"]
        async with db.db.transaction() as session:
            await auth_service.set_password(session, person["id"], PASSWORD)
            for role, scope, org_unit_id in grants:
                await actions.do_grant(
                    session, db.cache, person["id"], role, scope=scope, org_unit_id=org_unit_id
                )
        client = await _client(app)
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/login", json={"login": login, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


@dataclass(frozen=True)
class Counts:
    roles: int
    grants: int
    audit: int
    outbox: int


async def counts(db: Runtime) -> Counts:
    """How many rows the permission center and the kernel logs hold (to prove nothing was
    written)."""
    async with db.db.read() as session:

        async def count(model: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return Counts(
            await count(Role), await count(Grant), await count(AuditEntry), await count(OutboxRow)
        )


async def audit_of(db: Runtime, action: str) -> list[dict[str, Any]]:
    """The audit entries of ``action``, oldest first, as plain values."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [
            {
                "actor_id": e.actor_id,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "before": e.before,
                "after": e.after,
            }
            for e in rows
        ]


async def outbox_events(db: Runtime, name: str) -> list[Event]:
    """The events called ``name`` in the outbox, oldest first."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [row.to_event() for row in rows]


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body
