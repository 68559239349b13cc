"""Every Campus process registers the modules it serves: in process when it serves the
registry, over HTTP with a registry token when it does not; deregistered when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from campus.kernel.runtime import Runtime
from campus.platform.registry import selfreg, service
from campus.platform.registry.schemas import InstanceIn
from tests.platform.registry.conftest import MakeOwner, Owner
from tests.serving import free_port


async def test_the_process_registers_its_modules_in_process_and_leaves_at_shutdown(
    db: Runtime, owner: Owner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.settings, "instance_address", "http://10.1.2.3:8000")
    async with service.self_registered(db, listening_wait_seconds=0) as instance_id:
        assert instance_id is not None
        found = (await owner.discover(service.SERVICE)).json()["instances"]
        [me] = [i for i in found if i["id"] == instance_id]
        assert me["modules"] == sorted(m.name for m in db.modules)
        assert "registry" in me["modules"]
        assert me["address"] == "http://10.1.2.3:8000"
        assert me["health_url"] == "http://10.1.2.3:8000/healthz"
        by_module = (await owner.discover(service.SERVICE, module="registry")).json()
        assert instance_id in [i["id"] for i in by_module["instances"]]
        # The platform owns its service name: another owner cannot register under it.
        refused = await owner.register(service.SERVICE)
        assert refused.status_code == 409
    after = (await owner.discover(service.SERVICE)).json()["instances"]
    assert instance_id not in [i["id"] for i in after]


async def test_an_unknown_address_registers_without_one(db: Runtime, owner: Owner) -> None:
    async with service.self_registered(db) as instance_id:
        found = (await owner.discover(service.SERVICE)).json()["instances"]
        [me] = [i for i in found if i["id"] == instance_id]
        assert me["address"] is None and me["health_url"] is None


class Recording:
    """A registrar that only notes what is asked of it: the registration's timing is what these
    tests watch (the database registrar is tested above; on PostgreSQL the tests share one
    connection, which a background registration and the test must not use at once)."""

    def __init__(self) -> None:
        self.registered: list[str] = []
        self.deregistered: list[str] = []

    async def register(self, body: InstanceIn) -> None:
        self.registered.append(body.instance_id)

    async def renew(self, instance_id: str) -> bool:
        return instance_id in self.registered

    async def deregister(self, instance_id: str) -> None:
        self.deregistered.append(instance_id)


async def _until(check: Callable[[], bool]) -> bool:
    for _ in range(100):
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def test_a_process_with_an_address_registers_once_it_listens(
    db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server runs its start-up before it listens: registering then would send a gateway to a
    # port that refuses connections.
    port, registrar = free_port(), Recording()
    monkeypatch.setattr(db.settings, "instance_address", f"http://127.0.0.1:{port}")
    async with service.self_registered(db, registrar, listening_wait_seconds=10) as instance_id:
        await asyncio.sleep(0.3)
        assert registrar.registered == []
        server = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", port)
        try:
            assert await _until(lambda: registrar.registered == [instance_id])
        finally:
            server.close()
            await server.wait_closed()
    assert registrar.deregistered == [instance_id]


async def test_an_address_that_never_listens_is_registered_after_the_wait(
    db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    registrar = Recording()
    monkeypatch.setattr(db.settings, "instance_address", f"http://127.0.0.1:{free_port()}")
    async with service.self_registered(db, registrar, listening_wait_seconds=0.3) as instance_id:
        assert registrar.registered == []
        assert await _until(lambda: registrar.registered == [instance_id])


async def test_renewal_registers_again_after_the_lease_was_lost(db: Runtime, owner: Owner) -> None:
    registrar = selfreg.InProcess(db)
    body = selfreg.describe(db, "renewed-node")
    await registrar.register(body)
    assert await registrar.renew("renewed-node")
    await registrar.deregister("renewed-node")
    assert not await registrar.renew("renewed-node")  # what makes the keep-alive register again
    await registrar.deregister("renewed-node")  # already gone: no error


async def test_a_split_process_registers_over_http_with_a_token(
    app, db: Runtime, make_owner: MakeOwner, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(db.settings, "instance_address", "http://10.1.2.4:8001")
    platform = await make_owner("campus-split")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {platform.token}"},
    ) as client:
        registrar = selfreg.OverHttp(client)
        body = selfreg.describe(db, "split-node").model_copy(update={"service": "campus-split"})
        await registrar.register(body)
        found = (await platform.discover("campus-split")).json()["instances"]
        assert [i["id"] for i in found] == ["split-node"]
        assert found[0]["modules"] == sorted(m.name for m in db.modules)
        assert found[0]["address"] == "http://10.1.2.4:8001"
        assert await registrar.renew("split-node")
        await registrar.deregister("split-node")
        assert not await registrar.renew("split-node")
    assert (await platform.discover("campus-split")).json()["instances"] == []


async def test_without_a_registry_nothing_is_registered(
    db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "modules", [m for m in db.modules if m.name != "registry"])
    async with service.self_registered(db) as instance_id:
        assert instance_id is None
    # A registry URL and token, but no address to be reached by: not registered either.
    monkeypatch.setattr(db.settings, "registry_url", "http://registry.test")
    monkeypatch.setattr(db.settings, "registry_token", "crg_x")
    monkeypatch.setattr(db.settings, "instance_address", None)
    async with service.self_registered(db) as instance_id:
        assert instance_id is None
