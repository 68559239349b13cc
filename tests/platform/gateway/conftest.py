"""Fixtures for the API center's tests: an administrator configuring the gateway over its admin
API, upstreams answered by handlers (httpx requests in, httpx responses out) standing in for
the gateway's upstream transport and for its httpx client (the API catalog's reads), and a
client calling the gateway as an application does (no cookies)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from campus.platform.gateway import balancer, proxy, snapshot, stats, upstream
from tests.conftest import LoginAs
from tests.platform.registry.conftest import make_owner  # noqa: F401 (a fixture used here)

GW = "/api/v1/gateway"
Handler = Callable[[httpx.Request], httpx.Response]


def unique(prefix: str = "gw") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Upstreams:
    """What each upstream host answers, and every request that reached one."""

    hosts: dict[str, Handler] = field(default_factory=dict)
    seen: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        handler = self.hosts.get(request.url.host)
        if handler is None:
            raise httpx.ConnectError("connection refused", request=request)
        return handler(request)

    def hosts_seen(self) -> list[str]:
        return [r.url.host for r in self.seen]


class HandlerTransport:
    """The gateway's upstream transport answered by ``Upstreams``' handlers: the request as an
    ``httpx.Request`` (its timeouts in ``extensions["timeout"]``, as httpx puts them), httpx's
    errors as the transport's. A streamed body is read first; an error while reading it is a
    broken connection, as on a socket."""

    def __init__(self, upstreams: Upstreams) -> None:
        self.upstreams = upstreams

    async def send(self, outgoing: upstream.Outgoing) -> upstream.Answer:
        body = outgoing.body
        if body is not None and not isinstance(body, bytes):
            try:
                body = b"".join([chunk async for chunk in body])
            except Exception as exc:
                raise upstream.Broken(repr(exc)) from exc
        timeout = {"connect": outgoing.connect_timeout, "read": outgoing.read_timeout}
        request = httpx.Request(
            outgoing.method,
            outgoing.url,
            headers=outgoing.headers,
            content=body,
            extensions={"timeout": timeout},
        )
        try:
            response = self.upstreams.handle(request)
        except httpx.ConnectTimeout as exc:
            raise upstream.ConnectFailed(str(exc), timed_out=True) from exc
        except httpx.ConnectError as exc:
            raise upstream.ConnectFailed(str(exc), timed_out=False) from exc
        except httpx.TimeoutException as exc:
            raise upstream.TimedOut(str(exc)) from exc
        except httpx.TransportError as exc:
            raise upstream.Broken(str(exc)) from exc
        return upstream.Answer(response.status_code, list(response.headers.raw), response.read())

    async def close(self) -> None:
        return None


def echo(request: httpx.Request) -> httpx.Response:
    """Answers with what it received."""
    body = {
        "host": request.url.host,
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query.decode(),
        "headers": dict(request.headers),
        "body": request.content.decode(),
    }
    return httpx.Response(200, json=body, headers={"X-Upstream": request.url.host})


@pytest.fixture
async def upstreams() -> AsyncIterator[Upstreams]:
    found = Upstreams()
    client = httpx.AsyncClient(transport=httpx.MockTransport(found.handle))
    proxy.use_client(client)
    upstream.use_transport(HandlerTransport(found))
    balancer.reset()
    snapshot.forget()
    stats.reset()
    yield found
    proxy.use_client(None)
    upstream.use_transport(None)
    balancer.reset()
    snapshot.forget()
    stats.reset()
    await client.aclose()


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def caller(app, db) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """An application calling the gateway: no cookies, no CSRF token."""
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Accept-Language": "zh-CN"},
    )
    yield client
    await client.aclose()


@dataclass
class Setup:
    """The administrator's side: services, routes, consumers and keys through the admin API."""

    admin: httpx.AsyncClient

    async def service(self, **fields: Any) -> dict[str, Any]:
        body = {"name": unique("svc"), **fields}
        if "registry_service" not in body and "url" not in body:
            body["url"] = "http://a.upstream"
        response = await self.admin.post(f"{GW}/services", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def route(self, service: str, **fields: Any) -> dict[str, Any]:
        body = {"name": unique("route"), "service": service, **fields}
        response = await self.admin.post(f"{GW}/routes", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def consumer(self, **fields: Any) -> dict[str, Any]:
        body = {"username": unique("app"), **fields}
        response = await self.admin.post(f"{GW}/consumers", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def credential(self, username: str, kind: str = "key") -> dict[str, Any]:
        response = await self.admin.post(
            f"{GW}/consumers/{username}/credentials", json={"kind": kind}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def open_service(self, **fields: Any) -> str:
        """A public service with one route for every path; its name."""
        service = await self.service(**fields)
        await self.route(service["name"], public=True)
        return str(service["name"])


@pytest.fixture
def setup(admin: httpx.AsyncClient, upstreams: Upstreams) -> Setup:
    return Setup(admin)
