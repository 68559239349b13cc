"""Fixtures for the service center's tests: registry credentials made by an administrator over
HTTP, clients that call as an instance (bearer token, no cookies), and a clock to move.

Every test runs on each instance store: the database (always) and etcd, when
CAMPUS_TEST_ETCD_URL names one (CI starts one; see .ci/run), each test under a key prefix of
its own, removed after it. ``@pytest.mark.backend("etcd")`` runs a test on the named ones only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aetcd
import httpx
import pytest

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs

INSTANCES = "/api/v1/registry/instances"
BACKENDS = ("database", "etcd")
ETCD_URL = os.environ.get("CAMPUS_TEST_ETCD_URL", "")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    only = metafunc.definition.get_closest_marker("backend")
    metafunc.parametrize("backend", only.args if only else BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
async def backend(
    request: pytest.FixtureRequest, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The instance store the test runs on."""
    if request.param != "etcd":
        yield request.param
        return
    if not ETCD_URL:
        pytest.skip("the etcd backend's run needs CAMPUS_TEST_ETCD_URL (an etcd to use)")
    prefix = f"/campus-test/{uuid.uuid4().hex}/registry/"
    monkeypatch.setattr(runtime.settings, "registry_etcd_url", ETCD_URL)
    monkeypatch.setattr(runtime.settings, "registry_etcd_prefix", prefix)
    yield request.param
    client = aetcd.Client(**etcd_address(ETCD_URL))
    async with client:
        await client.delete_prefix(prefix.encode())


def etcd_address(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"host": parts.hostname, "port": parts.port or 2379}


def unique(prefix: str = "svc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Owner:
    """A service owner's credential and a client calling with it."""

    name: str
    token: str
    client: httpx.AsyncClient

    async def register(self, service: str, **fields: Any) -> httpx.Response:
        body = {
            "service": service,
            "version": "1.2.0",
            "address": "http://10.0.0.5:8000",
            "ttl_seconds": 10,
            **fields,
        }
        return await self.client.post(INSTANCES, json=body)

    async def heartbeat(self, instance_id: str) -> httpx.Response:
        return await self.client.put(f"{INSTANCES}/{instance_id}/heartbeat")

    async def deregister(self, instance_id: str) -> httpx.Response:
        return await self.client.delete(f"{INSTANCES}/{instance_id}")

    async def discover(self, service: str, **params: Any) -> httpx.Response:
        return await self.client.get(
            f"/api/v1/registry/services/{service}/instances", params=params
        )


MakeOwner = Callable[..., Awaitable[Owner]]


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def make_owner(app, admin: httpx.AsyncClient) -> AsyncIterator[MakeOwner]:  # type: ignore[no-untyped-def]
    clients: list[httpx.AsyncClient] = []

    async def make(name: str | None = None) -> Owner:
        owner = name or unique("owner")
        response = await admin.post("/api/v1/registry/credentials", json={"owner": owner})
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"},
        )
        clients.append(client)
        return Owner(owner, token, client)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def owner(make_owner: MakeOwner) -> Owner:
    return await make_owner()


class Clock:
    """Moves ``campus.kernel.clock.now`` forward."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.moment: datetime = clock.now()
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, backend: str) -> Clock:
    if backend == "etcd":
        pytest.skip("etcd's leases run on etcd's clock: test_etcd.py lets one lapse for real")
    return Clock(monkeypatch)
