"""The Kong declarative configuration: deterministic (the same configuration gives the same
bytes), tag-scoped, with Kong's structure and plugins; and the ``campus gateway export-kong``
command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from campus.entrypoints import cli
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.platform.gateway import service as gateway
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
    assert set(plugins) == {"acl", "hmac-auth", "key-auth", "rate-limiting"}
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
