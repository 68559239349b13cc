"""Course offering (开课) in a real browser: the registrar (the demo staff login) merges the
sections of two classes into one (sections of different courses are refused), splits a class
off again, and gives a section an assistant teacher through the people picker, which finds
only the owning college's staff. The term's list shows each result.

The term, its courses and sections are the test's own, written before the browser starts:
two classes of the demo college (the demo student's and another) each have a section of one
course, and the demo student's class a section of another course."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.users import service as users
from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Offering:
    term_id: int
    sections: list[int]  # English for class X, English for class Y, PE for class X
    classes: list[str]  # the names of X and Y
    assistant: str  # the name of a teacher of the college, not yet teaching


async def _offering(session: AsyncSession, demo: Demo) -> Offering:
    teacher, student = demo["teacher"], demo["student"]
    assert teacher and student and student.class_id is not None
    tree = await users.org_directory(session)
    college = tree.nearest(teacher.org_unit_id, "college")
    classes = await users.list_classes(session)
    mine = next(c for c in classes if c.id == student.class_id)
    other = next(
        c
        for c in classes
        if tree.within(c.org_unit_id, college) and c.id != mine.id and 2021 <= c.grade <= 2026
    )
    staff = await users.members_of_org(session, college, subtree=True, person_type="faculty")
    assistant = next(p for p in staff if p.id != teacher.id)
    term = await factories.add_term(session, code="E2E-OF", name="开课浏览器测试学期")
    english, sport = [
        await factories.add_course(
            session,
            code=f"E2E-OF-C{n}",
            name=name,
            credits=Decimal("2"),
            lecture_hours=32,
            org_unit_id=college,
        )
        for n, name in enumerate(("合班测试·大学英语", "合班测试·体育"))
    ]
    sections = [
        await factories.add_section(
            session,
            term_id=term.id,
            course_id=course.id,
            org_unit_id=college,
            teacher_id=teacher_id,
            class_ids=[class_id],
            code=f"E2E-OF-S{n}",
            name=course.name,
            lectures_per_week=1,
            min_days=1,
        )
        for n, (course, class_id, teacher_id) in enumerate(
            ((english, mine.id, teacher.id), (english, other.id, None), (sport, mine.id, None))
        )
    ]
    return Offering(term.id, [s.id for s in sections], [mine.name, other.name], assistant.name)


@pytest.fixture(scope="module")
def offering(server: LiveServer) -> Offering:
    return _with_demo(server, _offering)


def _choose(page: Page, *section_ids: int) -> None:
    for section_id in section_ids:
        page.locator(f'input[name="section_ids"][value="{section_id}"]').check()


def test_sections_are_merged_split_and_given_a_teacher(
    page: Page, server: LiveServer, offering: Offering
) -> None:
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    listing = f"/academic/offering?term_id={offering.term_id}"
    x, y = offering.classes
    english_x, english_y, sport_x = offering.sections
    page.goto(listing)
    rows = page.get_by_test_id("section-row")
    expect(rows).to_have_count(3)

    _choose(page, english_x, sport_x)
    page.get_by_test_id("merge").click()
    expect(page.get_by_test_id("alert")).to_contain_text("不能合并不同课程或不同学期的教学班")
    expect(rows).to_have_count(3)

    _choose(page, english_x, english_y)
    page.get_by_test_id("merge").click()
    expect(page).to_have_url(re.compile(rf"/academic/offering/sections/{english_x}$"))
    expect(page.get_by_test_id("alert")).to_contain_text("已合班")
    expect(page.get_by_test_id("section-class")).to_have_count(2)
    page.goto(listing)
    expect(rows).to_have_count(2)
    english = rows.filter(has_text="合班测试·大学英语")
    expect(english).to_contain_text(f"{x}、{y}")

    page.goto(f"/academic/offering/sections/{english_x}")
    page.get_by_test_id("section-class").filter(has_text=y).locator("input").check()
    page.get_by_test_id("split").click()
    expect(page.get_by_test_id("alert")).to_contain_text("已拆分为 2 个教学班")
    expect(page.get_by_test_id("section-class")).to_have_count(1)
    page.goto(listing)
    expect(rows).to_have_count(3)
    expect(english).to_have_count(2)
    expect(english.filter(has_text=x)).not_to_contain_text(y)
    expect(english.filter(has_text=y)).to_have_count(1)

    # The picker finds the college's staff by name, not the registrar of another office.
    page.goto(f"/academic/offering/sections/{english_x}")
    expect(page.get_by_test_id("main-picker-chosen")).to_contain_text(server.login("teacher").name)
    picker = page.get_by_test_id("assistant-picker")
    with page.expect_response(re.compile(r"/teachers\?q=")) as searched:
        picker.get_by_test_id("assistant-picker-input").fill(registrar.login)
    assert searched.value.json() == []
    expect(picker.get_by_test_id("assistant-picker-option")).to_have_count(0)
    picker.get_by_test_id("assistant-picker-input").fill(offering.assistant)
    picker.get_by_test_id("assistant-picker-option").first.click()
    expect(picker.get_by_test_id("assistant-picker-chosen")).to_contain_text(offering.assistant)
    page.get_by_test_id("save-section").click()
    expect(page.get_by_test_id("alert")).to_contain_text("教学班已保存")
    expect(picker.get_by_test_id("assistant-picker-chosen")).to_contain_text(offering.assistant)
    page.goto(listing)
    expect(english.filter(has_text=x)).to_contain_text(f"{offering.assistant}（辅）")
