"""Host rules: a route with host names answers at the root of those hosts, and through
/gw/<service>/… only for them; other requests go on to the site as before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import yaml

from campus.kernel.runtime import Runtime
from campus.platform.gateway import hosts
from campus.platform.gateway import service as gateway
from tests.platform.gateway.conftest import Setup, Upstreams, echo, unique

HOST = "api.library.example.edu.cn"


@pytest.fixture
async def at_host(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{HOST}")
    yield client
    await client.aclose()


async def test_a_route_answers_at_the_root_of_its_host(
    setup: Setup,
    upstreams: Upstreams,
    at_host: httpx.AsyncClient,
    caller: httpx.AsyncClient,
    db: Runtime,
) -> None:
    upstreams.hosts["lib.upstream"] = echo
    service = (await setup.service(url="http://lib.upstream"))["name"]
    await setup.route(service, path_prefix="/books", public=True, hosts=[HOST.upper() + "."])
    await asyncio.sleep(hosts.RECHECK_SECONDS + 0.1)  # the middleware's next look

    answer = await at_host.get("/books/42", params={"full": "1"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["path"] == "/42" and answer.json()["query"] == "full=1"
    assert answer.json()["headers"]["x-forwarded-prefix"] == "/books", "no /gw/ in front here"
    through_gw = await at_host.get(f"/gw/{service}/books/42")
    assert through_gw.json()["headers"]["x-forwarded-prefix"] == f"/gw/{service}/books"

    other_host = await caller.get(f"/gw/{service}/books/42")  # Host: testserver
    assert other_host.status_code == 404
    assert (await at_host.get("/healthz")).status_code == 200  # the site itself, untouched
    assert (await at_host.get("/elsewhere")).status_code == 404

    document = yaml.safe_load(await gateway.export_kong(db, "t"))
    kong = next(s for s in document["services"] if s["name"] == service)["routes"][0]
    assert kong["hosts"] == [HOST] and kong["paths"] == [f"/gw/{service}/books", "/books"]


async def test_host_names_are_checked(setup: Setup, upstreams: Upstreams) -> None:
    service = (await setup.service())["name"]
    for bad in (["not a host"], ["-x.example.com"], ["localhost"], ["a" * 300 + ".com"]):
        refused = await setup.admin.post(
            "/api/v1/gateway/routes", json={"name": unique("r"), "service": service, "hosts": bad}
        )
        assert refused.status_code == 422, bad
        assert refused.json()["errors"][0]["field"] == "hosts"


def test_a_host_header_is_read_without_port_or_case() -> None:
    assert hosts.host_of("API.Example.EDU.cn:8443") == "api.example.edu.cn"
    assert hosts.host_of("[::1]:8000") == "[::1]"
    assert hosts.host_of("example.edu.cn.") == "example.edu.cn"
