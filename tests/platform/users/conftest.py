"""Fixtures of the user center's tests: an admin client, a small org tree of the test's own
(under the demo university's root), people made through the API, and clients signed in as
people holding a chosen set of permissions."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.access import actions as access_actions
from campus.platform.auth import service as auth_service
from campus.platform.users import idcard
from tests.conftest import LoginAs, _client

PASSWORD = "Test@2026pw"
_sequence = itertools.count(1)


def unique(prefix: str = "") -> str:
    """A short value no other test (or the demo university) uses."""
    return f"{prefix}{uuid.uuid4().hex[:8].upper()}"


def id_number(*, male: bool = True, born: date | None = None) -> str:
    """A well-formed resident identity number nobody else in the run has (each call takes a
    birth date of its own unless one is given)."""
    n = next(_sequence)
    return idcard.make("659001", born or date(1990, 1, 1) + timedelta(days=3 * n), n, male)


@dataclass(frozen=True)
class Campus:
    """The test's own units: a college with a major and a class, and a second college."""

    root_id: int
    college_id: int
    major_id: int
    class_id: int
    other_college_id: int
    college_code: str
    major_code: str
    class_code: str


async def create_org(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("code", unique("T"))
    response = await client.post("/api/v1/users/org-units", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def root_id(client: httpx.AsyncClient) -> int:
    response = await client.get("/api/v1/users/org-units")
    assert response.status_code == 200, response.text
    return int(response.json()[0]["id"])


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def campus(admin: httpx.AsyncClient) -> Campus:
    root = await root_id(admin)
    college = await create_org(admin, name="测试学院", kind="college", parent_id=root)
    major = await create_org(
        admin, name="测试专业", kind="major", parent_id=college["id"], discipline_code="080901"
    )
    other = await create_org(admin, name="另一学院", kind="college", parent_id=root)
    class_code = unique("C")
    response = await admin.post(
        "/api/v1/users/classes",
        json={"code": class_code, "name": "测试2401班", "org_unit_id": major["id"], "grade": 2024},
    )
    assert response.status_code == 201, response.text
    return Campus(
        root_id=root,
        college_id=college["id"],
        major_id=major["id"],
        class_id=response.json()["id"],
        other_college_id=other["id"],
        college_code=college["code"],
        major_code=major["code"],
        class_code=class_code,
    )


def student_body(campus: Campus, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "张三",
        "gender": "1",
        "person_type": "undergraduate",
        "class_id": campus.class_id,
        "student_no": unique("S"),
        "id_number": id_number(male=True),
        "ethnicity": "01",
        "political_status": "03",
        "native_place": "110105",
        "phone": "13812345678",
        "email": "zhangsan@example.edu.cn",
    }
    body.update(overrides)
    return body


def staff_body(campus: Campus, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "李老师",
        "gender": "2",
        "person_type": "faculty",
        "org_unit_id": campus.college_id,
        "staff_no": unique("T"),
        "id_number": id_number(male=False),
    }
    body.update(overrides)
    return body


async def create_person(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/v1/users/people", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def event_payloads(db: Runtime, name: str, **match: Any) -> list[dict[str, Any]]:
    """Payloads of the outbox events called ``name`` whose payload has the given values."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [dict(p) for p in rows if all(p.get(k) == v for k, v in match.items())]


async def audit_entries(db: Runtime, action: str, target_id: object) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == action, AuditEntry.target_id == str(target_id))
            .order_by(AuditEntry.id)
        )
        return [{"before": e.before, "after": e.after, "actor_id": e.actor_id} for e in rows]


SignIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def sign_in(app, db: Runtime) -> AsyncIterator[SignIn]:  # type: ignore[no-untyped-def]
    """``await sign_in(person, "users.person.read", ...)``: a client signed in as that person,
    who is given a role holding exactly the permission codes named."""
    clients: list[httpx.AsyncClient] = []

    async def make(person: dict[str, Any], *codes: str) -> httpx.AsyncClient:
        login = person["student_no"] or person["staff_no"]
        async with db.db.transaction() as session:
            await auth_service.set_password(session, person["id"], PASSWORD)
            if codes:
                role = unique("test_role_").lower()
                await access_actions.do_ensure_role(session, role, "测试角色", list(codes))
                await access_actions.do_grant(session, db.cache, person["id"], role)
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
