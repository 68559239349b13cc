"""Forwarding through /gw/<service>/…: paths, headers, weighted round-robin over the registry's
healthy instances, retries of idempotent requests only, the circuit breaker, and the gateway's
own answers (404, 413, 502, 503, 504) as problem+json."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from campus.platform.gateway import balancer
from tests.platform.gateway.conftest import Setup, Upstreams, echo, unique
from tests.platform.registry.conftest import MakeOwner

PROBLEM = "application/problem+json"


def _problem(response: httpx.Response, status: int) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    return dict(body)


async def test_a_request_reaches_the_upstream_with_its_path_query_body_and_forwarding_headers(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    service = await setup.service(url="http://a.upstream/base")
    await setup.route(service["name"], path_prefix="/books", public=True)
    await setup.route(service["name"], path_prefix="/raw", public=True, strip_prefix=False)
    response = await caller.post(
        f"/gw/{service['name']}/books/7/loans?x=1&y=2",
        json={"due": "2026-12-01"},
        headers={
            "X-Request-ID": "req-42",
            "X-Forwarded-For": "203.0.113.9",
            "Connection": "keep-alive, X-Secret-Hop",
            "X-Secret-Hop": "1",
            "X-Consumer-Username": "forged",
            "Keep-Alive": "timeout=5",
            "Cookie": "campus_session=secret; theirs=1; campus_csrf=t",
        },
    )
    assert response.status_code == 200, response.text
    seen = response.json()
    assert seen["path"] == "/base/7/loans"
    assert seen["query"] == "x=1&y=2"
    assert seen["body"] == '{"due":"2026-12-01"}'
    headers = seen["headers"]
    assert headers["x-request-id"] == "req-42"
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-prefix"] == f"/gw/{service['name']}/books"
    assert headers["cookie"] == "theirs=1"  # Campus's own cookies stay at the gateway
    for hop in ("keep-alive", "x-secret-hop", "x-consumer-username"):
        assert hop not in headers
    assert response.headers["x-upstream"] == "a.upstream"
    assert response.headers["x-request-id"] == "req-42"
    kept = await caller.get(f"/gw/{service['name']}/raw/file.txt")
    assert kept.json()["path"] == "/base/raw/file.txt"
    assert kept.json()["headers"]["x-forwarded-prefix"] == f"/gw/{service['name']}"


async def test_an_answer_through_the_gateway_carries_no_cookie_of_the_site(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    service = await setup.service(url="http://a.upstream")
    await setup.route(service["name"], path_prefix="/books", public=True)
    caller.cookies.clear()
    proxied = await caller.get(f"/gw/{service['name']}/books")
    assert proxied.status_code == 200, proxied.text
    assert "set-cookie" not in proxied.headers  # the upstream's answer, not one of the site's
    refused = await caller.get("/gw/none-such/books")
    assert refused.status_code == 404 and "set-cookie" not in refused.headers
    # The site's own answers to a cookieless caller still hand out the CSRF cookie.
    assert "campus_csrf=" in (await caller.get("/healthz")).headers["set-cookie"]


async def test_unknown_services_routes_and_methods_are_404_problems(
    setup: Setup, caller: httpx.AsyncClient
) -> None:
    service = await setup.service()
    await setup.route(service["name"], path_prefix="/books", methods=["GET"], public=True)
    for method, path in (
        ("GET", "/gw/none-such/books"),
        ("GET", f"/gw/{service['name']}/journals"),
        ("GET", f"/gw/{service['name']}/bookshelf"),
        ("DELETE", f"/gw/{service['name']}/books/1"),
    ):
        body = _problem(await caller.request(method, path), 404)
        assert "路由" in body["detail"]


async def _registry_service(make_owner: MakeOwner, instances: dict[str, int]) -> str:
    owner = await make_owner()
    name = unique("reg")
    for host, weight in instances.items():
        response = await owner.register(
            name, instance_id=host, address=f"http://{host}", weight=weight, ttl_seconds=60
        )
        assert response.status_code == 201, response.text
    return name


async def test_instances_share_requests_by_weight_in_a_smooth_round_robin(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient, make_owner: MakeOwner
) -> None:
    for host in ("heavy.node", "light.node"):
        upstreams.hosts[host] = echo
    registered = await _registry_service(make_owner, {"heavy.node": 300, "light.node": 100})
    name = await setup.open_service(registry_service=registered)
    hosts = [(await caller.get(f"/gw/{name}/x")).headers["x-upstream"] for _ in range(8)]
    assert Counter(hosts) == {"heavy.node": 6, "light.node": 2}
    assert hosts[:4].count("light.node") == 1  # spread out, not bunched


async def test_no_healthy_instance_is_503(setup: Setup, caller: httpx.AsyncClient) -> None:
    name = await setup.open_service(registry_service=unique("nobody"))
    body = _problem(await caller.get(f"/gw/{name}/x"), 503)
    assert "没有可用的实例" in body["detail"]


async def test_a_get_is_retried_on_another_instance_after_a_refused_connection_or_a_503(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient, make_owner: MakeOwner
) -> None:
    upstreams.hosts["busy.node"] = lambda r: httpx.Response(503, text="busy")
    upstreams.hosts["good.node"] = echo
    registered = await _registry_service(
        make_owner, {"dead.node": 100, "busy.node": 100, "good.node": 100}
    )
    name = await setup.open_service(registry_service=registered, retries=2)
    for _ in range(3):
        response = await caller.get(f"/gw/{name}/x")
        assert response.status_code == 200, response.text
        assert response.headers["x-upstream"] == "good.node"


async def test_a_post_is_not_retried(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient, make_owner: MakeOwner
) -> None:
    upstreams.hosts["busy.node"] = lambda r: httpx.Response(503, text="busy")
    upstreams.hosts["good.node"] = echo
    registered = await _registry_service(make_owner, {"dead.node": 100, "busy.node": 100})
    name = await setup.open_service(registry_service=registered, retries=2)
    statuses = []
    for _ in range(2):
        upstreams.seen.clear()
        response = await caller.post(f"/gw/{name}/x", content=b"once")
        statuses.append(response.status_code)
        assert len(upstreams.seen) == 1  # one attempt, whatever it met
    assert sorted(statuses) == [502, 503]  # the refused one is ours, the 503 the upstream's


async def test_the_gateway_answers_502_and_504_only_for_the_upstream(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    def broken(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("garbage", request=request)

    upstreams.hosts["slow.upstream"] = slow
    upstreams.hosts["broken.upstream"] = broken
    cases = {
        "http://slow.upstream": 504,
        "http://broken.upstream": 502,
        "http://gone.upstream": 502,
    }
    for url, status in cases.items():
        name = await setup.open_service(url=url, retries=0)
        body = _problem(await caller.get(f"/gw/{name}/x"), status)
        assert name in body["detail"]


async def test_an_upstream_client_error_passes_through_unchanged(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = lambda r: httpx.Response(
        409, json={"own": "answer"}, headers={"Set-Cookie": "a=1"}
    )
    name = await setup.open_service()
    response = await caller.put(f"/gw/{name}/x", json={})
    assert response.status_code == 409
    assert response.json() == {"own": "answer"}


async def test_the_breaker_opens_after_consecutive_failures_and_half_opens_after_cool_down(
    setup: Setup,
    upstreams: Upstreams,
    caller: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(balancer, "BREAKER_FAILURES", 2)
    monkeypatch.setattr(balancer, "BREAKER_COOLDOWN", 60.0)
    name = await setup.open_service(url="http://flaky.upstream", retries=0)
    for _ in range(2):
        assert (await caller.get(f"/gw/{name}/x")).status_code == 502
    upstreams.hosts["flaky.upstream"] = echo  # healthy again, but the breaker is open
    upstreams.seen.clear()
    body = _problem(await caller.get(f"/gw/{name}/x"), 503)
    assert upstreams.seen == []
    assert "没有可用的实例" in body["detail"]
    monkeypatch.setattr(balancer, "BREAKER_COOLDOWN", 0.0)  # the cool-down has passed
    assert (await caller.get(f"/gw/{name}/x")).status_code == 200  # the half-open trial
    assert (await caller.get(f"/gw/{name}/x")).status_code == 200  # closed again
    assert not balancer.is_open("http://flaky.upstream")


async def test_a_failed_half_open_trial_opens_the_breaker_again(
    setup: Setup, caller: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(balancer, "BREAKER_FAILURES", 1)
    name = await setup.open_service(url="http://down.upstream", retries=0)
    assert (await caller.get(f"/gw/{name}/x")).status_code == 502
    monkeypatch.setattr(balancer, "BREAKER_COOLDOWN", 0.0)
    assert (await caller.get(f"/gw/{name}/x")).status_code == 502  # the trial failed
    monkeypatch.setattr(balancer, "BREAKER_COOLDOWN", 60.0)
    assert (await caller.get(f"/gw/{name}/x")).status_code == 503


async def test_a_body_over_the_service_limit_is_413_and_never_reaches_the_upstream(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = echo
    name = await setup.open_service(max_body_bytes=100)
    ok = await caller.post(f"/gw/{name}/x", content=b"x" * 100)
    assert ok.status_code == 200
    upstreams.seen.clear()
    for method in ("POST", "PUT"):
        body = _problem(await caller.request(method, f"/gw/{name}/x", content=b"x" * 101), 413)
        assert "100" in body["detail"]

    async def chunks():  # no Content-Length: counted as it streams
        for _ in range(3):
            yield b"y" * 60

    _problem(await caller.put(f"/gw/{name}/x", content=chunks()), 413)
    assert upstreams.seen == []


async def test_a_route_timeout_overrides_the_service_read_timeout(
    setup: Setup, upstreams: Upstreams, caller: httpx.AsyncClient
) -> None:
    upstreams.hosts["a.upstream"] = lambda r: httpx.Response(
        200, json={"timeout": r.extensions["timeout"]}
    )
    service = await setup.service(read_timeout_ms=9000, connect_timeout_ms=700)
    await setup.route(service["name"], path_prefix="/fast", public=True, timeout_ms=250)
    await setup.route(service["name"], public=True)
    fast = (await caller.get(f"/gw/{service['name']}/fast")).json()["timeout"]
    other = (await caller.get(f"/gw/{service['name']}/other")).json()["timeout"]
    assert fast["read"] == 0.25 and fast["connect"] == 0.7
    assert other["read"] == 9.0
