"""The collaborative office in a real browser: a counselor publishes a notice to their class and
a student reads it (the counselor then sees the receipt); the student answers a meeting
invitation on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

TITLE = "浏览器测试：周三下午的讲座通知"


def test_a_counselor_publishes_and_a_student_reads(
    page: Page, phone_page: Page, server: LiveServer
) -> None:
    counselor = server.login("counselor")
    sign_in(page, counselor.login, counselor.password)
    page.goto("/oa/notices")
    page.get_by_test_id("new-notice").click()
    page.get_by_test_id("notice-title-input").fill(TITLE)
    page.get_by_test_id("notice-body-input").fill("周三下午 3 点，**报告厅**。")
    page.get_by_test_id("preview-button").click()
    expect(page.locator("#notice-preview strong")).to_have_text("报告厅")
    page.get_by_test_id("audience-students").check()
    classes = page.get_by_test_id("target-class")  # the classes the counselor looks after
    for index in range(classes.count()):
        classes.nth(index).check()
    page.get_by_test_id("publish-now").click()
    expect(page.get_by_test_id("notice-heading")).to_contain_text(TITLE)
    expect(page.get_by_test_id("notice-status")).to_have_text("已发布")

    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/oa/notices")
    row = phone_page.get_by_test_id("notice-row").filter(has_text=TITLE)
    expect(row.get_by_test_id("unread-dot")).to_be_visible()
    row.click()
    expect(phone_page.get_by_test_id("notice-body").locator("strong")).to_have_text("报告厅")
    expect(phone_page.get_by_test_id("read-at")).to_be_visible()

    page.get_by_test_id("receipts-link").click()
    expect(page.get_by_test_id("receipts-read")).to_have_text("1")
    # The chart is drawn by ECharts into a canvas.
    expect(page.get_by_test_id("receipts-chart").locator("canvas").first).to_be_visible()


def test_a_student_accepts_a_meeting_invitation_on_a_phone(
    phone_page: Page, server: LiveServer
) -> None:
    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/oa/schedule")
    invitation = phone_page.get_by_test_id("invitation").filter(has_text="班委会")
    expect(invitation).to_be_visible()
    invitation.click()
    expect(phone_page.get_by_test_id("event-title")).to_have_text("班委会")
    phone_page.get_by_test_id("answer-accept").click()
    expect(phone_page.get_by_test_id("answer-card")).to_contain_text("接受")
    phone_page.goto("/oa/schedule")
    expect(phone_page.get_by_test_id("invitation").filter(has_text="班委会")).to_have_count(0)
