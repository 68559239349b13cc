"""The developer platform over HTTP: a developer (the demo student) creates an app, gets a key,
subscribes to an open service and calls it; a sensitive service waits for its owner (the demo
teacher) to approve; quotas and cancellations take effect at the gateway at once; vendors
propose services that administrators review. Bad input changes nothing."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from campus.kernel import clock
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.gateway import service as gateway
from campus.platform.gateway.models import GatewayConsumer, GatewaySubscription
from tests.conftest import LoginAs
from tests.platform.gateway.conftest import GW, Setup, Upstreams, echo, unique


@pytest.fixture
async def dev(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


@pytest.fixture
async def owner(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("teacher")


async def person_id(client: httpx.AsyncClient) -> int:
    return int((await client.get("/api/v1/auth/me")).json()["person_id"])


async def offered(
    setup: Setup, upstreams: Upstreams, mode: str, owner_id: int | None = None
) -> str:
    """A service offered on the developer platform, answered by the echo upstream."""
    host = f"{unique('h')}.upstream"
    upstreams.hosts[host] = echo
    fields: dict[str, Any] = {"url": f"http://{host}", "subscription": mode, "title": "图书检索"}
    if owner_id is not None:
        fields["owner_id"] = owner_id
    service = await setup.service(**fields)
    await setup.route(service["name"])
    return str(service["name"])


async def new_app(dev: httpx.AsyncClient, title: str = "座位助手") -> dict[str, Any]:
    response = await dev.post(f"{GW}/apps", json={"title": title, "description": "查座位"})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def key_of(dev: httpx.AsyncClient, app_id: int) -> str:
    response = await dev.post(f"{GW}/apps/{app_id}/credentials", json={"kind": "key"})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def test_an_app_subscribes_to_an_open_service_and_calls_it(
    setup: Setup, upstreams: Upstreams, dev: httpx.AsyncClient, caller: httpx.AsyncClient
) -> None:
    service = await offered(setup, upstreams, "open")
    app = await new_app(dev)
    assert app["username"].startswith("app-") and app["owner_id"] == await person_id(dev)
    assert app["rate_limit_per_minute"] == 600 and app["quota_per_day"] == 10_000
    key = await key_of(dev, app["id"])

    before = await caller.get(f"/gw/{service}/books", headers={"apikey": key})
    assert before.status_code == 403
    assert "未订阅" in before.json()["detail"]

    made = await dev.post(f"{GW}/apps/{app['id']}/subscriptions", json={"service": service})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "approved"
    after = await caller.get(f"/gw/{service}/books", headers={"apikey": key})
    assert after.status_code == 200, after.text
    assert after.json()["headers"]["x-consumer-username"] == app["username"]

    again = await dev.post(f"{GW}/apps/{app['id']}/subscriptions", json={"service": service})
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "service"

    usage = (await dev.get(f"{GW}/apps/{app['id']}/usage")).json()
    assert sum(d["ok"] for d in usage["days"]) == 1
    assert sum(d["client_errors"] for d in usage["days"]) == 1  # the 403 before subscribing
    assert usage["used_today"] == 1 and usage["quota_per_day"] == 10_000  # admitted calls


async def test_a_sensitive_service_waits_for_its_owner(
    setup: Setup,
    upstreams: Upstreams,
    dev: httpx.AsyncClient,
    owner: httpx.AsyncClient,
    caller: httpx.AsyncClient,
    db: Runtime,
) -> None:
    owner_id = await person_id(owner)
    service = await offered(setup, upstreams, "approval", owner_id)
    app = await new_app(dev)
    key = await key_of(dev, app["id"])
    url = f"{GW}/apps/{app['id']}/subscriptions"

    no_reason = await dev.post(url, json={"service": service})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "note"

    pending = await dev.post(url, json={"service": service, "note": "查询馆藏"})
    assert pending.status_code == 201 and pending.json()["status"] == "pending"
    subscription = pending.json()["id"]
    assert (await caller.get(f"/gw/{service}/x", headers={"apikey": key})).status_code == 403

    todo = (await owner.get("/api/v1/workflow/tasks")).json()["items"]
    assert any(t.get("link") == "/developer/approvals" for t in todo)
    awaiting = (await owner.get(f"{GW}/subscriptions/awaiting")).json()
    assert [s["id"] for s in awaiting] == [subscription]
    assert (await dev.get(f"{GW}/subscriptions/awaiting")).json() == []

    # The developer cannot approve their own request; a refusal needs a reason.
    decision = f"{GW}/subscriptions/{subscription}/decision"
    assert (await dev.post(decision, json={"approve": True})).status_code == 403
    no_note = await owner.post(decision, json={"approve": False})
    assert no_note.status_code == 422

    approved = await owner.post(decision, json={"approve": True, "note": "同意"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await caller.get(f"/gw/{service}/x", headers={"apikey": key})).status_code == 200
    assert (await owner.post(decision, json={"approve": False, "note": "晚了"})).status_code == 409

    todo = (await owner.get("/api/v1/workflow/tasks")).json()["items"]
    assert not any(t.get("link") == "/developer/approvals" for t in todo)
    async with db.db.read() as session:
        notices = await session.scalars(
            select(OutboxRow).where(OutboxRow.name == "messaging.notify_requested")
        )
        told = [n.payload for n in notices if "订阅已通过" in n.payload["title"]]
    assert told and told[-1]["audience"] == {"person_ids": [await person_id(dev)]}

    cancelled = await dev.post(f"{GW}/subscriptions/{subscription}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await caller.get(f"/gw/{service}/x", headers={"apikey": key})).status_code == 403


async def test_a_rejected_subscription_may_be_asked_again(
    setup: Setup, upstreams: Upstreams, dev: httpx.AsyncClient, owner: httpx.AsyncClient
) -> None:
    service = await offered(setup, upstreams, "approval", await person_id(owner))
    app = await new_app(dev)
    url = f"{GW}/apps/{app['id']}/subscriptions"
    first = (await dev.post(url, json={"service": service, "note": "试用"})).json()
    rejected = await owner.post(
        f"{GW}/subscriptions/{first['id']}/decision", json={"approve": False, "note": "用途不明"}
    )
    assert rejected.json()["status"] == "rejected"
    again = await dev.post(url, json={"service": service, "note": "查询本人借阅记录"})
    assert again.status_code == 201
    assert again.json()["id"] == first["id"] and again.json()["status"] == "pending"
    assert again.json()["decision_note"] == ""


async def test_the_daily_quota_is_exact_and_answers_429(
    setup: Setup,
    upstreams: Upstreams,
    dev: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    caller: httpx.AsyncClient,
) -> None:
    service = await offered(setup, upstreams, "open")
    app = await new_app(dev)
    key = await key_of(dev, app["id"])
    await dev.post(f"{GW}/apps/{app['id']}/subscriptions", json={"service": service})
    limits = await admin.put(f"{GW}/consumers/{app['username']}/limits", json={"quota_per_day": 3})
    assert limits.status_code == 200 and limits.json()["quota_per_day"] == 3
    assert limits.json()["rate_limit_per_minute"] is None
    statuses = [
        (await caller.get(f"/gw/{service}/q", headers={"apikey": key})).status_code
        for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    refused = await caller.get(f"/gw/{service}/q", headers={"apikey": key})
    assert "配额" in refused.json()["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400

    bad = await admin.put(f"{GW}/consumers/{app['username']}/limits", json={"quota_per_day": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "quota_per_day"
    assert (await dev.put(f"{GW}/consumers/{app['username']}/limits", json={})).status_code == 403


async def test_an_app_is_its_developers_alone(
    setup: Setup,
    dev: httpx.AsyncClient,
    owner: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    db: Runtime,
) -> None:
    app = await new_app(dev)
    other = f"{GW}/apps/{app['id']}"
    assert (await owner.get(other)).status_code == 404
    assert (await owner.post(f"{other}/credentials", json={"kind": "key"})).status_code == 404
    assert (await owner.get(f"{other}/usage")).status_code == 404
    assert app["id"] not in [a["id"] for a in (await owner.get(f"{GW}/apps")).json()]
    assert (await admin.get(other)).status_code == 200  # the gateway's administrators see all

    key = await dev.post(f"{other}/credentials", json={"kind": "key"})
    credential = key.json()["id"]
    stolen = await owner.post(f"{other}/credentials/{credential}/revoke")
    assert stolen.status_code == 404
    mine = await new_app(owner, "别人的应用")
    crossed = await owner.post(f"{GW}/apps/{mine['id']}/credentials/{credential}/revoke")
    assert crossed.status_code == 404
    assert (await dev.post(f"{other}/credentials/{credential}/revoke")).status_code == 200

    async with db.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(GatewayConsumer))
    bad = await dev.post(f"{GW}/apps", json={"title": "", "extra": 1})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} >= {"title"}
    async with db.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(GatewayConsumer)) == count


async def test_only_offered_services_may_be_subscribed(
    setup: Setup, upstreams: Upstreams, dev: httpx.AsyncClient, db: Runtime
) -> None:
    hidden = await setup.service()  # subscription "none": not on the developer platform
    app = await new_app(dev)
    url = f"{GW}/apps/{app['id']}/subscriptions"
    for name in (hidden["name"], "no-such-service"):
        refused = await dev.post(url, json={"service": name})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "service"
    assert (await dev.post(url, json={"service": "Bad Name"})).status_code == 422
    async with db.db.read() as session:
        rows = await session.scalar(
            select(func.count())
            .select_from(GatewaySubscription)
            .where(GatewaySubscription.consumer_id == app["id"])
        )
    assert rows == 0
    names = [s["name"] for s in (await dev.get(f"{GW}/offered")).json()]
    assert hidden["name"] not in names


async def test_a_service_needing_approval_needs_an_owner(setup: Setup) -> None:
    body = {"name": unique("svc"), "url": "http://a.upstream", "subscription": "approval"}
    refused = await setup.admin.post(f"{GW}/services", json=body)
    assert refused.status_code == 422
    unknown = await setup.admin.post(f"{GW}/services", json={**body, "owner_id": 987654321})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "owner_id"


async def test_the_catalog_of_offered_services_is_searchable(
    setup: Setup, upstreams: Upstreams, dev: httpx.AsyncClient, owner: httpx.AsyncClient
) -> None:
    service = await offered(setup, upstreams, "approval", await person_id(owner))
    found = (await dev.get(f"{GW}/offered", params={"q": "图书"})).json()
    match = next(s for s in found if s["name"] == service)
    assert match["subscription"] == "approval" and match["owner_name"]
    assert match["routes"] and match["routes"][0]["service"] == service
    assert (await dev.get(f"{GW}/offered", params={"q": "没有这样的服务"})).json() == []


async def test_a_proposed_service_goes_live_once_reviewed(
    upstreams: Upstreams,
    dev: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    caller: httpx.AsyncClient,
) -> None:
    name = unique("vendor")
    upstreams.hosts["vendor.upstream"] = echo
    body = {
        "name": name,
        "title": "一卡通消费查询",
        "description": "厂商提供的消费记录接口",
        "url": "http://vendor.upstream/api",
        "subscription": "approval",
    }
    made = await dev.post(f"{GW}/proposals", json=body)
    assert made.status_code == 201 and made.json()["status"] == "pending"
    taken = await dev.post(f"{GW}/proposals", json=body)
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "name"
    bad = await dev.post(f"{GW}/proposals", json={**body, "name": unique("v"), "url": "ftp://x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"

    review = f"{GW}/proposals/{made.json()['id']}/review"
    assert (await dev.post(review, json={"approve": True})).status_code == 403
    assert (await dev.get(f"{GW}/proposals/all")).status_code == 403
    assert (await caller.get(f"/gw/{name}/x")).status_code == 404  # not yet

    live = await admin.post(review, json={"approve": True, "note": "接口文档齐全"})
    assert live.status_code == 200 and live.json()["status"] == "approved"
    assert (await admin.post(review, json={"approve": False, "note": "x"})).status_code == 409
    services = {s["name"]: s for s in (await admin.get(f"{GW}/services")).json()}
    assert services[name]["owner_id"] == await person_id(dev)
    assert services[name]["subscription"] == "approval"

    # The vendor's own app subscribes; the vendor, as owner, approves it; the call goes through.
    app = await new_app(dev, "厂商自测")
    key = await key_of(dev, app["id"])
    asked = await dev.post(
        f"{GW}/apps/{app['id']}/subscriptions", json={"service": name, "note": "联调"}
    )
    await dev.post(f"{GW}/subscriptions/{asked.json()['id']}/decision", json={"approve": True})
    answer = await caller.get(f"/gw/{name}/records", headers={"apikey": key})
    assert answer.status_code == 200 and answer.json()["path"] == "/api/records"
    mine = (await dev.get(f"{GW}/proposals")).json()
    assert mine[0]["id"] == made.json()["id"]


async def test_developer_pages_render_and_refuse_bad_forms(
    setup: Setup, upstreams: Upstreams, dev: httpx.AsyncClient, owner: httpx.AsyncClient
) -> None:
    service = await offered(setup, upstreams, "approval", await person_id(owner))
    page = await dev.get("/developer")
    assert page.status_code == 200 and "创建应用" in page.text
    empty = await dev.post("/developer/apps", data={"title": ""})
    assert empty.status_code == 422 and "is-invalid" in empty.text
    created = await dev.post("/developer/apps", data={"title": "课表小程序"})
    assert created.status_code == 303
    app_page = created.headers["location"]
    shown = await dev.get(app_page)
    assert shown.status_code == 200 and "课表小程序" in shown.text and "在线调试" in shown.text
    issued = await dev.post(app_page + "/credentials", data={"kind": "key"})
    assert issued.status_code == 303 and "gwk_" not in issued.text
    once = await dev.get(issued.headers["location"])
    key = re.search(r"gwk_[A-Za-z0-9_-]{40,}", once.text)
    assert once.status_code == 200 and key is not None
    # Shown once: the same address again (a reload) shows it no more and issues nothing.
    again = await dev.get(issued.headers["location"])
    assert key.group() not in again.text and again.text.count("gwk_") == 1  # the one hint
    no_note = await dev.post(app_page + "/subscriptions", data={"service": service})
    assert no_note.status_code == 422 and "请写明用途" in no_note.text
    asked = await dev.post(app_page + "/subscriptions", data={"service": service, "note": "课表"})
    assert asked.status_code == 303
    approvals = await owner.get("/developer/approvals")
    assert approvals.status_code == 200 and "课表小程序" in approvals.text
    waiting = (await owner.get(f"{GW}/subscriptions/awaiting")).json()[0]
    decide = f"/developer/subscriptions/{waiting['id']}/decision"
    unexplained = await owner.post(decide, data={"approve": "no", "note": ""})
    assert unexplained.status_code == 303  # back, with the reason flashed
    assert "驳回时请写明理由" in (await owner.get("/developer/approvals")).text
    assert (await owner.get(f"{GW}/subscriptions/awaiting")).json()[0]["status"] == "pending"
    assert (await dev.post(decide, data={"approve": "yes"})).status_code == 403
    rejected = await owner.post(decide, data={"approve": "no", "note": "请先说明数据用途"})
    assert rejected.status_code == 303
    assert (await owner.get(f"{GW}/subscriptions/awaiting")).json() == []
    for path in ("/developer/services", "/developer/proposals"):
        assert (await dev.get(path)).status_code == 200
    assert (await owner.get(app_page)).status_code == 404


async def test_kong_export_requires_the_subscription_as_the_gateway_does(
    setup: Setup,
    upstreams: Upstreams,
    dev: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    db: Runtime,
) -> None:
    service = await offered(setup, upstreams, "open")
    await setup.route(service, path_prefix="/staff-only", allow_groups=["staff"])
    app = await new_app(dev)
    await dev.post(f"{GW}/apps/{app['id']}/subscriptions", json={"service": service})
    await admin.put(
        f"{GW}/consumers/{app['username']}/limits",
        json={"rate_limit_per_minute": 60, "quota_per_day": 500},
    )
    outsider = await new_app(dev, "未订阅的应用")
    document = yaml.safe_load(await gateway.export_kong(db, "t"))

    kong_service = next(s for s in document["services"] if s["name"] == service)
    acl = next(p for p in kong_service["plugins"] if p["name"] == "acl")
    assert acl["config"]["allow"] == [f"subscriber:{service}"]
    staff_route = next(r for r in kong_service["routes"] if r["paths"][0].endswith("/staff-only"))
    route_acl = next(p for p in staff_route["plugins"] if p["name"] == "acl")
    assert route_acl["config"]["allow"] == [f"staff:{service}"]  # the group and the subscription

    consumers = {c["username"]: c for c in document["consumers"]}
    assert [a["group"] for a in consumers[app["username"]]["acls"]] == [f"subscriber:{service}"]
    assert consumers[outsider["username"]]["acls"] == []
    limits = consumers[app["username"]]["plugins"][0]["config"]
    assert (limits["minute"], limits["day"]) == (60, 500)


async def token_for(caller: httpx.AsyncClient, client_id: str, secret: str) -> str:
    response = await caller.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def test_an_app_calls_with_an_oauth_bearer_token(
    setup: Setup,
    upstreams: Upstreams,
    dev: httpx.AsyncClient,
    caller: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    db: Runtime,
) -> None:
    service = await offered(setup, upstreams, "open")
    app = await new_app(dev)
    await dev.post(f"{GW}/apps/{app['id']}/subscriptions", json={"service": service})
    registered = await dev.post(f"{GW}/apps/{app['id']}/oauth-client")
    assert registered.status_code == 201, registered.text
    client = registered.json()
    assert client["client_id"] == app["username"] and client["token_endpoint"] == "/oauth/token"
    assert (await dev.post(f"{GW}/apps/{app['id']}/oauth-client")).status_code == 409
    token = await token_for(caller, client["client_id"], client["client_secret"])

    answer = await caller.get(f"/gw/{service}/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    seen = answer.json()["headers"]
    assert seen["x-consumer-username"] == app["username"]
    assert "authorization" not in seen  # the gateway's credential stays at the gateway

    for bad in ("not-a-token", token[:-4] + "AAAA"):
        refused = await caller.get(f"/gw/{service}/me", headers={"Authorization": f"Bearer {bad}"})
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")

    # A token issued two hours ago has expired.
    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() - timedelta(hours=2))
    old = await token_for(caller, client["client_id"], client["client_secret"])
    monkeypatch.setattr(clock, "now", real_now)
    expired = await caller.get(f"/gw/{service}/me", headers={"Authorization": f"Bearer {old}"})
    assert expired.status_code == 401

    # Revoked: still accepted by local verification until it expires, refused by introspection.
    revoked = await caller.post(
        "/oauth/revoke",
        data={"token": token},
        auth=(client["client_id"], client["client_secret"]),
    )
    assert revoked.status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await caller.get(f"/gw/{service}/me", headers=bearer)).status_code == 200
    monkeypatch.setattr(db.settings, "gateway_token_check", "introspect")
    assert (await caller.get(f"/gw/{service}/me", headers=bearer)).status_code == 401
    fresh = await token_for(caller, client["client_id"], client["client_secret"])
    fresh_bearer = {"Authorization": f"Bearer {fresh}"}
    assert (await caller.get(f"/gw/{service}/me", headers=fresh_bearer)).status_code == 200


async def test_a_two_letter_consumer_gets_an_oauth_client_of_its_name(
    setup: Setup, admin: httpx.AsyncClient, caller: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """A consumer's name may have two characters; so may its client's id, which is the name."""
    service = await offered(setup, upstreams, "none")
    for _attempt in range(20):
        short = f"{chr(ord('a') + secrets.randbelow(26))}{secrets.randbelow(10)}"
        made = await admin.post(f"{GW}/consumers", json={"username": short})
        if made.status_code == 201:
            break
    assert made.status_code == 201, made.text
    bound = await admin.post(f"{GW}/consumers/{short}/oauth-client")
    assert bound.status_code == 201, bound.text
    assert bound.json()["client_id"] == short
    token = await token_for(caller, bound.json()["client_id"], bound.json()["client_secret"])
    answer = await caller.get(f"/gw/{service}/x", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["headers"]["x-consumer-username"] == short


async def test_a_token_of_an_unbound_client_is_refused(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient, caller: httpx.AsyncClient
) -> None:
    service = await offered(setup, upstreams, "none")
    made = await admin.post(
        "/api/v1/auth/oidc/clients",
        json={
            "name": "未绑定的系统",
            "grant_types": ["client_credentials"],
            "allowed_scopes": [],
        },
    )
    assert made.status_code == 201, made.text
    token = await token_for(caller, made.json()["client_id"], made.json()["client_secret"])
    refused = await caller.get(f"/gw/{service}/x", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and "没有绑定" in refused.json()["detail"]

    consumer = await setup.consumer()
    bound = await admin.post(f"{GW}/consumers/{consumer['username']}/oauth-client")
    assert bound.status_code == 201
    token = await token_for(caller, bound.json()["client_id"], bound.json()["client_secret"])
    answer = await caller.get(f"/gw/{service}/x", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    assert answer.json()["headers"]["x-consumer-username"] == consumer["username"]
