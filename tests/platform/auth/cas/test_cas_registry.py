"""The registry of CAS services: JSON API and pages, who may use them, what is refused."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.auth.cas.conftest import Receiver, Register, service_ticket
from tests.platform.auth.cas.test_cas_protocol import failure_code

API = "/api/v1/auth/cas/services"


async def test_demo_university_registers_the_library_and_the_vpn(admin: httpx.AsyncClient) -> None:
    response = await admin.get(API, params={"page_size": 200})
    assert response.status_code == 200
    by_name = {s["name"]: s for s in response.json()["items"]}
    assert by_name["图书馆"]["match_kind"] == "prefix"
    assert by_name["图书馆"]["url_pattern"] == "https://lib.demo.edu.cn/"
    assert by_name["VPN"]["match_kind"] == "regex"
    match = await admin.get(f"{API}/match", params={"url": "https://lib.demo.edu.cn/opac/?x=1"})
    assert match.json()["service"]["name"] == "图书馆"
    foreign = await admin.get(f"{API}/match", params={"url": "https://lib.demo.edu.cn.evil.cn/"})
    assert foreign.json() == {
        "url": "https://lib.demo.edu.cn.evil.cn/",
        "acceptable": True,
        "service": None,
    }


async def test_create_read_update_delete_with_audit(admin: httpx.AsyncClient, db: Runtime) -> None:
    created = await admin.post(
        API,
        json={
            "name": "教务系统",
            "match_kind": "exact",
            "url_pattern": "https://jwxt.demo.edu.cn/sso/login",
            "released_attributes": ["name", "student_no", "name"],
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["released_attributes"] == ["name", "student_no"], "duplicates dropped"
    assert body["slo_enabled"] is True and body["proxy_allowed"] is False
    service_id = body["id"]
    assert (await admin.get(f"{API}/{service_id}")).json()["name"] == "教务系统"
    changed = await admin.patch(f"{API}/{service_id}", json={"proxy_allowed": True})
    assert changed.json()["proxy_allowed"] is True and changed.json()["name"] == "教务系统"
    assert (await admin.delete(f"{API}/{service_id}")).status_code == 204
    assert (await admin.get(f"{API}/{service_id}")).status_code == 404
    async with db.db.read() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(
                    AuditEntry.target_type == "cas_service", AuditEntry.target_id == str(service_id)
                )
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "auth.cas.service.create",
        "auth.cas.service.update",
        "auth.cas.service.delete",
    ]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"match_kind": "regex", "url_pattern": "https://(unclosed"}, "url_pattern", 422),
        ({"match_kind": "prefix", "url_pattern": "https://a.edu.cn/?x=1"}, "url_pattern", 422),
        ({"match_kind": "prefix", "url_pattern": "lib.demo.edu.cn"}, "url_pattern", 422),
        ({"match_kind": "exact", "url_pattern": "https://u@a.edu.cn/"}, "url_pattern", 422),
        ({"match_kind": "exact", "url_pattern": "javascript:alert(1)"}, "url_pattern", 422),
        ({"match_kind": "glob", "url_pattern": "https://a.edu.cn/"}, "match_kind", 422),
        (
            {"url_pattern": "https://a.edu.cn/", "released_attributes": ["password"]},
            "released_attributes.0",
            422,
        ),
        ({"url_pattern": "https://a.edu.cn/", "name": "图书馆"}, "name", 409),
        ({"url_pattern": "https://a.edu.cn/", "name": ""}, "name", 422),
        ({"url_pattern": "https://a.edu.cn/", "evaluation_order": -1}, "evaluation_order", 422),
        ({"url_pattern": "https://a.edu.cn/", "secret": "x"}, "secret", 422),
    ],
)
async def test_bad_registrations_are_refused_on_the_field(
    body: dict[str, Any], field: str, status: int, admin: httpx.AsyncClient
) -> None:
    response = await admin.post(API, json={"name": "新应用", **body})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]
    listed = await admin.get(API, params={"q": "新应用"})
    assert listed.json()["total"] == 0, "nothing was written"


async def test_update_is_validated_like_create(
    admin: httpx.AsyncClient, register: Register
) -> None:
    service = await register(url_pattern="https://a.edu.cn/")
    response = await admin.patch(
        f"{API}/{service['id']}", json={"match_kind": "regex", "url_pattern": "(("}
    )
    assert response.status_code == 422
    unchanged = await admin.get(f"{API}/{service['id']}")
    assert unchanged.json()["url_pattern"] == "https://a.edu.cn/"
    assert (await admin.patch(f"{API}/999999", json={"enabled": False})).status_code == 404


@pytest.mark.parametrize("role", ["student", "teacher", "staff"])
async def test_only_holders_of_the_codes_see_the_registry(
    role: str, login_as: LoginAs, anon: httpx.AsyncClient
) -> None:
    client = await login_as(role)
    assert (await client.get(API)).status_code == 403
    assert (
        await client.post(API, json={"name": "x", "url_pattern": "https://a.edu.cn/"})
    ).status_code == 403
    assert (await client.get("/auth/cas/services")).status_code == 403
    assert (await anon.get(API)).status_code == 401


async def test_deleting_a_service_voids_its_tickets(
    login_as: LoginAs,
    anon: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    register: Register,
    receiver: Receiver,
) -> None:
    service = await register(url_pattern=receiver.url("/app/"))
    student = await login_as("student")
    ticket = await service_ticket(student, receiver.url("/app/"))
    assert (await admin.delete(f"{API}/{service['id']}")).status_code == 204
    params = {"service": receiver.url("/app/"), "ticket": ticket}
    assert failure_code(await anon.get("/cas/serviceValidate", params=params)) == "INVALID_TICKET"


async def test_registry_pages(admin: httpx.AsyncClient) -> None:
    listing = await admin.get("/auth/cas/services", headers={"Accept": "text/html"})
    assert listing.status_code == 200
    assert "图书馆" in listing.text and 'data-testid="cas-new"' in listing.text
    tested = await admin.get(
        "/auth/cas/services", params={"test_url": "https://vpn.demo.edu.cn/portal"}
    )
    assert "属于：VPN" in tested.text
    token = admin.headers["X-CSRF-Token"]
    form = {
        "csrf_token": token,
        "name": "一卡通",
        "match_kind": "prefix",
        "url_pattern": "https://card.demo.edu.cn/",
        "evaluation_order": "50",
        "released_attributes": ["name", "number"],
        "slo_enabled": "on",
        "enabled": "on",
    }
    created = await admin.post("/auth/cas/services/new", data=form)
    assert created.status_code == 303
    found = (await admin.get(API, params={"q": "一卡通"})).json()["items"]
    assert len(found) == 1
    assert found[0]["released_attributes"] == ["name", "number"]
    assert found[0]["proxy_allowed"] is False and found[0]["evaluation_order"] == 50
    edit = await admin.get(f"/auth/cas/services/{found[0]['id']}")
    assert 'value="https://card.demo.edu.cn/"' in edit.text
    bad = await admin.post(
        f"/auth/cas/services/{found[0]['id']}", data={**form, "url_pattern": "not a url"}
    )
    assert bad.status_code == 422
    assert 'data-testid="error-url_pattern"' in bad.text
    deleted = await admin.post(
        f"/auth/cas/services/{found[0]['id']}/delete", data={"csrf_token": token}
    )
    assert deleted.status_code == 303
    assert (await admin.get(API, params={"q": "一卡通"})).json()["total"] == 0


async def test_registry_pages_refuse_posts_without_csrf(admin: httpx.AsyncClient) -> None:
    del admin.headers["X-CSRF-Token"]
    response = await admin.post(
        "/auth/cas/services/new", data={"name": "x", "url_pattern": "https://x.edu.cn/"}
    )
    assert response.status_code == 403
