"""Grades (成绩) in a real browser: the demo teacher sets up the sheet of a section the demo
student holds a place in, enters the mark and submits; the demo counselor (given
``academic.grade.review`` over the college through the access center's API) reviews it, the
registrar (the demo staff login, given ``academic.grade.publish``) publishes it, and the
student sees the grade and GPA on a phone."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.selection.models import Enrollment
from campus.kernel import clock
from tests.domains.academic import factories
from tests.e2e.conftest import DESKTOP, PHONE, _fresh_page, sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Sheet:
    section_id: int
    course: str


async def _section(session: AsyncSession, demo: Demo) -> Sheet:
    """A section of a term of its own taught by the demo teacher, with no class: the demo
    student holds the one place in it through course selection."""
    teacher, student = demo["teacher"], demo["student"]
    assert teacher is not None and student is not None
    tag = uuid.uuid4().hex[:6].upper()
    term = await factories.add_term(session, code=f"E2E-GR-{tag}", name="成绩测试学期")
    course = await factories.add_course(
        session,
        code=f"E2E-G{tag}",
        name="成绩测试课",
        name_en="Grades E2E",
        credits=Decimal(2),
        org_unit_id=teacher.org_unit_id,
    )
    section = await factories.add_section(
        session,
        term_id=term.id,
        course_id=course.id,
        org_unit_id=teacher.org_unit_id,
        teacher_id=teacher.id,
        code=f"E2E-GS{tag}",
        name="成绩测试课（01班）",
    )
    now = clock.now()
    session.add(
        Enrollment(
            term_id=term.id,
            section_id=section.id,
            course_id=course.id,
            person_id=student.id,
            status="selected",
            source="self",
            credits=Decimal(2),
            queued_at=now,
            updated_at=now,
        )
    )
    return Sheet(section.id, course.name)


def _grant(server: LiveServer, login: str, code: str) -> None:
    """A role holding ``code``, granted campus-wide to the demo ``login`` through the API."""
    admin = server.login("admin")
    with httpx.Client(base_url=server.base_url, timeout=15) as api:
        api.get("/login")
        api.headers["X-CSRF-Token"] = api.cookies["campus_csrf"]
        response = api.post(
            "/api/v1/auth/login", json={"login": admin.login, "password": admin.password}
        )
        assert response.status_code == 200, response.text
        role = f"e2e_{code.rsplit('.', 1)[-1]}_{uuid.uuid4().hex[:6]}"
        response = api.post(
            "/api/v1/access/roles", json={"code": role, "name": role, "permissions": [code]}
        )
        assert response.status_code == 201, response.text
        person = api.get("/api/v1/users/people", params={"q": login}).json()["items"][0]
        response = api.post(
            "/api/v1/access/grants",
            json={"role": role, "person_id": person["id"], "scope": "all"},
        )
        assert response.status_code == 201, response.text


@pytest.fixture(scope="module")
def sheet(server: LiveServer) -> Sheet:
    found: Sheet = _with_demo(server, _section)
    _grant(server, server.login("counselor").login, "academic.grade.review")
    _grant(server, server.login("staff").login, "academic.grade.publish")
    return found


def _step(browser: Browser, server: LiveServer, role: str, sheet: Sheet, button: str) -> None:
    who = server.login(role)
    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        sign_in(page, who.login, who.password)
        page.goto(f"/academic/grades/sections/{sheet.section_id}")
        page.get_by_test_id(button).click()
        expect(page.get_by_test_id("alert")).to_be_visible()


def test_a_grade_goes_from_the_teacher_to_the_students_phone(
    page: Page, phone_page: Page, browser: Browser, server: LiveServer, sheet: Sheet
) -> None:
    teacher = server.login("teacher")
    sign_in(page, teacher.login, teacher.password)
    page.goto(f"/academic/grades/sections/{sheet.section_id}")
    # Weights summing to 90 are refused, naming the components.
    page.get_by_test_id("component-weight-2").fill("40")
    page.get_by_test_id("save-setup").click()
    expect(page.get_by_test_id("components-error")).to_contain_text("权重之和须为 100")
    page.get_by_test_id("component-weight-2").fill("50")
    page.get_by_test_id("save-setup").click()
    expect(page.get_by_test_id("alert")).to_contain_text("成绩构成已保存")
    row = page.get_by_test_id("entry")
    expect(row).to_have_count(1)
    row.get_by_test_id("mark-c1").fill("90")
    row.get_by_test_id("mark-c2").fill("80")
    row.get_by_test_id("mark-c3").fill("101")
    page.get_by_test_id("save-entries").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("须在 0–100 之间")
    page.get_by_test_id("entry").get_by_test_id("mark-c3").fill("85")
    page.get_by_test_id("save-entries").click()
    expect(page.get_by_test_id("alert")).to_contain_text("成绩已保存")
    expect(page.get_by_test_id("entry").get_by_test_id("total")).to_have_text("85.5")
    expect(page.get_by_test_id("chart-distribution")).to_be_visible()
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("submit-sheet").click()
    expect(page.get_by_test_id("sheet-state")).to_have_text("待学院审核")
    expect(page.get_by_test_id("save-entries")).to_have_count(0)

    _step(browser, server, "counselor", sheet, "review-sheet")
    _step(browser, server, "staff", sheet, "publish-sheet")

    student = server.login("student")
    sign_in(phone_page, student.login, student.password)
    phone_page.goto("/academic/grades/me")
    result = phone_page.get_by_test_id("result").filter(has_text=sheet.course)
    expect(result).to_have_count(1)
    expect(result.get_by_test_id("score")).to_have_text("85.5")
    expect(phone_page.get_by_test_id("gpa")).not_to_have_text("—")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1


def test_the_registrar_changes_the_grade_policy(
    page: Page, phone_page: Page, browser: Browser, server: LiveServer, sheet: Sheet
) -> None:
    """The staff login (publishing campus-wide) edits 成绩规则: a bad threshold is refused
    under its field, a good change saved; the student's page then shows the retake rule.
    The policy is put back at the end (the live server is shared)."""
    staff = server.login("staff")
    sign_in(page, staff.login, staff.password)
    page.goto("/academic/grades/policy")
    expect(page.get_by_test_id("scales.4.0.bands.7.points")).to_have_value("3.3")
    page.get_by_test_id("warning_credits").fill("0")
    page.get_by_test_id("save-policy").click()
    expect(page.get_by_test_id("error-warning_credits")).to_contain_text("预警学分须大于 0")
    try:
        page.get_by_test_id("warning_credits").fill("12")
        page.get_by_test_id("retake-latest").check()
        page.get_by_test_id("save-policy").click()
        expect(page.get_by_test_id("alert")).to_contain_text("成绩规则已保存")
        expect(page.get_by_test_id("warning_credits")).to_have_value("12.0")

        student = server.login("student")
        sign_in(phone_page, student.login, student.password)
        phone_page.goto("/academic/grades/me")
        expect(phone_page.get_by_test_id("grade-rules")).to_contain_text("取最近")
    finally:
        page.goto("/academic/grades/policy")
        page.get_by_test_id("warning_credits").fill("10")
        page.get_by_test_id("retake-highest").check()
        page.get_by_test_id("save-policy").click()
        expect(page.get_by_test_id("alert")).to_contain_text("成绩规则已保存")
    with _fresh_page(browser, server, viewport=PHONE, is_mobile=True, has_touch=True) as phone:
        sign_in(phone, staff.login, staff.password)
        phone.goto("/academic/grades/policy")
        expect(phone.get_by_test_id("save-policy")).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390 + 1
