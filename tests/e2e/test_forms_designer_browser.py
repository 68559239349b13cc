"""The form designer in a real browser: an administrator builds a small expense form (two
numbers, a detail table and computed fields), sees the preview compute live, publishes it, and
fills the published version in on a phone."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.live import DemoLogin

pytestmark = pytest.mark.browser


def _errors_of(page: Page) -> list[str]:
    """Script errors of the page; a 422 answer is the designer's check doing its job."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and "status of 422" not in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def _add_field(page: Page, widget: str, label: str, key: str) -> None:
    page.get_by_test_id(f"add-{widget}").click()
    editor = page.locator('[data-testid="field-editor"]:visible')
    editor.get_by_test_id("fe-label").fill(label)
    editor.get_by_test_id("fe-key").fill(key)


def _build_and_publish(page: Page, key: str) -> None:
    page.goto("/workflow/forms/new")
    page.get_by_test_id("form-key").fill(key)
    page.get_by_test_id("form-name").fill("差旅报销单")
    _add_field(page, "number", "单价", "price")
    _add_field(page, "number", "数量", "qty")
    _add_field(page, "computed", "小计", "subtotal")
    page.locator('[data-testid="field-editor"]:visible').get_by_test_id("fe-formula").fill(
        "price * qty"
    )
    # A detail table starts with an item column and a money column that is totalled.
    _add_field(page, "table", "费用明细", "items")
    _add_field(page, "computed", "合计", "total")
    page.locator('[data-testid="field-editor"]:visible').get_by_test_id("fe-formula").fill(
        "sum(items.amount) + subtotal"
    )
    expect(page.get_by_test_id("designer-field")).to_have_count(5)

    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("computed-total")).to_be_visible()
    preview.locator('input[name="data.price"]').fill("12.5")
    preview.locator('input[name="data.qty"]').fill("2")
    expect(preview.get_by_test_id("computed-subtotal")).to_have_text("25")
    preview.locator('input[name="data.items[0].item"]').fill("车票")
    preview.locator('input[name="data.items[0].amount"]').fill("100.5")
    preview.get_by_test_id("add-row-items").click()
    preview.locator('input[name="data.items[1].item"]').fill("住宿")
    preview.locator('input[name="data.items[1].amount"]').fill("200")
    expect(preview.get_by_test_id("sum-items-amount")).to_have_text("¥ 300.50")
    expect(preview.get_by_test_id("computed-total")).to_have_text("325.50")

    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("designer-status")).to_contain_text("已发布版本 v1")
    expect(page.get_by_test_id("published-badge")).to_contain_text("v1")


def test_admin_builds_publishes_and_the_preview_computes(page: Page, admin: DemoLogin) -> None:
    problems = _errors_of(page)
    sign_in(page, admin.login, admin.password)
    key = f"e2e_{uuid.uuid4().hex[:8]}"
    _build_and_publish(page, key)

    page.goto(f"/workflow/forms?q={key}")
    row = page.get_by_test_id("form-row").filter(has_text=key)
    expect(row.get_by_test_id("published-version")).to_have_text("已发布 v1")

    # The designer checks the definition as it changes and names what is wrong.
    row.get_by_role("link", name="设计").click()
    editor_for = page.get_by_test_id("designer-field").filter(has_text=re.compile(r"\btotal\b"))
    editor_for.get_by_role("button").first.click()
    page.locator('[data-testid="field-editor"]:visible').get_by_test_id("fe-formula").fill(
        "sum(items.amount) + nothing"
    )
    expect(editor_for.get_by_test_id("field-errors")).to_contain_text("nothing")
    assert problems == []


def test_the_published_form_is_filled_in_on_a_phone(
    phone_page: Page, page: Page, admin: DemoLogin
) -> None:
    sign_in(page, admin.login, admin.password)
    key = f"e2e_{uuid.uuid4().hex[:8]}"
    _build_and_publish(page, key)
    form_link = page.url.replace("/design", "")

    problems = _errors_of(phone_page)
    sign_in(phone_page, admin.login, admin.password)
    phone_page.goto(form_link)
    phone_page.get_by_test_id("version-row").first.click()
    form = phone_page.get_by_test_id("try-form")
    form.locator('input[name="data.price"]').fill("3")
    form.locator('input[name="data.qty"]').fill("4")
    expect(form.get_by_test_id("computed-subtotal")).to_have_text("12")
    form.locator('input[name="data.items[0].item"]').fill("餐费")
    form.locator('input[name="data.items[0].amount"]').fill("8.125")
    form.get_by_test_id("try-submit").click()
    # The server names the cell at fault, next to it.
    expect(phone_page.get_by_text("最多两位小数")).to_be_visible()
    form = phone_page.get_by_test_id("try-form")
    form.locator('input[name="data.items[0].amount"]').fill("8.5")
    form.get_by_test_id("try-submit").click()
    result = phone_page.get_by_test_id("try-result")
    expect(result).to_contain_text("校验通过")
    expect(result.get_by_test_id("value-total")).to_have_text("20.50")
    overflow = phone_page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1
    assert problems == []
