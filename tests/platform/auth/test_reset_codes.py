"""Password reset by a verification code: sent by SMS (the demo's logging adapter) or e-mail
(to a real SMTP server started here); six digits, short-lived, few attempts, single use,
stored hashed, rate-limited, and the same answer whether or not the account exists."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import select, update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.auth.models import ResetCode
from tests.platform.auth.conftest import (
    Account,
    Browser,
    Mailbox,
    MakeAccount,
    audits,
    events,
    form,
    sign_in,
)

NEW = "Spring#Rain2026"
REQUEST = "/api/v1/auth/password-reset/request"
CONFIRM = "/api/v1/auth/password-reset/confirm"


async def _request_sms(client: httpx.AsyncClient, login: str) -> tuple[httpx.Response, list[str]]:
    """Ask for a code by SMS; returns the answer and the codes the demo SMS adapter logged."""
    with structlog.testing.capture_logs() as logs:
        response = await client.post(REQUEST, json={"login": login, "channel": "sms"})
    sent = [entry for entry in logs if entry.get("event") == "demo_sms_not_sent"]
    return response, [re.search(r"\b(\d{6})\b", e["text"]).group(1) for e in sent]  # type: ignore[union-attr]


async def _confirm(
    client: httpx.AsyncClient, login: str, code: str, new: str = NEW
) -> httpx.Response:
    return await client.post(CONFIRM, json={"login": login, "code": code, "new_password": new})


async def test_an_sms_code_resets_the_password_once(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    signed_in_elsewhere = await browser(account)
    client = await browser()
    with structlog.testing.capture_logs() as logs:
        response = await client.post(REQUEST, json={"login": account.login, "channel": "sms"})
    assert response.status_code == 202
    [sms] = [e for e in logs if e.get("event") == "demo_sms_not_sent"]
    assert sms["log_level"] == "warning"
    assert "DEMO SMS" in sms["note"] and "not sent" in sms["note"]
    assert sms["phone"] == account.phone
    code = re.search(r"验证码是 (\d{6})", sms["text"]).group(1)  # type: ignore[union-attr]

    assert (await _confirm(client, account.login, code)).status_code == 204

    account.password = NEW
    assert (await sign_in(await browser(), account)).status_code == 200
    assert (await signed_in_elsewhere.get("/api/v1/auth/me")).status_code == 401
    ended = await events(db, "auth.session.ended", person_id=account.person_id)
    assert [e["reason"] for e in ended] == ["password_reset"]
    reused = await _confirm(client, account.login, code, "Another#Pass77")
    assert reused.status_code == 422
    assert reused.json()["errors"] == [
        {"field": "code", "reason": "验证码错误或已失效，请重新获取"}
    ]
    assert await audits(db, "auth.password.reset_by_code", account.person_id)


async def test_codes_are_six_digits_stored_only_as_keyed_digests(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    _, [code] = await _request_sms(await browser(), account.login)
    assert re.fullmatch(r"\d{6}", code)
    async with db.db.transaction() as session:
        [row] = list(
            await session.scalars(select(ResetCode).where(ResetCode.person_id == account.person_id))
        )
        assert code not in row.code_hash and len(row.code_hash) == 64
        assert timedelta(minutes=9) < row.expires_at - row.created_at <= timedelta(minutes=10)


async def test_wrong_codes_count_and_five_void_the_code(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    _, [code] = await _request_sms(client, account.login)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert (await _confirm(client, account.login, wrong)).status_code == 422
    assert (await _confirm(client, account.login, code)).status_code == 422, "voided"


async def test_an_expired_code_is_refused(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    _, [code] = await _request_sms(client, account.login)
    async with db.db.transaction() as session:
        await session.execute(
            update(ResetCode)
            .where(ResetCode.person_id == account.person_id)
            .values(expires_at=clock.now() - timedelta(seconds=1))
        )
    response = await _confirm(client, account.login, code)
    assert response.status_code == 422
    assert response.json()["detail"] == "验证码错误或已失效，请重新获取"


async def test_a_new_code_voids_the_previous_one(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    _, [first] = await _request_sms(client, account.login)
    await _clear_rate_limits(db)
    _, [second] = await _request_sms(client, account.login)
    if first != second:
        assert (await _confirm(client, account.login, first)).status_code == 422
    assert (await _confirm(client, account.login, second)).status_code == 204


async def _clear_rate_limits(db: Runtime) -> None:
    from campus.kernel.cache import MemoryCache

    if isinstance(db.cache, MemoryCache):
        for key in [k for k in db.cache._data if k.startswith("rl:auth:resetcode:")]:
            del db.cache._data[key]
    else:
        redis = db.cache._redis  # type: ignore[attr-defined]
        keys = [k async for k in redis.scan_iter("rl:auth:resetcode:*")]
        if keys:
            await redis.delete(*keys)


async def test_no_account_enumeration(make_account: MakeAccount, browser: Browser) -> None:
    account = await make_account()
    real, real_codes = await _request_sms(await browser(), account.login)
    nobody, nobody_codes = await _request_sms(await browser(), "no-such-account-42")
    assert (real.status_code, real.json()) == (nobody.status_code, nobody.json())
    assert len(real_codes) == 1 and nobody_codes == []
    client = await browser()
    unknown = await _confirm(client, "no-such-account-42", "123456")
    wrong = await _confirm(client, account.login, f"{(int(real_codes[0]) + 1) % 10**6:06d}")
    assert unknown.status_code == wrong.status_code == 422
    assert unknown.json()["errors"] == wrong.json()["errors"]


async def test_codes_are_rate_limited_per_account_known_or_not(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    for login in (account.login, "no-such-account-43"):
        first, _ = await _request_sms(client, login)
        second, codes = await _request_sms(client, login)
        assert first.status_code == 202
        assert second.status_code == 429 and codes == []
        assert "获取验证码过于频繁" in second.json()["detail"]


async def test_a_weak_new_password_is_refused_without_spending_the_code(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    _, [code] = await _request_sms(client, account.login)
    weak = await _confirm(client, account.login, code, "password")
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "new_password"
    with_account = await _confirm(client, account.login, code, f"Aa#{account.login}")
    assert with_account.json()["errors"] == [
        {"field": "new_password", "reason": "密码不能包含账号、手机号或邮箱"}
    ]
    assert (await _confirm(client, account.login, code)).status_code == 204


async def test_the_email_channel_sends_over_smtp(
    make_account: MakeAccount, browser: Browser, smtp_server: Mailbox
) -> None:
    account = await make_account()
    client = await browser()
    response = await client.post(REQUEST, json={"login": account.login, "channel": "email"})
    assert response.status_code == 202
    [message] = await smtp_server.wait_for(1)
    assert message["To"] == account.email
    assert message["X-Envelope-To"] == account.email
    assert "密码重置验证码" in message["Subject"]
    body = message.get_content()  # type: ignore[attr-defined]
    code = re.search(r"验证码是 (\d{6})", body).group(1)  # type: ignore[union-attr]
    assert (await _confirm(client, account.login, code)).status_code == 204


async def test_without_an_smtp_server_no_email_is_offered_and_the_answer_is_the_same(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    assert db.settings.smtp_host is None
    account = await make_account()
    client = await browser()
    response = await client.post(REQUEST, json={"login": account.login, "channel": "email"})
    assert response.status_code == 202
    [refused] = await audits(db, "auth.reset_code.refused", account.login.lower())
    assert (refused.after or {})["channel"] == "email"
    page = await client.get("/password/forgot")
    assert 'value="sms"' in page.text and 'value="email"' not in page.text


async def test_bad_input_is_problem_json(browser: Browser) -> None:
    client = await browser()
    bad: list[tuple[str, dict[str, Any], str]] = [
        (REQUEST, {"login": "x", "channel": "pigeon"}, "channel"),
        (REQUEST, {"channel": "sms"}, "login"),
        (CONFIRM, {"login": "x", "code": "1" * 13, "new_password": NEW}, "code"),
        (CONFIRM, {"login": "x", "code": "123456"}, "new_password"),
    ]
    for path, body, field in bad:
        response = await client.post(path, json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field


async def test_the_forgot_and_reset_pages_work_end_to_end(
    make_account: MakeAccount, browser: Browser
) -> None:
    account: Account = await make_account()
    client = await browser()
    with structlog.testing.capture_logs() as logs:
        sent = await client.post(
            "/password/forgot", data=form(client, login=account.login, channel="sms")
        )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/password/reset?login={account.login}"
    code = re.search(
        r"(\d{6})", next(e["text"] for e in logs if e.get("event") == "demo_sms_not_sent")
    ).group(1)  # type: ignore[union-attr]
    page = await client.get(sent.headers["location"])
    assert "验证码已发送" in page.text and f'value="{account.login}"' in page.text

    wrong = await client.post(
        "/password/reset",
        data=form(
            client,
            login=account.login,
            code="000000" if code != "000000" else "111111",
            new_password=NEW,
        ),
    )
    assert wrong.status_code == 422 and "验证码错误或已失效" in wrong.text
    weak = await client.post(
        "/password/reset", data=form(client, login=account.login, code=code, new_password="weak")
    )
    assert weak.status_code == 422 and "密码长度不能少于 8 个字符" in weak.text
    done = await client.post(
        "/password/reset", data=form(client, login=account.login, code=code, new_password=NEW)
    )
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "密码已重置" in (await client.get("/login")).text
