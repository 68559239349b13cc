"""Active health checks: an instance that declared a health URL is probed; failing
FAILURES_UNHEALTHY times in a row takes it out of discovery, one success brings it back, and
the history is kept, bounded."""

from __future__ import annotations

import httpx
import pytest

from campus.kernel.runtime import Runtime
from campus.platform.registry import actions, handlers
from tests.platform.registry.conftest import Owner, unique


class Upstream:
    """An instance's health endpoint: answers ``status`` or fails to connect."""

    def __init__(self) -> None:
        self.status: int | None = 200
        self.seen: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        if self.status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(self.status, json={"status": "ok"})


async def _probe(db: Runtime, upstream: Upstream) -> list[actions.ProbeResult]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstream)) as client:
        return await handlers.check_health(db, client)


async def test_failing_checks_mark_an_instance_unhealthy_and_a_success_restores_it(
    owner: Owner, admin: httpx.AsyncClient, db: Runtime
) -> None:
    service = unique()
    url = f"http://{service}.test/healthz"
    instance_id = (await owner.register(service, health_url=url)).json()["instance"]["id"]
    await owner.register(service, instance_id=unique("plain"))  # declares no health URL
    upstream = Upstream()
    upstream.status = 503
    for _ in range(actions.FAILURES_UNHEALTHY - 1):
        await _probe(db, upstream)
    assert upstream.seen == [url] * (actions.FAILURES_UNHEALTHY - 1)
    assert len((await owner.discover(service)).json()["instances"]) == 2, "not yet"
    upstream.status = None
    await _probe(db, upstream)
    found = (await owner.discover(service)).json()["instances"]
    assert instance_id not in [i["id"] for i in found]
    assert len(found) == 1
    detail = (await admin.get(f"/api/v1/registry/instances/{instance_id}")).json()
    assert detail["healthy"] is False
    history = (await admin.get(f"/api/v1/registry/instances/{instance_id}/health")).json()
    assert [h["ok"] for h in history] == [False] * actions.FAILURES_UNHEALTHY
    assert history[0]["status_code"] is None and "ConnectError" in history[0]["error"]
    assert history[1]["status_code"] == 503
    summary = next(
        s for s in (await admin.get("/api/v1/registry/services")).json() if s["name"] == service
    )
    assert (summary["instances"], summary["healthy"]) == (2, 1)
    upstream.status = 200
    await _probe(db, upstream)
    assert len((await owner.discover(service)).json()["instances"]) == 2


async def test_health_history_is_bounded(
    owner: Owner, admin: httpx.AsyncClient, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "HEALTH_HISTORY", 3)
    service = unique()
    url = f"http://{service}.test/healthz"
    instance_id = (await owner.register(service, health_url=url)).json()["instance"]["id"]
    upstream = Upstream()
    for _ in range(5):
        await _probe(db, upstream)
    history = (await admin.get(f"/api/v1/registry/instances/{instance_id}/health")).json()
    assert len(history) == 3
    assert all(h["ok"] and h["status_code"] == 200 for h in history)


async def test_a_slow_health_endpoint_counts_as_a_failure() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        result = await handlers.probe(client, "x", "http://x.test/healthz")
    assert not result.ok
    assert "ReadTimeout" in result.error
