"""Academic master data in a real browser: the registrar (the demo staff login, who holds 教务处)
creates a term on a phone-sized page after a wrong start date is refused on its field, and
imports rooms from an Excel file made here, a file with one bad row being refused whole."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser

HEADER = ["教室编号*", "名称", "教学楼编号*", "楼层", "类型*", "容量*", "考试座位*", "启用"]


async def _building(session: AsyncSession, demo: Demo) -> str:
    """A building of the test's own, the one the imported rooms name; its code."""
    building = await factories.add_building(session, code="E2E-IMB", name="导入测试楼")
    return building.code


@pytest.fixture(scope="module")
def building(server: LiveServer) -> str:
    return str(_with_demo(server, _building))


def _sheet(path: Path, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    return path


def test_a_term_is_created_on_a_phone_after_a_refused_start_date(
    phone_page: Page, server: LiveServer
) -> None:
    page = phone_page
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto("/academic/calendar/manage")
    form = page.get_by_test_id("new-term-form")
    form.get_by_label("学期代码").fill("2031-2032-1")
    form.get_by_label("名称").fill("浏览器测试学期")
    form.get_by_label("开学日期（星期一）").fill("2031-09-02")  # a Tuesday
    form.get_by_test_id("create-term").click()
    error = page.get_by_test_id("error-start_date")
    expect(error).to_have_text("开学日期应为星期一（2031-09-02 是周二）")
    expect(page.get_by_label("开学日期（星期一）")).to_have_class("form-control is-invalid")
    # The other fields keep what was typed, and nothing was created.
    expect(page.get_by_label("学期代码")).to_have_value("2031-2032-1")
    expect(page.get_by_test_id("term-list")).not_to_contain_text("2031-2032-1")

    page.get_by_label("开学日期（星期一）").fill("2031-09-01")
    page.get_by_test_id("create-term").click()
    expect(page).to_have_url(re.compile(r"/academic/calendar/terms/\d+$"))
    expect(page.get_by_test_id("alert")).to_contain_text("学期已创建")
    page.goto("/academic/calendar/manage")
    row = page.get_by_test_id("term-row").filter(has_text="2031-2032-1")
    expect(row).to_contain_text("浏览器测试学期")
    expect(row).to_contain_text("2031-09-01")


def test_rooms_import_is_all_or_nothing(
    page: Page, server: LiveServer, building: str, tmp_path: Path
) -> None:
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    good = [
        ["E2E-IM-101", "导入测试101", building, 1, "多媒体教室", 120, 60, "是"],
        ["E2E-IM-102", "导入测试102", building, 1, "普通教室", 60, 30, "是"],
    ]
    bad = [*good, ["E2E-IM-103", "导入测试103", building, 1, "普通教室", 50, 80, "是"]]

    page.goto("/academic/rooms/import")
    page.get_by_label("Excel 文件").set_input_files(_sheet(tmp_path / "bad.xlsx", bad))
    page.get_by_test_id("import-submit").click()
    problems = page.get_by_test_id("import-problem")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("4")  # the Excel row: the header is row 1
    expect(problems.first).to_contain_text("考试座位")
    expect(page.get_by_test_id("import-problems")).to_contain_text("共 3 行")
    page.goto("/academic/rooms?q=E2E-IM")
    expect(page.locator("#room-results")).not_to_contain_text("E2E-IM-101")

    page.goto("/academic/rooms/import")
    page.get_by_label("Excel 文件").set_input_files(_sheet(tmp_path / "good.xlsx", good))
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("alert")).to_contain_text("已导入 2 间教室")
    page.goto("/academic/rooms?q=E2E-IM")
    results = page.locator("#room-results")
    expect(results).to_contain_text("E2E-IM-101")
    expect(results).to_contain_text("E2E-IM-102")
    expect(results).not_to_contain_text("E2E-IM-103")
