"""The access matrix: every built-in role against sample routes, allowed or refused as the table
declares. Demo logins stand for their roles; the roles without one are granted, as the demo seed
grants them, to a person made for the test in the demo college.

A route is "allowed" when the guard lets the request through (any answer but 403); writes are
sent with an empty body, so an allowed write stops at validation (422) and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access import actions
from campus.platform.access.scopes import ScopeKind
from campus.platform.access.seed import BUILTIN_ROLES
from campus.platform.auth import service as auth_service
from campus.platform.users import service as users
from tests.conftest import LoginAs, _client
from tests.platform.users.conftest import create_person, id_number, unique

PASSWORD = "Matrix@2026pw"
DEMO_COLLEGE = "12"
OTHER_OFFICE = "801"  # 党委办公室: nobody of the demo logins works there

# Roles the demo logins stand for, and built-in roles granted to a person made for the test
# (with the reach the demo seed gives them).
DEMO_ROLES = ("admin", "user_admin", "staff", "teacher", "counselor", "student")
GRANTED: dict[str, ScopeKind] = {
    "school_leader": ScopeKind.ALL,
    "registrar": ScopeKind.ALL,
    "academic_secretary": ScopeKind.SUBTREE,
    "finance": ScopeKind.ALL,
    "dormitory_manager": ScopeKind.ALL,
    "workflow_admin": ScopeKind.ALL,
    "office": ScopeKind.ALL,
    "messaging_admin": ScopeKind.ALL,
    "community_admin": ScopeKind.ALL,
}
ROLES = (*DEMO_ROLES, *GRANTED)

# route -> the roles allowed ("*" every role); everyone else is refused.
READERS = (
    "admin",
    "user_admin",
    "staff",
    "teacher",
    "counselor",
    "school_leader",
    "registrar",
    "academic_secretary",
    "finance",
    "dormitory_manager",
)
WIDE_READERS = tuple(r for r in READERS if r not in ("teacher", "counselor", "academic_secretary"))
SENDERS = ("admin", "staff", "counselor", "school_leader", "office")
STATUS_MANAGERS = ("admin", "staff", "registrar")
STATUS_READERS = (*STATUS_MANAGERS, "academic_secretary")
MASTER_MANAGERS = ("admin", "staff", "registrar")  # calendar and rooms
COURSE_MANAGERS = (*MASTER_MANAGERS, "academic_secretary")
MATRIX: list[tuple[str, str, tuple[str, ...]]] = [
    ("GET", "/api/v1/users/people", READERS),
    ("GET", "/api/v1/users/people/{insider}", READERS),
    ("GET", "/api/v1/users/people/{outsider}", WIDE_READERS),
    ("GET", "/api/v1/users/people/{me}", ("*",)),
    ("GET", "/users/people/{outsider}", WIDE_READERS),
    ("GET", "/api/v1/users/people/export.xlsx", READERS),
    ("GET", "/api/v1/users/org-units", READERS),
    ("POST", "/api/v1/users/people", ("admin", "user_admin", "staff", "registrar")),
    ("GET", "/users/import", ("admin", "user_admin", "staff", "registrar")),
    ("POST", "/api/v1/users/org-units", ("admin", "user_admin")),
    ("GET", "/api/v1/monitor/audit", ("admin", "school_leader")),
    ("GET", "/api/v1/monitor/dead-letters", ("admin",)),
    ("GET", "/api/v1/monitor/traffic", ("admin",)),
    ("GET", "/api/v1/registry/services", ("admin",)),
    ("GET", "/api/v1/registry/services/campus/instances", ("admin",)),
    ("POST", "/api/v1/registry/credentials", ("admin",)),
    ("GET", "/api/v1/gateway/services", ("admin",)),
    ("GET", "/gateway", ("admin",)),
    ("POST", "/api/v1/gateway/consumers", ("admin",)),
    ("GET", "/api/v1/appcenter/apps", ("admin",)),
    ("POST", "/api/v1/appcenter/apps", ("admin",)),
    ("GET", "/appcenter/manage", ("admin",)),
    ("GET", "/api/v1/access/roles", ("admin", "school_leader")),
    ("GET", "/api/v1/access/grants", ("admin", "school_leader")),
    ("GET", "/access/grants", ("admin", "school_leader")),
    ("POST", "/api/v1/access/roles", ("admin",)),
    ("POST", "/api/v1/access/grants", ("admin",)),
    ("GET", "/api/v1/access/me", ("*",)),
    ("GET", "/api/v1/oa/notices", ("*",)),
    ("POST", "/api/v1/oa/notices", ("admin", "staff", "counselor", "school_leader", "office")),
    ("POST", "/api/v1/oa/documents", ("admin", "staff", "office")),
    ("GET", "/api/v1/oa/prefixes", ("admin", "school_leader", "office")),
    ("GET", "/api/v1/workflow/services", ("*",)),
    ("GET", "/api/v1/workflow/tasks", ("*",)),
    ("GET", "/api/v1/workflow/processes", ("admin", "workflow_admin")),
    ("POST", "/api/v1/workflow/processes", ("admin", "workflow_admin")),
    ("POST", "/api/v1/workflow/services", ("admin", "workflow_admin")),
    ("GET", "/api/v1/workflow/stats", ("admin", "workflow_admin")),
    ("GET", "/api/v1/messaging/inbox", ("*",)),
    ("GET", "/api/v1/messaging/im/conversations", ("*",)),
    ("GET", "/api/v1/messaging/accounts", ("*",)),
    ("POST", "/api/v1/messaging/notifications", SENDERS),
    ("GET", "/api/v1/messaging/templates", SENDERS),
    ("POST", "/api/v1/messaging/templates", ("admin", "office")),
    ("POST", "/api/v1/messaging/accounts", ("admin", "messaging_admin")),
    ("GET", "/api/v1/messaging/moderation/reports", ("admin", "messaging_admin")),
    ("POST", "/api/v1/messaging/moderation/words", ("admin", "messaging_admin")),
    ("GET", "/api/v1/community/boards", ("*",)),
    ("GET", "/api/v1/community/posts", ("*",)),
    ("POST", "/api/v1/community/boards", ("admin", "community_admin")),
    ("GET", "/api/v1/academic/terms", ("*",)),
    ("GET", "/api/v1/academic/terms/current", ("*",)),
    ("GET", "/academic/calendar", ("*",)),
    ("POST", "/api/v1/academic/terms", MASTER_MANAGERS),
    ("GET", "/academic/calendar/manage", MASTER_MANAGERS),
    ("GET", "/api/v1/academic/rooms", ("*",)),
    ("GET", "/api/v1/academic/buildings", ("*",)),
    ("POST", "/api/v1/academic/rooms", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/buildings", MASTER_MANAGERS),
    ("GET", "/academic/rooms/new", MASTER_MANAGERS),
    ("GET", "/api/v1/academic/courses", ("*",)),
    ("GET", "/academic/courses", ("*",)),
    ("POST", "/api/v1/academic/courses", COURSE_MANAGERS),
    ("GET", "/academic/courses/new", COURSE_MANAGERS),
    ("GET", "/api/v1/academic/status/me", ("*",)),
    ("POST", "/api/v1/academic/status/changes", ("*",)),
    ("GET", "/academic/status/me", ("*",)),
    ("GET", "/api/v1/academic/status/records", STATUS_READERS),
    ("GET", "/api/v1/academic/status/records/export.xlsx", STATUS_READERS),
    ("GET", "/api/v1/academic/status/changes", STATUS_READERS),
    ("GET", "/academic/status/records", STATUS_READERS),
    ("POST", "/api/v1/academic/status/records", STATUS_MANAGERS),
    ("POST", "/api/v1/academic/status/batches", STATUS_MANAGERS),
    ("GET", "/academic/status/batches", STATUS_MANAGERS),
    ("GET", "/api/v1/academic/programmes", ("*",)),
    ("GET", "/academic/programmes", ("*",)),
    ("GET", "/api/v1/academic/my/programme", ("*",)),
    ("GET", "/academic/my/programme", ("*",)),
    ("POST", "/api/v1/academic/programmes", COURSE_MANAGERS),
    ("POST", "/api/v1/academic/plans/generate", COURSE_MANAGERS),
    ("GET", "/academic/plans", ("*",)),
    ("GET", "/api/v1/academic/sections", ("*",)),
    ("GET", "/academic/offering", ("*",)),
    ("GET", "/academic/my/sections", ("*",)),
    ("POST", "/api/v1/academic/sections", COURSE_MANAGERS),
    ("POST", "/api/v1/academic/sections/merge", COURSE_MANAGERS),
    ("POST", "/api/v1/academic/offering/generate", COURSE_MANAGERS),
    ("GET", "/api/v1/academic/sections.xlsx", COURSE_MANAGERS),
    ("GET", "/academic/timetabling", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/timetabling/terms/0/runs", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/timetabling/lectures/0/move", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/timetabling/terms/0/publish", MASTER_MANAGERS),
    ("GET", "/api/v1/academic/timetabling/terms/0/problem.ctt", MASTER_MANAGERS),
    ("GET", "/api/v1/academic/timetable/me", ("*",)),
    ("GET", "/api/v1/academic/timetable/free-rooms", ("*",)),
    ("GET", "/academic/timetable", ("*",)),
    ("GET", "/academic/free-rooms", ("*",)),
    ("GET", "/academic/exams", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/exams/terms/0/exams/generate", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/exams/terms/0/runs", MASTER_MANAGERS),
    ("POST", "/api/v1/academic/exams/terms/0/publish", MASTER_MANAGERS),
    ("GET", "/api/v1/academic/exams/mine", ("*",)),
    ("GET", "/academic/my/exams", ("*",)),
    ("GET", "/academic/transcripts/me", ("*",)),
    ("GET", "/api/v1/academic/graduation/me", ("*",)),
    ("GET", "/academic/graduation/me", ("*",)),
    ("GET", "/academic/graduation/runs", STATUS_MANAGERS),
    ("POST", "/api/v1/academic/graduation/runs", STATUS_MANAGERS),
    ("GET", "/api/v1/academic/evaluation/me", ("*",)),
    ("GET", "/academic/evaluation", ("*",)),
    ("POST", "/api/v1/academic/evaluation/forms", STATUS_MANAGERS),
    ("GET", "/academic/evaluation/forms", STATUS_READERS),  # .read: the secretaries
]


@dataclass(frozen=True)
class Targets:
    insider: int  # a student of the demo college (not the demo student)
    outsider: int  # a staff member of an office outside the demo college


async def targets(db: Runtime, demo: SeedContext) -> Targets:
    student_login = next(x for x in demo.logins if x.role == "student").login
    async with db.db.read() as session:
        me = await users.find_person_by_login(session, student_login)
        assert me is not None and me.class_id is not None
        classmates = await users.members_of_class(session, me.class_id)
        insider = next(p.id for p in classmates if p.id != me.id)
        office = await users.find_org_unit_by_code(session, OTHER_OFFICE)
        assert office is not None
        outsider = (await users.members_of_org(session, office.id))[0].id
    return Targets(insider, outsider)


Subject = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def subject(app, db: Runtime, login_as: LoginAs) -> AsyncIterator[Subject]:  # type: ignore[no-untyped-def]
    clients: list[httpx.AsyncClient] = []

    async def make(role: str) -> httpx.AsyncClient:
        if role in DEMO_ROLES:
            return await login_as(role)
        number = unique("M")
        async with db.db.read() as session:
            college = await users.find_org_unit_by_code(session, DEMO_COLLEGE)
        assert college is not None
        admin = await login_as("admin")
        person = {
            "name": "矩阵测试",
            "gender": "1",
            "person_type": "staff",
            "org_unit_id": college.id,
            "staff_no": number,
            "id_number": id_number(),
        }
        person_id = (await create_person(admin, person))["id"]
        async with db.db.transaction() as session:
            await auth_service.set_password(session, person_id, PASSWORD)
            scope = GRANTED[role]
            anchor = college.id if scope is ScopeKind.SUBTREE else None
            await actions.do_grant(
                session, db.cache, person_id, role, scope=scope, org_unit_id=anchor
            )
        client = await _client(app)
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/login", json={"login": number, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.mark.parametrize("role", ROLES)
async def test_role_against_the_sample_routes(
    role: str, subject: Subject, db: Runtime, demo: SeedContext
) -> None:
    where = await targets(db, demo)
    client = await subject(role)
    me = (await client.get("/api/v1/auth/me")).json()["person_id"]
    values = {"insider": where.insider, "outsider": where.outsider, "me": me}
    wrong = []
    for method, template, allowed_roles in MATRIX:
        path = template.format(**values)
        kwargs: dict[str, Any] = {"json": {}} if method != "GET" else {}
        response = await client.request(method, path, **kwargs)
        assert response.status_code != 500, (method, path, response.text)
        allowed = response.status_code not in (401, 403)
        expected = "*" in allowed_roles or role in allowed_roles
        if allowed != expected:
            wrong.append(
                f"{method} {template}: {response.status_code}, expected "
                f"{'allowed' if expected else 'refused'}"
            )
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


def test_the_matrix_covers_every_builtin_role() -> None:
    assert set(BUILTIN_ROLES) <= set(ROLES)
