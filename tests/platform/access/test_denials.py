"""Refusals are 403 problems and are audited, even though the request's own transaction is
rolled back; a flood of them is audited up to a limit per person and minute."""

from __future__ import annotations

import httpx

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access.service import DENIAL_AUDIT_LIMIT
from campus.platform.users import service as users
from tests.conftest import LoginAs
from tests.platform.access.conftest import SignIn, Tree, assert_problem, audit_of, staff_in


async def person_id_of(db: Runtime, demo: SeedContext, role: str) -> int:
    login = next(x for x in demo.logins if x.role == role)
    async with db.db.read() as session:
        person = await users.find_person_by_login(session, login.login)
    assert person is not None
    return person.id


async def test_a_route_refusal_is_a_problem_and_an_audit_entry(
    login_as: LoginAs, db: Runtime, demo: SeedContext
) -> None:
    student = await login_as("student")
    response = await student.get(
        "/api/v1/monitor/audit?action=x", headers={"X-Request-ID": "deny-1"}
    )
    body = assert_problem(response, 403)
    assert body["detail"] == "您没有“monitor.audit.read”权限"
    [entry] = await audit_of(db, "access.denied")
    assert entry["actor_id"] == await person_id_of(db, demo, "student")
    assert (entry["target_type"], entry["target_id"]) == ("permission", "monitor.audit.read")
    assert entry["after"] == {
        "code": "monitor.audit.read",
        "reason": "您没有“monitor.audit.read”权限",
        "method": "GET",
        "path": "/api/v1/monitor/audit",
    }


async def test_a_page_refusal_is_audited_and_shown_as_a_page(
    login_as: LoginAs, db: Runtime
) -> None:
    student = await login_as("student")
    response = await student.get("/access/roles", headers={"Accept": "text/html"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "没有访问此页面的权限" in response.text
    [entry] = await audit_of(db, "access.denied")
    assert entry["after"]["path"] == "/access/roles"


async def test_an_object_refusal_is_audited_with_the_object(
    login_as: LoginAs, db: Runtime, demo: SeedContext
) -> None:
    student = await login_as("student")
    admin_id = await person_id_of(db, demo, "admin")
    assert_problem(await student.get(f"/api/v1/users/people/{admin_id}"), 403)
    [entry] = await audit_of(db, "access.denied")
    assert (entry["target_type"], entry["target_id"]) == ("person", str(admin_id))
    assert entry["after"]["code"] == "users.person.read"


async def test_signed_out_is_401_and_not_a_refusal(anon: httpx.AsyncClient, db: Runtime) -> None:
    assert_problem(await anon.get("/api/v1/access/roles"), 401)
    assert await audit_of(db, "access.denied") == []


async def test_a_flood_of_refusals_is_audited_up_to_the_limit(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, sign_in: SignIn
) -> None:
    client = await sign_in(await staff_in(admin, tree, tree.college_a))
    for _ in range(DENIAL_AUDIT_LIMIT + 5):
        assert (await client.get("/api/v1/access/roles")).status_code == 403
    assert len(await audit_of(db, "access.denied")) == DENIAL_AUDIT_LIMIT
