"""The CAS 3.0 protocol through HTTP against the app: /cas/login (SSO, renew, gateway), the
validation endpoints in XML, JSON and CAS 1.0 text, every failure code, and /cas/logout."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from tests.conftest import LoginAs
from tests.platform.auth.cas.conftest import Receiver, Register, service_ticket

CAS = "{http://www.yale.edu/tp/cas}"


def parse(response: httpx.Response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert response.headers["cache-control"] == "no-store"
    root = ET.fromstring(response.text)
    assert root.tag == f"{CAS}serviceResponse"
    assert len(root) == 1
    return root[0]


def failure_code(response: httpx.Response) -> str:
    element = parse(response)
    assert element.tag == f"{CAS}authenticationFailure", response.text
    assert element.text and element.text.strip(), "every failure explains itself"
    return element.attrib["code"]


def user_of(response: httpx.Response) -> str:
    element = parse(response)
    assert element.tag == f"{CAS}authenticationSuccess", response.text
    user = element.find(f"{CAS}user")
    assert user is not None and user.text
    return user.text


def attributes_of(response: httpx.Response) -> dict[str, list[str]]:
    element = parse(response)
    found = element.find(f"{CAS}attributes")
    assert found is not None, response.text
    result: dict[str, list[str]] = {}
    for child in found:
        result.setdefault(child.tag.removeprefix(CAS), []).append(child.text or "")
    return result


def student_login(demo: SeedContext) -> Any:
    return next(x for x in demo.logins if x.role == "student")


async def audited(db: Runtime, action: str) -> list[dict[str, Any]]:
    """The ``after`` of each audit entry of ``action``, oldest first."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.after).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [dict(after or {}) for after in rows]


@pytest.fixture
async def app_service(register: Register, receiver: Receiver) -> dict[str, Any]:
    return await register(url_pattern=receiver.url("/app/"))


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


# ---------------------------------------------------------------- /cas/login


async def test_signed_in_browser_gets_a_ticket_the_service_validates(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    demo: SeedContext,
) -> None:
    service = receiver.url("/app/page?x=1")
    ticket = await service_ticket(student, service)
    assert len(ticket) <= 32 and ticket[3:].isalnum()
    response = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert user_of(response) == student_login(demo).login
    assert parse(response).find(f"{CAS}attributes") is None, "CAS 2.0 releases no attributes"


async def test_ticket_is_appended_to_the_query_before_a_fragment(
    student: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    response = await student.get("/cas/login", params={"service": receiver.url("/app/?a=b#top")})
    location = response.headers["location"]
    assert location.startswith(receiver.url("/app/?a=b&ticket=ST-"))
    assert location.endswith("#top")


async def test_anonymous_browser_signs_in_on_the_login_page_and_comes_back(
    anon: httpx.AsyncClient, receiver: Receiver, app_service: Any, demo: SeedContext
) -> None:
    service = receiver.url("/app/")
    first = await anon.get("/cas/login", params={"service": service})
    assert first.status_code == 302
    location = first.headers["location"]
    assert location.startswith("/login?next=")
    next_path = unquote(location.removeprefix("/login?next="))
    assert next_path.startswith("/cas/login?")
    assert parse_qs(urlsplit(next_path).query)["service"] == [service]
    login = student_login(demo)
    token = anon.headers["X-CSRF-Token"]
    form = {
        "login": login.login,
        "password": login.password,
        "next": next_path,
        "csrf_token": token,
    }
    signed = await anon.post("/login", data=form)
    assert signed.status_code == 303
    assert signed.headers["location"] == next_path
    back = await anon.get(next_path)
    assert back.status_code == 302
    ticket = parse_qs(urlsplit(back.headers["location"]).query)["ticket"][0]
    response = await anon.get(
        "/cas/p3/serviceValidate", params={"service": service, "ticket": ticket}
    )
    assert attributes_of(response)["isFromNewLogin"] == ["true"]


async def test_sso_ticket_is_not_from_a_new_login(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    response = await anon.get(
        "/cas/p3/serviceValidate", params={"service": service, "ticket": ticket}
    )
    values = attributes_of(response)
    assert values["isFromNewLogin"] == ["false"]
    assert values["longTermAuthenticationRequestTokenUsed"] == ["false"]
    assert values["authenticationDate"][0].endswith("Z")


async def test_without_service_a_signed_in_browser_is_told_so(
    student: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    response = await student.get("/cas/login")
    assert response.status_code == 200
    assert 'data-testid="cas-message-title">已登录' in response.text
    anonymous = await anon.get("/cas/login")
    assert anonymous.status_code == 302
    assert anonymous.headers["location"] == "/login?next=%2Fcas%2Flogin"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/app/",
        "javascript:alert(1)",
        "http://127.0.0.1.evil.example/app/",
        "http://user@127.0.0.1:{port}/app/",
        "http://127.0.0.1:{port}/app/../admin",
        "http://127.0.0.1:{port}/app/%2e%2e/admin",
        "http://127.0.0.1:{port}/application",
        "http://127.0.0.1:{port}/app/\r\nSet-Cookie: x=1",
        "http://127.0.0.1:{port}\\@evil.example/app/",
        "http://127.0.0.1:1/app/",
    ],
)
async def test_unregistered_or_malformed_service_is_refused_without_redirect(
    target: str,
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    db: Runtime,
) -> None:
    service = target.replace("{port}", receiver.base_url.rsplit(":", 1)[1])
    for client in (student, anon):
        for extra in ({}, {"gateway": "true"}):
            response = await client.get("/cas/login", params={"service": service, **extra})
            assert response.status_code == 403
            assert "location" not in response.headers
            assert "应用未获授权" in response.text
    refused = await audited(db, "auth.cas.service.refused")
    assert len(refused) == 4
    assert refused[0] == {"service": service[:300], "where": "login"}


async def test_disabled_service_is_refused_at_login_and_validation(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    changed = await admin.patch(
        f"/api/v1/auth/cas/services/{app_service['id']}", json={"enabled": False}
    )
    assert changed.status_code == 200
    assert (await student.get("/cas/login", params={"service": service})).status_code == 403
    response = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert failure_code(response) == "INVALID_SERVICE"


# ---------------------------------------------------------------- renew and gateway


async def test_renew_asks_for_the_password_again(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    demo: SeedContext,
) -> None:
    service = receiver.url("/app/")
    first = await student.get("/cas/login", params={"service": service, "renew": "true"})
    assert first.status_code == 302
    next_path = unquote(first.headers["location"].removeprefix("/login?next="))
    assert "renew=true" in next_path and "lt=LT-" in next_path
    login = student_login(demo)
    token = student.headers["X-CSRF-Token"]
    form = {
        "login": login.login,
        "password": login.password,
        "next": next_path,
        "csrf_token": token,
    }
    assert (await student.post("/login", data=form)).status_code == 303
    back = await student.get(next_path)
    assert back.status_code == 302, back.text
    ticket = parse_qs(urlsplit(back.headers["location"]).query)["ticket"][0]
    params = {"service": service, "ticket": ticket, "renew": "true"}
    response = await anon.get("/cas/p3/serviceValidate", params=params)
    assert attributes_of(response)["isFromNewLogin"] == ["true"]


async def test_renew_is_not_satisfied_by_coming_back_without_signing_in(
    student: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    service = receiver.url("/app/")
    first = await student.get("/cas/login", params={"service": service, "renew": "true"})
    next_path = unquote(first.headers["location"].removeprefix("/login?next="))
    back = await student.get(next_path)
    assert back.status_code == 200, "no ticket, and no loop either"
    assert "需要重新验证身份" in back.text
    replay = await student.get(next_path)
    assert replay.status_code == 302, "the spent login ticket counts for nothing"
    assert replay.headers["location"].startswith("/login?next=")


async def test_renew_validation_refuses_a_single_sign_on_ticket(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    db: Runtime,
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    params = {"service": service, "ticket": ticket, "renew": "true"}
    assert failure_code(await anon.get("/cas/serviceValidate", params=params)) == "INVALID_TICKET"
    again = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert failure_code(again) == "INVALID_TICKET", "the failed attempt spent the ticket"
    codes = [e["code"] for e in await audited(db, "auth.cas.validate.failed")]
    assert codes == ["INVALID_TICKET", "INVALID_TICKET"]


async def test_gateway_returns_to_the_service_without_a_ticket_when_not_signed_in(
    anon: httpx.AsyncClient, student: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    service = receiver.url("/app/")
    response = await anon.get("/cas/login", params={"service": service, "gateway": "true"})
    assert response.status_code == 302
    assert response.headers["location"] == service
    signed = await student.get("/cas/login", params={"service": service, "gateway": "true"})
    assert "ticket=ST-" in signed.headers["location"]


# ---------------------------------------------------------------- validation


async def test_p3_releases_the_registered_attributes_only(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    register: Register,
    receiver: Receiver,
    demo: SeedContext,
) -> None:
    await register(url_pattern=receiver.url("/lib/"), released_attributes=["name", "roles"])
    service = receiver.url("/lib/")
    ticket = await service_ticket(student, service)
    response = await anon.get(
        "/cas/p3/serviceValidate", params={"service": service, "ticket": ticket}
    )
    values = attributes_of(response)
    assert set(values) == {
        "authenticationDate",
        "longTermAuthenticationRequestTokenUsed",
        "isFromNewLogin",
        "name",
        "roles",
    }
    assert values["name"] == [student_login(demo).name]
    assert "student" in values["roles"]


async def test_json_format(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    demo: SeedContext,
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    params = {"service": service, "ticket": ticket, "format": "JSON"}
    response = await anon.get("/cas/p3/serviceValidate", params=params)
    assert response.headers["content-type"].startswith("application/json")
    success = response.json()["serviceResponse"]["authenticationSuccess"]
    assert success["user"] == student_login(demo).login
    assert success["attributes"]["person_type"] == "undergraduate"
    assert isinstance(success["attributes"]["roles"], str | list)
    replay = await anon.get("/cas/serviceValidate", params=params)
    failure = replay.json()["serviceResponse"]["authenticationFailure"]
    assert failure["code"] == "INVALID_TICKET" and failure["description"]


async def test_cas1_validate(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    demo: SeedContext,
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    response = await anon.get("/cas/validate", params={"service": service, "ticket": ticket})
    assert response.text == f"yes\n{student_login(demo).login}\n"
    replay = await anon.get("/cas/validate", params={"service": service, "ticket": ticket})
    assert replay.text == "no\n\n"
    assert (await anon.get("/cas/validate", params={"service": service})).text == "no\n\n"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "INVALID_REQUEST"),
        ({"service": "http://x/"}, "INVALID_REQUEST"),
        ({"ticket": "ST-abcdefghijklmnop"}, "INVALID_REQUEST"),
        (
            {"ticket": "ST-abcdefghijklmnop", "service": "http://x/", "format": "YAML"},
            "INVALID_REQUEST",
        ),
        ({"ticket": "<script>", "service": "http://x/"}, "INVALID_TICKET"),
        ({"ticket": "ST-" + "a" * 400, "service": "http://x/"}, "INVALID_TICKET"),
        ({"ticket": "ST-doesnotexist0000000000000", "service": "http://x/"}, "INVALID_TICKET"),
    ],
)
async def test_bad_requests_get_their_failure_code(
    params: dict[str, str], code: str, anon: httpx.AsyncClient, db: Runtime
) -> None:
    for endpoint in ("serviceValidate", "proxyValidate", "p3/serviceValidate", "p3/proxyValidate"):
        response = await anon.get(f"/cas/{endpoint}", params=params)
        assert failure_code(response) == code
        assert "<script>" not in response.text
    failures = await audited(db, "auth.cas.validate.failed")
    assert [e["code"] for e in failures] == [code] * 4


async def test_replayed_ticket_grants_nothing(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    params = {"service": service, "ticket": ticket}
    user_of(await anon.get("/cas/serviceValidate", params=params))
    for endpoint in ("serviceValidate", "p3/serviceValidate", "proxyValidate"):
        assert failure_code(await anon.get(f"/cas/{endpoint}", params=params)) == "INVALID_TICKET"


async def test_ticket_for_another_service_is_refused_and_spent(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    register: Register,
) -> None:
    await register(url_pattern=receiver.url("/other/"))
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    wrong = {"service": receiver.url("/other/"), "ticket": ticket}
    assert failure_code(await anon.get("/cas/serviceValidate", params=wrong)) == "INVALID_SERVICE"
    right = {"service": service, "ticket": ticket}
    assert failure_code(await anon.get("/cas/serviceValidate", params=right)) == "INVALID_TICKET"


async def test_unregistered_service_cannot_validate(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    ticket = await service_ticket(student, receiver.url("/app/"))
    params = {"service": "https://evil.example/app/", "ticket": ticket}
    assert failure_code(await anon.get("/cas/serviceValidate", params=params)) == "INVALID_SERVICE"


async def test_expired_ticket_is_refused(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    later = clock.now() + timedelta(seconds=runtime.settings.cas_service_ticket_seconds + 1)
    monkeypatch.setattr(clock, "now", lambda: later)
    response = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert failure_code(response) == "INVALID_TICKET"
    assert "过期" in parse(response).text  # type: ignore[operator]


async def test_english_failure_descriptions(anon: httpx.AsyncClient) -> None:
    response = await anon.get(
        "/cas/serviceValidate",
        params={"service": "http://x/", "ticket": "ST-nothing000000000000"},
        headers={"Accept-Language": "en"},
    )
    assert "not recognised" in (parse(response).text or "")


# ---------------------------------------------------------------- /cas/logout


async def test_logout_ends_the_session_and_returns_to_a_registered_service(
    student: httpx.AsyncClient, receiver: Receiver, app_service: Any, db: Runtime
) -> None:
    service = receiver.url("/app/")
    sid = (await student.get("/api/v1/auth/sessions")).json()[0]["session_id"]
    response = await student.get("/cas/logout", params={"service": service})
    assert response.status_code == 302
    assert response.headers["location"] == service
    assert (await student.get("/api/v1/auth/me")).status_code == 401
    async with db.db.read() as session:
        ended = list(
            await session.scalars(
                select(OutboxRow.payload).where(OutboxRow.name == "auth.session.ended")
            )
        )
    assert [payload["session_id"] for payload in ended] == [sid]


@pytest.mark.parametrize("param", ["service", "url"])
async def test_logout_never_redirects_to_an_unregistered_site(
    param: str, student: httpx.AsyncClient, db: Runtime
) -> None:
    response = await student.get("/cas/logout", params={param: "https://evil.example/"})
    assert response.status_code == 200
    assert "location" not in response.headers
    assert "已退出" in response.text
    assert (await student.get("/api/v1/auth/me")).status_code == 401
    refused = await audited(db, "auth.cas.service.refused")
    assert refused[-1] == {"service": "https://evil.example/", "where": "logout"}


async def test_tickets_of_an_ended_session_are_void(
    student: httpx.AsyncClient,
    anon: httpx.AsyncClient,
    receiver: Receiver,
    app_service: Any,
    db: Runtime,
) -> None:
    from campus.kernel.bus import Dispatcher
    from campus.platform.auth.cas.handlers import REVOKE_TICKETS

    service = receiver.url("/app/")
    ticket = await service_ticket(student, service)
    await student.get("/cas/logout")
    async with db.db.read() as session:
        row = await session.scalar(select(OutboxRow).where(OutboxRow.name == "auth.session.ended"))
        assert row is not None
        event = row.to_event()
    await Dispatcher(db.db).deliver(REVOKE_TICKETS, event)
    response = await anon.get("/cas/serviceValidate", params={"service": service, "ticket": ticket})
    assert failure_code(response) == "INVALID_TICKET"


async def test_after_our_own_form_the_browser_moves_on_by_a_page_not_a_redirect(
    student: httpx.AsyncClient, anon: httpx.AsyncClient, receiver: Receiver, app_service: Any
) -> None:
    """A redirect to another site after a form would be stopped by CSP form-action 'self'."""
    service = receiver.url("/app/?a=1")
    headers = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"}
    response = await student.get("/cas/login", params={"service": service}, headers=headers)
    assert response.status_code == 200
    assert "location" not in response.headers
    marker = '<meta http-equiv="refresh" content="0;url='
    assert marker in response.text
    location = response.text.split(marker)[1].split('"')[0].replace("&amp;", "&")
    assert location.startswith(receiver.url("/app/?a=1&ticket=ST-"))
    ticket = parse_qs(urlsplit(location).query)["ticket"][0]
    validated = await anon.get(
        "/cas/serviceValidate", params={"service": service, "ticket": ticket}
    )
    user_of(validated)
    cross_site = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "cross-site"}
    direct = await student.get("/cas/login", params={"service": service}, headers=cross_site)
    assert direct.status_code == 302
