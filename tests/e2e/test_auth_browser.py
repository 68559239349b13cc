"""Account security in a real browser: sign in with remember-me on a desktop while a phone is
signed in too, open "my devices" from the user menu and sign the phone out from there."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


def _sign_in_remembered(page: Page, login: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_test_id("remember-me").check()
    page.get_by_role("button", name="登录").click()


def test_sign_in_remembered_then_sign_out_the_phone_from_my_devices(
    browser: Browser, server: LiveServer
) -> None:
    counselor = server.login("counselor")
    with (
        _fresh_page(browser, server, viewport=PHONE, is_mobile=True, user_agent=IPHONE) as phone,
        _fresh_page(browser, server, viewport=DESKTOP, user_agent=WINDOWS) as desktop,
    ):
        sign_in(phone, counselor.login, counselor.password)
        expect(phone).not_to_have_url(re.compile(r"/login"))

        _sign_in_remembered(desktop, counselor.login, counselor.password)
        expect(desktop).not_to_have_url(re.compile(r"/login"))
        [cookie] = [c for c in desktop.context.cookies() if c["name"] == "campus_session"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert cookie["expires"] > time.time() + 29 * 86400, "remember-me keeps it for 30 days"

        desktop.get_by_test_id("user-menu").click()
        desktop.get_by_test_id("my-devices-link").click()
        expect(desktop).to_have_url(re.compile(r"/account/devices$"))
        rows = desktop.get_by_test_id("device-row")
        this_device = rows.filter(has=desktop.get_by_test_id("device-current"))
        expect(this_device).to_contain_text("Chrome · Windows")
        expect(this_device).to_contain_text("记住我")
        the_phone = rows.filter(has_text="Safari · iOS")
        expect(the_phone).to_have_count(1)

        the_phone.get_by_test_id("device-revoke").click()

        expect(desktop.get_by_test_id("alert")).to_contain_text("该设备已退出登录")
        expect(rows.filter(has_text="Safari · iOS")).to_have_count(0)
        expect(this_device).to_have_count(1)

        phone.reload()
        expect(phone).to_have_url(re.compile(r"/login"))
        desktop.reload()
        expect(desktop).to_have_url(re.compile(r"/account/devices$"))
