"""QR-code login in a real browser with two sessions: a desktop shows the QR code on the login
page; a phone-sized browser, already signed in, opens the code's URL and decides; the desktop
follows by pushed events and, on confirmation, is signed in without typing a password."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin, LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def student_phone(phone_page: Page, server: LiveServer) -> tuple[Page, DemoLogin]:
    """The phone, signed in with the student's password as the mobile web app is."""
    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    expect(phone_page).not_to_have_url(re.compile(r"/login"))
    return phone_page, student


def show_qr_code(desktop: Page) -> str:
    """Open the login page's QR code; returns the URL it encodes (a test cannot scan)."""
    desktop.goto("/login")
    desktop.get_by_test_id("qr-login-open").click()
    panel = desktop.get_by_test_id("qr-panel")
    expect(panel.locator("svg")).to_be_visible()
    expect(panel).to_have_attribute("data-qr-url", re.compile(r"/qr/confirm\?c=[\w-]+$"))
    url = panel.get_attribute("data-qr-url")
    assert url is not None
    return url


def test_phone_confirms_and_the_desktop_signs_in_without_a_password(
    page: Page, student_phone: tuple[Page, DemoLogin]
) -> None:
    phone, student = student_phone
    url = show_qr_code(page)
    status = page.get_by_test_id("qr-status")
    expect(status).to_have_text("请使用已登录的手机扫描二维码")

    phone.goto(url)
    request = phone.get_by_test_id("qr-request")
    expect(request).to_contain_text("127.0.0.1")
    expect(request).to_contain_text("Chrome")
    expect(status).to_have_text("已扫码，请在手机上确认登录")  # pushed, not reloaded

    phone.get_by_test_id("qr-confirm-button").click()
    expect(phone.get_by_test_id("qr-decided")).to_contain_text("已确认登录")

    expect(page).not_to_have_url(re.compile(r"/login"))
    expect(page.get_by_test_id("user-name")).to_have_text(student.name)
    me = page.request.get("/api/v1/auth/me")
    assert me.ok
    assert me.json()["login"] == student.login


def test_denial_on_the_phone_is_shown_on_the_desktop(
    page: Page, student_phone: tuple[Page, DemoLogin]
) -> None:
    phone, _ = student_phone
    url = show_qr_code(page)
    phone.goto(url)
    phone.get_by_test_id("qr-deny-button").click()
    expect(phone.get_by_test_id("qr-decided")).to_contain_text("已拒绝登录")

    expect(page.get_by_test_id("qr-status")).to_have_text("已在手机上拒绝登录")
    expect(page).to_have_url(re.compile(r"/login"))
    assert page.request.get("/api/v1/auth/me").status == 401
