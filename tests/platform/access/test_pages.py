"""The permission center's pages: roles, grants, codes and the explanations, in Chinese; forms
with CSRF, errors shown on the form, nothing written on bad input."""

from __future__ import annotations

import re

import httpx
import pytest

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access.scopes import ScopeKind
from campus.platform.users import service as users
from tests.conftest import LoginAs
from tests.platform.access.conftest import SignIn, Tree, counts, staff_in, unique

HTML = {"Accept": "text/html"}


async def form_post(client: httpx.AsyncClient, url: str, data: dict[str, object]) -> httpx.Response:
    """A browser's form post: the CSRF token in the form field, not in a header."""
    token = client.headers.pop("X-CSRF-Token")
    try:
        return await client.post(url, data={**data, "csrf_token": token}, headers=HTML)
    finally:
        client.headers["X-CSRF-Token"] = token


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/access/roles", "角色管理"),
        ("/access/roles/new", 'name="csrf_token"'),
        ("/access/grants", "新增授权"),
        ("/access/codes", "查看人员"),
        ("/access/codes/users.person.read", "谁能做这件事"),
        ("/access/people", "人员权限查询"),
    ],
)
async def test_admin_pages_render_in_chinese(
    admin: httpx.AsyncClient, path: str, text: str
) -> None:
    response = await admin.get(path, headers=HTML)
    assert response.status_code == 200, response.text
    assert text in response.text


async def test_menu_offers_the_permission_center_to_those_who_may_read_it(
    admin: httpx.AsyncClient, login_as: LoginAs
) -> None:
    page = (await admin.get("/access/roles", headers=HTML)).text
    for title in ("角色管理", "授权管理", "权限代码", "人员权限查询"):
        assert title in page
    student = (await (await login_as("student")).get("/", headers=HTML)).text
    assert "/access/roles" not in student


async def test_roles_page_lists_the_builtin_roles(admin: httpx.AsyncClient) -> None:
    page = (await admin.get("/access/roles", headers=HTML)).text
    for name in (
        "系统管理员",
        "校领导",
        "教务处",
        "教务秘书",
        "辅导员",
        "教师",
        "财务",
        "宿舍管理员",
        "学生",
    ):
        assert name in page, name


async def test_create_a_role_through_the_form_and_edit_it(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    code = unique("page_").lower()
    created = await form_post(
        admin,
        "/access/roles/new",
        {"code": code, "name": "页面角色", "description": "", "permissions": ["users.org.read"]},
    )
    assert created.status_code == 303, created.text
    location = created.headers["location"]
    assert re.fullmatch(r"/access/roles/\d+", location)
    page = await admin.get(location, headers=HTML)
    assert "角色“页面角色”已创建" in page.text
    assert re.search(r'value="users.org.read"\s+checked', page.text)

    edited = await form_post(
        admin,
        location,
        {
            "name": "页面角色二",
            "description": "说明",
            "permissions": ["users.person.read", "users.org.read"],
        },
    )
    assert edited.status_code == 303
    role_id = int(location.rsplit("/", 1)[1])
    role = (await admin.get(f"/api/v1/access/roles/{role_id}")).json()
    assert role["name"] == "页面角色二"
    assert role["permissions"] == ["users.org.read", "users.person.read"]

    deleted = await form_post(admin, f"{location}/delete", {})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/access/roles"
    assert (await admin.get(f"/api/v1/access/roles/{role_id}")).status_code == 404


async def test_form_errors_are_shown_on_the_form_and_nothing_is_written(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    before = await counts(db)
    response = await form_post(
        admin, "/access/roles/new", {"code": "Bad!", "name": "", "permissions": ["no.such.code"]}
    )
    assert response.status_code == 422
    assert 'data-testid="error-code"' in response.text
    assert "Bad!" in response.text  # what was typed stays in the form
    response = await form_post(
        admin,
        "/access/roles/new",
        {"code": "okcode", "name": "名称", "permissions": ["no.such.code"]},
    )
    assert response.status_code == 422
    assert "未知的权限代码：no.such.code" in response.text
    assert await counts(db) == before


async def test_a_form_without_its_csrf_token_is_refused(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    before = await counts(db)
    saved = admin.headers.pop("X-CSRF-Token")
    try:
        response = await admin.post(
            "/access/roles/new", data={"code": "nocsrf", "name": "x"}, headers=HTML
        )
    finally:
        admin.headers["X-CSRF-Token"] = saved
    assert response.status_code == 403
    assert await counts(db) == before


async def test_grant_through_the_form_by_number_and_revoke_with_htmx(
    admin: httpx.AsyncClient, tree: Tree
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    response = await form_post(
        admin,
        "/access/grants/new",
        {
            "role": "academic_secretary",
            "subject": "person",
            "person": person["staff_no"],
            "scope": "subtree",
            "org_unit_id": str(tree.college_a),
        },
    )
    assert response.status_code == 303, response.text
    listed = (await admin.get(f"/api/v1/access/grants?person_id={person['id']}")).json()
    [grant] = listed["items"]
    assert grant["where"] == "本单位及下级：甲学院"
    page = await admin.get(f"/access/grants?person_id={person['id']}", headers=HTML)
    assert "已授权" in page.text and person["name"] in page.text

    table = await admin.get(
        f"/access/grants?role=academic_secretary&person_id={person['id']}",
        headers={**HTML, "HX-Request": "true"},
    )
    assert table.status_code == 200 and "<html" not in table.text
    assert f'data-testid="revoke-{grant["id"]}"' in table.text

    revoked = await admin.post(
        f"/access/grants/{grant['id']}/revoke", headers={**HTML, "HX-Request": "true"}
    )
    assert revoked.status_code == 200 and revoked.headers["HX-Refresh"] == "true"
    assert (await admin.get(f"/api/v1/access/grants?person_id={person['id']}")).json()["total"] == 0


async def test_grant_form_errors_name_the_field(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    before = await counts(db)
    response = await form_post(
        admin,
        "/access/grants/new",
        {"role": "teacher", "subject": "person", "person": "NOSUCH999", "scope": "all"},
    )
    assert response.status_code == 422
    assert 'data-testid="error-person"' in response.text
    assert "找不到学号/工号为 NOSUCH999 的人员" in response.text
    response = await form_post(
        admin,
        "/access/grants/new",
        {"role": "teacher", "subject": "position", "position_kind": "counselor", "scope": "custom"},
    )
    assert response.status_code == 422
    assert 'data-testid="error-custom_org_unit_ids"' in response.text
    assert await counts(db) == before


async def test_what_can_this_person_do(
    admin: httpx.AsyncClient, db: Runtime, demo: SeedContext
) -> None:
    login = next(x for x in demo.logins if x.role == "counselor")
    lookup = await admin.get(f"/access/people?login={login.login}", headers=HTML)
    assert lookup.status_code == 303
    person_id = int(lookup.headers["location"].rsplit("/", 1)[1])
    explained = (await admin.get(f"/api/v1/access/people/{person_id}/permissions")).json()
    assert explained["roles"] == ["counselor"]
    assert any(p.startswith("辅导员") for p in explained["positions"])
    held = {p["code"]: p for p in explained["permissions"]}
    [where] = held["users.person.sensitive"]["where"]
    assert where["via"] == "岗位：辅导员"
    assert where["scope"] == "subtree"
    async with db.db.read() as session:
        college = await users.find_org_unit_by_code(session, "12")
    assert college is not None and where["where"] == f"本单位及下级：{college.name}"
    page = await admin.get(f"/access/people/{person_id}", headers=HTML)
    assert page.status_code == 200 and "岗位：辅导员" in page.text
    missing = await admin.get("/access/people?login=NOSUCH999", headers=HTML)
    assert missing.status_code == 422 and "找不到学号/工号为 NOSUCH999 的人员" in missing.text


async def test_who_can_do_this_where(admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    await sign_in(person, [("school_leader", ScopeKind.ALL, None)])
    holders = (await admin.get("/api/v1/access/permissions/monitor.audit.read/holders")).json()
    assert {"admin", "school_leader"} <= set(holders["roles"])
    assert person["id"] in [h["person"]["id"] for h in holders["people"]]
    assert any(g["position_kind"] == "president" for g in holders["grants"])
    assert holders["people_total"] >= 2
    page = await admin.get("/access/codes/monitor.audit.read", headers=HTML)
    assert person["name"] in page.text and "校长" in page.text
    assert (await admin.get("/api/v1/access/permissions/no.such.code/holders")).status_code == 404


async def test_my_permissions(login_as: LoginAs) -> None:
    student = await login_as("student")
    mine = (await student.get("/api/v1/access/me")).json()
    assert mine["roles"] == ["student"] and mine["permissions"] == []
    admin = await login_as("admin")
    assert (await admin.get("/api/v1/access/me")).json()["everything"] is True


async def test_pages_turn_english(admin: httpx.AsyncClient) -> None:
    admin.cookies.set("campus_locale", "en")
    page = await admin.get("/access/roles", headers=HTML)
    assert "Roles" in page.text and "New role" in page.text
