"""Proxy authentication: a PGT delivered to the service's pgtUrl, proxy tickets from /cas/proxy,
their validation at /cas/proxyValidate with the proxy chain, and every way it is refused."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.bus import Dispatcher
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.auth.cas.handlers import REVOKE_TICKETS
from tests.conftest import LoginAs
from tests.platform.auth.cas.conftest import Receiver, Register, service_ticket
from tests.platform.auth.cas.test_cas_protocol import CAS, failure_code, parse, user_of


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


@pytest.fixture
async def services(register: Register, receiver: Receiver) -> dict[str, Any]:
    """A portal that may proxy (its callback lives under the same address) and a back end."""
    port = receiver.base_url.rsplit(":", 1)[1]
    backend = await register(url_pattern=receiver.url("/backend/"), evaluation_order=10)
    portal = await register(
        match_kind="regex",
        url_pattern=rf"http://127\.0\.0\.1:{port}/(app|callback)([/?].*)?",
        proxy_allowed=True,
    )
    return {"portal": portal, "backend": backend}


def proxy_result(response: httpx.Response) -> tuple[str, str]:
    """(element name, proxy ticket or failure code) of a /cas/proxy answer."""
    element = parse(response)
    name = element.tag.removeprefix(CAS)
    if name == "proxySuccess":
        ticket = element.find(f"{CAS}proxyTicket")
        assert ticket is not None and ticket.text
        return name, ticket.text
    return name, element.attrib["code"]


async def granted_pgt(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, callback: str
) -> str:
    """Validate a portal ticket with a pgtUrl; returns the PGT the callback received."""
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    params = {"service": service, "ticket": ticket, "pgtUrl": receiver.url(callback)}
    response = await anon.get("/cas/serviceValidate", params=params)
    success = parse(response)
    iou = success.find(f"{CAS}proxyGrantingTicket")
    assert iou is not None and iou.text and iou.text.startswith("PGTIOU-"), response.text
    calls = [r for r in receiver.gets() if r.path == callback.split("?")[0]]
    assert calls, "the callback was called"
    assert calls[-1].query["pgtIou"] == [iou.text]
    pgt = calls[-1].query["pgtId"][0]
    assert re.fullmatch(r"PGT-[A-Za-z0-9]{60}", pgt)
    return pgt


@pytest.mark.usefixtures("http_callbacks")
async def test_proxy_flow_from_pgt_to_validated_proxy_ticket(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, services: Any
) -> None:
    pgt = await granted_pgt(student, anon, receiver, "/callback?keep=1")
    assert receiver.gets()[-1].query["keep"] == ["1"], "the callback's own parameters stay"
    backend = receiver.url("/backend/api")
    name, pt = proxy_result(
        await anon.get("/cas/proxy", params={"pgt": pgt, "targetService": backend})
    )
    assert name == "proxySuccess" and pt.startswith("PT-") and len(pt) <= 32
    response = await anon.get("/cas/proxyValidate", params={"service": backend, "ticket": pt})
    user_of(response)
    proxies = parse(response).find(f"{CAS}proxies")
    assert proxies is not None
    assert [p.text for p in proxies] == [receiver.url("/callback?keep=1")]
    replay = await anon.get("/cas/proxyValidate", params={"service": backend, "ticket": pt})
    assert failure_code(replay) == "INVALID_TICKET"


@pytest.mark.usefixtures("http_callbacks")
async def test_proxy_ticket_is_refused_where_only_service_tickets_count(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, services: Any
) -> None:
    pgt = await granted_pgt(student, anon, receiver, "/callback")
    backend = receiver.url("/backend/")
    for endpoint in ("serviceValidate", "p3/serviceValidate"):
        _n, pt = proxy_result(
            await anon.get("/cas/proxy", params={"pgt": pgt, "targetService": backend})
        )
        response = await anon.get(f"/cas/{endpoint}", params={"service": backend, "ticket": pt})
        assert failure_code(response) == "INVALID_TICKET_SPEC"
    _n, pt = proxy_result(
        await anon.get("/cas/proxy", params={"pgt": pgt, "targetService": backend})
    )
    assert (
        await anon.get("/cas/validate", params={"service": backend, "ticket": pt})
    ).text == "no\n\n"


@pytest.mark.usefixtures("http_callbacks")
async def test_proxy_chain_grows_most_recent_first(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    services: Any,
) -> None:
    port = receiver.base_url.rsplit(":", 1)[1]
    await register(
        match_kind="regex",
        url_pattern=rf"http://127\.0\.0\.1:{port}/middle(/.*)?",
        proxy_allowed=True,
        evaluation_order=5,
    )
    pgt = await granted_pgt(student, anon, receiver, "/callback")
    middle = receiver.url("/middle/")
    _n, pt = proxy_result(
        await anon.get("/cas/proxy", params={"pgt": pgt, "targetService": middle})
    )
    params = {"service": middle, "ticket": pt, "pgtUrl": receiver.url("/middle/cb")}
    first = await anon.get("/cas/proxyValidate", params=params)
    assert parse(first).find(f"{CAS}proxyGrantingTicket") is not None
    second_pgt = receiver.gets()[-1].query["pgtId"][0]
    backend = receiver.url("/backend/")
    _n, pt2 = proxy_result(
        await anon.get("/cas/proxy", params={"pgt": second_pgt, "targetService": backend})
    )
    response = await anon.get("/cas/p3/proxyValidate", params={"service": backend, "ticket": pt2})
    proxies = parse(response).find(f"{CAS}proxies")
    assert proxies is not None
    assert [p.text for p in proxies] == [receiver.url("/middle/cb"), receiver.url("/callback")]


async def test_service_without_proxy_permission_gets_no_pgt(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    register: Register,
    http_callbacks: None,
) -> None:
    await register(url_pattern=receiver.url("/app/"))
    ticket = await service_ticket(student, receiver.url("/app/"))
    params = {"service": receiver.url("/app/"), "ticket": ticket, "pgtUrl": receiver.url("/app/cb")}
    response = await anon.get("/cas/serviceValidate", params=params)
    assert failure_code(response) == "UNAUTHORIZED_SERVICE_PROXY"
    assert receiver.gets() == [], "no callback for a service that may not proxy"


@pytest.mark.parametrize("callback", ["https://evil.example/cb", "{base}/elsewhere/cb", "ftp://x/"])
async def test_callback_outside_the_service_is_refused(
    callback: str,
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    services: Any,
    http_callbacks: None,
) -> None:
    ticket = await service_ticket(student, receiver.url("/app/"))
    pgt_url = callback.replace("{base}", receiver.base_url)
    params = {"service": receiver.url("/app/"), "ticket": ticket, "pgtUrl": pgt_url}
    assert (
        failure_code(await anon.get("/cas/serviceValidate", params=params))
        == "INVALID_PROXY_CALLBACK"
    )
    assert receiver.gets() == []


async def test_plain_http_callback_is_refused_unless_configured(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, services: Any
) -> None:
    ticket = await service_ticket(student, receiver.url("/app/"))
    params = {
        "service": receiver.url("/app/"),
        "ticket": ticket,
        "pgtUrl": receiver.url("/callback"),
    }
    assert (
        failure_code(await anon.get("/cas/serviceValidate", params=params))
        == "INVALID_PROXY_CALLBACK"
    )
    assert receiver.gets() == []


@pytest.mark.usefixtures("http_callbacks")
async def test_callback_that_does_not_answer_200_gets_no_pgt(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, services: Any
) -> None:
    receiver.statuses = [404]
    ticket = await service_ticket(student, receiver.url("/app/"))
    params = {
        "service": receiver.url("/app/"),
        "ticket": ticket,
        "pgtUrl": receiver.url("/callback"),
    }
    response = await anon.get("/cas/serviceValidate", params=params)
    assert failure_code(response) == "INVALID_PROXY_CALLBACK"
    pgt = receiver.gets()[-1].query["pgtId"][0]
    refused = await anon.get(
        "/cas/proxy", params={"pgt": pgt, "targetService": receiver.url("/backend/")}
    )
    assert proxy_result(refused) == ("proxyFailure", "INVALID_TICKET"), "the PGT was never stored"


@pytest.mark.usefixtures("http_callbacks")
async def test_proxy_requests_that_are_refused(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, services: Any
) -> None:
    pgt = await granted_pgt(student, anon, receiver, "/callback")
    cases = [
        ({}, "INVALID_REQUEST"),
        ({"pgt": pgt}, "INVALID_REQUEST"),
        (
            {"pgt": "PGT-nonsense0000000000", "targetService": receiver.url("/backend/")},
            "INVALID_TICKET",
        ),
        ({"pgt": pgt, "targetService": "https://evil.example/"}, "UNAUTHORIZED_SERVICE"),
        (
            {"pgt": pgt, "targetService": receiver.url("/backend/"), "format": "XYZ"},
            "INVALID_REQUEST",
        ),
    ]
    for params, code in cases:
        assert proxy_result(await anon.get("/cas/proxy", params=params)) == ("proxyFailure", code)
    json_failure = await anon.get("/cas/proxy", params={"format": "JSON"})
    assert json_failure.json()["serviceResponse"]["proxyFailure"]["code"] == "INVALID_REQUEST"
    # A service ticket is not a proxy-granting ticket.
    st = await service_ticket(student, receiver.url("/app/"))
    params = {"pgt": st, "targetService": receiver.url("/backend/")}
    assert proxy_result(await anon.get("/cas/proxy", params=params)) == (
        "proxyFailure",
        "INVALID_TICKET",
    )


@pytest.mark.usefixtures("http_callbacks")
async def test_pgt_dies_with_the_sso_session(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    services: Any,
    db: Runtime,
) -> None:
    pgt = await granted_pgt(student, anon, receiver, "/callback")
    params = {"pgt": pgt, "targetService": receiver.url("/backend/"), "format": "JSON"}
    ok = await anon.get("/cas/proxy", params=params)
    assert ok.json()["serviceResponse"]["proxySuccess"]["proxyTicket"].startswith("PT-")
    await student.get("/cas/logout")
    async with db.db.read() as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.name == "auth.session.ended"))
        assert row is not None
        event = row.to_event()
    await Dispatcher(db.db).deliver(REVOKE_TICKETS, event)
    refused = await anon.get("/cas/proxy", params=params)
    assert refused.json()["serviceResponse"]["proxyFailure"]["code"] == "INVALID_TICKET"


def test_proxy_failure_document_follows_the_schema() -> None:
    from campus.platform.auth.cas.protocol import Code, Failure, proxy_xml

    root = ET.fromstring(proxy_xml(Failure(Code.INVALID_REQUEST, "x & <y>")))
    assert root[0].tag == f"{CAS}proxyFailure"
    assert root[0].text == "x & <y>"
