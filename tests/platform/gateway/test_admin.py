"""The admin API: validation naming the field, conflicts, nothing half-written, permissions,
audit and events; the request log; the page and its forms."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.gateway.conftest import GW, Setup, Upstreams, echo, unique


async def _count(admin: httpx.AsyncClient, what: str) -> int:
    return len((await admin.get(f"{GW}/{what}")).json())


async def test_bad_input_is_422_naming_the_field_and_writes_nothing(setup: Setup) -> None:
    admin = setup.admin
    before = [await _count(admin, w) for w in ("services", "routes", "consumers")]
    cases = [
        ("services", {"name": "Bad Name", "url": "http://x.y"}, "name"),
        ("services", {"name": unique(), "url": "ftp://x.y"}, "url"),
        ("services", {"name": unique(), "url": "http://x.y", "retries": 9}, "retries"),
        ("services", {"name": unique(), "url": "http://x.y", "registry_service": "abc"}, "body"),
        ("routes", {"name": unique(), "service": "none-such"}, "service"),
        ("routes", {"name": unique(), "service": "abc", "path_prefix": "no-slash"}, "path_prefix"),
        ("routes", {"name": unique(), "service": "abc", "methods": ["FETCH"]}, "methods.0"),
        ("consumers", {"username": unique(), "groups": ["Bad Group"]}, "groups"),
        ("consumers", {"username": unique(), "rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ]
    for what, body, field in cases:
        response = await admin.post(f"{GW}/{what}", json=body)
        assert response.status_code == 422, (body, response.text)
        fields = [e["field"] for e in response.json()["errors"]]
        assert field in fields, (body, fields)
    after = [await _count(admin, w) for w in ("services", "routes", "consumers")]
    assert after == before


async def test_duplicates_conflict_on_the_field_and_a_service_with_routes_stays(
    setup: Setup,
) -> None:
    service = await setup.service()
    route = await setup.route(service["name"], path_prefix="/books")
    consumer = await setup.consumer()
    admin = setup.admin
    clashes = [
        ("services", {"name": service["name"], "url": "http://x.y"}, "name"),
        (
            "routes",
            {"name": route["name"], "service": service["name"], "path_prefix": "/z"},
            "name",
        ),
        (
            "routes",
            {"name": unique(), "service": service["name"], "path_prefix": "/books/"},
            "path_prefix",
        ),
        ("consumers", {"username": consumer["username"]}, "username"),
    ]
    for what, body, field in clashes:
        response = await admin.post(f"{GW}/{what}", json=body)
        assert response.status_code == 409, response.text
        assert response.json()["errors"][0]["field"] == field
    assert (await admin.delete(f"{GW}/services/{service['name']}")).status_code == 409
    assert (await admin.delete(f"{GW}/routes/{route['name']}")).status_code == 204
    assert (await admin.delete(f"{GW}/services/{service['name']}")).status_code == 204
    assert (await admin.delete(f"{GW}/services/{service['name']}")).status_code == 404
    missing = await admin.post(f"{GW}/consumers/none-such/credentials", json={"kind": "key"})
    assert missing.status_code == 404


async def test_writes_are_audited_and_evented(setup: Setup, db: Runtime) -> None:
    consumer = await setup.consumer()
    issued = await setup.credential(consumer["username"])
    async with db.db.read() as session:
        actions = set(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_type == "gw_credential")
            )
        )
        names = set(
            await session.scalars(select(OutboxRow.name).where(OutboxRow.name.like("gateway.%")))
        )
        after = await session.scalar(
            select(AuditEntry.after).where(
                AuditEntry.target_type == "gw_credential",
                AuditEntry.target_id == str(issued["id"]),
            )
        )
    assert "gateway.credential.issue" in actions
    assert {"gateway.consumer.created", "gateway.credential.issued"} <= names
    assert after is not None and after["consumer"] == consumer["username"]
    assert issued["key"] not in str(after)


async def test_only_holders_of_the_codes_read_or_change_the_gateway(
    login_as: LoginAs, setup: Setup
) -> None:
    student = await login_as("student")
    for method, path in (
        ("GET", f"{GW}/services"),
        ("GET", f"{GW}/consumers"),
        ("POST", f"{GW}/consumers"),
        ("GET", "/gateway"),
    ):
        response = await student.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 403, (path, response.text)


async def test_the_request_log_counts_per_minute_route_consumer_and_status(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    service = await setup.service()
    route = await setup.route(service["name"], public=True)
    for _ in range(3):
        await caller.get(f"/gw/{service['name']}/x")
    upstreams.hosts["a.upstream"] = lambda r: httpx.Response(500)
    await caller.get(f"/gw/{service['name']}/x")
    rows = [r for r in (await setup.admin.get(f"{GW}/log")).json() if r["route"] == route["name"]]
    by_status = {r["status_class"]: r["requests"] for r in rows}
    assert by_status == {"2xx": 3, "5xx": 1}
    assert all(r["consumer"] == "<anonymous>" for r in rows)


async def test_the_page_lists_the_configuration_and_issues_a_key_once(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    admin = setup.admin
    service = await setup.service()
    route = await setup.route(service["name"], path_prefix="/books", allow_groups=["library"])
    page = await admin.get("/gateway")
    assert page.status_code == 200
    assert f"/gw/{service['name']}/books" in page.text and route["name"] in page.text
    username = unique("app")
    refused = await admin.post(
        "/gateway/consumers", data={"username": "坏名字", "groups": "library"}
    )
    assert refused.status_code == 422 and "is-invalid" in refused.text
    created = await admin.post(
        "/gateway/consumers",
        data={"username": username, "groups": "library， staff", "rate_limit_per_minute": "5"},
    )
    assert created.status_code == 303
    consumers = (await admin.get(f"{GW}/consumers")).json()
    mine = next(c for c in consumers if c["username"] == username)
    assert mine["groups"] == ["library", "staff"] and mine["rate_limit_per_minute"] == 5
    posted = await admin.post(f"/gateway/consumers/{username}/credentials", data={"kind": "key"})
    assert posted.status_code == 303
    issued = await admin.get(posted.headers["location"])
    key = issued.text.split("请立即保存：")[1].split("<")[0].strip()
    assert "请立即保存" not in (await admin.get(posted.headers["location"])).text
    upstreams.hosts["a.upstream"] = echo
    called = await caller.get(f"/gw/{service['name']}/books", headers={"apikey": key})
    assert called.status_code == 200, called.text
    assert key not in (await admin.get("/gateway")).text
