"""Graduation audit in a real browser: the registrar audits the demo student's cohort, watches
the progress and reads the results; the demo student reads their own audit on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, _fresh_page, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def test_the_registrar_audits_a_cohort_and_a_student_reads_their_own(
    phone_page: Page, browser: Browser, server: LiveServer
) -> None:
    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/academic/status/me")
    grade = re.search(r"(\d{4})级", phone_page.get_by_test_id("status-record").inner_text())
    assert grade is not None
    phone_page.goto("/academic/graduation/me")
    expect(phone_page.get_by_test_id("audit-verdict")).to_have_text(
        re.compile("满足毕业要求|尚未满足毕业要求")
    )
    expect(phone_page.get_by_test_id("group-card").first).to_be_visible()

    registrar = server.login("staff")
    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        sign_in(page, registrar.login, registrar.password)
        page.goto("/academic/graduation/runs")
        page.get_by_test_id("run-grade").select_option(grade.group(1))
        page.get_by_test_id("run-submit").click()
        expect(page).to_have_url(re.compile(r"/academic/graduation/runs/\d+$"))
        expect(page.get_by_test_id("run-counts")).to_be_visible(timeout=60_000)
        counts = [
            int(page.get_by_test_id(f"count-{key}").inner_text())
            for key in ("passed", "failed", "no-programme")
        ]
        total = int(page.get_by_test_id("run-counts").locator(".h2").first.inner_text())
        assert sum(counts) == total > 0
        page.goto("/academic/graduation/runs")
        expect(page.get_by_test_id("run-row").first).to_contain_text("已完成")
