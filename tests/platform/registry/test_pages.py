"""The service center's pages and its permissions: administrators see services, instances and
health history and manage credentials; others are refused (403), the anonymous asked to sign in."""

from __future__ import annotations

import httpx

from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.messaging.sse import SseStream
from tests.platform.registry.conftest import Owner, unique

HTML = {"Accept": "text/html"}


async def test_pages_show_services_instances_and_health(
    owner: Owner, admin: httpx.AsyncClient
) -> None:
    service = unique()
    await owner.register(service, instance_id="page-node", namespace="test", weight=7)
    services = await admin.get("/registry/services", headers=HTML)
    assert services.status_code == 200
    assert 'data-testid="service-' + service + '"' in services.text
    assert "服务注册" in services.text
    assert 'href="/registry/credentials"' in services.text, "the menu offers the credentials"
    detail = await admin.get(f"/registry/services/{service}", headers=HTML)
    assert detail.status_code == 200
    assert "page-node" in detail.text and "http://10.0.0.5:8000" in detail.text
    assert "健康" in detail.text
    instance = await admin.get("/registry/instances/page-node", headers=HTML)
    assert instance.status_code == 200
    assert "健康检查记录" in instance.text and "1.2.0" in instance.text
    missing = await admin.get("/registry/instances/none-such", headers=HTML)
    assert missing.status_code == 404


async def test_pages_have_english(owner: Owner, admin: httpx.AsyncClient) -> None:
    page = await admin.get("/registry/services", headers={**HTML, "Accept-Language": "en"})
    assert "Service registry" in page.text


async def test_administrators_create_and_revoke_credentials_with_the_form(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    owner = unique("form")
    created = await admin.post(
        "/registry/credentials", data={"owner": owner, "description": "图书馆系统"}, headers=HTML
    )
    assert created.status_code == 201
    assert 'data-testid="issued"' in created.text and "crg_" in created.text
    again = await admin.post("/registry/credentials", data={"owner": owner}, headers=HTML)
    assert again.status_code == 422 and 'data-testid="error-owner"' in again.text
    bad = await admin.post("/registry/credentials", data={"owner": "不合法"}, headers=HTML)
    assert bad.status_code == 422 and 'data-testid="error-owner"' in bad.text
    listed = (await admin.get("/api/v1/registry/credentials")).json()
    mine = next(c for c in listed if c["owner"] == owner)
    revoked = await admin.post(f"/registry/credentials/{mine['id']}/revoke", headers=HTML)
    assert revoked.status_code == 303
    listed = (await admin.get("/api/v1/registry/credentials")).json()
    assert next(c for c in listed if c["owner"] == owner)["revoked_at"] is not None


async def test_others_are_refused(
    login_as: LoginAs, anon: httpx.AsyncClient, owner: Owner, app
) -> None:  # type: ignore[no-untyped-def]
    student = await login_as("student")
    teacher = await login_as("teacher")
    home = await student.get("/", headers={"Accept": "text/html"})
    assert 'href="/registry/services"' not in home.text, "no menu entry for them"
    for client in (student, teacher):
        for path in (
            "/api/v1/registry/services",
            "/api/v1/registry/services/campus/instances",
            "/api/v1/registry/credentials",
            "/registry/services",
            "/registry/credentials",
        ):
            response = await client.get(path)
            assert response.status_code == 403, path
        created = await client.post("/api/v1/registry/credentials", json={"owner": unique()})
        assert created.status_code == 403
    unknown = await anon.get("/api/v1/registry/services/campus/instances")
    assert unknown.status_code == 401
    assert unknown.headers["content-type"].startswith("application/problem+json")
    async with SseStream(app, student, path="/api/v1/registry/watch") as stream:
        await stream.started()
        assert stream.status == 403
    # A registry token serves discovery but not the administration.
    assert (await owner.client.get("/api/v1/registry/services")).status_code == 401
    assert (await owner.client.get("/api/v1/registry/credentials")).status_code == 401
