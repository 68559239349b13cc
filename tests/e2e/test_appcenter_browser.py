"""A student on a phone finds the library in the app center by its pinyin initials, stars it,
and sees it first in the home page's app grid."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def test_a_student_finds_stars_and_sees_an_app_first(phone_page: Page, server: LiveServer) -> None:
    page = phone_page
    student = server.login("student")
    sign_in(page, student.login, student.password)
    page.goto("/apps")
    page.get_by_test_id("app-search-input").fill("tsg")
    page.get_by_test_id("app-search-input").press("Enter")
    found = page.locator('[data-testid="app"][data-app="library"]')
    expect(found).to_contain_text("图书馆")
    expect(page.get_by_test_id("app")).to_have_count(1)
    found.get_by_test_id("star").click()
    starred = page.locator('[data-testid="app"][data-app="library"]').get_by_test_id("star")
    expect(starred).to_have_attribute("aria-pressed", "true")

    page.goto("/")
    first = page.get_by_test_id("app-grid").locator("[data-app]").first
    expect(first).to_have_attribute("data-app", "library")
    expect(first).to_contain_text("图书馆")
    scrolled, screen = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scrolled <= screen

    page.goto("/apps?q=tsg")  # leave the demo as it was
    page.locator('[data-testid="app"][data-app="library"]').get_by_test_id("star").click()
