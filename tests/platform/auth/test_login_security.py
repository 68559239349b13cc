"""Guessing is slowed down and then locked out (for real and unknown accounts alike), an
administrator can unlock; initial passwords must be changed before a session carries any
permission; logins are audited with address and device."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access import actions as access_actions
from campus.platform.auth.models import Credential
from tests.conftest import LoginAs
from tests.platform.auth.conftest import (
    PASSWORD,
    Account,
    Browser,
    MakeAccount,
    audits,
    sign_in,
)

WRONG = "Wrong#Pass99"
Settings = Callable[..., None]


async def _attempt(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"login": login, "password": password})


def _answer(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]


async def test_five_failures_lock_the_account_even_against_the_right_password(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    answers = [_answer(await _attempt(client, account.login, WRONG)) for _ in range(5)]
    assert answers[:4] == [(401, "账号或密码错误")] * 4
    assert answers[4][0] == 429 and "锁定" in answers[4][1] and "15 分钟" in answers[4][1]

    right = await _attempt(client, account.login, account.password)
    assert right.status_code == 429
    assert 800 < right.json()["retry_after"] <= 900
    [locked] = await audits(db, "auth.account.locked", account.person_id)
    assert locked.after is not None and locked.after["failures"] == 5
    reasons = [
        (e.after or {}).get("reason") for e in await audits(db, "auth.login.failed", account.login)
    ]
    assert reasons == ["bad_password"] * 5 + ["locked"]


async def test_a_lockout_runs_out(make_account: MakeAccount, browser: Browser, db: Runtime) -> None:
    account = await make_account()
    client = await browser()
    for _ in range(5):
        await _attempt(client, account.login, WRONG)
    async with db.db.transaction() as session:
        await session.execute(
            update(Credential)
            .where(Credential.person_id == account.person_id)
            .values(locked_until=clock.now() - timedelta(seconds=1))
        )
    assert (await _attempt(client, account.login, account.password)).status_code == 200


async def test_a_success_resets_the_count_of_failures(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    for _ in range(4):
        assert (await _attempt(client, account.login, WRONG)).status_code == 401
    assert (await _attempt(client, account.login, account.password)).status_code == 200
    for _ in range(4):
        assert (await _attempt(client, account.login, WRONG)).status_code == 401


async def test_unknown_accounts_answer_exactly_like_real_ones(
    make_account: MakeAccount, browser: Browser
) -> None:
    """No account enumeration: the same statuses and messages, locking included."""
    account = await make_account()
    real_client = await browser()
    nobody_client = await browser()
    real = [_answer(await _attempt(real_client, account.login, WRONG)) for _ in range(6)]
    nobody = [_answer(await _attempt(nobody_client, "nobody-123456", WRONG)) for _ in range(6)]
    assert real == nobody
    assert real[4][0] == 429


async def test_an_administrator_unlocks_and_it_is_audited(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    for _ in range(5):
        await _attempt(client, account.login, WRONG)
    admin = await login_as("admin")
    state = (await admin.get(f"/api/v1/auth/accounts/{account.person_id}")).json()
    assert state["locked_until"] is not None

    response = await admin.post(f"/api/v1/auth/accounts/{account.person_id}/unlock")

    assert response.status_code == 204
    assert (await admin.get(f"/api/v1/auth/accounts/{account.person_id}")).json()[
        "locked_until"
    ] is None
    [entry] = await audits(db, "auth.account.unlocked", account.person_id)
    assert entry.actor_id == (await admin.get("/api/v1/auth/me")).json()["person_id"]
    assert entry.before is not None and entry.before["locked_until"] is not None
    assert (await _attempt(client, account.login, account.password)).status_code == 200


async def test_only_holders_of_the_permission_unlock(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs
) -> None:
    account = await make_account()
    teacher = await login_as("teacher")
    response = await teacher.post(f"/api/v1/auth/accounts/{account.person_id}/unlock")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await teacher.get(f"/api/v1/auth/accounts/{account.person_id}")).status_code == 403
    anon = await browser()
    assert (await anon.post(f"/api/v1/auth/accounts/{account.person_id}/unlock")).status_code in (
        401,
        403,
    )


async def test_attempts_are_limited_per_address(
    make_account: MakeAccount, browser: Browser, settings_for_test: Settings
) -> None:
    settings_for_test(login_attempts_per_ip=3)
    accounts = [await make_account() for _ in range(4)]
    client = await browser()
    statuses = [(await _attempt(client, a.login, WRONG)).status_code for a in accounts]
    assert statuses == [401, 401, 401, 429]
    refused = await _attempt(client, accounts[0].login, accounts[0].password)
    assert refused.status_code == 429
    assert "登录尝试过多" in refused.json()["detail"]


async def test_logins_are_audited_with_address_and_device(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    client = await browser(user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) Firefox/125.0")
    await _attempt(client, account.login, WRONG)
    assert (await _attempt(client, account.login, account.password)).status_code == 200
    [failed] = await audits(db, "auth.login.failed", account.login)
    [success] = await audits(db, "auth.login", account.person_id)
    for entry in (failed, success):
        assert entry.ip == "127.0.0.1"
        assert entry.after is not None and "Firefox/125.0" in entry.after["user_agent"]
    assert success.after is not None
    assert success.after["amr"] == ["pwd"] and success.after["session_id"]


async def test_an_initial_password_must_be_changed_before_permissions_apply(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account(must_change=True)
    await _give_permission(db, account, "users.person.read")
    client = await browser()
    response = await sign_in(client, account)
    assert response.status_code == 200
    assert response.json()["next_step"] == "change_password"
    assert response.json()["permissions"] == []
    assert (await client.get("/api/v1/users/people")).status_code == 403

    changed = await client.post(
        "/api/v1/auth/password",
        json={"current_password": account.password, "new_password": "Fresh&Green42"},
    )

    assert changed.status_code == 200, changed.text
    me = (await client.get("/api/v1/auth/me")).json()
    assert "users.person.read" in me["permissions"]
    assert (await client.get("/api/v1/users/people")).status_code == 200


async def _give_permission(db: Runtime, account: Account, code: str) -> None:
    role = f"auth_test_{code.replace('.', '_')}"
    async with db.db.transaction() as session:
        await access_actions.do_ensure_role(session, role, "认证测试角色", [code])
        await access_actions.do_grant(session, db.cache, account.person_id, role)


async def test_the_login_page_sends_an_initial_password_to_the_change_page(
    make_account: MakeAccount, browser: Browser
) -> None:
    from tests.platform.auth.conftest import form

    account = await make_account(must_change=True)
    client = await browser()
    response = await client.post(
        "/login",
        data=form(client, login=account.login, password=account.password, next="/users/people"),
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password?next=%2Fusers%2Fpeople"
    page = await client.get("/account/password", params={"next": "/users/people"})
    assert page.status_code == 200
    assert 'data-testid="pending-notice"' in page.text


async def test_demo_logins_are_not_forced_to_change_their_password(
    browser: Browser, demo: SeedContext
) -> None:
    for login in demo.logins:
        client = await browser()
        response = await _attempt(client, login.login, login.password)
        assert response.status_code == 200, login
        assert response.json()["next_step"] is None, login


@pytest.mark.parametrize(
    ("staff", "status", "reason"),
    [(False, "left", "退学"), (True, "suspended", "停职"), (True, "left", "调离")],
)
async def test_inactive_people_cannot_sign_in(
    make_account: MakeAccount,
    browser: Browser,
    login_as: LoginAs,
    db: Runtime,
    staff: bool,
    status: str,
    reason: str,
) -> None:
    account = await make_account(staff=staff)
    admin = await login_as("admin")
    changed = await admin.post(
        f"/api/v1/users/people/{account.person_id}/status",
        json={"status": status, "reason": reason},
    )
    assert changed.status_code == 200, changed.text
    client = await browser()
    response = await _attempt(client, account.login, PASSWORD)
    assert _answer(response) == (401, "账号或密码错误")
    [entry] = await audits(db, "auth.login.failed", account.login)
    assert (entry.after or {})["reason"] == "inactive"


async def test_a_student_on_leave_still_signs_in(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs, db: Runtime
) -> None:
    """休学 keeps the student on the roll: they come back to see their record and apply to
    resume."""
    account = await make_account()
    admin = await login_as("admin")
    changed = await admin.post(
        f"/api/v1/users/people/{account.person_id}/status",
        json={"status": "suspended", "reason": "休学"},
    )
    assert changed.status_code == 200, changed.text
    client = await browser()
    response = await _attempt(client, account.login, PASSWORD)
    assert response.status_code == 200, response.text
    me = await client.get("/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["person_id"] == account.person_id
    assert await audits(db, "auth.login.failed", account.login) == []


async def test_bad_login_input_names_the_field(browser: Browser) -> None:
    client = await browser()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"login": "", "password": "x"}, "login"),
        ({"login": "x" * 65, "password": "x"}, "login"),
        ({"login": "A0001", "password": "x" * 129}, "password"),
        ({"login": "A0001", "password": "x", "remember": "perhaps"}, "remember"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field]
