"""The web shell in a real browser: sign-in, the home page, sign-out, language, phone width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from campus.entrypoints.http import load_modules
from campus.kernel.config import Settings
from campus.kernel.context import Principal
from campus.web.portal.pages import HOME_GRID_SIZE
from campus.web.portal.tiles import module_tiles
from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin, LiveServer

pytestmark = pytest.mark.browser


def _horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when nothing scrolls sideways).

    On a phone the layout viewport (and window.innerWidth) grows with content that overflows;
    the root element's client width stays the device width.
    """
    return int(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def _expected_admin_modules() -> set[str]:
    """The modules the administrator (who holds every code) should find apps of on the home
    page: every module with a menu entry to open."""
    modules = load_modules(Settings(modules="*"))
    everything = Principal(person_id=0, name="", login="", permissions=frozenset({"*"}))
    return {tile.name for tile in module_tiles(modules, everything)}


def _icon_font_loaded(page: Page) -> bool:
    return bool(
        page.evaluate(
            """async () => {
                await document.fonts.ready;
                return [...document.fonts].some(
                    f => f.family.includes('tabler-icons') && f.status === 'loaded');
            }"""
        )
    )


def test_admin_signs_in_through_the_form_and_sees_the_home_page(
    page: Page, server: LiveServer, admin: DemoLogin
) -> None:
    assert (admin.login, admin.password) == ("A0001", "Admin@2026")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    sign_in(page, admin.login, admin.password)

    expect(page).to_have_url(server.base_url + "/")
    expect(page.get_by_test_id("user-name")).to_have_text(admin.name)
    expect(page.get_by_test_id("page-title")).to_have_text(f"你好，{admin.name}")
    expect(page.get_by_test_id("module-grid")).to_be_visible()
    expected = _expected_admin_modules()
    if expected:
        # The home grid holds the first of the administrator's apps; 全部应用 has an app for
        # each entry they may open, of every module.
        tiles = page.get_by_test_id("app-grid").locator("[data-app]")
        expect(tiles).to_have_count(HOME_GRID_SIZE)
        page.get_by_test_id("all-apps").click()
        expect(page).to_have_url(server.base_url + "/apps")
        codes = page.get_by_test_id("app").evaluate_all("apps => apps.map(a => a.dataset.app)")
        assert {code.split(".")[1] for code in codes if code.startswith("m.")} == expected
        page.goto("/")
    else:
        expect(page.get_by_test_id("empty-state")).to_contain_text("暂无可用的应用")
    expect(page.get_by_test_id("main-nav").get_by_role("link", name="首页")).to_be_visible()
    assert _icon_font_loaded(page), "the Tabler icon font is served and used"
    assert problems == [], f"no script errors or CSP violations: {problems}"


def test_wrong_password_shows_the_chinese_error(page: Page, admin: DemoLogin) -> None:
    sign_in(page, admin.login, "not-the-password")

    expect(page.get_by_test_id("login-error")).to_have_text("账号或密码错误")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_label("账号")).to_have_value(admin.login)
    expect(page.get_by_label("密码")).to_have_value("")


def test_sign_out_from_the_user_menu(page: Page, server: LiveServer, admin: DemoLogin) -> None:
    sign_in(page, admin.login, admin.password)
    expect(page).to_have_url(server.base_url + "/")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()

    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_language_switch_from_the_user_menu(
    page: Page, server: LiveServer, admin: DemoLogin
) -> None:
    sign_in(page, admin.login, admin.password)
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("locale-en").click()

    expect(page).to_have_url(server.base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("page-title")).to_have_text(f"Hello, {admin.name}")

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("locale-zh_CN").click()
    expect(page.get_by_test_id("page-title")).to_have_text(f"你好，{admin.name}")


def test_phone_width_collapses_the_navigation_without_sideways_scrolling(
    phone_page: Page, server: LiveServer, admin: DemoLogin
) -> None:
    page = phone_page
    page.goto("/login")
    assert _horizontal_overflow(page) <= 0
    sign_in(page, admin.login, admin.password)
    expect(page).to_have_url(server.base_url + "/")

    nav = page.get_by_test_id("main-nav")
    toggle = page.get_by_test_id("nav-toggle")
    expect(toggle).to_be_visible()
    expect(nav).to_be_hidden()
    assert _horizontal_overflow(page) <= 0

    toggle.click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="首页")).to_be_visible()
    assert _horizontal_overflow(page) <= 0

    page.set_viewport_size({"width": 360, "height": 740})
    page.reload()
    expect(page.get_by_test_id("module-grid")).to_be_visible()
    assert _horizontal_overflow(page) <= 0


def test_a_laptop_shows_every_module_of_the_administrator_in_the_navigation(
    page: Page, server: LiveServer, admin: DemoLogin
) -> None:
    page.goto("/login")
    sign_in(page, admin.login, admin.password)
    expect(page).to_have_url(server.base_url + "/")
    items = page.get_by_test_id("main-nav").locator(":scope > li")
    expect(items.first).to_be_visible()
    assert items.count() > 8, "an administrator's many modules: the case that overflowed"
    boxes = items.evaluate_all(
        "items => items.map(i => { const r = i.getBoundingClientRect();"
        " const t = i.querySelector('.nav-link-title').getBoundingClientRect();"
        " return [r.left, r.right, t.height]; })"
    )
    width = page.evaluate("document.documentElement.clientWidth")
    assert all(left >= 0 and right <= width for left, right, _h in boxes), (width, boxes)
    line = min(height for _l, _r, height in boxes)
    assert all(height < 1.5 * line for _l, _r, height in boxes), "no title breaks in two"
    search = page.get_by_test_id("search-box").bounding_box()
    assert search is not None and search["x"] + search["width"] <= width
    assert _horizontal_overflow(page) <= 0


def test_unknown_page_shows_the_error_page_in_the_layout(page: Page, admin: DemoLogin) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/no-such-page")
    expect(page.get_by_test_id("error-page")).to_contain_text("页面不存在")
    expect(page.get_by_test_id("user-name")).to_have_text(admin.name)
    page.get_by_role("link", name="返回首页").click()
    expect(page.get_by_test_id("page-title")).to_have_text(f"你好，{admin.name}")
