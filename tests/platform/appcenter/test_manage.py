"""Administrators' apps: create, change and disable over the API and the pages; bad input is a
422 (or 409 for a taken code or name) naming the field and changes nothing; others get 403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.appcenter.conftest import APPS, MakeApp, app_body, unique

HTML = {"Accept": "text/html"}


async def _count(admin: httpx.AsyncClient) -> int:
    return len((await admin.get(APPS)).json())


async def test_create_read_update_audited(admin: httpx.AsyncClient, db: Runtime) -> None:
    body = app_body(kind="link", category="学习", icon="books", roles=["student"], org_units=["12"])
    created = await admin.post(APPS, json=body)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["org_units"] == ["12"] and out["roles"] == ["student"] and out["enabled"]
    changed = await admin.patch(f"{APPS}/{body['code']}", json={"name": "改名了", "order": 3})
    assert changed.status_code == 200 and changed.json()["name"] == "改名了"
    assert (await admin.get(f"{APPS}/{body['code']}")).json()["order"] == 3
    async with db.db.read() as session:
        actions = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.target_id == body["code"])
        )
        assert set(actions) == {"appcenter.app.create", "appcenter.app.update"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://x.demo.edu.cn/"}, "url"),
        ({"roles": ["no-such-role"]}, "roles"),
        ({"org_units": ["no-such-unit"]}, "org_units"),
        ({"icon": "no-such-icon"}, "icon"),
        ({"code": "不合法"}, "code"),
        ({"sso_client": "oidc:none-such", "kind": "external"}, "sso_client"),
        ({"sso_client": "cas:1", "kind": "link"}, "sso_client"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    admin: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    before = await _count(admin)
    response = await admin.post(APPS, json=app_body(**fields))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in response.json()["errors"])
    assert await _count(admin) == before


async def test_taken_code_or_name_is_409(admin: httpx.AsyncClient, make_app: MakeApp) -> None:
    app = await make_app()
    again = await admin.post(APPS, json=app_body(code=app["code"]))
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "code"
    named = await admin.post(APPS, json=app_body(name=app["name"]))
    assert named.status_code == 409 and named.json()["errors"][0]["field"] == "name"
    other = await make_app()
    rename = await admin.patch(f"{APPS}/{other['code']}", json={"name": app["name"]})
    assert rename.status_code == 409
    assert (await admin.get(f"{APPS}/{other['code']}")).json()["name"] == other["name"]


async def test_others_are_refused(login_as: LoginAs, make_app: MakeApp) -> None:
    app = await make_app()
    for role in ("student", "staff"):
        client = await login_as(role)
        assert (await client.get(APPS)).status_code == 403
        assert (await client.post(APPS, json=app_body())).status_code == 403
        assert (
            await client.patch(f"{APPS}/{app['code']}", json={"enabled": False})
        ).status_code == 403
        assert (await client.get("/appcenter/manage", headers=HTML)).status_code == 403


async def test_anonymous_must_sign_in(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/api/v1/appcenter/my-apps")).status_code == 401


async def test_pages_create_and_edit(admin: httpx.AsyncClient) -> None:
    code = unique()
    form = {
        "code": code,
        "name": "表单应用",
        "kind": "link",
        "url": "https://f.demo.edu.cn/",
        "category": "办公",
        "icon": "mail",
        "order": "5",
        "roles": "staff，teacher",
        "org_units": "",
        "enabled": "on",
    }
    created = await admin.post("/appcenter/manage/new", data=form, headers=HTML)
    assert created.status_code == 303
    out = (await admin.get(f"{APPS}/{code}")).json()
    assert out["roles"] == ["staff", "teacher"]
    listing = await admin.get("/appcenter/manage", headers=HTML)
    assert f'data-testid="app-{code}"' in listing.text
    bad = await admin.post(
        f"/appcenter/manage/{code}", data={**form, "url": "ftp://x"}, headers=HTML
    )
    assert bad.status_code == 422 and 'data-testid="error-url"' in bad.text
    disabled = await admin.post(
        f"/appcenter/manage/{code}",
        data={k: v for k, v in form.items() if k != "enabled"},
        headers=HTML,
    )
    assert disabled.status_code == 303
    assert (await admin.get(f"{APPS}/{code}")).json()["enabled"] is False
    edit = await admin.get(f"/appcenter/manage/{code}", headers=HTML)
    assert edit.status_code == 200 and "表单应用" in edit.text
    assert (await admin.get("/appcenter/manage/none-such", headers=HTML)).status_code == 404


async def test_a_bad_change_is_422_and_changes_nothing(
    admin: httpx.AsyncClient, make_app: MakeApp
) -> None:
    app = await make_app()
    for body, field in (
        ({"url": "ftp://x.demo.edu.cn/"}, "url"),
        ({"roles": ["none-such"], "name": "不会保存"}, "roles"),
        ({"org_units": ["none-such"]}, "org_units"),
        ({"unknown": 1}, "unknown"),
    ):
        response = await admin.patch(f"{APPS}/{app['code']}", json=body)
        assert response.status_code == 422, response.text
        assert any(field in e["field"] for e in response.json()["errors"])
    assert (await admin.get(f"{APPS}/{app['code']}")).json() == app
    assert (await admin.patch(f"{APPS}/none-such", json={})).status_code == 404


async def test_pages_have_english(admin: httpx.AsyncClient) -> None:
    english = {**HTML, "Accept-Language": "en"}
    assert "Manage apps" in (await admin.get("/appcenter/manage", headers=english)).text
    assert "Search apps" in (await admin.get("/apps", headers=english)).text
