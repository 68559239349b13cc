"""The etcd backend in particular (the behaviour tests beside this file run on it too): instances
are etcd keys on etcd leases, a lapsed lease is deleted by etcd and recorded as an eviction, a
watcher wakes on a change within a second, a compacted index is answered clearly, and an etcd
that does not answer is a 503 that registers nothing."""

from __future__ import annotations

import asyncio
import json
import time

import aetcd
import httpx
import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.platform.registry import actions, etcd_store, handlers, store
from campus.platform.registry.etcd_store import EtcdStore
from tests.platform.messaging.sse import SseStream
from tests.platform.registry.conftest import ETCD_URL, Owner, etcd_address, unique

pytestmark = pytest.mark.backend("etcd")


def _etcd() -> aetcd.Client:
    return aetcd.Client(**etcd_address(ETCD_URL))


async def test_an_instance_is_a_key_on_a_lease_of_its_ttl(owner: Owner, db: Runtime) -> None:
    assert isinstance(store.of(db), EtcdStore)
    service = unique()
    registered = await owner.register(service, instance_id="leased", ttl_seconds=20)
    assert registered.status_code == 201, registered.text
    key = f"{db.settings.registry_etcd_prefix}instances/{service}/leased".encode()
    async with _etcd() as etcd:
        found = await etcd.get(key)
        assert found is not None
        assert json.loads(found.value)["address"] == "http://10.0.0.5:8000"
        lease = await etcd.get_lease_info(found.lease, keys=False)
        assert lease.grantedTTL == 20
        assert registered.json()["index"] == found.mod_revision
        # A heartbeat renews the lease and writes nothing: the change index stays.
        assert (await owner.heartbeat("leased")).status_code == 200
        again = await etcd.get(key)
        assert again is not None and again.mod_revision == found.mod_revision


async def test_etcd_evicts_a_lapsed_lease_within_two_ttl_and_it_is_recorded(
    owner: Owner, db: Runtime
) -> None:
    await handlers.evict_expired(db)  # the eviction cursor starts here
    service = unique()
    await owner.register(service, instance_id="gone", ttl_seconds=5)
    await owner.register(service, instance_id="left", ttl_seconds=60)
    assert (await owner.deregister("left")).status_code == 204
    started = time.monotonic()
    while (await owner.discover(service)).json()["instances"]:
        assert time.monotonic() - started < 10, "not evicted within 2 x TTL"
        await asyncio.sleep(0.25)
    assert (await owner.heartbeat("gone")).status_code == 404
    assert await handlers.evict_expired(db) == 1  # the deregistered one is no eviction
    async with db.db.read() as session:
        actions = (
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_id.in_(["gone", "left"]))
            )
        ).all()
    assert sorted(actions) == [
        "registry.instance.deregistered",
        "registry.instance.evicted",
        "registry.instance.register",
        "registry.instance.register",
    ]
    assert await handlers.evict_expired(db) == 0, "recorded once"


async def test_a_long_poll_wakes_within_a_second_of_a_change(owner: Owner) -> None:
    service = unique()
    index = (await owner.discover(service)).json()["index"]
    poll = asyncio.create_task(owner.discover(service, index=index, wait="20s"))
    await asyncio.sleep(0.5)
    assert not poll.done()
    changed = time.monotonic()
    await owner.register(service, instance_id="wakes")
    answer = await asyncio.wait_for(poll, 5)
    assert time.monotonic() - changed < 1.0
    assert [i["id"] for i in answer.json()["instances"]] == ["wakes"]


async def test_the_stream_tells_a_deregistration_from_an_eviction(
    app, admin: httpx.AsyncClient, owner: Owner
) -> None:  # type: ignore[no-untyped-def]
    service = unique()
    async with SseStream(app, admin, path=f"/api/v1/registry/watch?service={service}") as stream:
        await stream.started()
        await owner.register(service, instance_id="brief", ttl_seconds=5)
        await owner.register(service, instance_id="polite")
        await owner.deregister("polite")
        kinds = [(await stream.next_of("change", 10)).data for _ in range(4)]
    assert [(c["instance_id"], c["kind"]) for c in kinds] == [
        ("brief", "registered"),
        ("polite", "registered"),
        ("polite", "deregistered"),
        ("brief", "evicted"),
    ]


async def test_a_compacted_index_is_answered_clearly(
    app, admin: httpx.AsyncClient, owner: Owner
) -> None:  # type: ignore[no-untyped-def]
    service = unique()
    first = (await owner.register(service, instance_id="old")).json()["index"]
    latest = (await owner.register(service, instance_id="new")).json()["index"]
    async with _etcd() as etcd:
        await etcd.compact(latest)
    # A long-poll from before the compaction answers at once, with the instances as they are.
    started = time.monotonic()
    answer = (await owner.discover(service, index=first - 1, wait="10s")).json()
    assert time.monotonic() - started < 2
    assert answer["index"] >= latest
    assert len(answer["instances"]) == 2
    # A stream from before it says so (event "reset"), then follows on.
    async with SseStream(
        app, admin, path="/api/v1/registry/watch", last_event_id=first - 1
    ) as stream:
        reset = await stream.next_of("reset", 5)
        assert reset.data["compacted"] >= latest
        assert int(reset.id or 0) >= latest
        await owner.deregister("new")
        change = await stream.next_of("change", 5)
        assert (change.data["instance_id"], change.data["kind"]) == ("new", "deregistered")


async def test_etcd_not_answering_is_a_503_and_registers_nothing(
    owner: Owner, admin: httpx.AsyncClient, db: Runtime
) -> None:
    service = unique()
    await owner.register(service, instance_id="before")
    url, db.settings.registry_etcd_url = db.settings.registry_etcd_url, "http://127.0.0.1:9"
    other = unique()
    try:
        for response in (
            await owner.register(other),
            await owner.heartbeat("before"),
            await owner.discover(service),
            await admin.get("/api/v1/registry/services"),
        ):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert "etcd" in response.json()["detail"]
        # The pages say so too, in the page frame, not as a server error.
        for path in (
            "/registry/services",
            f"/registry/services/{service}",
            "/registry/instances/before",
        ):
            page = await admin.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 503, (path, page.text[:300])
            assert page.headers["content-type"].startswith("text/html")
            assert "etcd" in page.text
    finally:
        db.settings.registry_etcd_url = url
    services = [s["name"] for s in (await admin.get("/api/v1/registry/services")).json()]
    assert other not in services, "the service row rolled back with the refused registration"


async def test_a_process_ending_closes_its_etcd_clients(owner: Owner) -> None:
    service = unique()
    await owner.register(service, instance_id="before")
    assert etcd_store._clients, "the registration opened a client"
    await etcd_store.close_clients()  # the registry's on_shutdown hook
    assert not etcd_store._clients
    # A process that goes on (a test, a reload) simply opens a new one.
    await owner.register(service, instance_id="after")
    found = (await owner.discover(service)).json()["instances"]
    assert sorted(i["id"] for i in found) == ["after", "before"]


async def test_a_deregistration_that_rolls_back_leaves_the_instance_registered(
    owner: Owner, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = unique()
    await owner.register(service, instance_id="stays", ttl_seconds=30)

    async def database_fails(*_args: object) -> None:
        raise RuntimeError("the audit entry could not be written")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(actions, "_removed", database_fails)
        async with db.db.transaction() as session:
            await actions.do_deregister(session, store.of(db), owner.name, "stays")
    found = (await owner.discover(service)).json()["instances"]
    assert [i["id"] for i in found] == ["stays"], "put back when its transaction rolled back"
    assert (await owner.heartbeat("stays")).status_code == 200
    assert (await owner.deregister("stays")).status_code == 204
    assert (await owner.discover(service)).json()["instances"] == []
