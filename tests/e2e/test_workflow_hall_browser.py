"""The service hall as the mobile app is used: a student applies for an enrolment certificate
on a phone, the registrar approves it from the to-do list, and the student sees it approved
with the timeline. Also the to-do center's batch approval and the statistics' charts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def _phone(browser: Browser, server: LiveServer) -> Iterator[Page]:
    with _fresh_page(
        browser, server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    ) as fresh:
        yield fresh


@pytest.fixture
def student_phone(browser: Browser, server: LiveServer) -> Iterator[Page]:
    yield from _phone(browser, server)


@pytest.fixture
def registrar_phone(browser: Browser, server: LiveServer) -> Iterator[Page]:
    yield from _phone(browser, server)


def _problems(page: Page) -> list[str]:
    """Script errors and failed requests of the page, collected while the test runs."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    page.on(
        "console",
        lambda message: found.append(message.text) if message.type == "error" else None,
    )
    return found


def _no_sideways_scrolling(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def _apply_for_a_certificate(phone: Page, copies: str) -> str:
    """On the phone: from the hall to the certificate's guide, the form, and submitted; the
    application's path."""
    phone.goto("/hall")
    phone.get_by_test_id("hall-search").fill("在读证明")
    cards = phone.get_by_test_id("service-card")
    expect(cards).to_have_count(1)  # htmx swapped in the search results
    _no_sideways_scrolling(phone)
    cards.first.click()
    expect(phone.get_by_test_id("service-guide")).to_contain_text("教务处")
    phone.get_by_test_id("apply-button").click()
    form = phone.get_by_test_id("apply-form")
    # Name and number are filled in from the student's record.
    expect(form.locator('input[name="data.name"]')).not_to_have_value("")
    expect(form.locator('input[name="data.number"]')).not_to_have_value("")
    form.locator('select[name="data.language"]').select_option("中文")
    form.locator('select[name="data.purpose"]').select_option("签证")
    form.locator('input[name="data.copies"]').fill(copies)
    _no_sideways_scrolling(phone)
    form.get_by_test_id("apply-submit").click()
    expect(phone).to_have_url(re.compile(r"/hall/instances/\d+$"))
    expect(phone.get_by_test_id("alert")).to_contain_text("已提交“在读证明”")
    expect(phone.get_by_test_id("instance-status")).to_have_text("审批中")
    return re.sub(r"^https?://[^/]+", "", phone.url)


def test_a_student_applies_on_a_phone_and_the_registrar_approves(
    student_phone: Page, registrar_phone: Page, server: LiveServer
) -> None:
    student, registrar = server.login("student"), server.login("staff")
    problems = _problems(student_phone) + _problems(registrar_phone)
    sign_in(student_phone, student.login, student.password)
    expect(student_phone).not_to_have_url(re.compile(r"/login"))
    application = _apply_for_a_certificate(student_phone, "2")

    sign_in(registrar_phone, registrar.login, registrar.password)
    expect(registrar_phone).not_to_have_url(re.compile(r"/login"))
    registrar_phone.goto("/hall")
    registrar_phone.get_by_test_id("hall-nav").get_by_role(
        "link", name=re.compile("我的待办")
    ).click()
    task = registrar_phone.get_by_test_id("task-item").filter(has_text=student.name).first
    expect(task).to_contain_text("在读证明")
    _no_sideways_scrolling(registrar_phone)
    task.get_by_test_id("task-link").click()
    panel = registrar_phone.get_by_test_id("decide-panel")
    expect(panel).to_contain_text("教务处审核")
    expect(registrar_phone.get_by_test_id("value-purpose")).to_have_text("签证")
    # A rejection without a reason is refused on the page.
    panel.get_by_test_id("reject").click()
    expect(registrar_phone.get_by_test_id("error-comment")).to_have_text(
        "驳回时请填写意见，告诉申请人原因"
    )
    panel = registrar_phone.get_by_test_id("decide-panel")
    panel.get_by_test_id("decide-comment").fill("材料齐全，同意开具")
    panel.get_by_test_id("approve").click()
    expect(registrar_phone).to_have_url(re.compile(r"/hall/tasks$"))
    expect(registrar_phone.get_by_test_id("alert")).to_contain_text("已同意")

    student_phone.goto("/hall/mine")
    student_phone.locator(f'a[href="{application}"]').click()
    expect(student_phone.get_by_test_id("instance-status")).to_have_text("已通过")
    timeline = student_phone.get_by_test_id("timeline")
    expect(timeline.get_by_test_id("timeline-entry")).to_have_count(3)  # submit, approve, approved
    approval = timeline.locator('[data-action="approve"]')
    expect(approval).to_contain_text(registrar.name)
    expect(approval).to_contain_text("材料齐全，同意开具")
    expect(timeline.locator('[data-action="approved"]')).to_contain_text("审批通过")
    _no_sideways_scrolling(student_phone)
    assert problems == []


def test_batch_approval_from_the_todo_list(
    student_phone: Page, registrar_phone: Page, server: LiveServer
) -> None:
    student, registrar = server.login("student"), server.login("staff")
    sign_in(student_phone, student.login, student.password)
    expect(student_phone).not_to_have_url(re.compile(r"/login"))
    first = _apply_for_a_certificate(student_phone, "1")
    second = _apply_for_a_certificate(student_phone, "3")

    sign_in(registrar_phone, registrar.login, registrar.password)
    expect(registrar_phone).not_to_have_url(re.compile(r"/login"))
    registrar_phone.goto("/hall/tasks")
    certificates = registrar_phone.get_by_test_id("task-item").filter(has_text="在读证明")
    expect(certificates).to_have_count(2)
    for i in range(2):
        certificates.nth(i).get_by_test_id("task-check").check()
    expect(registrar_phone.get_by_test_id("batch-approve")).to_contain_text("(2)")
    registrar_phone.get_by_test_id("batch-approve").click()
    expect(registrar_phone.get_by_test_id("alert")).to_contain_text("已同意 2 项")
    expect(certificates).to_have_count(0)
    for application in (first, second):
        student_phone.goto(application)
        expect(student_phone.get_by_test_id("instance-status")).to_have_text("已通过")


def test_the_statistics_draw_their_charts(browser: Browser, server: LiveServer) -> None:
    admin = server.login("admin")
    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        problems = _problems(page)
        sign_in(page, admin.login, admin.password)
        expect(page).not_to_have_url(re.compile(r"/login"))
        page.goto("/workflow/stats?days=90")
        chart = page.get_by_test_id("chart-per_day")
        expect(chart.locator("canvas")).to_have_count(1)  # ECharts drew it
        page.get_by_test_id("stats-periods").get_by_role("link", name="近 7 天").click()
        expect(page).to_have_url(re.compile(r"days=7$"))
        with page.expect_download() as download:
            page.get_by_test_id("stats-export").click()
        assert download.value.suggested_filename.endswith(".xlsx")
        assert problems == []
