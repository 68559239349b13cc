"""A student on a phone finds the library in the app center by its pinyin initials, stars it,
and sees it first in the home page's app grid."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_im_browser import PNG

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


def test_an_administrator_gives_an_app_a_picture_that_everyone_sees(
    page: Page, server: LiveServer
) -> None:
    admin = server.login("admin")
    sign_in(page, admin.login, admin.password)
    page.goto("/appcenter/manage/new")
    form = page.get_by_test_id("app-form")
    form.get_by_label("应用代码").fill("campus-map")
    form.get_by_label("名称").fill("校园地图")
    form.get_by_label("地址", exact=True).fill("https://map.demo.edu.cn/")
    form.get_by_test_id("icon-upload").set_input_files(
        {"name": "地图.png", "mimeType": "image/png", "buffer": PNG}
    )
    expect(form.get_by_test_id("icon-file")).to_contain_text("地图.png")
    form.get_by_role("button", name="保存").click()
    row = page.get_by_test_id("app-campus-map")
    picture = row.get_by_test_id("app-picture")
    expect(picture).to_be_visible()
    assert picture.evaluate("img => img.naturalWidth") == 1, "the browser loaded the picture"

    page.goto("/apps?q=校园地图")
    tile = page.locator('[data-testid="app"][data-app="campus-map"]')
    expect(tile.locator("img")).to_be_visible()
