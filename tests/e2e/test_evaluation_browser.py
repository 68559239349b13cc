"""Teaching evaluation (评教) in a real browser: the demo student, on a phone, opens 评教 (the
demo's current term has a form open), evaluates their first section item by item and sees
their progress move; a refused ballot (an item left out) keeps the chosen scores. The
registrar, on a desktop, finds the section among those below the completion threshold, the
student's answer counted, and the results not yet readable while students answer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import EVALUATION_MANAGE, EVALUATION_READ
from campus.kernel.cache import MemoryCache
from campus.platform.access import actions as access_actions
from campus.platform.access.scopes import ScopeKind
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer, live_server
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser


async def _evaluation_desk(session: AsyncSession, demo: Demo) -> None:
    """The demo registrar (the staff login) also keeps the evaluation desk."""
    staff = demo["staff"]
    assert staff is not None
    await access_actions.do_ensure_role(
        session, "e2e_eval_office", "评教管理", [EVALUATION_MANAGE, EVALUATION_READ], builtin=False
    )
    await access_actions.do_grant(
        session, MemoryCache(), staff.id, "e2e_eval_office", scope=ScopeKind.ALL
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("e2e-evaluation")
    with live_server(workdir) as running:
        _with_demo(running, _evaluation_desk)
        yield running


def test_a_student_evaluates_on_a_phone_and_the_registrar_sees_the_completion(
    phone_page: Page, page: Page, server: LiveServer
) -> None:
    phone = phone_page
    student = server.login("student")
    sign_in(phone, student.login, student.password)
    phone.goto("/academic/evaluation")
    expect(phone.get_by_test_id("evaluation-state")).to_have_text("进行中")
    progress = phone.get_by_test_id("progress-text")
    expect(progress).to_have_text(re.compile(r"^0/\d+$"))
    total = int((progress.text_content() or "0/0").split("/")[1])
    assert total > 0
    first = phone.get_by_test_id("task").first
    section_name = (first.locator(".fw-bold").text_content() or "").strip()
    section_id = first.get_attribute("data-section")
    first.get_by_test_id("evaluate").click()
    expect(phone).to_have_url(re.compile(rf"/academic/evaluation/sections/{section_id}$"))

    items = phone.get_by_test_id("item")
    count = items.count()
    assert count >= 3
    # The scale fits a phone's width: five choices side by side, nothing scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for n in range(count - 1):  # the last one left out on purpose
        items.nth(n).get_by_test_id("score-5").click()
    phone.get_by_test_id("submit-ballot").click()
    expect(phone.get_by_test_id("ballot-error")).to_contain_text(f"请为第 {count} 项评分")
    expect(items.nth(0).locator("input[value='5']")).to_be_checked()
    items.nth(count - 1).get_by_test_id("score-4").click()
    phone.get_by_test_id("comment").fill("老师讲得很清楚")
    phone.get_by_test_id("submit-ballot").click()

    expect(phone).to_have_url(re.compile(r"/academic/evaluation$"))
    expect(phone.get_by_test_id("alert").first).to_contain_text(f"已提交评价（1/{total}）")
    expect(progress).to_have_text(f"1/{total}")
    done = phone.locator(f"[data-testid=task][data-section='{section_id}']")
    expect(done.get_by_test_id("task-done")).to_have_text("已评价")
    phone.goto(f"/academic/evaluation/sections/{section_id}")
    expect(phone.get_by_test_id("already-done")).to_be_visible()

    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto("/academic/evaluation/forms")
    row = page.get_by_test_id("form-row").first
    expect(row.get_by_test_id("form-state")).to_have_text("进行中")
    row.get_by_test_id("to-completion").click()
    expect(page.get_by_test_id("total-completed")).to_have_text("1")
    expect(page.get_by_test_id("chart-colleges")).to_be_visible()
    below = page.locator(f"[data-testid=below-row][data-section='{section_id}']")
    expect(below).to_contain_text(section_name)
    expect(below).to_contain_text("1/")
    page.goto(page.url.replace("/completion", "/results"))
    expect(page.get_by_test_id("results-not-ready")).to_contain_text("评教尚未结束")
