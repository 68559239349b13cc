"""The process designer as a workflow administrator uses it, in a real browser: an approval
chain built with the designer (two approval steps and a branch), server errors shown next to
the node at fault, the saved version's diagram drawn, its BPMN exported and imported back as a
new version; and a service taken off the hall's shelf and put back."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin

pytestmark = pytest.mark.browser


def _select_node(page: Page, name: str) -> None:
    page.get_by_test_id("chain-node").filter(has_text=name).click()
    expect(page.get_by_test_id("step-name")).to_have_value(name)


def test_admin_designs_a_process_sees_its_diagram_and_round_trips_its_bpmn(
    page: Page, admin: DemoLogin, tmp_path: Path
) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/workflow/processes")
    page.get_by_test_id("new-process").click()
    page.get_by_test_id("process-key").fill("e2e.leave")
    page.get_by_test_id("process-name").fill("端到端请假")

    # The first step is there already: rename it (its approver: the applicant's counselor).
    page.get_by_test_id("chain-node").first.click()
    page.get_by_test_id("step-name").fill("辅导员审批")

    # A second approval step, by the dean of the applicant's college, all of them must agree.
    page.get_by_test_id("add-approve").last.click()
    page.get_by_test_id("step-name").fill("院长审批")
    page.get_by_test_id("assignee-position").select_option("dean")
    page.get_by_test_id("step-mode").select_option("all")

    # A branch: more than 3 days goes to a named person as well; the default goes on.
    page.get_by_test_id("add-branch").last.click()
    page.get_by_test_id("case-field").fill("days")
    page.get_by_test_id("case-op").select_option("gt")
    page.get_by_test_id("case-value").fill("3")
    page.get_by_test_id("add-approve").first.click()  # the first add bar is the first branch's
    page.get_by_test_id("step-name").fill("")
    page.get_by_test_id("assignee-kind").select_option("person")
    page.get_by_test_id("assignee-person-search").fill(admin.login)
    page.get_by_test_id("assignee-person-results").get_by_role("button").first.click()
    expect(page.get_by_test_id("assignee-people")).to_contain_text(admin.name)

    # The server refuses a step without a name and says so next to that step.
    page.get_by_test_id("save-chain").click()
    error = page.get_by_test_id("node-error").first
    expect(error).to_be_visible()
    expect(error).to_contain_text("名称")
    assert page.url.endswith("/workflow/processes/new")
    page.get_by_test_id("chain-node").filter(has=page.get_by_test_id("node-error")).click()
    page.get_by_test_id("step-name").fill("校长审批")
    page.get_by_test_id("save-chain").click()

    # Saved and published as version 1; the diagram shows every step.
    page.wait_for_url("**/workflow/processes/e2e.leave/design?created=1")
    diagram = page.locator("[data-testid=preview-diagram][data-state=ready]")
    expect(diagram).to_be_visible()
    expect(diagram.locator("svg g.djs-element[data-element-id^=step_]")).to_have_count(3)
    expect(diagram.locator("svg g.djs-element[data-element-id^=split_]")).to_have_count(1)
    expect(page.get_by_test_id("chain-node")).to_have_count(3)

    # Export version 1 as BPMN and import it back as version 2.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-version").first.click()
    exported = tmp_path / "e2e-leave.bpmn"
    download_info.value.save_as(exported)
    xml = exported.read_text(encoding="utf-8")
    assert "bpmndi:BPMNShape" in xml and "校长审批" in xml
    page.get_by_test_id("import-bpmn").set_input_files(str(exported))
    expect(page.get_by_test_id("designer-message")).to_contain_text("2")
    expect(page.get_by_test_id("version-row")).to_have_count(2)
    expect(page.get_by_test_id("preview-version")).to_contain_text("2")
    expect(diagram.locator("svg g.djs-element[data-element-id^=step_]")).to_have_count(3)

    # Version 2 is not published yet; publishing it makes it the current one.
    page.get_by_test_id("publish-version").first.click()
    current = page.get_by_test_id("version-row").first
    expect(current).to_contain_text("当前生效")


def test_a_bad_bpmn_file_is_refused_with_the_reason(
    page: Page, admin: DemoLogin, tmp_path: Path
) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/workflow/processes/student_leave/design")
    bad = tmp_path / "bad.bpmn"
    bad.write_text("<definitions>not bpmn</definitions>", encoding="utf-8")
    page.get_by_test_id("import-bpmn").set_input_files(str(bad))
    expect(page.get_by_test_id("import-errors")).to_contain_text("BPMN")


def test_admin_takes_a_service_off_the_shelf_and_back(page: Page, admin: DemoLogin) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/workflow/services")
    row = page.get_by_test_id("service-row").filter(has_text="venue_booking")
    switch = row.get_by_test_id("publish-toggle")
    expect(switch).to_be_checked()
    switch.click()
    expect(row).to_contain_text("已下架")
    page.reload()
    expect(
        page.get_by_test_id("service-row")
        .filter(has_text="venue_booking")
        .get_by_test_id("publish-toggle")
    ).not_to_be_checked()
    page.get_by_test_id("service-row").filter(has_text="venue_booking").get_by_test_id(
        "publish-toggle"
    ).click()
    expect(page.get_by_test_id("service-row").filter(has_text="venue_booking")).to_contain_text(
        "已上架"
    )


def test_admin_edits_a_step_and_a_condition_in_the_bpmn_modeler(
    page: Page, admin: DemoLogin
) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/workflow/processes/student_leave/design")
    page.get_by_test_id("open-modeler").click()
    expect(page.locator("[data-testid=modeler-canvas][data-state=ready]")).to_be_visible()
    before = page.request.get("/api/v1/workflow/processes/student_leave").json()["versions"]

    page.locator("g.djs-shape[data-element-id^=step_]").filter(has_text="院长").click()
    page.get_by_test_id("element-name").fill("院长终审")
    page.get_by_test_id("element-assignee").fill('{"kind": "position", "position": "vice_dean"}')
    page.get_by_test_id("element-apply").click()
    page.get_by_test_id("modeler-save").click()
    expect(page.get_by_test_id("modeler-message")).to_contain_text(str(len(before) + 1))

    after = page.request.get("/api/v1/workflow/processes/student_leave").json()["versions"]
    newest = after[0]
    assert newest["version"] == len(before) + 1 and not newest["published"]
    assert "院长终审" in [s["name"] for s in newest["steps"]]
    xml = page.request.get(
        f"/api/v1/workflow/processes/student_leave/versions/{newest['version']}/bpmn"
    ).text()
    assert "vice_dean" in xml
