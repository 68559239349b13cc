"""The overview: health of the parts and of registered instances, this process's per-route
figures and its recent server errors — through the JSON API and the page, and who may see them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel import clock
from campus.kernel.events import OutboxRow, emit
from campus.kernel.runtime import Runtime
from campus.platform.monitor import queries
from campus.platform.monitor.traffic import Traffic
from campus.platform.registry import actions as registry_actions
from campus.platform.registry import handlers as registry_handlers
from tests.conftest import LoginAs

API = "/api/v1/monitor"
ROUTE = "/api/v1/auth/me"


async def register(
    app: Any, admin: httpx.AsyncClient, service: str, **fields: Any
) -> dict[str, Any]:
    """An instance registered over HTTP with a fresh owner's registry token."""
    issued = await admin.post("/api/v1/registry/credentials", json={"owner": service})
    assert issued.status_code == 201, issued.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {issued.json()['token']}"},
    ) as instance:
        body = {"service": service, "version": "2.1.0", "address": "http://10.0.0.7:8000"}
        response = await instance.post("/api/v1/registry/instances", json={**body, **fields})
    assert response.status_code == 201, response.text
    return dict(response.json()["instance"])


async def fail_health_checks(db: Runtime) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        for _ in range(registry_actions.FAILURES_UNHEALTHY):
            await registry_handlers.check_health(db, client)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- health ---------------------------------------------------------------------------------


async def test_health_shows_the_parts_and_every_instance_with_its_state(
    app: Any, login_as: LoginAs, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await login_as("admin")
    healthy = await register(app, admin, unique("mon-ok"), ttl_seconds=60)
    failing = await register(
        app, admin, unique("mon-bad"), ttl_seconds=60, health_url="http://mon-bad.test/healthz"
    )
    lapsing = await register(app, admin, unique("mon-old"), ttl_seconds=5)
    await fail_health_checks(db)
    later = clock.now() + timedelta(seconds=10)
    monkeypatch.setattr(clock, "now", lambda: later)

    response = await admin.get(f"{API}/health")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ready"] is True
    parts = {p["name"]: p for p in body["parts"]}
    assert {name: p["state"] for name, p in parts.items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "ok",
    }
    assert parts["database"]["backend"] == db.settings.database_url.split("+")[0].split(":")[0]
    assert parts["cache"]["backend"] == db.settings.redis_url.split(":")[0]
    states = {i["id"]: i for i in body["instances"]}
    assert states[healthy["id"]]["state"] == "healthy"
    assert states[failing["id"]]["state"] == "unhealthy"
    assert states[lapsing["id"]]["state"] == "expired"
    assert states[healthy["id"]]["last_heartbeat_at"] == healthy["last_heartbeat_at"]
    assert states[healthy["id"]]["version"] == "2.1.0"

    page = await admin.get("/monitor/overview")
    assert page.status_code == 200
    for instance, state in ((healthy, "healthy"), (failing, "unhealthy"), (lapsing, "expired")):
        assert f'data-instance="{instance["id"]}" data-state="{state}"' in page.text
    assert "不健康" in page.text and "租约已过期" in page.text


async def test_a_part_that_does_not_answer_is_shown_down(
    login_as: LoginAs, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise ConnectionError("broker gone")

    monkeypatch.setattr(db.bus, "ping", broken)
    admin = await login_as("admin")

    body = (await admin.get(f"{API}/health")).json()
    page = await admin.get("/monitor/overview")

    assert body["ready"] is False
    assert {p["name"]: p["state"] for p in body["parts"]}["broker"] == "down"
    assert 'data-testid="part-broker" data-state="down"' in page.text
    assert 'data-testid="part-database" data-state="ok"' in page.text


async def test_health_counts_unsent_events_and_pending_dead_letters(
    login_as: LoginAs, db: Runtime, letter: int
) -> None:
    async with db.db.transaction() as session:
        await emit(session, "campus_test.monitor.pinged", {"n": 1})
    async with db.db.read() as session:
        unsent = await session.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
        )
        pending = await queries.pending_dead_letters(session)
    admin = await login_as("admin")

    body = (await admin.get(f"{API}/health")).json()

    assert unsent and pending >= 1
    assert (body["outbox_unsent"], body["dead_letters_pending"]) == (unsent, pending)


# -- traffic ----------------------------------------------------------------------------------


def route_figures(body: dict[str, Any], route: str) -> dict[str, Any]:
    found = [r for r in body["routes"] if r["route"] == route and r["method"] == "GET"]
    return found[0] if found else {"requests": 0, "errors": 0}


async def test_requests_show_up_in_the_per_route_figures(login_as: LoginAs, ring: Traffic) -> None:
    admin = await login_as("admin")
    # The same window before and after: earlier tests of this process count in it too.
    before = route_figures((await admin.get(f"{API}/traffic", params={"minutes": 5})).json(), ROUTE)
    for _ in range(3):
        assert (await admin.get(ROUTE)).status_code == 200

    body = (await admin.get(f"{API}/traffic", params={"minutes": 5})).json()
    only = (await admin.get(f"{API}/traffic", params={"route": ROUTE})).json()

    figures = route_figures(body, ROUTE)
    assert figures["requests"] == before["requests"] + 3
    assert figures["module"] == "auth"
    assert figures["errors"] == before["errors"]
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] < 10_000
    assert figures["per_minute"] == round(figures["requests"] / 5, 2)
    assert body["minutes"] == 5 and len(body["per_minute"]) == 5
    assert body["per_minute"][-1]["requests"] >= 3
    assert {r["route"] for r in only["routes"]} == {ROUTE}
    # Per minute, the route's requests of every method (earlier tests may have sent others).
    assert sum(m["requests"] for m in only["per_minute"]) == sum(
        r["requests"] for r in only["routes"]
    )
    page = await admin.get("/monitor/overview", params={"route": ROUTE})
    assert f'data-route="GET {ROUTE}"' in page.text
    assert 'data-testid="chart-requests"' in page.text
    assert 'data-testid="chart-route_latency"' in page.text


async def test_bad_traffic_filters_are_refused_naming_the_field(login_as: LoginAs) -> None:
    admin = await login_as("admin")

    too_long = await admin.get(f"{API}/traffic", params={"minutes": 99})
    no_limit = await admin.get(f"{API}/errors", params={"limit": 0})
    page = await admin.get("/monitor/overview", params={"minutes": "abc"})

    assert too_long.status_code == 422
    assert too_long.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in too_long.json()["errors"]] == ["minutes"]
    assert no_limit.status_code == 422
    assert [e["field"] for e in no_limit.json()["errors"]] == ["limit"]
    assert page.status_code == 422
    assert 'data-testid="filter-errors"' in page.text and "统计窗口" in page.text
    assert 'data-testid="routes"' in page.text or "这段时间没有请求" in page.text


# -- recent errors --------------------------------------------------------------------------


async def test_an_unhandled_exception_appears_in_recent_errors_with_its_request_id(
    admin_seeing_500s: httpx.AsyncClient, ring: Traffic, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("磁盘已满 boom")

    monkeypatch.setattr(queries, "list_dead_letters", explode)
    client = admin_seeing_500s
    before = route_figures((await client.get(f"{API}/traffic")).json(), f"{API}/dead-letters")

    failed = await client.get(f"{API}/dead-letters", headers={"X-Request-ID": "req-boom-1"})
    missing = await client.get(f"{API}/dead-letters/999999999")
    unnamed = await client.get(f"{API}/dead-letters")

    assert (failed.status_code, missing.status_code, unnamed.status_code) == (500, 404, 500)
    generated = (await client.get(f"{API}/errors")).json()["items"][0]
    assert len(generated["request_id"]) == 32, "the kernel names a request that came unnamed"
    # The 500 itself tells the caller its id, to quote when reporting it.
    assert failed.headers["x-request-id"] == "req-boom-1"
    assert unnamed.headers["x-request-id"] == generated["request_id"]
    items = (await client.get(f"{API}/errors")).json()["items"]
    assert [i["request_id"] for i in items[:2]] == [generated["request_id"], "req-boom-1"]
    newest = items[1]
    assert newest["status"] == 500
    assert newest["method"] == "GET"
    assert newest["route"] == f"{API}/dead-letters"
    assert newest["module"] == "monitor"
    assert newest["path"] == f"{API}/dead-letters"
    assert newest["error"] == "RuntimeError: 磁盘已满 boom"
    after = route_figures((await client.get(f"{API}/traffic")).json(), f"{API}/dead-letters")
    assert after["errors"] == before["errors"] + 2
    assert after["requests"] == before["requests"] + 2
    assert after["error_ratio"] > 0

    page = await client.get("/monitor/overview")
    assert 'data-request-id="req-boom-1"' in page.text
    assert "RuntimeError: 磁盘已满 boom" in page.text
    assert "/monitor/audit?request_id=req-boom-1" in page.text


async def test_an_answered_5xx_is_a_recent_error_and_a_4xx_is_not(
    admin_seeing_500s: httpx.AsyncClient,
    ring: Traffic,
    db: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken() -> None:
        raise ConnectionError("cache gone")

    monkeypatch.setattr(db.cache, "ping", broken)
    client = admin_seeing_500s

    not_ready = await client.get("/readyz", headers={"X-Request-ID": "req-ready-1"})
    refused = await client.get(
        f"{API}/errors", params={"limit": "x"}, headers={"X-Request-ID": "req-422"}
    )

    assert not_ready.status_code == 503
    assert refused.status_code == 422
    items = (await client.get(f"{API}/errors")).json()["items"]
    assert items[0]["request_id"] == "req-ready-1"
    assert (items[0]["status"], items[0]["route"], items[0]["error"]) == (503, "/readyz", None)
    assert "req-422" not in [i["request_id"] for i in items]


async def test_the_audit_log_is_searched_by_request_id(login_as: LoginAs, db: Runtime) -> None:
    admin = await login_as("admin")
    made = await admin.post(
        "/api/v1/registry/credentials",
        json={"owner": unique("audited")},
        headers={"X-Request-ID": "req-audited-1"},
    )
    assert made.status_code == 201

    found = (await admin.get(f"{API}/audit", params={"request_id": "req-audited-1"})).json()
    none = (await admin.get(f"{API}/audit", params={"request_id": "req-nobody"})).json()
    page = await admin.get("/monitor/audit", params={"request_id": "req-audited-1"})

    assert found["total"] >= 1
    assert {i["request_id"] for i in found["items"]} == {"req-audited-1"}
    assert none["total"] == 0
    assert 'value="req-audited-1"' in page.text


# -- who may see it -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [f"{API}/health", f"{API}/traffic", f"{API}/errors"])
async def test_only_holders_of_the_overview_code_may_read(
    login_as: LoginAs, anon: httpx.AsyncClient, path: str
) -> None:
    teacher = await login_as("teacher")

    refused = await teacher.get(path)
    anonymous = await anon.get(path)

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert anonymous.status_code == 401


async def test_the_page_and_its_menu_entry_are_for_administrators(login_as: LoginAs) -> None:
    teacher = await login_as("teacher")
    admin = await login_as("admin")

    refused = await teacher.get("/monitor/overview")
    home = await teacher.get("/")
    allowed = await admin.get("/monitor/overview", headers={"Accept-Language": "en"})

    assert refused.status_code == 403
    assert "/monitor/overview" not in home.text
    assert allowed.status_code == 200
    assert "Overview" in allowed.text
    assert 'href="/monitor/overview"' in allowed.text
