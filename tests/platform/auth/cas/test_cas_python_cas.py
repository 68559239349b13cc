"""python-cas, a CAS client written by others, against live Campus servers: CAS 3 with
attributes, CAS 2 and CAS 1 validation, SAML 1.1 validation, the proxy flow, single-use tickets
under concurrency across two server processes, and single logout after /cas/logout."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cas import CASClient, CASClientV2, SingleLogoutMixin

from tests.platform.auth.cas.conftest import Receiver
from tests.platform.auth.cas.live_cas import Live, register


@pytest.fixture
def app_url(live: Live, receiver: Receiver) -> str:
    port = receiver.base_url.rsplit(":", 1)[1]
    register(
        live,
        name=f"门户 {port}",
        match_kind="regex",
        url_pattern=rf"http://127\.0\.0\.1:{port}/(app|callback)([/?].*)?",
        released_attributes=["name", "number", "person_type", "org_unit", "roles"],
        proxy_allowed=True,
    )
    register(live, name=f"后端 {port}", url_pattern=receiver.url("/backend/"), evaluation_order=10)
    return receiver.url("/app/")


def ticket_from(session: requests.Session, server: str, service: str) -> str:
    """What a browser with an SSO session gets from /cas/login: the ticket in the redirect."""
    response = session.get(
        f"{server}/cas/login", params={"service": service}, allow_redirects=False, timeout=30
    )
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["ticket"][0]


def test_cas3_client_validates_and_receives_attributes(live: Live, app_url: str) -> None:
    browser = live.signed_in("student")
    ticket = ticket_from(browser, live.urls[0], app_url)
    client = CASClient(version=3, service_url=app_url, server_url=f"{live.urls[0]}/cas/")
    assert client.get_login_url().startswith(f"{live.urls[0]}/cas/login?service=")
    user, attributes, pgtiou = client.verify_ticket(ticket)
    student = live.login("student")
    assert user == student["login"]
    assert pgtiou is None
    assert attributes["name"] == student["name"]
    assert attributes["person_type"] == "undergraduate"
    assert attributes["isFromNewLogin"] == "false"
    assert "student" in (
        attributes["roles"] if isinstance(attributes["roles"], list) else [attributes["roles"]]
    )
    assert client.verify_ticket(ticket)[0] is None, "a ticket validates once"


def test_cas2_and_cas1_clients_validate_on_another_process(live: Live, app_url: str) -> None:
    browser = live.signed_in("teacher", server=0)
    teacher = live.login("teacher")
    for version in (2, 1):
        ticket = ticket_from(browser, live.urls[0], app_url)
        client = CASClient(version=version, service_url=app_url, server_url=f"{live.urls[1]}/cas/")
        user, attributes, _pgtiou = client.verify_ticket(ticket)
        assert user == teacher["login"]
        assert attributes is None
        assert client.verify_ticket(ticket)[0] is None


def test_cas3_client_refuses_a_ticket_for_another_service(live: Live, app_url: str) -> None:
    browser = live.signed_in("student")
    ticket = ticket_from(browser, live.urls[0], app_url)
    other = app_url.replace("/app/", "/backend/")
    client = CASClient(version=3, service_url=other, server_url=f"{live.urls[0]}/cas/")
    assert client.verify_ticket(ticket) == (None, {}, None)
    right = CASClient(version=3, service_url=app_url, server_url=f"{live.urls[0]}/cas/")
    assert right.verify_ticket(ticket)[0] is None, "INVALID_SERVICE spent the ticket"


def test_saml_client_validates_and_receives_attributes(live: Live, app_url: str) -> None:
    browser = live.signed_in("student")
    ticket = ticket_from(browser, live.urls[0], app_url)
    client = CASClient(
        version="CAS_2_SAML_1_0", service_url=app_url, server_url=f"{live.urls[1]}/cas/"
    )
    user, attributes, _none = client.verify_ticket(ticket)
    student = live.login("student")
    assert user == student["login"]
    assert attributes["name"] == student["name"]
    assert attributes["person_type"] == "undergraduate"
    assert client.verify_ticket(ticket)[0] is None, "a ticket validates once"


class ProxyValidatingClient(CASClientV2):
    """python-cas validates proxy tickets at /proxyValidate with the CAS 2 parser."""

    url_suffix = "proxyValidate"


def test_proxy_flow_with_python_cas(live: Live, app_url: str, receiver: Receiver) -> None:
    browser = live.signed_in("student")
    ticket = ticket_from(browser, live.urls[0], app_url)
    callback = receiver.url("/callback")
    portal = CASClient(
        version=2,
        service_url=app_url,
        server_url=f"{live.urls[0]}/cas/",
        proxy_callback=callback,
    )
    user, _attributes, pgtiou = portal.verify_ticket(ticket)
    assert user == live.login("student")["login"]
    assert pgtiou and pgtiou.startswith("PGTIOU-")
    delivered = [r for r in receiver.gets() if r.path == "/callback"]
    assert delivered[-1].query["pgtIou"] == [pgtiou]
    pgt = delivered[-1].query["pgtId"][0]
    backend = receiver.url("/backend/api")
    asking = CASClient(version=2, service_url=backend, server_url=f"{live.urls[1]}/cas/")
    proxy_ticket = asking.get_proxy_ticket(pgt)
    assert proxy_ticket.startswith("PT-")
    validating = ProxyValidatingClient(service_url=backend, server_url=f"{live.urls[0]}/cas/")
    assert validating.verify_ticket(proxy_ticket)[0] == live.login("student")["login"]
    plain = CASClient(version=2, service_url=backend, server_url=f"{live.urls[0]}/cas/")
    second = asking.get_proxy_ticket(pgt)
    assert plain.verify_ticket(second)[0] is None, "serviceValidate refuses proxy tickets"


def test_a_ticket_validates_once_under_concurrency_across_processes(
    live: Live, app_url: str
) -> None:
    browser = live.signed_in("student")

    def validate(server: str, ticket: str) -> str:
        response = requests.get(
            f"{server}/cas/p3/serviceValidate",
            params={"service": app_url, "ticket": ticket},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        user, _attributes, _iou = CASClient(version=3).verify_response(response.content)
        if user is not None:
            return "success"
        assert 'code="INVALID_TICKET"' in response.text, response.text
        return "used"

    for _round in range(3):
        ticket = ticket_from(browser, live.urls[0], app_url)
        servers = [live.urls[n % 2] for n in range(16)]
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(validate, servers, [ticket] * len(servers)))
        assert sorted(outcomes) == ["success"] + ["used"] * 15


@pytest.mark.parametrize("version", [3, 2])
def test_logout_redirects_to_the_service_and_logs_it_out_on_the_back_channel(
    version: int, live: Live, app_url: str, receiver: Receiver
) -> None:
    browser = live.signed_in("student", server=1)
    ticket = ticket_from(browser, live.urls[1], app_url)
    client: Any = CASClient(version=version, service_url=app_url, server_url=f"{live.urls[0]}/cas/")
    assert client.verify_ticket(ticket)[0] is not None
    logout = browser.get(
        client.get_logout_url(app_url).replace(live.urls[0], live.urls[1]),
        allow_redirects=False,
        timeout=30,
    )
    assert logout.status_code == 302
    assert logout.headers["location"] == app_url
    assert browser.get(f"{live.urls[1]}/api/v1/auth/me", timeout=10).status_code == 401
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        requests_for_ticket = [
            r
            for r in receiver.posts()
            if SingleLogoutMixin.verify_logout_request(r.form["logoutRequest"][0], ticket)
        ]
        if requests_for_ticket:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"no logout request for {ticket}:\n{live.log_tail()}")
    assert requests_for_ticket[0].path == "/app/"
