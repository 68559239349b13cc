"""Student status (学籍) in a real browser: a classmate of the demo student asks for a
suspension (休学) on a phone; the counselor, the college's dean and the registrar approve it
from their to-do lists. The student is then signed out (休学 leaves the active people), and the
registrar's record page shows the new status, its history and what may follow.

The classmate and the dean get a password here (the demo prints no login for them)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.status.models import StatusChange, StudentStatus
from campus.platform.auth import service as auth
from campus.platform.users import service as users
from tests.e2e.conftest import DESKTOP, _fresh_page, sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser

PASSWORD = "Status@e2e2026"


@dataclass(frozen=True)
class Person:
    id: int
    login: str
    name: str


@dataclass(frozen=True)
class People:
    student: Person
    dean: Person


async def _people(session: AsyncSession, demo: Demo) -> People:
    """A student of the demo student's class (so the demo counselor is theirs) who is studying
    and has no request open, and the dean of their college; both given ``PASSWORD``."""
    student = demo["student"]
    assert student is not None and student.class_id is not None
    busy = select(StatusChange.person_id).where(StatusChange.state == "pending")
    record = await session.scalar(
        select(StudentStatus)
        .where(
            StudentStatus.class_id == student.class_id,
            StudentStatus.person_id != student.id,
            StudentStatus.status == "studying",
            StudentStatus.person_id.not_in(busy),
        )
        .order_by(StudentStatus.id)
        .limit(1)
    )
    assert record is not None
    deans = await users.holders_of(session, "dean", org_unit_id=record.college_id)
    assert deans and deans[0].number
    found = []
    for person_id, login, name in (
        (record.person_id, record.student_no, record.name),
        (deans[0].id, deans[0].number, deans[0].name),
    ):
        await auth.set_password(session, person_id, PASSWORD)
        found.append(Person(person_id, login, name))
    return People(*found)


@pytest.fixture(scope="module")
def people(server: LiveServer) -> People:
    return _with_demo(server, _people)


def _until_status(page: Page, path: str, label: str, seconds: float = 15.0) -> None:
    """Open ``path`` until its status badge reads ``label``: the approved change reaches the
    roll through the bus, after the approval that finished it has answered."""
    deadline = time.monotonic() + seconds
    page.goto(path)
    badge = page.get_by_test_id("status-badge")
    while badge.inner_text().strip() != label and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.goto(path)
    expect(badge).to_have_text(label)


def _approve(browser: Browser, server: LiveServer, login: str, password: str, student: str) -> None:
    """``login`` approves the student's suspension from their to-do list."""
    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        sign_in(page, login, password)
        page.goto("/hall/tasks")
        task = page.get_by_test_id("task-item").filter(has_text=student)
        task.filter(has_text="休学申请").first.get_by_test_id("task-link").click()
        panel = page.get_by_test_id("decide-panel")
        panel.get_by_test_id("decide-comment").fill("同意")
        panel.get_by_test_id("approve").click()
        expect(page.get_by_test_id("alert")).to_contain_text("已同意")


def test_a_suspension_is_filed_on_a_phone_approved_and_recorded(
    phone_page: Page, browser: Browser, server: LiveServer, people: People
) -> None:
    phone, student = phone_page, people.student
    sign_in(phone, student.login, PASSWORD)
    phone.goto("/academic/status/me")
    expect(phone.get_by_test_id("status-badge")).to_have_text("在读")
    phone.get_by_test_id("apply-suspend").click()
    phone.get_by_test_id("terms").select_option("2")
    phone.get_by_test_id("reason").fill("身体原因，需要休养一年")
    phone.get_by_test_id("apply-submit").click()
    expect(phone.get_by_test_id("alert")).to_contain_text("休学申请已提交，请等待审批")
    pending = phone.get_by_test_id("status-changes").get_by_test_id("change-row")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("休学（2学期）")
    expect(pending).to_contain_text("审批中")
    # Asking twice is refused while the first request is open.
    phone.goto("/academic/status/me/apply?kind=suspend")
    phone.get_by_test_id("reason").fill("再次申请")
    phone.get_by_test_id("apply-submit").click()
    expect(phone.get_by_test_id("alert")).to_contain_text("已有一份审批中的休学申请，不能重复提交")

    counselor, registrar = server.login("counselor"), server.login("staff")
    _approve(browser, server, counselor.login, counselor.password, student.name)
    phone.goto("/academic/status/me")
    expect(phone.get_by_test_id("status-badge")).to_have_text("在读")  # not until the end
    _approve(browser, server, people.dean.login, PASSWORD, student.name)
    _approve(browser, server, registrar.login, registrar.password, student.name)

    # A student on leave keeps their account: still signed in on the phone, they see the
    # leave on their record and may apply to resume.
    _until_status(phone, "/academic/status/me", "休学")
    expect(phone).to_have_url(re.compile(r"/academic/status/me$"))
    expect(phone.get_by_test_id("apply-resume")).to_be_visible()
    expect(phone.get_by_test_id("apply-suspend")).to_have_count(0)

    with _fresh_page(browser, server, viewport=DESKTOP) as page:
        sign_in(page, registrar.login, registrar.password)
        page.goto(f"/academic/status/records/{student.id}")
        expect(page.get_by_test_id("status-badge")).to_have_text("休学")
        history = page.get_by_test_id("history-row")
        expect(history).to_have_count(1)
        expect(history).to_contain_text("在读 → 休学")
        expect(history).to_contain_text("身体原因，需要休养一年")
        expect(page.get_by_test_id("change-row")).to_contain_text("已通过")
        # What may follow a suspension: resuming or withdrawing, not another suspension.
        expect(page.get_by_test_id("apply-resume")).to_be_visible()
        expect(page.get_by_test_id("apply-suspend")).to_have_count(0)
