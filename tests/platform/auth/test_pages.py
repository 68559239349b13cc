"""The pages: sign-in with remember-me, my devices with revoke, sign out everywhere, the
account-security overview, and the administrators' account page."""

from __future__ import annotations

import re

from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.auth.conftest import Browser, MakeAccount, audits, form

HTML = {"Accept": "text/html"}


async def test_the_login_form_signs_in_with_remember_me(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    page = await client.get("/login", params={"next": "/account/devices"})
    assert 'name="remember"' in page.text and 'href="/password/forgot"' in page.text
    response = await client.post(
        "/login",
        data=form(
            client,
            login=account.login,
            password=account.password,
            remember="1",
            next="/account/devices",
        ),
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account/devices"
    assert "Max-Age=2592000" in response.headers["set-cookie"]
    devices = await client.get("/account/devices")
    assert devices.status_code == 200
    assert devices.text.count('data-testid="device-row"') == 1
    assert "记住我" in devices.text and 'data-testid="device-current"' in devices.text


async def test_a_failed_form_login_keeps_the_account_and_remember_choice(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser()
    response = await client.post(
        "/login", data=form(client, login=account.login, password="Wrong#1234", remember="1")
    )
    assert response.status_code == 401
    assert f'value="{account.login}"' in response.text
    assert re.search(r'name="remember" value="1" data-testid="remember-me" checked', response.text)


async def test_revoking_another_device_from_the_page(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    phone = await browser(account, user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/124.0 Mobile")
    desktop = await browser(account, user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0")
    page = (await desktop.get("/account/devices")).text
    assert "Chrome · Android" in page and "Firefox · Linux" in page
    sids = re.findall(r'data-testid="device-row" data-session="([0-9a-f]+)"', page)
    current = re.search(
        r'data-session="([0-9a-f]+)">(?:(?!device-row).)*device-current', page, re.S
    )
    assert current is not None and len(sids) == 2
    other = next(s for s in sids if s != current.group(1))

    response = await desktop.post(f"/account/devices/{other}/revoke", data=form(desktop))

    assert response.status_code == 303 and response.headers["location"] == "/account/devices"
    after = await desktop.get("/account/devices")
    assert after.text.count('data-testid="device-row"') == 1
    assert "该设备已退出登录" in after.text
    gone = await phone.get("/account/devices", headers=HTML)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_revoking_the_current_device_signs_out(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    sid = (await client.get("/api/v1/auth/sessions")).json()[0]["session_id"]
    response = await client.post(f"/account/devices/{sid}/revoke", data=form(client))
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_sign_out_everywhere_from_the_page(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    one = await browser(account)
    two = await browser(account)
    response = await one.post("/logout/everywhere", data=form(one))
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "已在全部 2 个设备上退出登录" in (await one.get("/login")).text
    assert (await two.get("/api/v1/auth/me")).status_code == 401


async def test_changing_the_password_on_the_page(
    make_account: MakeAccount, browser: Browser
) -> None:
    account = await make_account()
    client = await browser(account)
    mismatch = await client.post(
        "/account/password",
        data=form(
            client,
            current_password=account.password,
            new_password="Fresh&Green42",
            confirm_password="Fresh&Green43",
        ),
    )
    assert mismatch.status_code == 422 and "两次输入的新密码不一致" in mismatch.text
    weak = await client.post(
        "/account/password",
        data=form(
            client,
            current_password=account.password,
            new_password="abcdefgh",
            confirm_password="abcdefgh",
        ),
    )
    assert weak.status_code == 422 and "至少三类" in weak.text
    done = await client.post(
        "/account/password",
        data=form(
            client,
            current_password=account.password,
            new_password="Fresh&Green42",
            confirm_password="Fresh&Green42",
        ),
    )
    assert done.status_code == 303 and done.headers["location"] == "/"


async def test_the_security_overview_needs_a_sign_in(
    make_account: MakeAccount, browser: Browser
) -> None:
    anon = await browser()
    redirected = await anon.get("/account/security", headers=HTML)
    assert redirected.status_code == 303
    assert redirected.headers["location"] == "/login?next=%2Faccount%2Fsecurity"
    client = await browser(await make_account())
    page = await client.get("/account/security")
    assert page.status_code == 200
    assert "两步验证" in page.text and "当前有 1 个设备处于登录状态" in page.text


async def test_the_administrators_account_page(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs, db: Runtime
) -> None:
    account = await make_account()
    client = await browser()
    for _ in range(5):
        await client.post(
            "/api/v1/auth/login", json={"login": account.login, "password": "Wrong#1234"}
        )
    admin = await login_as("admin")
    found = await admin.get("/auth/accounts", params={"login": account.login})
    assert found.status_code == 303
    assert found.headers["location"] == f"/auth/accounts/{account.person_id}"
    page = await admin.get(found.headers["location"])
    assert 'data-testid="account-unlock"' in page.text and "锁定至" in page.text

    unlocked = await admin.post(f"/auth/accounts/{account.person_id}/unlock", data=form(admin))
    assert unlocked.status_code == 303
    assert "账号已解锁" in (await admin.get(unlocked.headers["location"])).text

    reset = await admin.post(f"/auth/accounts/{account.person_id}/password", data=form(admin))
    assert reset.status_code == 200
    temporary = re.search(r'user-select-all">([^<]+)</code>', reset.text)
    assert temporary is not None
    signed = await client.post(
        "/api/v1/auth/login", json={"login": account.login, "password": temporary.group(1)}
    )
    assert signed.json()["next_step"] == "change_password"
    assert await audits(db, "auth.password.reset", account.person_id)
    missing = await admin.get("/auth/accounts", params={"login": "nobody-here"})
    assert "没有使用该账号的人员" in missing.text


async def test_the_account_pages_are_for_administrators_only(login_as: LoginAs) -> None:
    student = await login_as("student")
    assert (await student.get("/auth/accounts", headers=HTML)).status_code == 403
    assert (await student.get("/auth/accounts/1", headers=HTML)).status_code == 403


async def test_pages_render_in_english(make_account: MakeAccount, browser: Browser) -> None:
    client = await browser(await make_account())
    client.headers["Accept-Language"] = "en"
    devices = await client.get("/account/devices")
    assert "My devices" in devices.text and "Sign out of all devices" in devices.text
    login = await client.get("/login")
    assert "Remember me" in login.text and "Forgot your password?" in login.text
