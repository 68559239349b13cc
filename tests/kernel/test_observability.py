"""Metrics, probes and the access log, through HTTP as Prometheus, Kubernetes and operators
see them."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from campus.entrypoints.http import create_app
from campus.kernel import runtime as runtime_module
from campus.kernel.bus import InProcessBus
from campus.kernel.cache import RedisCache
from campus.kernel.config import Settings
from campus.kernel.events import emit
from campus.kernel.logging import configure_logging
from campus.kernel.observability import RequestSample
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access.service import declared_permission
from tests.conftest import LoginAs
from tests.kernel import conftest as probe
from tests.kernel.conftest import AppFactory, client_for, closed_port

THING_ROUTE = "/api/v1/probe/things/{thing_id}"


def requests_total(**labels: str) -> float:
    return REGISTRY.get_sample_value("campus_http_requests_total", labels) or 0.0


def latency_count(**labels: str) -> float:
    return REGISTRY.get_sample_value("campus_http_request_duration_seconds_count", labels) or 0.0


async def scrape(app: FastAPI) -> dict[str, list[tuple[dict[str, str], float]]]:
    client = await client_for(app)
    try:
        response = await client.get("/metrics")
    finally:
        await client.aclose()
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


async def test_a_request_counts_under_its_route_template_and_module(
    make_app: AppFactory, db: Runtime
) -> None:
    app = make_app()
    labels = {"method": "GET", "route": THING_ROUTE, "module": "probe"}
    before = requests_total(**labels, status="2xx")
    timed_before = latency_count(**labels)
    client = await client_for(app)
    for thing_id in (4242, 4243):
        assert (await client.get(f"/api/v1/probe/things/{thing_id}")).status_code == 200
    await client.aclose()

    assert requests_total(**labels, status="2xx") == before + 2
    assert latency_count(**labels) == timed_before + 2
    samples = await scrape(app)
    routes = {s["route"] for s, _value in samples["campus_http_requests_total"]}
    assert THING_ROUTE in routes
    every_label = [v for series in samples.values() for s, _ in series for v in s.values()]
    assert not [v for v in every_label if "4242" in v or "4243" in v], "raw ids leaked into labels"


async def test_a_real_module_route_is_labelled_with_that_module(login_as: LoginAs) -> None:
    labels = {"method": "GET", "route": "/api/v1/auth/me", "module": "auth", "status": "2xx"}
    before = requests_total(**labels)
    client = await login_as("admin")
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert requests_total(**labels) == before + 1


async def test_unknown_paths_and_methods_do_not_mint_new_series(
    make_app: AppFactory, db: Runtime
) -> None:
    app = make_app()
    unmatched = {"method": "GET", "route": "<unmatched>", "module": "kernel", "status": "4xx"}
    before = requests_total(**unmatched)
    client = await client_for(app)
    for n in range(3):
        assert (await client.get(f"/no/such/page/{n}?token=secret")).status_code == 404
    odd = await client.request("BREW", "/api/v1/probe/things/1")
    await client.aclose()

    assert requests_total(**unmatched) == before + 3
    assert odd.status_code == 405
    assert requests_total(method="OTHER", route=THING_ROUTE, module="probe", status="4xx") >= 1
    samples = await scrape(app)
    every_label = [v for series in samples.values() for s, _ in series for v in s.values()]
    assert not [v for v in every_label if "/no/such" in v or "secret" in v or v == "BREW"]


async def test_an_unexpected_error_counts_as_5xx(make_app: AppFactory, db: Runtime) -> None:
    labels = {"method": "GET", "route": "/api/v1/probe/boom", "module": "probe", "status": "5xx"}
    before = requests_total(**labels)
    client = await client_for(make_app(), raise_app_exceptions=False)
    assert (await client.get("/api/v1/probe/boom")).status_code == 500
    await client.aclose()
    assert requests_total(**labels) == before + 1


async def test_a_request_the_kernel_turns_away_counts_under_its_route(
    make_app: AppFactory, db: Runtime
) -> None:
    labels = {"method": "POST", "route": "/api/v1/auth/login", "module": "auth", "status": "4xx"}
    before = requests_total(**labels)
    client = await client_for(make_app())
    del client.headers["X-CSRF-Token"]
    refused = await client.post("/api/v1/auth/login", json={"login": "A0001", "password": "x"})
    await client.aclose()
    assert refused.status_code == 403
    assert requests_total(**labels) == before + 1


async def test_in_flight_gauge_counts_requests_being_handled(
    make_app: AppFactory, db: Runtime
) -> None:
    probe.entered_waiting.clear()
    probe.release_waiting.clear()
    client = await client_for(make_app())
    idle = REGISTRY.get_sample_value("campus_http_requests_in_flight") or 0.0
    waiting = asyncio.create_task(client.get("/api/v1/probe/wait"))
    await asyncio.wait_for(probe.entered_waiting.wait(), 5)
    busy = REGISTRY.get_sample_value("campus_http_requests_in_flight")
    probe.release_waiting.set()
    assert (await waiting).json() == {"released": True}
    await client.aclose()
    assert busy == idle + 1
    assert REGISTRY.get_sample_value("campus_http_requests_in_flight") == idle


async def test_outbox_backlog_is_read_at_scrape_time(make_app: AppFactory, db: Runtime) -> None:
    app = make_app()
    (backlog_before,) = (v for _, v in (await scrape(app))["campus_outbox_unsent_events"])
    async with db.db.transaction() as session:
        for n in range(3):
            await emit(session, "probe.thing.made", {"n": n})
    (backlog_after,) = (v for _, v in (await scrape(app))["campus_outbox_unsent_events"])
    assert backlog_after == backlog_before + 3


async def test_metrics_are_refused_to_other_hosts_without_the_token(
    make_app: AppFactory, db: Runtime
) -> None:
    app = make_app({"metrics_token": "scrape-token-1"})
    remote = await client_for(app, client=("203.0.113.9", 40000))
    refused = await remote.get("/metrics")
    wrong = await remote.get("/metrics", headers={"Authorization": "Bearer nope"})
    allowed = await remote.get("/metrics", headers={"Authorization": "Bearer scrape-token-1"})
    await remote.aclose()
    local = await client_for(app)
    proxied = await local.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    direct = await local.get("/metrics")
    await local.aclose()

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert wrong.status_code == 403
    assert allowed.status_code == 200
    assert "campus_http_requests_total" in allowed.text
    assert proxied.status_code == 403, "a request relayed by a local proxy is not local"
    assert direct.status_code == 200


async def test_without_a_token_only_this_machine_may_scrape(
    make_app: AppFactory, db: Runtime
) -> None:
    remote = await client_for(make_app(), client=("10.1.2.3", 40000))
    response = await remote.get("/metrics", headers={"Authorization": "Bearer "})
    await remote.aclose()
    assert response.status_code == 403


async def test_healthz_answers_without_touching_any_part(make_app: AppFactory, db: Runtime) -> None:
    broken = RedisCache(f"redis://127.0.0.1:{closed_port()}/0")
    client = await client_for(make_app(cache=broken))
    response = await client.get("/healthz")
    await client.aclose()
    await broken.close()
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


async def test_readyz_reports_every_part_when_all_answer(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "parts": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


async def test_readyz_is_503_naming_the_part_that_is_down(
    make_app: AppFactory, db: Runtime
) -> None:
    broken = RedisCache(f"redis://127.0.0.1:{closed_port()}/0")
    client = await client_for(make_app(cache=broken), language="en")
    response = await client.get("/readyz")
    await client.aclose()
    await broken.close()

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["failed"] == ["cache"]
    assert body["parts"] == {"database": "ok", "cache": "down", "broker": "ok"}
    assert body["title"] == "Service unavailable"
    assert "cache" in body["detail"]
    assert "127.0.0.1" not in response.text, "connection details stay in the log"


class HangingBus(InProcessBus):
    async def ping(self) -> None:
        await asyncio.sleep(3600)


async def test_readyz_gives_up_on_a_part_that_hangs(
    make_app: AppFactory, db: Runtime, monkeypatch: Any
) -> None:
    from campus.kernel import health

    monkeypatch.setattr(health, "PART_TIMEOUT", 0.2)
    client = await client_for(make_app(bus=HangingBus()))
    response = await asyncio.wait_for(client.get("/readyz"), 5)
    await client.aclose()
    assert response.status_code == 503
    assert response.json()["parts"]["broker"] == "timeout"
    assert response.json()["failed"] == ["broker"]


def test_probe_and_metrics_routes_are_declared_public(app: FastAPI) -> None:
    # Included routers stay nested in app.routes; iter_route_contexts walks them all.
    declared = {
        route.path: {declared_permission(d.call) for d in route.dependant.dependencies}
        for route in iter_route_contexts(app.routes)
        if route.path in ("/healthz", "/readyz", "/metrics")
    }
    assert declared == {p: {"public"} for p in ("/healthz", "/readyz", "/metrics")}


async def test_access_log_is_one_json_line_per_request_in_production(
    make_app: AppFactory, db: Runtime, demo: SeedContext
) -> None:
    app = make_app({"environment": "production"})
    out = io.StringIO()
    # The app's access logger binds on first use, i.e. to this configuration.
    configure_logging("INFO", json=True, stream=out)
    client = await client_for(app, base_url="https://testserver")
    admin = next(x for x in demo.logins if x.role == "admin")
    signed_in = await client.post(
        "/api/v1/auth/login", json={"login": admin.login, "password": admin.password}
    )
    assert signed_in.status_code == 200, signed_in.text
    me = await client.get("/api/v1/auth/me?access_token=do-not-log-me")
    await client.get("/healthz")
    await client.aclose()

    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    access = [x for x in lines if x.get("event") == "http_request"]
    me_lines = [x for x in access if x["route"] == "/api/v1/auth/me"]
    assert len(me_lines) == 1
    line = me_lines[0]
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert line["module"] == "auth"
    assert line["request_id"] == me.headers["x-request-id"]
    assert line["person_id"] == me.json()["person_id"]
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "info"
    assert line["logger"] == "campus.access"
    assert "timestamp" in line
    assert "do-not-log-me" not in out.getvalue()
    assert admin.password not in out.getvalue()
    assert not [x for x in access if x["route"] == "/healthz"], "probe successes stay quiet"


async def test_an_unmatched_path_is_logged_without_its_query(
    make_app: AppFactory, db: Runtime
) -> None:
    app = make_app()
    out = io.StringIO()
    configure_logging("INFO", json=True, stream=out)
    client = await client_for(app)
    await client.get("/wp-login.php?pwd=letmein")
    await client.aclose()
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    (line,) = [x for x in lines if x.get("event") == "http_request" and x["status"] == 404]
    assert line["route"] is None
    assert line["path"] == "/wp-login.php"
    assert "letmein" not in out.getvalue()


async def test_request_observers_see_each_answer_and_a_broken_one_changes_nothing(
    settings: Settings, runtime: Runtime, db: Runtime
) -> None:
    seen: list[RequestSample] = []

    def broken(_sample: RequestSample) -> None:
        raise RuntimeError("observer bug")

    watching = dataclasses.replace(
        probe.PROBE_MODULE, extra={"request_observers": (broken, seen.append)}
    )
    try:
        app = create_app(
            settings, dataclasses.replace(runtime, modules=[*runtime.modules, watching])
        )
        client = await client_for(app, raise_app_exceptions=False)
        seen.clear()  # the client's first request fetched its CSRF cookie
        ok = await client.get("/api/v1/probe/things/7", headers={"X-Request-ID": "obs-1"})
        boom = await client.get("/api/v1/probe/boom", headers={"X-Request-ID": "obs-2"})
        await client.aclose()
    finally:  # as make_app does: the process's runtime and logging as they were
        runtime_module.set_current(runtime)
        configure_logging(settings.log_level)

    assert (ok.status_code, boom.status_code) == (200, 500)
    first, second = seen
    assert (first.method, first.route, first.module) == ("GET", THING_ROUTE, "probe")
    assert (first.status, first.request_id, first.path, first.error) == (
        200,
        "obs-1",
        "/api/v1/probe/things/7",
        None,
    )
    assert first.seconds > 0
    assert (second.status, second.request_id, second.route) == (500, "obs-2", "/api/v1/probe/boom")
    assert isinstance(second.error, Exception)
