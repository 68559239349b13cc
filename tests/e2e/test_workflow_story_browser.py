"""The whole story of a new service, in the browser: an administrator designs a form and a
two-step flow and publishes a service; a student applies on a phone; the counselor and the
registrar approve; the student sees the outcome, the timeline and where the flow stands."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_forms_designer_browser import _add_field

pytestmark = pytest.mark.browser


def _design_form(page: Page, key: str) -> None:
    page.goto("/workflow/forms/new")
    page.get_by_test_id("form-key").fill(key)
    page.get_by_test_id("form-name").fill("实验室开放申请")
    _add_field(page, "text", "使用事由", "reason")
    _add_field(page, "number", "使用天数", "days")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("designer-status")).to_contain_text("已发布版本 v1")


def _pick_person(page: Page, login: str, name: str) -> None:
    page.get_by_test_id("assignee-kind").select_option("person")
    page.get_by_test_id("assignee-person-search").fill(login)
    page.get_by_test_id("assignee-person-results").get_by_role("button").first.click()
    expect(page.get_by_test_id("assignee-people")).to_contain_text(name)


def _design_flow(page: Page, key: str, server: LiveServer) -> None:
    counselor, registrar = server.login("counselor"), server.login("staff")
    page.goto("/workflow/processes/new")
    page.get_by_test_id("process-key").fill(key)
    page.get_by_test_id("process-name").fill("实验室开放审批")
    page.get_by_test_id("chain-node").first.click()
    page.get_by_test_id("step-name").fill("辅导员审批")
    _pick_person(page, counselor.login, counselor.name)
    page.get_by_test_id("add-approve").last.click()
    page.get_by_test_id("step-name").fill("教务处审核")
    _pick_person(page, registrar.login, registrar.name)
    page.get_by_test_id("save-chain").click()
    page.wait_for_url(f"**/workflow/processes/{key}/design?created=1")


def _publish_service(page: Page, key: str) -> None:
    page.goto("/workflow/services/new")
    page.get_by_test_id("service-key").fill(key)
    page.get_by_test_id("service-name").fill("实验室开放申请")
    page.get_by_test_id("service-category").fill("教务服务")
    page.get_by_test_id("service-audience").select_option("student")
    page.get_by_test_id("service-form-key").select_option(key)
    page.get_by_test_id("service-process-key").select_option(key)
    page.get_by_test_id("service-published").check()  # 上架: shown in the hall
    page.get_by_test_id("save-service").click()
    expect(page.get_by_test_id("service-row").filter(has_text=key)).to_contain_text("已上架")


def _approve(browser: Browser, server: LiveServer, role: str, student: str, comment: str) -> None:
    login = server.login(role)
    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        sign_in(page, login.login, login.password)
        page.goto("/hall/tasks")
        task = page.get_by_test_id("task-item").filter(has_text=student)
        task.filter(has_text="实验室开放申请").first.get_by_test_id("task-link").click()
        panel = page.get_by_test_id("decide-panel")
        panel.get_by_test_id("decide-comment").fill(comment)
        panel.get_by_test_id("approve").click()
        expect(page.get_by_test_id("alert")).to_contain_text("已同意")


def test_a_new_service_from_design_to_approval(
    page: Page, browser: Browser, server: LiveServer
) -> None:
    key = f"lab_{uuid.uuid4().hex[:6]}"
    admin = server.login("admin")
    sign_in(page, admin.login, admin.password)
    _design_form(page, key)
    _design_flow(page, key, server)
    _publish_service(page, key)

    student = server.login("student")
    with _fresh_page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True) as phone:
        sign_in(phone, student.login, student.password)
        phone.goto(f"/hall/services/{key}")
        phone.get_by_test_id("apply-button").click()
        form = phone.get_by_test_id("apply-form")
        form.locator('input[name="data.reason"]').fill("毕业设计需要使用实验设备")
        form.locator('input[name="data.days"]').fill("3")
        form.get_by_test_id("apply-submit").click()
        expect(phone).to_have_url(re.compile(r"/hall/instances/\d+$"))
        application = re.sub(r"^https?://[^/]+", "", phone.url)

        _approve(browser, server, "counselor", student.name, "同意，注意安全")
        phone.reload()
        expect(phone.get_by_test_id("instance-status")).to_have_text("审批中")
        _approve(browser, server, "staff", student.name, "已安排")

        phone.goto(application)
        expect(phone.get_by_test_id("instance-status")).to_have_text("已通过")
        timeline = phone.get_by_test_id("timeline")
        approvals = timeline.locator('[data-action="approve"]')
        expect(approvals).to_have_count(2)
        expect(approvals.first).to_contain_text(server.login("counselor").name)
        expect(approvals.last).to_contain_text("已安排")
        diagram = phone.locator("[data-state=ready]").first
        expect(diagram).to_be_visible()
