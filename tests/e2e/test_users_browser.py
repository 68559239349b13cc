"""The user center as an administrator uses it: org tree, people search, person detail, and
an Excel import with a validation report, in a real browser."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from campus.platform.users import idcard
from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin, LiveServer

pytestmark = pytest.mark.browser


def test_admin_opens_the_org_tree_and_expands_a_college(page: Page, admin: DemoLogin) -> None:
    sign_in(page, admin.login, admin.password)
    # The user center's pages share one drop-down in the main navigation.
    page.get_by_test_id("nav-group").filter(has_text="统一用户中心").click()
    page.get_by_test_id("main-nav").get_by_role("link", name="组织机构").click()
    tree = page.get_by_test_id("org-tree")
    expect(tree).to_be_visible()
    college = tree.locator("details[hx-get]").filter(has_text="计算机").first
    expect(college).to_be_visible()
    college.locator("summary").click()
    # The majors of the college are loaded by htmx when it is opened.
    expect(college.get_by_test_id("org-name").filter(has_text="软件工程")).to_be_visible()


def test_staff_searches_people_and_sees_masked_data(page: Page, server: LiveServer) -> None:
    staff = server.login("staff")
    sign_in(page, staff.login, staff.password)
    page.goto("/users/people?q=2025")
    rows = page.get_by_test_id("person-row")
    expect(rows.first).to_be_visible()
    total = page.get_by_test_id("people-total").inner_text()
    assert "共" in total
    rows.first.locator("a").first.click()
    detail = page.get_by_test_id("person-detail")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("********")
    assert no_full_identity_number(detail.inner_text())


def no_full_identity_number(text: str) -> bool:
    """Without the sensitive-data permission no 18-character identity number is shown."""
    return re.search(r"\d{17}[\dX]", text) is None


def test_import_reports_bad_rows_then_imports_only_the_valid_ones(
    page: Page, admin: DemoLogin, tmp_path: Path
) -> None:
    sign_in(page, admin.login, admin.password)
    page.goto("/users/import")
    with page.expect_download() as download_info:
        page.get_by_test_id("import-template").click()
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)

    page.goto("/users/org")
    org_code = _first_major_code(page)
    filled = tmp_path / "people.xlsx"
    _fill(template, filled, org_code)

    page.goto("/users/import")
    page.get_by_test_id("import-file").set_input_files(str(filled))
    page.get_by_test_id("import-check").click()
    expect(page.get_by_test_id("import-valid")).to_have_text("1")
    expect(page.get_by_test_id("import-invalid")).to_have_text("1")
    expect(page.get_by_test_id("import-report")).to_contain_text("校验位")
    page.once("dialog", lambda dialog: dialog.accept())  # "skip the bad rows?" confirmation
    page.get_by_test_id("import-only-valid").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("1")

    page.goto("/users/people?q=E2E20990001")
    expect(page.get_by_test_id("person-row")).to_have_count(1)
    page.goto("/users/people?q=E2E20990002")
    expect(page.get_by_test_id("people-empty")).to_be_visible()


def _first_major_code(page: Page) -> str:
    """An org unit code to import into: the API the page uses knows the tree."""
    response = page.request.get("/api/v1/users/org-units/tree")
    assert response.ok, response.text()
    stack = list(response.json())
    while stack:
        node = stack.pop()
        if node.get("kind") == "major":
            return str(node["code"])
        stack.extend(node.get("children", []))
    raise AssertionError("no major in the org tree")


def _fill(template: Path, target: Path, org_code: str) -> None:
    book = load_workbook(io.BytesIO(template.read_bytes()))
    sheet = book.worksheets[0]
    headers = [str(c.value or "").rstrip("*").strip() for c in sheet[1]]
    good_id = idcard.make("420111", date(2006, 5, 4), 7, male=True)
    bad_id = good_id[:-1] + ("0" if good_id[-1] != "0" else "1")
    rows = (("E2E20990001", "测试甲", good_id), ("E2E20990002", "测试乙", bad_id))
    for row_number, (number, name, id_number) in enumerate(rows, start=2):
        values = {
            "姓名": name,
            "性别": "男",
            "人员类型": "本科生",
            "学号/工号": number,
            "身份证号": id_number,
            "所属单位代码": org_code,
        }
        for column, header in enumerate(headers, start=1):
            if header in values:
                sheet.cell(row=row_number, column=column, value=values[header])
    book.save(target)
