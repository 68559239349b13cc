"""An administrator opens the monitoring overview: the parts are healthy, the server's own
instance is listed, and the charts draw this process's requests — on a desk and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin

pytestmark = pytest.mark.browser


def test_the_overview_shows_health_instances_and_charts(page: Page, admin: DemoLogin) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/api/v1/auth/me")  # a request the figures will show
    page.goto("/monitor/overview?minutes=5")

    for part in ("database", "cache", "broker"):
        expect(page.get_by_test_id(f"part-{part}")).to_have_attribute("data-state", "ok")
    own = page.get_by_test_id("instances").locator("tr", has_text="本进程")
    expect(own).to_have_count(1)
    expect(own).to_contain_text("健康")
    expect(page.get_by_test_id("chart-requests").locator("canvas")).to_have_count(1)
    expect(page.get_by_test_id("chart-latency").locator("canvas")).to_have_count(1)
    expect(page.locator('[data-route="GET /api/v1/auth/me"]')).to_be_visible()

    page.locator('[data-route="GET /api/v1/auth/me"] a').click()
    expect(page.get_by_test_id("route-filter")).to_have_text("/api/v1/auth/me")
    expect(page.get_by_test_id("routes").locator("tbody tr")).to_have_count(1)


def test_the_overview_fits_a_phone(phone_page: Page, admin: DemoLogin) -> None:
    page = phone_page
    sign_in(page, admin.login, admin.password)
    page.goto("/monitor/overview")

    expect(page.get_by_test_id("chart-requests").locator("canvas")).to_have_count(1)
    scrolled, screen = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scrolled <= screen
