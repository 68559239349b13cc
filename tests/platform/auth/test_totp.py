"""TOTP second factor: enrolment with a locally drawn QR code, confirmation, the code asked for
after the password, replay refused, recovery codes spent once, and roles that require it."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from campus.platform.auth import totp
from campus.platform.auth.models import RecoveryCode, Totp
from tests.platform.auth.conftest import Account, Browser, MakeAccount, audits, form, sign_in
from tests.platform.auth.test_login_security import _give_permission

Settings = Callable[..., None]
SECOND = "/api/v1/auth/login/second-factor"


async def enrol(client: httpx.AsyncClient, account: Account) -> list[str]:
    """Switch TOTP on for a signed-in account; returns its recovery codes."""
    started = await client.post("/api/v1/auth/totp/enrolment")
    assert started.status_code == 201, started.text
    account.seed = started.json()["secret"]
    confirmed = await client.post(
        "/api/v1/auth/totp/enrolment/confirm", json={"code": account.next_code()}
    )
    assert confirmed.status_code == 200, confirmed.text
    return list(confirmed.json()["recovery_codes"])


async def password_step(client: httpx.AsyncClient, account: Account) -> str:
    response = await sign_in(client, account)
    assert response.status_code == 202, response.text
    assert response.json()["mfa_required"] is True
    assert "campus_session" not in response.cookies
    return str(response.json()["mfa_token"])


async def test_enrolment_gives_a_local_qr_code_for_the_authenticator(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    started = (await client.post("/api/v1/auth/totp/enrolment")).json()
    uri = urlsplit(started["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert unquote(uri.path).endswith(account.login)
    assert parse_qs(uri.query)["secret"] == [started["secret"]]
    assert started["qr_data_uri"].startswith("data:image/svg+xml")
    assert "<svg" in unquote(started["qr_data_uri"])
    async with db.db.transaction() as session:
        row = await session.get(Totp, account.person_id)
        assert row is not None and row.confirmed_at is None
        assert started["secret"] not in row.secret_encrypted, "the seed is stored encrypted"
        assert totp.decrypt_seed(db.settings.secret_key, row.secret_encrypted) == started["secret"]
        assert totp.decrypt_seed("another-key", row.secret_encrypted) is None
    status = (await client.get("/api/v1/auth/totp")).json()
    assert status == {"enabled": False, "required": False, "recovery_codes_left": 0}


async def test_a_wrong_code_does_not_confirm_the_enrolment(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    seed = (await client.post("/api/v1/auth/totp/enrolment")).json()["secret"]
    for code in ("000000", "abc", totp.code_at(seed, time.time() - 600)):
        response = await client.post("/api/v1/auth/totp/enrolment/confirm", json={"code": code})
        assert response.status_code == 422, code
        assert response.json()["errors"][0]["field"] == "code"
        assert "验证码不正确或已过期" in response.json()["errors"][0]["reason"]
    assert (await client.get("/api/v1/auth/totp")).json()["enabled"] is False


async def test_signing_in_asks_for_the_code_after_the_password(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    codes = await enrol(await browser(account), account)
    assert len(codes) == 10 and len(set(codes)) == 10
    client = await browser()
    token = await password_step(client, account)
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    response = await client.post(SECOND, json={"mfa_token": token, "code": account.next_code()})

    assert response.status_code == 200, response.text
    assert response.json()["amr"] == ["pwd", "otp"]
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    listed = (await client.get("/api/v1/auth/sessions")).json()
    assert next(s for s in listed if s["current"])["amr"] == ["pwd", "otp"]
    logins = await audits(db, "auth.login", account.person_id)
    assert (logins[-1].after or {})["amr"] == ["pwd", "otp"]


async def test_a_wrong_or_replayed_code_is_refused(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    await enrol(await browser(account), account)
    client = await browser()
    token = await password_step(client, account)
    wrong = await client.post(SECOND, json={"mfa_token": token, "code": "000000"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "验证码不正确"

    code = account.next_code()
    assert (await client.post(SECOND, json={"mfa_token": token, "code": code})).status_code == 200
    other = await browser()
    replay_token = await password_step(other, account)
    replay = await other.post(SECOND, json={"mfa_token": replay_token, "code": code})
    assert replay.status_code == 401, "a code is accepted once only"


async def test_the_challenge_is_bound_to_its_token_and_limited(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    await enrol(await browser(account), account)
    client = await browser()
    forged = await client.post(SECOND, json={"mfa_token": "forged", "code": account.next_code()})
    assert forged.status_code == 401
    assert forged.json()["detail"] == "验证已超时，请重新登录"
    token = await password_step(client, account)
    statuses = [
        (await client.post(SECOND, json={"mfa_token": token, "code": "000000"})).status_code
        for _ in range(5)
    ]
    assert statuses[:4] == [401] * 4
    assert statuses[4] in (401, 429)
    late = await client.post(SECOND, json={"mfa_token": token, "code": account.next_code()})
    assert late.status_code in (401, 429), "the challenge is spent or the account locked"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_recovery_codes_work_once_each(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    codes = await enrol(await browser(account), account)
    client = await browser()
    token = await password_step(client, account)
    typed = codes[0].upper().replace("-", " ")
    used = await client.post(SECOND, json={"mfa_token": token, "code": typed})
    assert used.status_code == 200, used.text

    again = await browser()
    token = await password_step(again, account)
    reused = await again.post(SECOND, json={"mfa_token": token, "code": codes[0]})
    assert reused.status_code == 401
    assert (
        await again.post(SECOND, json={"mfa_token": token, "code": codes[1]})
    ).status_code == 200
    status = (await again.get("/api/v1/auth/totp")).json()
    assert status == {"enabled": True, "required": False, "recovery_codes_left": 8}
    used_entries = await audits(db, "auth.mfa.recovery_code_used", account.person_id)
    assert [e.after for e in used_entries] == [{"left": 9}, {"left": 8}]
    async with db.db.transaction() as session:
        stored = list(
            await session.scalars(
                select(RecoveryCode.code_hash).where(RecoveryCode.person_id == account.person_id)
            )
        )
    assert not set(codes) & set(stored), "only digests are stored"


async def test_renewing_recovery_codes_voids_the_old_ones(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    old = await enrol(client, account)
    refused = await client.post("/api/v1/auth/totp/recovery-codes", json={"code": "123"})
    assert refused.status_code == 422
    renewed = await client.post(
        "/api/v1/auth/totp/recovery-codes", json={"code": account.next_code()}
    )
    new = renewed.json()["recovery_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    other = await browser()
    token = await password_step(other, account)
    assert (await other.post(SECOND, json={"mfa_token": token, "code": old[0]})).status_code == 401
    assert (await other.post(SECOND, json={"mfa_token": token, "code": new[0]})).status_code == 200


async def test_disabling_needs_the_password(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(account)
    await enrol(client, account)
    wrong = await client.post("/api/v1/auth/totp/disable", json={"password": "nope"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"] == [{"field": "password", "reason": "密码不正确"}]
    assert (
        await client.post("/api/v1/auth/totp/disable", json={"password": account.password})
    ).status_code == 204
    assert (await sign_in(await browser(), account)).status_code == 200, "password alone again"
    assert await audits(db, "auth.mfa.disabled", account.person_id)


async def test_a_role_can_require_the_second_factor(
    make_account: MakeAccount, browser: Browser, settings_for_test: Settings, db: Runtime
) -> None:
    account = await make_account()
    await _give_permission(db, account, "users.person.read")
    settings_for_test(mfa_required_roles="auth_test_users_person_read, someone_else")
    client = await browser()
    first = await sign_in(client, account)
    assert first.status_code == 200
    assert first.json()["next_step"] == "enrol_mfa"
    assert first.json()["permissions"] == []
    assert (await client.get("/api/v1/users/people")).status_code == 403
    page = await client.post(
        "/login", data=form(client, login=account.login, password=account.password, next="/x")
    )
    assert page.headers["location"] == "/account/totp?next=%2Fx"

    await enrol(client, account)

    me = (await client.get("/api/v1/auth/me")).json()
    assert "users.person.read" in me["permissions"]
    assert (await client.get("/api/v1/auth/totp")).json()["required"] is True
    refused = await client.post("/api/v1/auth/totp/disable", json={"password": account.password})
    assert refused.status_code == 403
    later = await browser()
    token = await password_step(later, account)
    finished = await later.post(SECOND, json={"mfa_token": token, "code": account.next_code()})
    assert finished.json()["next_step"] is None
    assert "users.person.read" in finished.json()["permissions"]


async def test_the_demo_administrator_is_not_required_to_enrol_by_default(
    browser: Browser, db: Runtime
) -> None:
    assert db.settings.mfa_required_roles == ""
    client = await browser()
    response = await client.post(
        "/api/v1/auth/login", json={"login": "A0001", "password": "Admin@2026"}
    )
    assert response.status_code == 200 and response.json()["next_step"] is None


async def test_an_administrator_resets_a_lost_authenticator(
    make_account: MakeAccount, browser: Browser, login_as, db: Runtime
) -> None:  # type: ignore[no-untyped-def]
    account = await make_account()
    await enrol(await browser(account), account)
    admin = await login_as("admin")
    state = (await admin.get("/api/v1/auth/accounts", params={"login": account.login})).json()
    assert state["mfa_enabled"] is True and state["person_id"] == account.person_id
    assert (
        await admin.post(f"/api/v1/auth/accounts/{account.person_id}/totp/reset")
    ).status_code == 204
    assert (await sign_in(await browser(), account)).status_code == 200
    assert await audits(db, "auth.mfa.reset", account.person_id)


async def test_the_second_factor_pages_enrol_and_sign_in(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    start = await client.post("/account/totp/start", data=form(client, next="/"))
    assert start.status_code == 200
    assert 'src="data:image/svg+xml' in start.text
    seed = start.text.split('data-testid="totp-secret">')[1].split("<")[0]
    account.seed = seed
    bad = await client.post("/account/totp/confirm", data=form(client, code="000000"))
    assert bad.status_code == 422 and "验证码不正确或已过期" in bad.text
    account.seed = bad.text.split('data-testid="totp-secret">')[1].split("<")[0]
    done = await client.post("/account/totp/confirm", data=form(client, code=account.next_code()))
    assert done.status_code == 200
    assert done.text.count("<code>") == 10

    desktop = await browser()
    asked = await desktop.post(
        "/login", data=form(desktop, login=account.login, password=account.password, next="/x")
    )
    assert asked.status_code == 200 and 'name="mfa_token"' in asked.text
    token = asked.text.split('name="mfa_token" value="')[1].split('"')[0]
    wrong = await desktop.post(
        "/login/second-factor", data=form(desktop, mfa_token=token, code="000000", next="/x")
    )
    assert wrong.status_code == 401 and "验证码不正确" in wrong.text
    right = await desktop.post(
        "/login/second-factor",
        data=form(desktop, mfa_token=token, code=account.next_code(), next="/x"),
    )
    assert right.status_code == 303 and right.headers["location"] == "/x"


def test_recovery_codes_are_random_and_readable() -> None:
    codes = totp.new_recovery_codes()
    assert len(codes) == 10
    for code in codes:
        assert len(code) == 14 and code.count("-") == 2
        assert not set(code) & set("01lio")
    assert totp.normalise_recovery_code(" ABCD efgh-JKMN ") == "abcd-efgh-jkmn"
    assert totp.normalise_recovery_code("abc") == ""
