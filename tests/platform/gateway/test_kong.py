"""The Kong declarative configuration: deterministic (the same configuration gives the same
bytes), tag-scoped, with Kong's structure and plugins; and the ``campus gateway export-kong``
command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from joserfc import jwt
from joserfc.jwk import RSAKey
from typer.testing import CliRunner

from campus.entrypoints import cli
from campus.entrypoints.http import build_runtime
from campus.kernel import clock
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.platform.gateway import actions as gateway_actions
from campus.platform.gateway import queries as gateway_queries
from campus.platform.gateway import service as gateway
from campus.platform.gateway.models import GatewaySubscription
from campus.platform.gateway.schemas import ConsumerIn, RouteIn, ServiceIn
from campus.platform.registry import actions as registry_actions
from campus.platform.registry import store as registry_store
from campus.platform.registry.schemas import InstanceIn
from tests.own_database import migrated_database
from tests.platform.gateway.conftest import GW, Setup, unique
from tests.platform.registry.conftest import MakeOwner


def _tags(node: Any, found: list[list[str]]) -> None:
    if isinstance(node, dict):
        if "tags" in node:
            found.append(node["tags"])
        for value in node.values():
            _tags(value, found)
    elif isinstance(node, list):
        for item in node:
            _tags(item, found)


async def _configure(setup: Setup, make_owner: MakeOwner) -> dict[str, str]:
    owner = await make_owner()
    registered = unique("reg")
    for host, weight in (("10.0.0.2", 50), ("10.0.0.1", 100)):
        await owner.register(
            registered, instance_id=host, address=f"http://{host}:8080", weight=weight
        )
    books = await setup.service(registry_service=registered, retries=3)
    fixed = await setup.service(url="https://news.example.edu.cn/api")
    await setup.route(
        books["name"],
        path_prefix="/books",
        methods=["GET", "POST"],
        allow_groups=["library"],
        rate_limit_per_minute=100,
    )
    await setup.route(books["name"], path_prefix="/raw", public=True, strip_prefix=False)
    await setup.route(fixed["name"], public=True)
    consumer = await setup.consumer(groups=["staff", "library"], rate_limit_per_minute=30)
    await setup.credential(consumer["username"])
    return {
        "books": books["name"],
        "fixed": fixed["name"],
        "reg": registered,
        "app": consumer["username"],
    }


async def test_the_export_is_deterministic_tagged_and_shaped_as_kong_reads_it(
    setup: Setup, make_owner: MakeOwner, db: Runtime
) -> None:
    names = await _configure(setup, make_owner)
    first = await gateway.export_kong(db, "campus-prod")
    again = (await setup.admin.get(f"{GW}/kong.yaml", params={"tag": "campus-prod"})).text
    assert first.encode() == again.encode()
    document = yaml.safe_load(first)
    assert first.startswith('_format_version: "3.0"') or document["_format_version"] == "3.0"
    found: list[list[str]] = []
    _tags(document, found)
    assert found and all(tags == ["campus-prod"] for tags in found)

    services = {s["name"]: s for s in document["services"]}
    books = services[names["books"]]
    assert books["host"] == names["reg"] and books["retries"] == 3
    route = next(r for r in books["routes"] if r["paths"] == [f"/gw/{names['books']}/books"])
    assert route["methods"] == ["GET", "POST"] and route["strip_path"] is True
    plugins = {p["name"]: p["config"] for p in route["plugins"]}
    assert set(plugins) == {"acl", "hmac-auth", "jwt", "key-auth", "rate-limiting"}
    assert plugins["acl"]["allow"] == ["library"]
    assert plugins["rate-limiting"]["minute"] == 100
    assert plugins["hmac-auth"]["clock_skew"] == 300
    keep = services[
        f"{names['books']}--"
        + next(
            r["name"]
            for r in (await setup.admin.get(f"{GW}/routes")).json()
            if r["path_prefix"] == "/raw"
        )
    ]
    assert keep["path"] == "/raw"
    assert services[names["fixed"]]["url"] == "https://news.example.edu.cn/api"

    upstream = next(u for u in document["upstreams"] if u["name"] == names["reg"])
    assert [t["target"] for t in upstream["targets"]] == ["10.0.0.1:8080", "10.0.0.2:8080"]
    consumer = next(c for c in document["consumers"] if c["username"] == names["app"])
    assert [a["group"] for a in consumer["acls"]] == ["library", "staff"]
    assert consumer["plugins"][0]["config"]["limit_by"] == "consumer"
    assert "gwk_" not in first  # keys are never exported


async def test_a_bad_tag_is_refused(setup: Setup) -> None:
    response = await setup.admin.get(f"{GW}/kong.yaml", params={"tag": "bad tag!"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "tag"


def test_the_command_writes_the_configuration_to_stdout_or_a_file(
    settings: Settings, runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_settings", lambda modules=None: settings)
    runner = CliRunner()
    printed = runner.invoke(cli.app, ["gateway", "export-kong", "--tag", "site-a"])
    assert printed.exit_code == 0, printed.output
    assert yaml.safe_load(printed.stdout)["_format_version"] == "3.0"
    target = tmp_path / "kong.yaml"
    written = runner.invoke(
        cli.app, ["gateway", "export-kong", "--tag", "site-a", "-o", str(target)]
    )
    assert written.exit_code == 0
    assert target.read_text(encoding="utf-8") == printed.stdout
    refused = runner.invoke(cli.app, ["gateway", "export-kong", "--tag", "bad tag"])
    assert refused.exit_code == 2


async def test_a_changed_configuration_changes_the_export(setup: Setup, db: Runtime) -> None:
    before = await gateway.export_kong(db, "t")
    await setup.service()
    after = await gateway.export_kong(db, "t")
    assert before != after


def _only(document: dict[str, Any], services: set[str], consumers: set[str]) -> dict[str, Any]:
    """The entities of ``document`` named in the sets (and the upstreams their services use)."""
    kept = [s for s in document["services"] if s["name"].split("--")[0] in services]
    hosts = {s.get("host") for s in kept}
    return {
        "_format_version": document["_format_version"],
        "services": kept,
        "consumers": [c for c in document["consumers"] if c["username"] in consumers],
        "upstreams": [u for u in document["upstreams"] if u["name"] in hosts],
    }


async def _register(rt: Runtime, service: str) -> None:
    async with rt.db.transaction() as session:
        for host, weight in (("10.1.0.2", 50), ("10.1.0.1", 100)):
            body = InstanceIn(
                service=service,
                instance_id=f"{service}-{host}",
                version="1.0",
                address=f"http://{host}:8080",
                weight=weight,
                modules=["library_api"],
                ttl_seconds=300,
            )
            await registry_actions.do_register(session, registry_store.of(rt), "kong-test", body)


async def _configure_elsewhere(rt: Runtime, names: dict[str, str]) -> None:
    """A gateway configured on another installation: every kind of entity the export carries."""
    books, news, offered = names["books"], names["news"], names["offered"]
    services = [
        ServiceIn(
            name=books, registry_service=names["reg"], registry_module="library_api", retries=3
        ),
        ServiceIn(name=news, url="https://news.example.edu.cn/api", max_body_bytes=2048),
        ServiceIn(name=offered, url="http://lib.example.edu.cn", subscription="open"),
    ]
    routes = [
        RouteIn(name=f"{books}-r", service=books, path_prefix="/books", methods=["GET", "POST"],
                allow_groups=["library"], rate_limit_per_minute=100),
        RouteIn(name=f"{books}-raw", service=books, path_prefix="/raw", public=True,
                strip_prefix=False),
        RouteIn(name=f"{news}-all", service=news, public=True, timeout_ms=None),
        RouteIn(name=f"{offered}-all", service=offered, allow_groups=["staff"]),
    ]  # fmt: skip
    consumers = [
        ConsumerIn(username=names["app"], groups=["staff", "library"], rate_limit_per_minute=30,
                   quota_per_day=500),
        ConsumerIn(username=names["sub"], groups=["staff"]),
    ]  # fmt: skip
    async with rt.db.transaction() as session:
        for service in services:
            await gateway_actions.do_create_service(session, rt.cache, service)
        for route in routes:
            await gateway_actions.do_create_route(session, rt.cache, route)
        for consumer in consumers:
            await gateway_actions.do_create_consumer(session, rt.cache, consumer)
        subscriber = await gateway_queries.get_consumer(session, names["sub"])
        service_row = await gateway_queries.get_service(session, offered)
        session.add(
            GatewaySubscription(
                consumer_id=subscriber.id,
                service_id=service_row.id,
                status="approved",
                note="",
                requested_by=None,
                requested_at=clock.now(),
            )
        )


async def test_the_export_round_trips_through_the_admin_api(
    setup: Setup,
    db: Runtime,
    settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    names = {k: unique(k) for k in ("books", "news", "offered", "reg", "app", "sub")}
    url = await migrated_database("gateway_kong", tmp_path_factory.mktemp("kong"))
    elsewhere = build_runtime(settings.model_copy(update={"database_url": url}))
    try:
        await _register(elsewhere, names["reg"])
        await _configure_elsewhere(elsewhere, names)
        exported = await gateway.export_kong(elsewhere, "rt")
    finally:
        await elsewhere.close()
        runtime_module.set_current(db)
    await _register(db, names["reg"])

    imported = await setup.admin.post(f"{GW}/kong.yaml", content=exported.encode())
    assert imported.status_code == 201, imported.text
    assert imported.json() == {"services": 3, "routes": 4, "consumers": 2, "subscriptions": 1}
    again = (await setup.admin.get(f"{GW}/kong.yaml", params={"tag": "rt"})).text
    services = {names["books"], names["news"], names["offered"]}
    consumers = {names["app"], names["sub"]}
    source = yaml.safe_load(exported)
    assert _only(yaml.safe_load(again), services, consumers) == _only(source, services, consumers)
    assert {c["username"] for c in source["consumers"]} == consumers | {"campus-anonymous"}

    # Offered services come back needing approval, owned by the importing administrator.
    listed = {s["name"]: s for s in (await setup.admin.get(f"{GW}/services")).json()}
    admin_id = (await setup.admin.get("/api/v1/auth/me")).json()["person_id"]
    assert listed[names["offered"]]["subscription"] == "approval"
    assert listed[names["offered"]]["owner_id"] == admin_id

    twice = await setup.admin.post(f"{GW}/kong.yaml", content=exported.encode())
    assert twice.status_code == 409  # names taken: nothing written


async def test_a_bad_document_is_refused_whole(setup: Setup, db: Runtime) -> None:
    async def count() -> int:
        async with db.db.read() as session:
            return len(await gateway_queries.all_services(session))

    before = await count()
    name = unique("svc")
    cases = [
        (b"services: [", "document"),
        (b"_format_version: '2.1'\nservices: []", "_format_version"),
        (b"_format_version: '3.0'\nservices: 7", "services"),
        (
            f"_format_version: '3.0'\nservices:\n- name: {name}\n  url: http://a.b\n"
            f"  routes:\n  - name: {name}-r\n    paths: [/elsewhere]\n".encode(),
            "services[0].routes[0].paths",
        ),
        (
            f"_format_version: '3.0'\nservices:\n- name: {name}\n  url: http://a.b\n"
            f"  retries: 99\n".encode(),
            "services[0].retries",
        ),
    ]
    for body, field in cases:
        refused = await setup.admin.post(f"{GW}/kong.yaml", content=body)
        assert refused.status_code == 422, (body, refused.text)
        assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert await count() == before
    student_like = await setup.admin.post(f"{GW}/kong.yaml", content=b"\xff\xfe")
    assert student_like.status_code == 422


async def test_kong_accepts_any_one_credential_and_verifies_our_bearer_tokens(
    setup: Setup, make_owner: MakeOwner, db: Runtime
) -> None:
    names = await _configure(setup, make_owner)
    bound = await setup.admin.post(f"{GW}/consumers/{names['app']}/oauth-client")
    assert bound.status_code == 201, bound.text
    issued = await setup.admin.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(bound.json()["client_id"], bound.json()["client_secret"]),
    )
    assert issued.status_code == 200, issued.text
    document = yaml.safe_load(await gateway.export_kong(db, "campus-prod"))

    route = next(
        r
        for s in document["services"]
        for r in s["routes"]
        if r["paths"] == [f"/gw/{names['books']}/books"]
    )
    auth = {p["name"]: p["config"] for p in route["plugins"] if p["name"] != "acl"}
    assert {"hmac-auth", "jwt", "key-auth"} <= set(auth)
    # Kong would demand every auth plugin; each falls back to the anonymous consumer instead,
    # which is refused: any one credential passes, none is a 401.
    assert {auth[n]["anonymous"] for n in ("hmac-auth", "jwt", "key-auth")} == {"campus-anonymous"}
    consumers = {c["username"]: c for c in document["consumers"]}
    refusal = consumers["campus-anonymous"]["plugins"][0]
    assert refusal["name"] == "request-termination"
    assert refusal["config"]["status_code"] == 401

    [secret] = consumers[names["app"]]["jwt_secrets"]
    assert secret["key"] == names["app"] and secret["algorithm"] == "RS256"
    assert auth["jwt"]["key_claim_name"] == "client_id"
    token = jwt.decode(issued.json()["access_token"], RSAKey.import_key(secret["rsa_public_key"]))
    assert token.claims["client_id"] == secret["key"]
    assert "PRIVATE" not in secret["rsa_public_key"]
