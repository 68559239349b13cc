"""Course selection in a real browser, on a phone: the demo student searches the open round's
sections, selects one (the registrar's open search page shows the seat taken, live), is refused
another that meets at the same time (with the reason on its card), joins the waitlist of a full
one, then drops the first in 我的选课 and sees their places and credits change. The registrar
(the demo staff login) finds the clash among the round's refusals on its dashboard.

The term, its published lectures and the round are the test's own, written into the server's
database before the browser starts; a classmate already holds the full section's only seat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.offering.models import Section, SectionMajor
from campus.domains.academic.selection.models import Enrollment, Round
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.timetabling.models import PublishedLecture
from campus.kernel import clock
from campus.platform.users import service as users
from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer, live_server
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser

DATA = "选课测试·数据结构"  # Monday, block 1
MUSIC = "选课测试·音乐鉴赏"  # Monday, block 1 too: clashes with DATA
TENNIS = "选课测试·网球"  # one seat, taken


@dataclass(frozen=True)
class Selection:
    term_id: int
    round_id: int
    sections: dict[str, int]


async def _selection_round(session: AsyncSession, demo: Demo) -> Selection:
    teacher, student = demo["teacher"], demo["student"]
    assert teacher and student
    record = await session.scalar(
        select(StudentStatus).where(StudentStatus.person_id == student.id)
    )
    assert record is not None and record.in_school
    classmate = await session.scalar(
        select(StudentStatus.person_id).where(StudentStatus.person_id != student.id).limit(1)
    )
    assert classmate is not None
    college = teacher.org_unit_id
    term = await factories.add_term(session, code="E2E-SEL", name="选课浏览器测试学期")
    await factories.add_grid(session, term.id)
    building = await factories.add_building(session, code="E2E-SELB", name="选课测试楼")
    room = await factories.add_room(session, building.id, code="E2E-SEL-101")
    sections: dict[str, int] = {}
    courses: dict[str, int] = {}
    for n, (name, credits, capacity, day, block) in enumerate(
        ((DATA, "3", 60, 0, 1), (MUSIC, "2", 60, 0, 1), (TENNIS, "1", 1, 2, 3))
    ):
        course = await factories.add_course(
            session,
            code=f"E2E-SEL-C{n}",
            name=name,
            credits=Decimal(credits),
            lecture_hours=32,
            org_unit_id=college,
        )
        section = await factories.add_section(
            session,
            term_id=term.id,
            course_id=course.id,
            org_unit_id=college,
            teacher_id=teacher.id,
            code=f"E2E-SEL-S{n}",
            name=name,
            capacity=capacity,
            lectures_per_week=1,
        )
        session.add(SectionMajor(section_id=section.id, org_unit_id=record.major_id, grade=None))
        session.add(
            PublishedLecture(
                term_id=term.id,
                version=1,
                section_id=section.id,
                number=1,
                day=day,
                block=block,
                room_id=room.id,
            )
        )
        sections[name], courses[name] = section.id, course.id
    now = clock.now()
    found = Round(
        term_id=term.id,
        name="浏览器测试正选",
        kind="first_come",
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=3),
        grades=[],
        major_ids=[],
        max_credits=Decimal("20"),
        waitlist=True,
        drop_allowed=True,
        created_at=now,
    )
    session.add(found)
    await session.flush()
    session.add(
        Enrollment(
            term_id=term.id,
            section_id=sections[TENNIS],
            course_id=courses[TENNIS],
            person_id=classmate,
            round_id=found.id,
            status="selected",
            source="self",
            credits=Decimal("1"),
            queued_at=now,
            updated_at=now,
        )
    )
    return Selection(term.id, found.id, sections)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("e2e-selection")
    with live_server(workdir) as running:
        yield running


@pytest.fixture(scope="module")
def selection(server: LiveServer) -> Selection:
    return _with_demo(server, _selection_round)


def test_a_student_selects_is_refused_a_clash_waits_for_a_full_section_and_drops(
    phone_page: Page, page: Page, server: LiveServer, selection: Selection
) -> None:
    phone = phone_page
    student = server.login("student")
    sign_in(phone, student.login, student.password)
    phone.goto("/academic/selection")
    expect(phone.get_by_test_id("round-info")).to_contain_text("浏览器测试正选")
    phone.get_by_test_id("offer-search").fill("选课测试")
    phone.get_by_test_id("offer-search-submit").click()
    expect(phone).to_have_url(re.compile(r"q=%E9%80%89"))  # the results came (htmx)
    expect(phone.get_by_test_id("offer")).to_have_count(3)

    # The registrar watches the same search on a desktop: its seats move without a reload.
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto("/academic/selection?q=选课测试")
    watched = page.locator(f"#offer-{selection.sections[DATA]}").get_by_test_id("offer-remaining")
    expect(watched).to_have_text("60")

    data = phone.locator(f"#offer-{selection.sections[DATA]}")
    data.get_by_test_id("select").click()
    expect(data.get_by_test_id("offer-status")).to_have_text("已选中")
    expect(data.get_by_test_id("offer-remaining")).to_have_text("59")
    expect(watched).to_have_text("59", timeout=5000)

    music = phone.locator(f"#offer-{selection.sections[MUSIC]}")
    music.get_by_test_id("select").click()
    expect(music.get_by_test_id("offer-refusal")).to_have_text(f"与“{DATA}”上课时间冲突")
    expect(music.get_by_test_id("offer-status")).to_have_count(0)

    tennis = phone.locator(f"#offer-{selection.sections[TENNIS]}")
    expect(tennis).to_contain_text("已满，选课将排队候补")
    tennis.get_by_test_id("select").click()
    expect(tennis.get_by_test_id("offer-status")).to_have_text("候补中（第 1 位）")
    expect(tennis.get_by_test_id("offer-waitlist")).to_have_text("1")

    phone.get_by_test_id("to-mine").click()
    expect(phone.get_by_test_id("my-credits")).to_have_text("3")
    expect(phone.get_by_test_id("my-held-credits")).to_have_text("4")
    mine = phone.get_by_test_id("my-place").filter(has_text=DATA)
    expect(mine.get_by_test_id("place-status")).to_have_text("已选中")
    waiting = phone.get_by_test_id("my-place").filter(has_text=TENNIS)
    expect(waiting.get_by_test_id("place-status")).to_have_text("候补中（第 1 位）")
    preview = phone.get_by_test_id("preview-list")  # the phone's list of the week
    expect(preview).to_contain_text(f"周一 第1大节 · {DATA}")
    expect(preview).to_contain_text(TENNIS)

    phone.once("dialog", lambda dialog: dialog.accept())
    mine.get_by_test_id("drop").click()
    expect(phone.get_by_test_id("drop-message")).to_have_text("已退选")
    expect(mine.get_by_test_id("place-status")).to_have_text("已退选")
    expect(mine.get_by_test_id("drop")).to_have_count(0)
    expect(phone.get_by_test_id("my-credits")).to_have_text("0")
    expect(preview).not_to_contain_text(DATA)

    # The seat is free again, and the clash is gone with it.
    phone.goto("/academic/selection?q=选课测试")
    expect(data.get_by_test_id("offer-remaining")).to_have_text("60")
    expect(music.get_by_test_id("select")).to_be_visible()

    page.goto(f"/academic/selection/rounds?term_id={selection.term_id}")
    page.get_by_test_id("round-row").filter(has_text="浏览器测试正选").get_by_test_id(
        "round-link"
    ).click()
    expect(page.get_by_test_id("count-waitlisted")).to_have_text("1")
    expect(page.get_by_test_id("refusal-clash")).to_contain_text("1")
    expect(page.get_by_test_id("chart-refusals").locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("hot-sections")).to_contain_text(TENNIS)


def test_with_a_queue_on_the_student_passes_the_door_first(
    phone_page: Page, server: LiveServer, selection: Selection
) -> None:
    """The registrar switched the round's queue on: the course search sends the student to
    排队进入选课; under the rate they are admitted at once and select from the search."""

    async def queue_on(session: AsyncSession, _demo: Demo) -> None:
        found = await session.get(Round, selection.round_id)
        assert found is not None
        found.queue_rate = 100

    _with_demo(server, queue_on)
    phone = phone_page
    student = server.login("student")
    sign_in(phone, student.login, student.password)
    phone.goto("/academic/selection?q=选课测试")
    expect(phone).to_have_url(re.compile(r"/academic/selection/queue$"))
    expect(phone.get_by_test_id("queue-round")).to_contain_text("每秒准入 100 人")
    phone.get_by_test_id("queue-enter").click()
    expect(phone).to_have_url(re.compile(r"/academic/selection$"))
    expect(phone.get_by_test_id("round-info")).to_contain_text("浏览器测试正选")
    phone.get_by_test_id("offer-search").fill("选课测试")
    phone.get_by_test_id("offer-search-submit").click()
    expect(phone).to_have_url(re.compile(r"q=%E9%80%89"))  # the results came (htmx)
    music = phone.locator(f"#offer-{selection.sections[MUSIC]}")
    music.get_by_test_id("select").click()
    expect(music.get_by_test_id("offer-status")).to_have_text("已选中")


def test_a_section_for_the_other_gender_is_shut_and_the_registrar_sets_the_queue_rate(
    phone_page: Page, page: Page, server: LiveServer, selection: Selection
) -> None:
    """The music section is for the other gender than the demo student's: its card says so and
    offers no 选课 button (the student's places of the earlier tests are dropped first, and the
    queue switched off). The registrar switches the round's queue on from its dashboard and
    sees the queue's numbers."""

    async def music_for_the_other_gender(session: AsyncSession, demo: Demo) -> str:
        student = demo["student"]
        assert student is not None
        gender = (await users.genders_of(session, [student.id]))[student.id]
        section = await session.get(Section, selection.sections[MUSIC])
        found = await session.get(Round, selection.round_id)
        assert section is not None and found is not None
        section.gender, section.updated_at = ("2" if gender == "1" else "1"), clock.now()
        found.queue_rate = None
        # Whatever the tests before left them holding, they start afresh.
        await session.execute(
            update(Enrollment)
            .where(Enrollment.person_id == student.id, Enrollment.round_id == found.id)
            .values(status="dropped")
        )
        return "仅限女生" if section.gender == "2" else "仅限男生"

    only = _with_demo(server, music_for_the_other_gender)
    phone = phone_page
    student = server.login("student")
    sign_in(phone, student.login, student.password)
    phone.goto("/academic/selection?q=选课测试")
    music = phone.locator(f"#offer-{selection.sections[MUSIC]}")
    expect(music.get_by_test_id("offer-gender")).to_have_text(only)
    expect(music.get_by_test_id("offer-barred")).to_contain_text(f"该教学班{only}")
    expect(music.get_by_test_id("select")).to_have_count(0)
    expect(
        phone.locator(f"#offer-{selection.sections[DATA]}").get_by_test_id("select")
    ).to_be_visible()

    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto(f"/academic/selection/rounds/{selection.round_id}")
    expect(page.get_by_test_id("queue-off")).to_be_visible()
    page.get_by_test_id("queue-rate-input").fill("5")
    page.get_by_test_id("queue-rate-save").click()
    expect(page.get_by_text("排队准入速率已改为每秒 5 人")).to_be_visible()
    expect(page.get_by_test_id("queue-rate")).to_have_text("5")
    expect(page.get_by_test_id("queue-waiting")).to_have_text("0")
    expect(page.get_by_test_id("queue-rate-input")).to_have_value("5")
