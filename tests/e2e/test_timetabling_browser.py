"""Timetabling in a real browser: the registrar (the demo staff login, who holds 教务处) runs a
small term's timetabling and watches its progress, moves a lecture by hand in the week grid and
publishes; the demo student sees their class's timetable; the demo teacher exports it to iCal.

The term is the test's own, written into the server's database before the browser starts."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.db import Database
from campus.platform.users import service as users
from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer, live_server

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Term:
    id: int
    sections: dict[str, int]


def _in_thread(coro: Any) -> Any:
    """Run a coroutine to completion in a thread of its own (Playwright may own this one's
    event loop)."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


Demo = dict[str, users.PersonRef | None]


def _with_demo(server: LiveServer, make: Callable[[AsyncSession, Demo], Awaitable[Any]]) -> Any:
    """``make(session, the demo people by role)`` in one transaction of the server's database,
    run in a thread of its own: the rows the browser then finds."""
    rows = json.loads((Path(server.workdir) / "demo-logins.json").read_text(encoding="utf-8"))
    logins = {row["role"]: row["login"] for row in rows}

    async def run() -> Any:
        database = Database(f"sqlite+aiosqlite:///{server.workdir}/campus-e2e.db")
        try:
            async with database.transaction() as session:
                demo = {
                    role: await users.find_person_by_login(session, login)
                    for role, login in logins.items()
                }
                return await make(session, demo)
        finally:
            await database.dispose()

    return _in_thread(run())


async def _small_term(session: AsyncSession, demo: Demo) -> Term:
    """A term of 5 days × 4 blocks: the demo teacher teaches two sections, the demo student's
    class attends two (one of them the teacher's)."""
    teacher, student, other = demo["teacher"], demo["student"], demo["staff"]
    assert teacher and student and other and student.class_id is not None
    college = teacher.org_unit_id
    term = await factories.add_term(session, code="E2E-TT", name="浏览器测试学期")
    await factories.add_grid(session, term.id)
    building = await factories.add_building(session, code="E2E-B", name="浏览器测试楼")
    await factories.add_rooms(
        session, building.id, 3, name="测试教室", code="E2E-", capacity=80, exam_capacity=40
    )
    course = await factories.add_course(
        session,
        code="E2E-C1",
        name="浏览器测试课",
        name_en="E2E",
        credits=Decimal("2"),
        lecture_hours=32,
        org_unit_id=college,
    )
    plan = [
        ("排课测试·高等数学", teacher.id, [student.class_id]),
        ("排课测试·大学物理", teacher.id, []),
        ("排课测试·大学英语", other.id, [student.class_id]),
    ]
    sections: dict[str, int] = {}
    for n, (name, person_id, classes) in enumerate(plan):
        section = await factories.add_section(
            session,
            term_id=term.id,
            course_id=course.id,
            org_unit_id=college,
            teacher_id=person_id,
            class_ids=classes,
            code=f"E2E-S{n}",
            name=name,
            capacity=60,
        )
        sections[name] = section.id
    return Term(term.id, sections)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("e2e-timetabling")
    with live_server(workdir) as running:
        yield running


@pytest.fixture(scope="module")
def term(server: LiveServer) -> Term:
    return _with_demo(server, _small_term)


def test_registrar_runs_moves_and_publishes_then_people_read_it(
    page: Page, server: LiveServer, term: Term, tmp_path: Path
) -> None:
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto(f"/academic/timetabling?term_id={term.id}")
    page.locator("#time_limit").fill("3")
    page.get_by_test_id("run-start").click()
    # The progress page polls until the run is done.
    expect(page.get_by_test_id("run-status")).to_be_visible()
    expect(page.get_by_test_id("run-state")).to_have_text("已完成", timeout=90_000)
    expect(page.get_by_test_id("run-feasible")).to_be_visible()
    expect(page.get_by_test_id("run-hard")).to_have_text("0")
    expect(page.get_by_test_id("cost-chart").locator("canvas").first).to_be_visible()

    page.get_by_test_id("run-open-grid").click()
    maths = page.locator(".tt-lecture", has_text="排课测试·高等数学").first
    expect(maths).to_be_visible()
    lecture_id = maths.get_attribute("data-lecture")
    options = page.evaluate(
        "id => fetch('/api/v1/academic/timetabling/lectures/' + id + '/options')"
        ".then(r => r.json())",
        lecture_id,
    )
    current = maths.locator("xpath=ancestor::td[1]")
    here = (
        int(current.get_attribute("data-day") or 0),
        int(current.get_attribute("data-block") or 0),
    )
    free = next(o for o in options if o["ok"] and (o["day"], o["block"]) != here)
    blocked = [o for o in options if not o["ok"]]
    assert blocked, "the student's class and the teacher are busy somewhere"
    target = page.get_by_test_id(f"cell-{free['day']}-{free['block']}")
    maths.drag_to(target)
    expect(page.get_by_test_id("grid-message")).to_contain_text("已调整")
    expect(target.get_by_test_id(f"lecture-{lecture_id}")).to_be_visible()
    # A clash is refused by the server with its reason, and nothing moves.
    clash = page.evaluate(
        """([id, day, block]) => fetch('/api/v1/academic/timetabling/lectures/' + id + '/move', {
             method: 'POST',
             headers: {'Content-Type': 'application/json',
                       'X-CSRF-Token': document.querySelector('input[name=csrf_token]').value},
             body: JSON.stringify({day: day, block: block})}).then(r => r.status)""",
        [lecture_id, blocked[0]["day"], blocked[0]["block"]],
    )
    assert clash == 409

    page.goto(f"/academic/timetabling?term_id={term.id}")
    page.get_by_test_id("publish").click()
    expect(page.get_by_text("已发布第 1 版课表")).to_be_visible()

    student = server.login("student")
    context = page.context.browser
    assert context is not None
    student_page = context.new_page(base_url=server.base_url, locale="zh-CN")
    try:
        sign_in(student_page, student.login, student.password)
        student_page.goto(f"/academic/timetable?term_id={term.id}")
        grid = student_page.get_by_test_id("timetable")
        expect(grid).to_contain_text("排课测试·高等数学")
        expect(grid).to_contain_text("排课测试·大学英语")
        expect(grid).not_to_contain_text("排课测试·大学物理")
    finally:
        student_page.close()

    teacher = server.login("teacher")
    teacher_page = context.new_page(base_url=server.base_url, locale="zh-CN")
    try:
        sign_in(teacher_page, teacher.login, teacher.password)
        teacher_page.goto(f"/academic/timetable?term_id={term.id}")
        expect(teacher_page.get_by_test_id("timetable")).to_contain_text("排课测试·大学物理")
        with teacher_page.expect_download() as download:
            teacher_page.get_by_test_id("ical-export").click()
        saved = tmp_path / "timetable.ics"
        download.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        assert text.startswith("BEGIN:VCALENDAR")
        assert text.count("BEGIN:VEVENT") == 2 * 2 * 16  # two sections, twice a week, 16 weeks
        assert "排课测试·大学物理" in text
    finally:
        teacher_page.close()
