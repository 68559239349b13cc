"""The API catalog: the OpenAPI documents of Campus itself, of registry services and of gateway
services with a documentation URL, read on refresh, kept as versions when they change (what
each added and removed), searchable; a source that fails keeps its version and says why."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import LoginAs
from tests.platform.gateway.conftest import GW, Setup, Upstreams, unique
from tests.platform.registry.conftest import MakeOwner

APIS = f"{GW}/apis"


def openapi(version: str, paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "图书馆开放接口", "version": version},
        "paths": paths,
    }


BOOKS = {"get": {"summary": "检索馆藏图书", "tags": ["馆藏"], "operationId": "searchBooks"}}
LOANS = {"get": {"summary": "本人借阅记录", "tags": ["借阅"]}}
SEATS = {"post": {"summary": "预约座位", "tags": ["座位"]}}


class Docs:
    """A documentation host whose answer the test changes."""

    def __init__(self, upstreams: Upstreams) -> None:
        self.host = f"{unique('docs')}.upstream"
        self.answer: httpx.Response = httpx.Response(404)
        upstreams.hosts[self.host] = lambda request: self.answer

    def serve(self, document: object) -> None:
        self.answer = httpx.Response(200, content=json.dumps(document).encode())

    @property
    def url(self) -> str:
        return f"http://{self.host}/openapi.json"


async def refresh(admin: httpx.AsyncClient) -> dict[str, Any]:
    response = await admin.post(f"{APIS}/refresh")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_versions_are_kept_compared_and_searched(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient
) -> None:
    docs = Docs(upstreams)
    docs.serve(openapi("1.0", {"/books": BOOKS, "/loans": LOANS}))
    service = (await setup.service(docs_url=docs.url))["name"]

    first = await refresh(admin)
    assert service in first["new_versions"] and service not in first["failed"]
    listed = {s["name"]: s for s in (await admin.get(APIS)).json()}
    assert listed[service]["version"] == "1.0" and listed[service]["operation_count"] == 2
    assert listed[service]["kind"] == "gateway" and listed[service]["title"] == "图书馆开放接口"

    unchanged = await refresh(admin)
    assert service not in unchanged["new_versions"]

    docs.serve(openapi("1.1", {"/books": BOOKS, "/seats": SEATS}))
    assert service in (await refresh(admin))["new_versions"]
    detail = (await admin.get(f"{APIS}/{service}")).json()
    assert [v["version"] for v in detail["versions"]] == ["1.1", "1.0"]
    assert detail["versions"][0]["current"] and not detail["versions"][1]["current"]
    assert detail["changes"]["added"] == ["POST /seats"]
    assert detail["changes"]["removed"] == ["GET /loans"]
    assert {o["path"] for o in detail["operations"]} == {"/books", "/seats"}

    old = detail["versions"][1]["id"]
    first_doc = (await admin.get(f"{APIS}/{service}/openapi.json", params={"version": old})).json()
    assert first_doc["info"]["version"] == "1.0" and "/loans" in first_doc["paths"]
    current = (await admin.get(f"{APIS}/{service}/openapi.json")).json()
    assert current["info"]["version"] == "1.1"

    found = (await admin.get(f"{APIS}/search", params={"q": "预约座位"})).json()
    mine = [(o["method"], o["path"]) for o in found if o["source"] == service]
    assert mine == [("POST", "/seats")]
    by_id = (await admin.get(f"{APIS}/search", params={"q": "searchBooks"})).json()
    assert [o["path"] for o in by_id if o["source"] == service] == ["/books"]
    gone = (await admin.get(f"{APIS}/search", params={"q": "借阅记录"})).json()
    assert [o for o in gone if o["source"] == service] == []  # only current versions

    # Back to the first document: that version is current again, not a copy of it.
    docs.serve(openapi("1.0", {"/books": BOOKS, "/loans": LOANS}))
    await refresh(admin)
    again = (await admin.get(f"{APIS}/{service}")).json()
    assert len(again["versions"]) == 2
    assert next(v for v in again["versions"] if v["current"])["id"] == old


async def test_a_failing_source_keeps_its_version_and_says_why(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient
) -> None:
    docs, healthy = Docs(upstreams), Docs(upstreams)
    docs.serve(openapi("2.0", {"/books": BOOKS}))
    healthy.serve(openapi("1.0", {"/seats": SEATS}))
    service = (await setup.service(docs_url=docs.url))["name"]
    other = (await setup.service(docs_url=healthy.url))["name"]
    await refresh(admin)

    bad_answers: list[tuple[httpx.Response, str]] = [
        (httpx.Response(500), "HTTP 500"),
        (httpx.Response(200, content=b"<html>"), "JSON"),
        (httpx.Response(200, content=b'{"swagger": "2.0", "paths": {}}'), "OpenAPI 3"),
        (httpx.Response(200, content=b"[1, 2]"), "JSON 对象"),
    ]
    healthy.serve(openapi("1.1", {"/seats": SEATS, "/rooms": LOANS}))
    for answer, reason in bad_answers:
        docs.answer = answer
        report = await refresh(admin)
        assert reason in report["failed"][service]
        listed = {s["name"]: s for s in (await admin.get(APIS)).json()}
        assert listed[service]["version"] == "2.0"  # the version read before stays
        assert reason in listed[service]["last_error"]
    assert {s["name"]: s for s in (await admin.get(APIS)).json()}[other]["version"] == "1.1"
    # The reason is kept as a message, not as text: an English reader reads it in English.
    english = (await admin.get(APIS, headers={"Accept-Language": "en"})).json()
    reason = {s["name"]: s for s in english}[service]["last_error"]
    assert reason == "The document should be a JSON object"

    docs.serve(openapi("2.0", {"/books": BOOKS}))
    await refresh(admin)
    listed = {s["name"]: s for s in (await admin.get(APIS)).json()}
    assert listed[service]["last_error"] == "" and listed[service]["versions"] == 1


async def test_campus_and_registry_services_are_documented(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient, make_owner: MakeOwner
) -> None:
    owner = await make_owner()
    registered = unique("reg")
    upstreams.hosts["10.9.0.7"] = lambda request: (
        httpx.Response(200, json=openapi("3.0", {"/cards": SEATS}))
        if request.url.path == "/docs/api.json"
        else httpx.Response(404)
    )
    made = await owner.register(
        registered, address="http://10.9.0.7:9000", metadata={"openapi": "/docs/api.json"}
    )
    assert made.status_code == 201, made.text

    await refresh(admin)
    listed = {s["name"]: s for s in (await admin.get(APIS)).json()}
    assert listed[registered]["kind"] == "registry" and listed[registered]["version"] == "3.0"
    assert listed[registered]["url"] == "http://10.9.0.7:9000/docs/api.json"
    assert listed["campus"]["kind"] == "campus" and listed["campus"]["operation_count"] > 100
    found = (await admin.get(f"{APIS}/search", params={"q": "/api/v1/gateway/apis"})).json()
    assert {o["path"] for o in found if o["source"] == "campus"} >= {"/api/v1/gateway/apis"}


async def test_the_catalog_refuses_what_it_should(
    setup: Setup, login_as: LoginAs, admin: httpx.AsyncClient
) -> None:
    student = await login_as("student")
    assert (await student.post(f"{APIS}/refresh")).status_code == 403
    assert (await student.get(APIS)).status_code == 200  # every developer reads it
    assert (await student.get(f"{APIS}/no-such-service")).status_code == 404
    await refresh(admin)
    assert (await student.get(f"{APIS}/campus", params={"version": 999999})).status_code == 404
    assert (await student.get(f"{APIS}/campus", params={"version": 0})).status_code == 422
    assert (await student.get(f"{APIS}/search", params={"q": ""})).status_code == 422
    bad = await admin.post(
        f"{GW}/services", json={"name": unique(), "url": "http://a.b", "docs_url": "ftp://x"}
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "docs_url"


async def test_the_catalog_pages(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient, login_as: LoginAs
) -> None:
    docs = Docs(upstreams)
    docs.serve(openapi("1.0", {"/books": BOOKS}))
    service = (await setup.service(docs_url=docs.url))["name"]
    refreshed = await admin.post("/developer/apis/refresh")
    assert refreshed.status_code == 303
    student = await login_as("student")
    page = await student.get("/developer/apis")
    assert page.status_code == 200 and service in page.text and "立即读取" not in page.text
    found = await student.get("/developer/apis", params={"q": "馆藏"})
    assert "/books" in found.text and "检索馆藏图书" in found.text
    detail = await student.get(f"/developer/apis/{service}")
    assert (
        detail.status_code == 200
        and "检索馆藏图书" in detail.text
        and "OpenAPI JSON" in detail.text
    )
    assert (await student.post("/developer/apis/refresh")).status_code == 403


async def test_only_the_latest_versions_are_kept(
    setup: Setup, upstreams: Upstreams, admin: httpx.AsyncClient, monkeypatch: Any
) -> None:
    from campus.platform.gateway.apis import actions

    monkeypatch.setattr(actions, "KEEP_VERSIONS", 2)
    docs = Docs(upstreams)
    service = (await setup.service(docs_url=docs.url))["name"]
    first = None
    for n in range(3):
        docs.serve(openapi(f"1.{n}", {f"/v{n}": BOOKS}))
        await refresh(admin)
        first = first or (await admin.get(f"{APIS}/{service}")).json()["versions"][0]["id"]
    detail = (await admin.get(f"{APIS}/{service}")).json()
    assert [v["version"] for v in detail["versions"]] == ["1.2", "1.1"]
    gone = await admin.get(f"{APIS}/{service}/openapi.json", params={"version": first})
    assert gone.status_code == 404
    found = (await admin.get(f"{APIS}/search", params={"q": "/v0"})).json()
    assert not [o for o in found if o["source"] == service]
