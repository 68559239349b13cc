"""Exam scheduling in a real browser: the registrar (the demo staff login, who holds 教务处)
generates a small term's exams and sessions, runs the scheduling and watches it finish,
registers a session the demo student cannot sit, moves the exam by hand (the check shown
before saving: refused at the student's unavailable session, saved at another), then
publishes; the demo student sees their exam at its new time with a room and a seat number (on
a phone-sized page).

The term is the test's own, written into the server's database before the browser starts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer, live_server
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Term:
    id: int
    student_no: str


async def _exam_term(session: AsyncSession, demo: Demo) -> Term:
    """A term whose exam weeks are 17–18: the demo teacher's course, assessed by exam, is
    taught to the demo student's class; three rooms have exam seats."""
    teacher, student = demo["teacher"], demo["student"]
    assert teacher and student and student.class_id is not None and student.number
    college = teacher.org_unit_id
    term = await factories.add_term(session, code="E2E-EX", name="考试浏览器测试学期")
    await factories.add_grid(session, term.id, blocks=1)
    building = await factories.add_building(session, code="E2E-EXB", name="考试测试楼")
    await factories.add_rooms(
        session, building.id, 3, name="考试测试教室", code="E2E-EX", capacity=80, exam_capacity=40
    )
    for n, (name, classes) in enumerate(
        (("考试测试·高等数学", [student.class_id]), ("考试测试·线性代数", []))
    ):
        course = await factories.add_course(
            session,
            code=f"E2E-EX-C{n}",
            name=name,
            name_en="E2E",
            credits=Decimal("2"),
            lecture_hours=32,
            org_unit_id=college,
        )
        await factories.add_section(
            session,
            term_id=term.id,
            course_id=course.id,
            org_unit_id=college,
            teacher_id=teacher.id,
            class_ids=classes,
            code=f"E2E-EX-S{n}",
            name=name,
            capacity=60,
        )
    return Term(term.id, student.number)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("e2e-exams")
    with live_server(workdir) as running:
        yield running


@pytest.fixture(scope="module")
def term(server: LiveServer) -> Term:
    return _with_demo(server, _exam_term)


def away_day(options: list[list[str]], value: str) -> str:
    """The date and time of a session option, as the pages write them (``2026-12-28 … 08:30``)."""
    label = next(text for v, text in options if v == value).split()
    return f"{label[0]} {label[1]} {label[2].split('–')[0]}"


def test_registrar_schedules_and_publishes_then_a_student_sees_their_seat(
    page: Page, server: LiveServer, term: Term
) -> None:
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto(f"/academic/exams?term_id={term.id}")
    page.get_by_test_id("generate-exams").click()
    expect(page.get_by_text("新建 2 门考试")).to_be_visible()
    expect(page.get_by_test_id("exams")).to_contain_text("考试测试·高等数学")
    page.get_by_test_id("generate-sessions").click()
    expect(page.get_by_text("新建 30 个考试场次")).to_be_visible()  # 10 weekdays × 3
    page.locator("#time_limit").fill("3")
    page.get_by_test_id("run-start").click()
    # The progress page polls until the run is done.
    expect(page.get_by_test_id("run-status")).to_be_visible()
    expect(page.get_by_test_id("run-state")).to_have_text("已完成", timeout=90_000)
    expect(page.get_by_test_id("run-feasible")).to_be_visible()
    page.get_by_test_id("run-back").click()
    expect(page.get_by_test_id("plan-state")).to_have_text("已安排，未发布")
    overview = page.get_by_test_id("overview")
    expect(overview).to_contain_text("考试测试·高等数学")

    # The move page shows where the exam is; pick a session the student will be away and
    # another to move it to.
    maths_row = page.get_by_test_id("exams").locator("tr", has_text="考试测试·高等数学")
    maths_row.get_by_role("link", name="调整").click()
    expect(page.get_by_test_id("move-ok")).to_be_visible()  # where it is, nothing clashes
    # The scheduler may seat it in any exam room of the campus; a move keeps those rooms.
    rooms_now = page.get_by_test_id("move-rooms").locator("tbody tr td:first-child")
    kept = rooms_now.all_inner_texts()
    assert kept, "the move page lists the rooms the exam is in"
    choice = page.get_by_test_id("move-session")
    current = choice.input_value()
    options = choice.locator("option").evaluate_all(
        "options => options.map(o => [o.value, o.textContent.trim()])"
    )
    others = [(value, label) for value, label in options if value != current]
    (away, _away), (target, target_label) = others[0], others[-1]
    page.get_by_role("link", name="返回").click()

    page.locator("#u-number").fill(term.student_no)
    page.locator("#u-sessions").select_option(away)
    page.locator("#u-reason").fill("参加数学竞赛")
    page.get_by_test_id("unavailable-add").click()
    expect(page.get_by_text("已登记 1 个场次")).to_be_visible()
    expect(page.get_by_test_id("unavailable")).to_contain_text("不可考")

    maths_row = page.get_by_test_id("exams").locator("tr", has_text="考试测试·高等数学")
    maths_row.get_by_role("link", name="调整").click()
    page.get_by_test_id("move-session").select_option(away)
    problem = page.get_by_test_id("move-problem")
    expect(problem).to_contain_text("1 名学生在该时段不能考试")  # shown before saving
    page.get_by_test_id("move-save").click()
    expect(page.locator(".alert-danger").first).to_contain_text("不能调整")
    expect(page.get_by_test_id("move-current")).not_to_contain_text(away_day(options, away))

    page.get_by_test_id("move-session").select_option(target)
    expect(page.get_by_test_id("move-ok")).to_be_visible()
    expect(page.get_by_test_id("move-rooms")).to_contain_text(kept[0].strip())
    page.get_by_test_id("move-save").click()
    expect(page.get_by_text("已调整考试")).to_be_visible()
    target_day = target_label.split()[0]
    expect(
        page.get_by_test_id("exams").locator("tr", has_text="考试测试·高等数学")
    ).to_contain_text(target_day)
    page.get_by_test_id("publish").click()
    expect(page.get_by_text("已发布第 1 版考试安排")).to_be_visible()

    student = server.login("student")
    browser = page.context.browser
    assert browser is not None
    phone = browser.new_page(
        base_url=server.base_url, locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    try:
        sign_in(phone, student.login, student.password)
        phone.goto(f"/academic/my/exams?term_id={term.id}")
        card = phone.get_by_test_id("my-exam")
        expect(card).to_have_count(1)
        expect(card).to_contain_text("考试测试·高等数学")
        expect(card).to_contain_text(target_day)
        expect(card.get_by_test_id("my-exam-seat")).to_have_text(re.compile(r"^\d+$"))
        expect(card.get_by_test_id("my-exam-room")).not_to_be_empty()
    finally:
        phone.close()
