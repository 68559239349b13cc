"""What students check on their phones (课表, 空教室, 考试安排, 校历), on a 390-pixel screen:
each is one tap from the home page's 常用 row, fits the screen's width and reads as a list."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campus.kernel import clock
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _fits_the_screen(page: Page) -> None:
    scrolled, screen = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scrolled <= screen, f"{page.url} is {scrolled}px wide on a {screen}px screen"


def _open_shortcut(page: Page, title: str) -> None:
    page.goto("/")
    page.get_by_test_id("shortcuts").get_by_role("link", name=title).click()
    _fits_the_screen(page)


def test_a_student_checks_the_day_on_a_phone(phone_page: Page, server: LiveServer) -> None:
    page = phone_page
    student = server.login("student")
    sign_in(page, student.login, student.password)
    shortcuts = page.get_by_test_id("shortcut")
    expect(shortcuts).to_contain_text(["校历", "我的课表", "空教室查询", "我的考试", "我的选课"])
    _fits_the_screen(page)

    _open_shortcut(page, "我的课表")
    listed = page.get_by_test_id("timetable-list")
    expect(listed).to_be_visible()
    expect(page.get_by_test_id("timetable")).to_be_hidden()  # the week grid is for wide screens
    headings = listed.get_by_test_id("day-heading")
    expect(headings.first).to_be_visible()
    days = [WEEKDAYS.index(text.strip()[:2]) for text in headings.all_inner_texts()]
    assert days == sorted(set(days)), f"one heading per day, Monday first: {days}"
    marked = headings.filter(has=page.get_by_test_id("today-badge"))
    assert marked.count() <= 1
    if marked.count():  # only while the term runs, and only on today's weekday
        expect(marked).to_contain_text(WEEKDAYS[clock.today().weekday()])  # campus time
    first = listed.get_by_test_id("lecture-card").first
    expect(first).to_contain_text("第")
    expect(first).to_contain_text(":")  # the block's clock time, not only its number

    _open_shortcut(page, "空教室查询")
    page.get_by_label("类型").select_option(label="机房")
    page.get_by_label("座位≥").fill("60")
    page.get_by_test_id("free-rooms-search").click()
    rooms = page.get_by_test_id("free-room")
    expect(rooms.first).to_be_visible()
    for room in rooms.all():
        expect(room).to_contain_text("机房")
        assert int(room.get_attribute("data-capacity") or 0) >= 60
    expect(page.get_by_test_id("free-rooms-count")).to_have_text(f"共 {rooms.count()} 间空教室")
    _fits_the_screen(page)

    _open_shortcut(page, "我的考试")
    expect(page.get_by_role("heading", name="我的考试")).to_be_visible()

    _open_shortcut(page, "校历")
    expect(page.get_by_test_id("term-summary")).to_contain_text("教学 18 周")
    expect(page.get_by_test_id("week-row")).to_have_count(20)
    expect(page.get_by_test_id("special-days")).to_contain_text("国庆节")
    expect(page.get_by_test_id("period-grid")).to_contain_text("08:00")
