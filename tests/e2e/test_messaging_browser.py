"""Notifications in a real browser: an administrator sends one from the send page to a student
whose page is open on a phone; the bell's badge counts it and a toast shows it at once, with no
reload; opening it marks it read and the badge goes down again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

TITLE = "浏览器测试：明早 8 点消防演练"


def test_a_notification_appears_live_on_a_students_open_page(
    page: Page, phone_page: Page, server: LiveServer
) -> None:
    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/messaging/inbox")
    badge = phone_page.get_by_test_id("bell-badge")
    # The stream's first event is the unread count: once it shows, the page is connected.
    expect(badge).to_have_attribute("data-count", re.compile(r"^\d+$"))
    before = int(badge.get_attribute("data-count") or "0")

    admin = server.login("admin")
    sign_in(page, admin.login, admin.password)
    page.goto("/messaging/send")
    page.get_by_test_id("title").fill(TITLE)
    page.get_by_test_id("body").fill("请各位同学听到警报后沿疏散路线到操场集合。")
    page.get_by_test_id("people-search").fill(student.login)
    page.get_by_role("link", name=student.name).first.click()
    page.get_by_test_id("preview-size").click()
    expect(page.get_by_test_id("audience-size")).to_have_text("1 人")
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("stat-audience")).to_have_text("1")

    # No reload on the phone: the badge, a toast and the list follow the live stream.
    expect(badge).to_have_attribute("data-count", str(before + 1))
    expect(badge).to_be_visible()
    toast = phone_page.get_by_test_id("live-toast").filter(has_text=TITLE)
    expect(toast).to_be_visible()
    row = phone_page.get_by_test_id("inbox-row").filter(has_text=TITLE)
    expect(row.get_by_test_id("unread-dot")).to_be_visible()

    row.get_by_test_id("inbox-title").click()
    expect(phone_page.get_by_test_id("notification-body")).to_contain_text("疏散路线")
    expect(phone_page.get_by_test_id("bell-badge")).to_have_attribute("data-count", str(before))

    page.reload()
    expect(page.get_by_test_id("stat-read")).to_have_text("1")
