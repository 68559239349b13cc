"""Registration, renewal, expiry, eviction and deregistration over HTTP; ownership, malformed
registrations and bad credentials refused with problem+json, changing nothing."""

from __future__ import annotations

import httpx

from campus.kernel.runtime import Runtime
from campus.platform.registry import handlers
from campus.platform.registry.schemas import MIN_TTL
from tests.platform.registry.conftest import INSTANCES, Clock, MakeOwner, Owner, unique


async def _index(admin: httpx.AsyncClient) -> int:
    response = await admin.get("/api/v1/registry/services/none-such/instances")
    return int(response.json()["index"])


async def _service(admin: httpx.AsyncClient, name: str) -> dict | None:  # type: ignore[type-arg]
    services = (await admin.get("/api/v1/registry/services")).json()
    return next((s for s in services if s["name"] == name), None)


async def test_a_registered_instance_is_discovered_with_what_it_declared(
    owner: Owner, admin: httpx.AsyncClient
) -> None:
    service = unique()
    before = await _index(admin)
    response = await owner.register(
        service,
        instance_id="node-1",
        namespace="test",
        weight=50,
        modules=["b", "a", "a"],
        metadata={"zone": "east"},
    )
    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["index"] > before
    found = (await owner.discover(service)).json()
    assert found["index"] >= registered["index"]
    [instance] = found["instances"]
    assert instance["id"] == "node-1"
    assert (instance["namespace"], instance["weight"]) == ("test", 50)
    assert instance["modules"] == ["a", "b"]
    assert instance["metadata"] == {"zone": "east"}
    assert instance["address"] == "http://10.0.0.5:8000"
    assert (await owner.discover(service, namespace="prod")).json()["instances"] == []
    assert (await owner.discover(service, module="a")).json()["instances"][0]["id"] == "node-1"
    assert (await owner.discover(service, module="zzz")).json()["instances"] == []
    summary = await _service(admin, service)
    assert summary is not None
    assert (summary["owner"], summary["instances"], summary["healthy"]) == (owner.name, 1, 1)


async def test_heartbeats_keep_the_lease_and_a_lapsed_lease_hides_then_evicts(
    owner: Owner, admin: httpx.AsyncClient, frozen: Clock, db: Runtime
) -> None:
    service = unique()
    instance_id = (await owner.register(service, ttl_seconds=10)).json()["instance"]["id"]
    frozen.advance(8)
    renewed = await owner.heartbeat(instance_id)
    assert renewed.status_code == 200, renewed.text
    frozen.advance(8)  # 16 s after registering, 8 s after the heartbeat: still leased
    assert len((await owner.discover(service)).json()["instances"]) == 1
    frozen.advance(3)  # the lease lapsed: not discovered, not renewable, still listed
    assert (await owner.discover(service)).json()["instances"] == []
    lapsed = await owner.heartbeat(instance_id)
    assert lapsed.status_code == 404
    assert lapsed.headers["content-type"].startswith("application/problem+json")
    listed = (await admin.get(f"/api/v1/registry/services/{service}")).json()
    assert [i["alive"] for i in listed] == [False]
    before = await _index(admin)
    assert await handlers.evict_expired(db) >= 1
    assert (await admin.get(f"/api/v1/registry/services/{service}")).json() == []
    assert (await admin.get(f"/api/v1/registry/instances/{instance_id}")).status_code == 404
    assert await _index(admin) > before


async def test_eviction_runs_often_enough_to_evict_within_two_leases() -> None:
    """A lease lapses at most TTL after its last heartbeat and the job comes round within
    every_seconds <= MIN_TTL <= TTL after that."""
    assert handlers.EVICT.every_seconds <= MIN_TTL


async def test_eviction_leaves_live_instances(
    owner: Owner, admin: httpx.AsyncClient, frozen: Clock, db: Runtime
) -> None:
    service = unique()
    short = (await owner.register(service, instance_id=unique("s"), ttl_seconds=5)).json()
    long = (await owner.register(service, instance_id=unique("l"), ttl_seconds=60)).json()
    frozen.advance(6)
    await handlers.evict_expired(db)
    ids = [i["id"] for i in (await admin.get(f"/api/v1/registry/services/{service}")).json()]
    assert ids == [long["instance"]["id"]]
    assert short["instance"]["id"] not in ids


async def test_deregistration_removes_the_instance(owner: Owner, admin: httpx.AsyncClient) -> None:
    service = unique()
    instance_id = (await owner.register(service)).json()["instance"]["id"]
    before = await _index(admin)
    assert (await owner.deregister(instance_id)).status_code == 204
    assert (await owner.discover(service)).json()["instances"] == []
    assert await _index(admin) == before + 1
    again = await owner.deregister(instance_id)
    assert again.status_code == 404
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_re_registering_the_same_instance_updates_it(owner: Owner) -> None:
    service = unique()
    await owner.register(service, instance_id="same", version="1.0")
    await owner.register(service, instance_id="same", version="2.0")
    [instance] = (await owner.discover(service)).json()["instances"]
    assert instance["version"] == "2.0"


async def test_a_service_name_owned_by_another_owner_is_refused(
    owner: Owner, make_owner: MakeOwner, admin: httpx.AsyncClient
) -> None:
    service = unique()
    mine = (await owner.register(service, instance_id=unique("n"))).json()["instance"]["id"]
    intruder = await make_owner()
    before = await _index(admin)
    response = await intruder.register(service, instance_id=unique("x"))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "service"
    assert "其他所有者" in response.json()["detail"]
    # Nothing half-registered: one instance, the index unmoved, the owner unchanged.
    assert len((await admin.get(f"/api/v1/registry/services/{service}")).json()) == 1
    assert await _index(admin) == before
    assert (await _service(admin, service) or {})["owner"] == owner.name
    # Nor may it renew or remove the owner's instance.
    assert (await intruder.heartbeat(mine)).status_code == 403
    assert (await intruder.deregister(mine)).status_code == 403
    assert len((await owner.discover(service)).json()["instances"]) == 1


async def test_an_instance_id_of_another_service_is_refused(owner: Owner) -> None:
    first, second = unique(), unique()
    await owner.register(first, instance_id="shared-id")
    response = await owner.register(second, instance_id="shared-id")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "instance_id"
    assert (await owner.discover(second)).json()["instances"] == []


async def test_malformed_registrations_name_the_field_and_register_nothing(
    owner: Owner, admin: httpx.AsyncClient
) -> None:
    service = unique()
    before = await _index(admin)
    cases = [
        ({"version": ""}, "version"),
        ({"address": "ftp://x"}, "address"),
        ({"address": "not a url"}, "address"),
        ({"ttl_seconds": 1}, "ttl_seconds"),
        ({"weight": -1}, "weight"),
        ({"namespace": "Prod!"}, "namespace"),
        ({"health_url": "localhost/healthz"}, "health_url"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"colour": "red"}, "colour"),
    ]
    for fields, field in cases:
        response = await owner.register(service, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (fields, response.json())
    scheme = await owner.register(service, address="ftp://x")
    assert "http://" in scheme.json()["errors"][0]["reason"]
    bad_name = await owner.register("Bad Name")
    assert [e["field"] for e in bad_name.json()["errors"]] == ["service"]
    missing = await owner.client.post(INSTANCES, json={"service": service})
    assert {"version", "address"} <= {e["field"] for e in missing.json()["errors"]}
    assert await _service(admin, service) is None
    assert await _index(admin) == before


async def test_registering_needs_a_valid_unrevoked_token(
    app, owner: Owner, admin: httpx.AsyncClient
) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as anonymous:
        body = {"service": unique(), "version": "1", "address": "http://a:1"}
        assert (await anonymous.post(INSTANCES, json=body)).status_code == 401
        anonymous.headers["Authorization"] = "Bearer crg_forged"
        refused = await anonymous.post(INSTANCES, json=body)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")
    credentials = (await admin.get("/api/v1/registry/credentials")).json()
    mine = next(c for c in credentials if c["owner"] == owner.name)
    assert owner.token.startswith(mine["token_hint"])
    assert "token" not in mine
    revoked = await admin.post(f"/api/v1/registry/credentials/{mine['id']}/revoke")
    assert revoked.status_code == 200
    assert (await owner.register(unique())).status_code == 401
    again = await admin.post(f"/api/v1/registry/credentials/{mine['id']}/revoke")
    assert again.status_code == 409


async def test_the_token_is_stored_hashed(owner: Owner, db: Runtime) -> None:
    from sqlalchemy import text

    async with db.db.read() as session:
        stored = (await session.execute(text("SELECT token_hash FROM registry_credential"))).all()
    assert all(owner.token not in row[0] for row in stored)
    assert len(stored) >= 1


async def test_one_active_credential_per_owner(owner: Owner, admin: httpx.AsyncClient) -> None:
    response = await admin.post("/api/v1/registry/credentials", json={"owner": owner.name})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "owner"
    bad = await admin.post("/api/v1/registry/credentials", json={"owner": "Not Valid"})
    assert bad.status_code == 422
