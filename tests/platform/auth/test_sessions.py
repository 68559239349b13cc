"""The SSO session: durable and listable, cached without raw tokens, ended (and announced) by
logout, logout everywhere, revoking a device, expiry, signing in again and leaving."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from campus.kernel import clock
from campus.kernel.cache import MemoryCache
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.auth import handlers, service, sessions
from campus.platform.auth.models import AuthSession
from campus.platform.auth.passwords import token_digest
from tests.conftest import LoginAs
from tests.platform.auth.conftest import Browser, MakeAccount, events

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


async def _rows(db: Runtime, person_id: int) -> list[AuthSession]:
    # A transaction (not a read): its commit leaves the rows' attributes loaded.
    async with db.db.transaction() as session:
        return list(
            await session.scalars(
                select(AuthSession)
                .where(AuthSession.person_id == person_id)
                .order_by(AuthSession.created_at)
            )
        )


async def test_a_login_writes_a_durable_session_row_without_the_token(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account, user_agent=DESKTOP_UA)
    token = client.cookies["campus_session"]
    [row] = await _rows(db, account.person_id)
    assert row.token_hash == token_digest(token)
    assert token not in (row.token_hash, row.sid)
    assert row.amr == ["pwd"]
    assert row.ended_at is None and row.remember is False
    assert row.user_agent == DESKTOP_UA and row.ip == "127.0.0.1"
    assert row.auth_time == row.created_at
    assert timedelta(hours=7, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=8)
    if isinstance(db.cache, MemoryCache):
        stored = b"".join(k.encode() + v for k, (v, _) in db.cache._data.items())
        assert token.encode() not in stored, "the cache holds only the digest"


async def test_the_session_survives_a_cache_loss(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    [row] = await _rows(db, account.person_id)
    await db.cache.delete(sessions.cache_key(row.token_hash))
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["person_id"] == account.person_id


async def test_my_sessions_lists_every_device_with_the_current_one_first(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    phone = await browser(account, user_agent=PHONE_UA)
    desktop = await browser(account, user_agent=DESKTOP_UA)
    listed = (await desktop.get("/api/v1/auth/sessions")).json()
    assert len(listed) == 2
    assert listed[0]["current"] is True
    assert listed[0]["device"] == "Chrome · Windows"
    assert listed[1]["device"] == "微信 · iOS"
    assert [s["current"] for s in (await phone.get("/api/v1/auth/sessions")).json()] == [
        True,
        False,
    ]


async def test_revoking_a_device_kills_its_cookie_and_announces_the_end(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    phone = await browser(account, user_agent=PHONE_UA)
    desktop = await browser(account, user_agent=DESKTOP_UA)
    listed = (await desktop.get("/api/v1/auth/sessions")).json()
    phone_sid = next(s["session_id"] for s in listed if not s["current"])

    response = await desktop.delete(f"/api/v1/auth/sessions/{phone_sid}")

    assert response.status_code == 204
    assert (await phone.get("/api/v1/auth/me")).status_code == 401
    assert (await desktop.get("/api/v1/auth/me")).status_code == 200
    ended = await events(db, "auth.session.ended", session_id=phone_sid)
    assert ended == [{"session_id": phone_sid, "person_id": account.person_id, "reason": "revoked"}]
    [row] = [r for r in await _rows(db, account.person_id) if r.sid == phone_sid]
    assert row.ended_at is not None and row.end_reason == "revoked"


async def test_nobody_can_revoke_another_persons_session(
    make_account: MakeAccount, browser: Browser
) -> None:
    victim = await make_account()
    attacker = await make_account()
    victim_client = await browser(victim)
    attacker_client = await browser(attacker)
    victim_sid = (await victim_client.get("/api/v1/auth/sessions")).json()[0]["session_id"]

    response = await attacker_client.delete(f"/api/v1/auth/sessions/{victim_sid}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await victim_client.get("/api/v1/auth/me")).status_code == 200
    unknown = await attacker_client.delete("/api/v1/auth/sessions/not-a-session")
    assert unknown.status_code == 404


async def test_logout_everywhere_ends_every_session_of_the_person_only(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    other = await make_account()
    clients = [await browser(account) for _ in range(3)]
    bystander = await browser(other)

    response = await clients[0].post("/api/v1/auth/logout-everywhere")

    assert response.status_code == 200
    assert response.json() == {"ended": 3}
    for client in clients:
        assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await bystander.get("/api/v1/auth/me")).status_code == 200
    ended = await events(db, "auth.session.ended", person_id=account.person_id)
    assert [e["reason"] for e in ended] == ["logout_everywhere"] * 3


async def test_logout_ends_the_row_and_emits_the_event(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    [row] = await _rows(db, account.person_id)
    assert row.end_reason == "logout"
    assert await events(db, "auth.session.ended", session_id=row.sid)


async def test_signing_in_again_in_the_same_browser_replaces_the_old_session(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    old_token = client.cookies["campus_session"]
    again = await client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    assert again.status_code == 200
    rows = await _rows(db, account.person_id)
    assert [r.end_reason for r in rows] == ["relogin", None]
    stale = httpx.Cookies({"campus_session": old_token})
    async with httpx.AsyncClient(
        transport=client._transport, base_url="http://testserver", cookies=stale
    ) as replay:
        assert (await replay.get("/api/v1/auth/me")).status_code == 401


async def test_remember_me_makes_a_long_lived_cookie_and_session(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    plain = await client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    cookie = plain.headers["set-cookie"]
    assert "Max-Age" not in cookie and "expires" not in cookie.lower(), "a browser-session cookie"
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie

    remembered = await client.post(
        "/api/v1/auth/login",
        json={"login": account.login, "password": account.password, "remember": True},
    )
    assert "Max-Age=2592000" in remembered.headers["set-cookie"]
    row = (await _rows(db, account.person_id))[-1]
    assert row.remember is True
    assert row.expires_at - row.created_at == timedelta(days=30)


async def test_cookies_are_secure_in_production(
    make_account: MakeAccount, browser: Browser, settings_for_test
) -> None:  # type: ignore[no-untyped-def]
    account = await make_account()
    settings_for_test(environment="production")
    client = await browser()
    response = await client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": account.password}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_expired_sessions_stop_working_and_the_job_ends_them(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    async with db.db.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.person_id == account.person_id)
            .values(expires_at=clock.now() - timedelta(seconds=1))
        )
    await db.cache.delete(
        *[sessions.cache_key(r.token_hash) for r in await _rows(db, account.person_id)]
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    await handlers.expire_sessions()

    [row] = await _rows(db, account.person_id)
    assert row.end_reason == "expired"
    assert await events(db, "auth.session.ended", session_id=row.sid, reason="expired")


async def _change_status_and_react(
    db: Runtime, admin: httpx.AsyncClient, person_id: int, status: str, reason: str
) -> None:
    """Change a person's status in the user center, then run the sign-out reaction on the
    event it wrote (the bus is not running under these tests)."""
    response = await admin.post(
        f"/api/v1/users/people/{person_id}/status", json={"status": status, "reason": reason}
    )
    assert response.status_code in (200, 204), response.text
    async with db.db.transaction() as session:
        row = await session.scalar(
            select(OutboxRow)
            .where(OutboxRow.name == "users.person.status_changed")
            .order_by(OutboxRow.id.desc())
        )
        assert row is not None
        event: Event = row.to_event()
        assert event.payload["person_id"] == person_id
        await handlers.end_sessions_of_inactive_person(session, event)


@pytest.mark.parametrize(
    ("staff", "status", "reason"),
    [(False, "left", "退学"), (True, "suspended", "停职")],
)
async def test_a_person_who_leaves_is_signed_out_everywhere(
    make_account: MakeAccount,
    browser: Browser,
    db: Runtime,
    login_as: LoginAs,
    staff: bool,
    status: str,
    reason: str,
) -> None:
    account = await make_account(staff=staff)
    client = await browser(account)
    await _change_status_and_react(db, await login_as("admin"), account.person_id, status, reason)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    [ended] = await _rows(db, account.person_id)
    assert ended.end_reason == "account_disabled"


async def test_a_student_going_on_leave_stays_signed_in(
    make_account: MakeAccount,
    browser: Browser,
    db: Runtime,
    login_as: LoginAs,
) -> None:
    account = await make_account()
    client = await browser(account)
    await _change_status_and_react(
        db, await login_as("admin"), account.person_id, "suspended", "休学"
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    [row] = await _rows(db, account.person_id)
    assert row.ended_at is None


async def test_service_api_opens_lists_and_ends_sessions(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    async with db.db.transaction() as session:
        opened = await service.open_session(
            session, db, account.person_id, amr=["qr"], user_agent=PHONE_UA, ip="10.0.0.9"
        )
    assert opened.amr == ["qr"] and opened.pending is None and opened.max_age is None
    client = await browser()
    client.cookies.set("campus_session", opened.token)
    assert (await client.get("/api/v1/auth/me")).json()["person_id"] == account.person_id
    async with db.db.transaction() as session:
        listed = await service.list_sessions(session, account.person_id, opened.session_id)
        assert [(s.session_id, s.current, s.ip) for s in listed] == [
            (opened.session_id, True, "10.0.0.9")
        ]
        assert await service.is_session_live(session, opened.session_id)
        assert await service.end_session(session, db.cache, opened.session_id, "admin")
        assert not await service.end_session(session, db.cache, opened.session_id, "admin")
        found = await service.get_session(session, opened.session_id)
        assert found is not None and found.end_reason == "admin"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_a_forged_or_oversized_cookie_is_nobody(browser: Browser) -> None:
    client = await browser()
    for token in ("x", "A" * 43, "B" * 5000):
        client.cookies.set("campus_session", token)
        assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_long_ended_sessions_are_forgotten_recent_ones_kept(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    old = await browser(account)
    await browser(account)
    assert (await old.post("/api/v1/auth/logout")).status_code == 204
    rows = await _rows(db, account.person_id)
    ended = next(r for r in rows if r.ended_at is not None)
    async with db.db.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.sid == ended.sid)
            .values(ended_at=clock.now() - timedelta(days=91))
        )
    await handlers.expire_sessions()
    remaining = await _rows(db, account.person_id)
    assert [r.sid for r in remaining] == [r.sid for r in rows if r.sid != ended.sid]


async def test_last_seen_is_written_for_many_sessions_at_once(
    make_account: MakeAccount, browser: Browser, db: Runtime, monkeypatch: object
) -> None:
    """Requests mark their session seen; the marks are written together, not one write
    transaction per request."""
    people = [await make_account() for _ in range(3)]
    clients = [await browser(account) for account in people]
    long_ago = clock.now() - timedelta(hours=1)
    async with db.db.transaction() as session:
        await session.execute(
            update(AuthSession)
            .where(AuthSession.person_id.in_([p.person_id for p in people]))
            .values(last_seen_at=long_ago)
        )
    await sessions.flush_touches(db)  # starts the interval: the next ones wait for it
    await db.cache.delete(*[f"auth:seen:{(await _rows(db, p.person_id))[0].sid}" for p in people])
    writes = 0

    async def counted(rt: Runtime) -> None:
        nonlocal writes
        writes += 1
        await flush(rt)

    flush = sessions.flush_touches
    monkeypatch.setattr(sessions, "flush_touches", counted)  # type: ignore[attr-defined]
    for client in clients:
        assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert writes == 0  # within the interval: remembered, not written
    assert [(await _rows(db, p.person_id))[0].last_seen_at for p in people] == [long_ago] * 3

    monkeypatch.setattr(sessions, "TOUCH_FLUSH_SECONDS", 0.0)  # type: ignore[attr-defined]
    await db.cache.delete(f"auth:seen:{(await _rows(db, people[0].person_id))[0].sid}")
    assert (await clients[0].get("/api/v1/auth/me")).status_code == 200
    assert writes == 1  # one write for all three
    seen = [(await _rows(db, p.person_id))[0].last_seen_at for p in people]
    assert all(at > long_ago for at in seen)
