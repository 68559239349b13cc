"""Roles through the JSON API: create, read, change, delete; bad input writes nothing."""

from __future__ import annotations

import httpx
import pytest

from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.platform.access.conftest import (
    SignIn,
    Tree,
    assert_problem,
    audit_of,
    counts,
    outbox_events,
    staff_in,
    unique,
)


def role_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "code": unique("r_").lower(),
        "name": "查寝员",
        "description": "查看本学院学生",
        "permissions": ["users.person.read", "users.org.read"],
    }
    body.update(overrides)
    return body


async def test_create_read_update_and_delete_a_role(admin: httpx.AsyncClient, db: Runtime) -> None:
    body = role_body(permissions=["users.org.read", "users.person.read", "users.org.read"])
    created = await admin.post("/api/v1/access/roles", json=body)
    assert created.status_code == 201, created.text
    role = created.json()
    assert role["code"] == body["code"]
    assert role["permissions"] == ["users.org.read", "users.person.read"]  # sorted, once each
    assert role["builtin"] is False and role["grant_count"] == 0
    assert (await admin.get(f"/api/v1/access/roles/{role['id']}")).json() == role
    assert role["code"] in [r["code"] for r in (await admin.get("/api/v1/access/roles")).json()]
    [entry] = [
        e for e in await audit_of(db, "access.role.create") if e["target_id"] == str(role["id"])
    ]
    assert entry["after"]["permissions"] == ["users.org.read", "users.person.read"]

    changed = await admin.patch(
        f"/api/v1/access/roles/{role['id']}",
        json={"name": "宿舍检查员", "permissions": ["users.person.read"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "宿舍检查员"
    assert changed.json()["permissions"] == ["users.person.read"]
    [update] = [
        e for e in await audit_of(db, "access.role.update") if e["target_id"] == str(role["id"])
    ]
    assert update["before"]["permissions"] == ["users.org.read", "users.person.read"]
    kinds = [
        e.payload["change"]
        for e in await outbox_events(db, "access.role.changed")
        if e.payload["role_id"] == role["id"]
    ]
    assert kinds == ["created", "updated"]

    deleted = await admin.delete(f"/api/v1/access/roles/{role['id']}")
    assert deleted.status_code == 204
    assert_problem(await admin.get(f"/api/v1/access/roles/{role['id']}"), 404)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"permissions": ["users.person.read", "nosuch.thing.do"]}, "permissions"),
        ({"permissions": ["*"]}, "permissions"),
        ({"code": "Bad Code"}, "code"),
        ({"code": "x"}, "code"),
        ({"name": ""}, "name"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_role_input_is_refused_and_writes_nothing(
    admin: httpx.AsyncClient, db: Runtime, overrides: dict[str, object], field: str
) -> None:
    before = await counts(db)
    response = await admin.post("/api/v1/access/roles", json=role_body(**overrides))
    body = assert_problem(response, 422, field)
    assert body["title"] == "输入不合法"
    assert await counts(db) == before


async def test_unknown_code_is_named_in_chinese(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/access/roles", json=role_body(permissions=["nosuch.thing.do"])
    )
    assert (
        assert_problem(response, 422, "permissions")["detail"] == "未知的权限代码：nosuch.thing.do"
    )


async def test_duplicate_role_code_is_a_conflict(admin: httpx.AsyncClient, db: Runtime) -> None:
    body = role_body()
    assert (await admin.post("/api/v1/access/roles", json=body)).status_code == 201
    before = await counts(db)
    response = await admin.post("/api/v1/access/roles", json=role_body(code=body["code"]))
    assert_problem(response, 409, "code")
    response = await admin.post("/api/v1/access/roles", json=role_body(code="admin"))
    assert_problem(response, 409, "code")
    assert await counts(db) == before


async def test_role_changes_that_would_break_things_are_refused(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    roles = {r["code"]: r for r in (await admin.get("/api/v1/access/roles")).json()}
    before = await counts(db)
    everything = roles["admin"]
    response = await admin.patch(
        f"/api/v1/access/roles/{everything['id']}", json={"permissions": ["users.person.read"]}
    )
    assert_problem(response, 409, "permissions")
    assert_problem(await admin.delete(f"/api/v1/access/roles/{roles['teacher']['id']}"), 409)
    response = await admin.patch(
        f"/api/v1/access/roles/{roles['teacher']['id']}", json={"permissions": ["bad.code.x"]}
    )
    assert_problem(response, 422, "permissions")
    assert_problem(await admin.patch("/api/v1/access/roles/999999", json={"name": "x"}), 404)
    assert_problem(await admin.delete("/api/v1/access/roles/999999"), 404)
    assert await counts(db) == before
    assert (await admin.get(f"/api/v1/access/roles/{everything['id']}")).json()["permissions"] == [
        "*"
    ]


async def test_a_role_with_grants_cannot_be_deleted(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    role = (await admin.post("/api/v1/access/roles", json=role_body())).json()
    person = await staff_in(admin, tree, tree.college_a)
    grant = await admin.post(
        "/api/v1/access/grants",
        json={"role": role["code"], "person_id": person["id"], "scope": "all"},
    )
    assert grant.status_code == 201, grant.text
    before = await counts(db)
    body = assert_problem(await admin.delete(f"/api/v1/access/roles/{role['id']}"), 409)
    assert body["detail"] == "该角色仍有 1 条授权，请先撤销"
    assert await counts(db) == before


async def test_reading_roles_needs_role_read_and_changing_them_role_manage(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, sign_in: SignIn
) -> None:
    leader = await sign_in(
        await staff_in(admin, tree, tree.college_a), [("school_leader", ScopeKind.ALL, None)]
    )
    assert (await leader.get("/api/v1/access/roles")).status_code == 200
    assert (await leader.get("/api/v1/access/permissions")).status_code == 200
    before = await counts(db)
    assert_problem(await leader.post("/api/v1/access/roles", json=role_body()), 403)
    after = await counts(db)
    assert (after.roles, after.grants) == (before.roles, before.grants)
    nobody = await sign_in(await staff_in(admin, tree, tree.college_a))
    assert_problem(await nobody.get("/api/v1/access/roles"), 403)


async def test_registered_codes_are_listed_by_module(admin: httpx.AsyncClient) -> None:
    groups = {g["module"]: g for g in (await admin.get("/api/v1/access/permissions")).json()}
    assert {"users", "access", "monitor"} <= groups.keys()
    users = {p["code"]: p["title"] for p in groups["users"]["permissions"]}
    assert users["users.person.read"] == "查看人员"
    assert groups["users"]["module_title"] == "统一用户中心"
    assert {p["code"] for p in groups["access"]["permissions"]} >= {
        "access.role.read",
        "access.role.manage",
    }
