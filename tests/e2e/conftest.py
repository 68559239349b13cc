"""Browser tests: a real Campus server (see live.py) driven by Debian's Chromium.

The sync Playwright API is used from plain (non-async) tests. While Playwright runs, its event
loop is marked as running in this thread, which would stop the async tests of the session loop:
so the browser lives for one test module at most and is closed before other modules run.

Without /usr/bin/chromium the browser tests are skipped with the reason, and a NOTICE line
says so at the end of the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.live import CHROMIUM, DemoLogin, LiveServer, launch_chromium, live_server

MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: browser tests need Debian's chromium and fonts-wqy-microhei "
    "(apt-get install chromium fonts-wqy-microhei)"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly when the browser tests did not run, so that a green run cannot hide it."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if MISSING_CHROMIUM in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTICE: {len(skipped)} browser test(s) skipped: {MISSING_CHROMIUM}",
            yellow=True,
            bold=True,
        )


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(MISSING_CHROMIUM)
    playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
    assert not _loop_running(), "Playwright left its event loop marked as running"


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def _fresh_page(browser: Browser, server: LiveServer, **options: Any) -> Iterator[Page]:
    """A page in a new browser context: no cookies, Chinese preferred."""
    context: BrowserContext = browser.new_context(
        base_url=server.base_url, locale="zh-CN", **options
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A desktop browser window, 1280×800."""
    with _fresh_page(browser, server, viewport=DESKTOP) as fresh:
        yield fresh


@pytest.fixture
def phone_page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    """A phone, 390×844 with touch."""
    with _fresh_page(
        browser, server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    ) as fresh:
        yield fresh


@pytest.fixture(scope="session")
def admin(server: LiveServer) -> DemoLogin:
    """The demo administrator (A0001 / Admin@2026, as `campus demo` prints it)."""
    return server.login("admin")


def sign_in(page: Page, login: str, password: str) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/login")
    page.get_by_label("账号").fill(login)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
