"""The password policy, changing one's password, and an administrator's reset."""

from __future__ import annotations

import pytest

from campus.kernel.runtime import Runtime
from campus.platform.auth.passwords import policy_problem, temporary_password
from tests.conftest import LoginAs
from tests.platform.auth.conftest import Browser, MakeAccount, audits, events, sign_in


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1!", "密码长度不能少于 8 个字符"),
        ("abcdefgh12", "密码须包含大写字母、小写字母、数字、符号中的至少三类"),
        ("ABCDEFGH!!", "密码须包含大写字母、小写字母、数字、符号中的至少三类"),
        ("x" * 129, "密码长度不能超过 128 个字符"),
        ("Ab!20251234567", "密码不能包含账号、手机号或邮箱"),
        ("Zz#13812345678", "密码不能包含账号、手机号或邮箱"),
        ("Li.Ming@Uni9", "密码不能包含账号、手机号或邮箱"),
        ("P@ssw0rd", "该密码过于常见，容易被猜中，请换一个"),
        ("1qaz@WSX", "该密码过于常见，容易被猜中，请换一个"),
        ("Campus@2026", "该密码过于常见，容易被猜中，请换一个"),
    ],
)
def test_policy_refuses_with_a_chinese_reason(password: str, reason: str) -> None:
    names = ["20251234567", "13812345678", "li.ming@example.edu.cn"]
    problem = policy_problem(password, names)
    assert problem is not None and str(problem) == reason


@pytest.mark.parametrize("password", ["Kx7#mvQ2pLw9", "correct-Horse-battery", "春眠不觉晓Spring2"])
def test_policy_accepts_strong_passwords(password: str) -> None:
    assert policy_problem(password, ["20251234567", "13812345678"]) is None


def test_temporary_passwords_satisfy_the_policy_and_differ() -> None:
    made = {temporary_password() for _ in range(50)}
    assert len(made) == 50
    assert all(policy_problem(p, []) is None for p in made)


async def test_changing_to_a_weak_password_names_the_field_and_the_reason(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    cases = [
        ("short1!", "密码长度不能少于 8 个字符"),
        ("alllowercase1", "密码须包含大写字母、小写字母、数字、符号中的至少三类"),
        (f"Xx!{account.login}", "密码不能包含账号、手机号或邮箱"),
        ("Passw0rd!", "该密码过于常见，容易被猜中，请换一个"),
        (account.password, "新密码不能与当前密码相同"),
    ]
    for new, reason in cases:
        response = await client.post(
            "/api/v1/auth/password",
            json={"current_password": account.password, "new_password": new},
        )
        assert response.status_code == 422, new
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"] == [{"field": "new_password", "reason": reason}]
    wrong = await client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it", "new_password": "Fresh&Green42"},
    )
    assert wrong.json()["errors"] == [{"field": "current_password", "reason": "当前密码不正确"}]
    english = await client.post(
        "/api/v1/auth/password",
        json={"current_password": account.password, "new_password": "short1!"},
        headers={"Accept-Language": "en"},
    )
    assert english.json()["errors"][0]["reason"] == "Passwords must be at least 8 characters long"


async def test_changing_the_password_signs_out_the_other_devices(
    make_account: MakeAccount, browser: Browser, db: Runtime
) -> None:
    account = await make_account()
    here = await browser(account)
    there = await browser(account)
    response = await here.post(
        "/api/v1/auth/password",
        json={"current_password": account.password, "new_password": "Fresh&Green42"},
    )
    assert response.json() == {"sessions_ended": 1}
    assert (await here.get("/api/v1/auth/me")).status_code == 200
    assert (await there.get("/api/v1/auth/me")).status_code == 401
    assert [
        e["reason"] for e in await events(db, "auth.session.ended", person_id=account.person_id)
    ] == ["password_changed"]
    account.password = "Fresh&Green42"
    assert (await sign_in(await browser(), account)).status_code == 200
    assert await audits(db, "auth.password.changed", account.person_id)


async def test_an_administrator_sets_a_temporary_password_that_must_be_changed(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs, db: Runtime
) -> None:
    account = await make_account()
    victim_device = await browser(account)
    admin = await login_as("admin")

    response = await admin.post(f"/api/v1/auth/accounts/{account.person_id}/password", json={})

    assert response.status_code == 200
    body = response.json()
    temporary = body["temporary_password"]
    assert policy_problem(temporary, []) is None
    assert body["sessions_ended"] == 1
    assert (await victim_device.get("/api/v1/auth/me")).status_code == 401
    account.password = temporary
    signed = await sign_in(await browser(), account)
    assert signed.json()["next_step"] == "change_password"
    [entry] = await audits(db, "auth.password.reset", account.person_id)
    assert entry.after == {"generated": True, "sessions_ended": 1}
    assert temporary not in str(entry.after)


async def test_an_administrator_may_choose_the_temporary_password_within_the_policy(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs
) -> None:
    account = await make_account()
    admin = await login_as("admin")
    weak = await admin.post(
        f"/api/v1/auth/accounts/{account.person_id}/password", json={"password": "12345678"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"] == [
        {"field": "password", "reason": "密码须包含大写字母、小写字母、数字、符号中的至少三类"}
    ]
    chosen = await admin.post(
        f"/api/v1/auth/accounts/{account.person_id}/password", json={"password": "Temp#Pass2026x"}
    )
    assert chosen.status_code == 200
    assert chosen.json()["temporary_password"] is None
    account.password = "Temp#Pass2026x"
    assert (await sign_in(await browser(), account)).json()["next_step"] == "change_password"


async def test_resetting_needs_the_permission_and_an_existing_person(
    make_account: MakeAccount, login_as: LoginAs
) -> None:
    account = await make_account()
    student = await login_as("student")
    denied = await student.post(f"/api/v1/auth/accounts/{account.person_id}/password", json={})
    assert denied.status_code == 403
    admin = await login_as("admin")
    missing = await admin.post("/api/v1/auth/accounts/999999999/password", json={})
    assert missing.status_code == 404
    assert missing.json()["detail"] == "没有这个人员"
