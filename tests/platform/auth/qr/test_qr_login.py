"""QR-code login over HTTP: the desktop asks, a signed-in phone confirms or denies, the state is
pushed to the desktop as Server-Sent Events, and the bound desktop trades a one-time token for
its own session. Every refusal is a clear Chinese problem and grants nothing."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.platform.auth import service as auth_service
from campus.platform.auth.qr import actions, challenges
from campus.platform.auth.qr.image import qr_svg
from tests.conftest import LoginAs
from tests.platform.auth.qr.conftest import (
    NewBrowser,
    OpenStream,
    Started,
    confirmed_token,
    decide,
    exchange,
    scan,
    start,
)

PROBLEM_JSON = "application/problem+json"


def _problem(response: httpx.Response, status: int, detail: Any) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["detail"] == str(detail)
    return body


@dataclass(frozen=True)
class Audited:
    actor_id: int | None
    target_id: str | None
    after: dict[str, Any]


async def _audit(db: Runtime, action: str) -> list[Audited]:
    query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    async with db.db.read() as session:
        return [
            Audited(e.actor_id, e.target_id, e.after or {}) for e in await session.scalars(query)
        ]


async def _signed_in_login(client: httpx.AsyncClient) -> str | None:
    response = await client.get("/api/v1/auth/me")
    return response.json()["login"] if response.status_code == 200 else None


# ---------------------------------------------------------------- the desktop's QR code


async def test_login_page_offers_qr_login_that_keeps_next(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/login", params={"next": "/portal"})
    assert page.status_code == 200
    assert 'data-testid="qr-login"' in page.text
    assert 'hx-get="/qr/panel?next=%2Fportal"' in page.text
    assert '<script src="/qr/qr-login.js"' in page.text
    script = await anon.get("/qr/qr-login.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "EventSource" in script.text


async def test_panel_draws_the_qr_code_of_a_url_on_this_site_and_binds_the_browser(
    anon: httpx.AsyncClient,
) -> None:
    response = await anon.get(
        "/qr/panel", params={"next": "/portal"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    match = re.search(r'data-qr-url="([^"]+)"', response.text)
    assert match is not None
    url = match.group(1)
    assert re.fullmatch(r"http://testserver/qr/confirm\?c=[A-Za-z0-9_-]{43}", url)
    # The image is segno's drawing of exactly that URL, inline: no outside image service.
    assert qr_svg(url) in response.text
    assert "<img" not in response.text
    cookie = next(
        v for k, v in response.headers.multi_items() if v.startswith("campus_qr_browser=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie


async def test_api_creates_a_two_minute_challenge(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/api/v1/auth/qr/challenges")
    assert response.status_code == 201
    body = response.json()
    assert body["expires_in"] == 120
    assert body["confirm_url"] == f"http://testserver/qr/confirm?c={body['challenge']}"
    assert body["events_url"] == f"/api/v1/auth/qr/challenges/{body['challenge']}/events"
    assert body["svg"].startswith("<svg")
    other = (await anon.post("/api/v1/auth/qr/challenges")).json()
    assert other["challenge"] != body["challenge"]


async def test_asking_for_too_many_qr_codes_is_slowed_down(anon: httpx.AsyncClient) -> None:
    # The limit counts in fixed windows: start well inside one, so that all hits land in it.
    into_window = time.time() % actions.CHALLENGE_WINDOW_SECONDS
    if into_window > actions.CHALLENGE_WINDOW_SECONDS - 10:
        await asyncio.sleep(actions.CHALLENGE_WINDOW_SECONDS - into_window + 0.1)
    statuses = [
        (await anon.post("/api/v1/auth/qr/challenges")).status_code
        for _ in range(actions.CHALLENGES_PER_IP)
    ]
    assert statuses == [201] * actions.CHALLENGES_PER_IP
    refused = await anon.post("/api/v1/auth/qr/challenges")
    assert refused.status_code == 429
    assert refused.json()["retry_after"] > 0
    panel = await anon.get("/qr/panel", headers={"HX-Request": "true"})
    assert panel.status_code == 429
    assert 'data-testid="qr-error"' in panel.text
    assert "获取二维码过于频繁" in panel.text


async def test_one_qr_code_gets_a_bounded_number_of_event_streams(
    new_browser: NewBrowser, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    started = await start(desktop)
    for _ in range(actions.STREAMS_PER_CHALLENGE):
        async with open_stream(desktop, started.events_url) as events:
            assert (await events.next_event() or {})["state"] == "pending"
    async with open_stream(desktop, started.events_url) as events:
        assert events.status == 429
        assert "连接次数过多" in await events.body()


# ---------------------------------------------------------------- the whole flow


async def test_phone_confirms_and_the_desktop_is_signed_in_by_pushed_events(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream, db: Runtime
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    student = await _signed_in_login(phone)
    started = await start(desktop, next_path="/portal")

    async with open_stream(desktop, started.events_url) as events:
        assert events.status == 200
        assert events.headers["content-type"].startswith("text/event-stream")
        first = await events.next_event()
        assert first is not None and first["state"] == "pending"
        assert 0 < first["expires_in"] <= 120

        page = await scan(phone, started)
        assert page.status_code == 200
        assert "127.0.0.1" in page.text, "the phone sees the desktop's address"
        assert "python-httpx" in page.text, "and its user agent"
        assert 'data-testid="qr-confirm-button"' in page.text
        scanned = await events.next_event()
        assert scanned == {"state": "scanned", "expires_in": scanned["expires_in"]}

        done = await decide(phone, started, "confirm")
        assert done.status_code == 200
        assert "已确认登录" in done.text
        confirmed = await events.next_event()
        assert confirmed is not None and confirmed["state"] == "confirmed"
        assert await events.next_event() is None, "the stream ends with a final state"

    assert await _signed_in_login(desktop) is None, "nothing is granted before the exchange"
    response = await exchange(desktop, started, confirmed["exchange"])
    assert response.status_code == 200, response.text
    assert response.json() == {"redirect": "/portal"}
    assert await _signed_in_login(desktop) == student
    assert await _signed_in_login(phone) == student, "the phone stays signed in"

    person_id = (await phone.get("/api/v1/auth/me")).json()["person_id"]
    confirmations = await _audit(db, "auth.qr.confirmed")
    assert [(e.actor_id, e.target_id) for e in confirmations] == [(person_id, str(person_id))]
    logins = [e for e in await _audit(db, "auth.login") if e.after.get("amr") == ["qr"]]
    assert [e.target_id for e in logins] == [str(person_id)]


async def test_next_after_qr_login_stays_on_this_site(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    phone = await login_as("teacher")
    started = await start(desktop, next_path="https://evil.example/steal")
    token = await confirmed_token(open_stream, desktop, phone, started)
    response = await exchange(desktop, started, token)
    assert response.json() == {"redirect": "/"}


async def test_pubsub_messages_carry_the_state_only_never_the_token(
    new_browser: NewBrowser, login_as: LoginAs, db: Runtime
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    digest = challenges.digest_of(started.challenge)
    async with challenges.listen(db.cache, digest) as messages:
        await scan(phone, started)
        await decide(phone, started, "confirm")
        received = [await asyncio.wait_for(anext(messages), 5) for _ in range(2)]
    assert received == [b"scanned", b"confirmed"]


async def test_qr_login_replaces_the_session_the_desktop_had(
    login_as: LoginAs, open_stream: OpenStream, new_browser: NewBrowser
) -> None:
    desktop = await login_as("teacher")
    old_cookie = desktop.cookies["campus_session"]
    phone = await login_as("student")
    student = await _signed_in_login(phone)
    started = await start(desktop)
    token = await confirmed_token(open_stream, desktop, phone, started)
    assert (await exchange(desktop, started, token)).status_code == 200
    assert desktop.cookies["campus_session"] != old_cookie
    assert await _signed_in_login(desktop) == student
    stale = await new_browser()
    stale.cookies.set("campus_session", old_cookie)
    assert await _signed_in_login(stale) is None, "the teacher's session has ended"


async def test_a_step_still_to_take_comes_before_next(
    login_as: LoginAs, open_stream: OpenStream, new_browser: NewBrowser, db: Runtime
) -> None:
    phone = await login_as("student")
    person_id = (await phone.get("/api/v1/auth/me")).json()["person_id"]
    async with db.db.transaction() as session:
        await auth_service.set_password(session, person_id, "Initial@2026", must_change=True)
    desktop = await new_browser()
    started = await start(desktop, next_path="/portal")
    token = await confirmed_token(open_stream, desktop, phone, started)
    response = await exchange(desktop, started, token)
    assert response.json() == {"redirect": "/account/password?next=%2Fportal"}
    me = await desktop.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["permissions"] == [], "no permissions before the password is changed"


# ---------------------------------------------------------------- the exchange


async def test_the_exchange_token_works_once(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream, db: Runtime
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    token = await confirmed_token(open_stream, desktop, phone, started)
    assert (await exchange(desktop, started, token)).status_code == 200

    replayed = await exchange(desktop, started, token)
    body = _problem(replayed, 409, actions.TOKEN_USED)
    assert body["reason"] == "replayed"
    assert "campus_session" not in replayed.headers.get("set-cookie", ""), "no second session"
    failures = await _audit(db, "auth.qr.exchange.failed")
    assert [e.after.get("reason") for e in failures] == ["replayed"]

    async with open_stream(desktop, started.events_url) as events:
        assert await events.next_event() == {"state": "expired"}, "nothing left to redeem"


async def test_a_leaked_qr_url_and_token_sign_in_no_other_browser(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream, db: Runtime
) -> None:
    desktop = await new_browser()
    thief = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    await thief.post("/api/v1/auth/qr/challenges")  # the thief's own binding cookie
    token = await confirmed_token(open_stream, desktop, phone, started)

    async with open_stream(thief, started.events_url) as events:
        assert events.status == 403
        assert "请在显示该二维码的浏览器上完成登录" in await events.body()
    stolen = await exchange(thief, started, token)
    assert _problem(stolen, 403, actions.WRONG_BROWSER)["reason"] == "wrong_browser"
    del thief.cookies["campus_qr_browser"]
    assert (await exchange(thief, started, token)).status_code == 403
    assert await _signed_in_login(thief) is None
    failures = await _audit(db, "auth.qr.exchange.failed")
    assert [e.after.get("reason") for e in failures] == ["wrong_browser"] * 2

    # The thief's attempts burnt nothing: the desktop that asked still signs in.
    assert (await exchange(desktop, started, token)).status_code == 200
    assert await _signed_in_login(desktop) is not None


async def test_exchange_needs_a_confirmation_and_the_right_token(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    guess = secrets.token_urlsafe(32)
    early = await exchange(desktop, started, guess)
    assert _problem(early, 409, actions.NOT_CONFIRMED)["reason"] == "not_confirmed"

    token = await confirmed_token(open_stream, desktop, phone, started)
    wrong = await exchange(desktop, started, guess)
    assert _problem(wrong, 403, actions.BAD_TOKEN)["reason"] == "bad_token"
    assert await _signed_in_login(desktop) is None
    assert (await exchange(desktop, started, token)).status_code == 200


async def test_exchange_without_csrf_token_is_refused(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    token = await confirmed_token(open_stream, desktop, phone, started)
    csrf = desktop.headers.pop("X-CSRF-Token")
    assert (await exchange(desktop, started, token)).status_code == 403
    desktop.headers["X-CSRF-Token"] = csrf
    assert (await exchange(desktop, started, token)).status_code == 200, "it was not spent"


async def test_a_confirmation_must_be_redeemed_soon(
    new_browser: NewBrowser,
    login_as: LoginAs,
    open_stream: OpenStream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(challenges, "EXCHANGE_WINDOW_SECONDS", 1.0)
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    token = await confirmed_token(open_stream, desktop, phone, started)
    await asyncio.sleep(1.1)
    late = await exchange(desktop, started, token)
    assert _problem(late, 410, actions.CONFIRMATION_EXPIRED)["reason"] == "expired"
    assert await _signed_in_login(desktop) is None


# ---------------------------------------------------------------- denial and expiry


async def test_denial_is_pushed_and_grants_nothing(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream, db: Runtime
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    async with open_stream(desktop, started.events_url) as events:
        assert (await events.next_event() or {})["state"] == "pending"
        await scan(phone, started)
        assert (await events.next_event() or {})["state"] == "scanned"
        denied = await decide(phone, started, "deny")
        assert denied.status_code == 200
        assert "已拒绝登录" in denied.text
        assert await events.next_event() == {"state": "denied"}
        assert await events.next_event() is None

    refused = await exchange(desktop, started, secrets.token_urlsafe(32))
    assert _problem(refused, 403, actions.DENIED)["reason"] == "denied"
    assert await _signed_in_login(desktop) is None
    again = await decide(phone, started, "confirm")
    assert again.status_code == 409
    assert "该二维码已被使用" in again.text
    assert len(await _audit(db, "auth.qr.denied")) == 1


async def test_expiry_is_pushed_without_any_action_and_ends_the_qr_code(
    new_browser: NewBrowser,
    login_as: LoginAs,
    open_stream: OpenStream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(challenges, "CHALLENGE_TTL_SECONDS", 1.0)
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    async with open_stream(desktop, started.events_url) as events:
        assert (await events.next_event() or {})["state"] == "pending"
        assert await events.next_event(within=3) == {"state": "expired"}
        assert await events.next_event() is None

    page = await scan(phone, started)
    assert page.status_code == 410
    assert "二维码已过期，请在电脑上刷新二维码" in page.text
    api = await phone.get(started.confirm_path)
    _problem(api, 410, actions.EXPIRED_CHALLENGE)
    late = await exchange(desktop, started, secrets.token_urlsafe(32))
    assert _problem(late, 410, actions.EXPIRED_CHALLENGE)["reason"] == "expired"


# ---------------------------------------------------------------- the phone


async def test_confirming_without_being_signed_in_leads_to_the_login_page(
    anon: httpx.AsyncClient, new_browser: NewBrowser, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    started = await start(desktop)
    page = await anon.get(started.confirm_path, headers={"Accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=" + quote(started.confirm_path, safe="")
    api = await anon.get(started.confirm_path)
    assert api.status_code == 401
    posted = await decide(anon, started, "confirm")
    assert posted.status_code in (303, 401)
    async with open_stream(desktop, started.events_url) as events:
        assert (await events.next_event() or {})["state"] == "pending", "nothing happened"


async def test_unknown_and_malformed_challenges(
    login_as: LoginAs, new_browser: NewBrowser, open_stream: OpenStream
) -> None:
    phone = await login_as("student")
    desktop = await new_browser()
    unknown = Started(secrets.token_urlsafe(32), "", "")
    _problem(await phone.get(unknown.confirm_path), 404, actions.UNKNOWN_CHALLENGE)
    page = await scan(phone, unknown)
    assert page.status_code == 404
    assert "二维码无效或已失效" in page.text
    malformed = await phone.get("/qr/confirm", params={"c": "../../etc"})
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "c"
    async with open_stream(desktop, f"/api/v1/auth/qr/challenges/{unknown.challenge}/events") as s:
        assert s.status == 404
        assert "二维码无效或已失效" in await s.body()
    refused = await exchange(desktop, unknown, secrets.token_urlsafe(32))
    assert _problem(refused, 404, actions.UNKNOWN_CHALLENGE)["reason"] == "unknown"


async def test_confirming_needs_the_request_seen_first(
    new_browser: NewBrowser, login_as: LoginAs
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    blind = await decide(phone, started, "confirm")
    assert blind.status_code == 409
    assert "请先扫描二维码" in blind.text


async def test_the_first_phone_to_scan_keeps_the_qr_code(
    new_browser: NewBrowser, login_as: LoginAs
) -> None:
    desktop = await new_browser()
    student = await login_as("student")
    teacher = await login_as("teacher")
    started = await start(desktop)
    assert (await scan(student, started)).status_code == 200
    assert (await scan(student, started)).status_code == 200, "the same phone may reopen it"
    other = await teacher.get(started.confirm_path)
    _problem(other, 409, actions.SCANNED_BY_OTHER)
    hijack = await decide(teacher, started, "confirm")
    assert hijack.status_code == 409
    assert (await decide(student, started, "confirm")).status_code == 200


async def test_a_qr_code_is_decided_once(new_browser: NewBrowser, login_as: LoginAs) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    await scan(phone, started)
    assert (await decide(phone, started, "confirm")).status_code == 200
    second = await decide(phone, started, "deny")
    assert second.status_code == 409
    assert "该二维码已被使用" in second.text
    reopened = await phone.get(started.confirm_path)
    _problem(reopened, 409, actions.USED_CHALLENGE)


async def test_confirm_form_without_csrf_changes_nothing(
    new_browser: NewBrowser, login_as: LoginAs, open_stream: OpenStream
) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    await scan(phone, started)
    del phone.headers["X-CSRF-Token"]
    forged = await phone.post("/qr/confirm", data={"c": started.challenge, "decision": "confirm"})
    assert forged.status_code == 403
    async with open_stream(desktop, started.events_url) as events:
        assert (await events.next_event() or {})["state"] == "scanned"


async def test_decision_must_be_confirm_or_deny(new_browser: NewBrowser, login_as: LoginAs) -> None:
    desktop = await new_browser()
    phone = await login_as("student")
    started = await start(desktop)
    await scan(phone, started)
    response = await phone.post("/qr/confirm", data={"c": started.challenge, "decision": "maybe"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "decision"


async def test_refusals_speak_english_when_asked(login_as: LoginAs) -> None:
    phone = await login_as("student")
    response = await phone.get(
        f"/qr/confirm?c={secrets.token_urlsafe(32)}", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "The QR code is invalid or no longer valid; get a new one on the computer"
    )
