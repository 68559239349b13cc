"""Training programmes (培养方案) in a real browser: the registrar (the demo staff login) opens a
new version of a published programme, adds a course to a group in the editor (an unknown code
is refused on its row first), publishes it, compares it with the first version (the added
course shows) and copies it to a new cohort.

The programme is the test's own: two small groups of three new catalogue courses, for a
cohort no other programme of its major has, written before the browser starts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.programmes import actions, queries
from campus.domains.academic.programmes.schemas import ProgrammeContent
from campus.platform.users import service as users
from tests.domains.academic import factories
from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer
from tests.e2e.test_timetabling_browser import Demo, _with_demo

pytestmark = pytest.mark.browser

COHORT = 2035


@dataclass(frozen=True)
class Programme:
    id: int
    added: str  # the code of the course the registrar adds


async def _programme(session: AsyncSession, demo: Demo) -> Programme:
    """Published V1 of a major of the demo teacher's college: 学科基础 (one required course of
    3 credits) and 专业选修 (one elective of 3), 6 credits in all; a third course of 2 credits
    waits in the catalogue."""
    teacher = demo["teacher"]
    assert teacher is not None
    tree = await users.org_directory(session)
    college = tree.nearest(teacher.org_unit_id, "college")
    major = next(u for u in tree.of_kind("major") if tree.within(u, college))
    courses = [
        await factories.add_course(
            session, code=f"E2E-PG{n}", name=name, credits=Decimal(credits), org_unit_id=college
        )
        for n, (name, credits) in enumerate(
            (("方案测试·基础课", "3"), ("方案测试·选修课", "3"), ("方案测试·新增课", "2"))
        )
    ]
    body = ProgrammeContent.model_validate(
        {
            "total_credits": "6",
            "groups": [
                {
                    "name": "学科基础",
                    "min_credits": "3",
                    "courses": [{"course_id": courses[0].id, "term": 1}],
                },
                {
                    "name": "专业选修",
                    "min_credits": "3",
                    "courses": [{"course_id": courses[1].id, "term": 3, "required": False}],
                },
            ],
        }
    )
    content = await actions.check_content(session, body)
    programme_id = await actions.do_create(session, None, major, COHORT, 1, content, tree)
    programme = await queries.programme_or_404(session, programme_id)
    await actions.do_publish(session, programme)
    return Programme(programme_id, courses[2].code)


@pytest.fixture(scope="module")
def programme(server: LiveServer) -> Programme:
    return _with_demo(server, _programme)


def test_a_new_version_is_edited_published_compared_and_copied(
    page: Page, server: LiveServer, programme: Programme
) -> None:
    registrar = server.login("staff")
    sign_in(page, registrar.login, registrar.password)
    page.goto(f"/academic/programmes/{programme.id}")
    expect(page.get_by_test_id("edit")).to_have_count(0)  # published: read-only
    page.get_by_test_id("new-version").click()
    expect(page.get_by_test_id("alert")).to_contain_text("已建立新版本（草稿）")
    expect(page.get_by_test_id("programme-status")).to_have_text("草稿 V2")
    version_2 = page.url

    # 专业选修 is the second group; its first blank row follows its one course.
    page.get_by_test_id("edit").click()
    row = {
        "code": page.locator('input[name="g1_r1_code"]'),
        "term": page.locator('input[name="g1_r1_term"]'),
        "required": page.locator('input[name="g1_r1_required"]'),
    }
    row["code"].fill("E2E-NOSUCH")
    row["term"].fill("4")
    row["required"].uncheck()
    page.get_by_test_id("save-programme").click()
    expect(page.get_by_test_id("row-error")).to_have_text("课程代码 E2E-NOSUCH 不在课程库中")
    expect(page.get_by_test_id("form-errors")).to_contain_text("有课程代码不在课程库中")
    row["code"].fill(programme.added)
    page.get_by_test_id("save-programme").click()
    expect(page.get_by_test_id("alert")).to_contain_text("培养方案草稿已保存")
    elective = page.get_by_test_id("group").filter(has_text="专业选修")
    expect(elective).to_contain_text("方案测试·新增课")
    expect(elective).to_contain_text("可修 5")

    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("alert")).to_contain_text("培养方案已发布")
    expect(page.get_by_test_id("programme-status")).to_have_text("已发布 V2")

    page.get_by_test_id("version").filter(has_text="V1").get_by_test_id("compare").click()
    expect(page).to_have_url(re.compile(rf"/academic/programmes/{programme.id}/compare/\d+$"))
    changes = page.get_by_test_id("course-changes")
    expect(changes.locator("li")).to_have_count(1)
    expect(changes).to_contain_text(f"+ 方案测试·新增课（{programme.added}）")
    expect(page.get_by_test_id("no-difference")).to_have_count(0)

    page.goto(version_2)
    cohort = COHORT + 1
    page.get_by_label("复制到年级").fill(str(cohort))
    page.get_by_test_id("copy").click()
    expect(page.get_by_test_id("alert")).to_contain_text(f"已复制为 {cohort} 级培养方案（草稿）")
    expect(page.get_by_test_id("programme-status")).to_have_text("草稿 V1")
    expect(page.locator(".page-pretitle")).to_contain_text(f"{cohort}级")
    expect(page.get_by_test_id("group").filter(has_text="专业选修")).to_contain_text(
        "方案测试·新增课"
    )


async def _demo_class(session: AsyncSession, demo: Demo) -> tuple[int, int, str]:
    """The demo student's class: its major, id and name."""
    student = demo["student"]
    assert student is not None and student.class_id is not None
    found = await users.get_class(session, student.class_id)
    assert found is not None
    return found.org_unit_id, found.id, found.name


def test_the_teaching_plan_is_narrowed_to_a_class_picked_from_its_major(
    page: Page, server: LiveServer
) -> None:
    major_id, class_id, class_name = _with_demo(server, _demo_class)
    sign_in(page, server.login("staff").login, server.login("staff").password)
    page.goto("/academic/plans")
    expect(page.get_by_test_id("plan-class-select").locator("option")).to_have_count(1)  # 全部班级
    page.get_by_test_id("plan-major").select_option(str(major_id))
    expect(page.get_by_test_id("plan-class-select")).to_contain_text(class_name)
    page.get_by_test_id("plan-class-select").select_option(str(class_id))
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(rf"class_id={class_id}"))
    expect(page.get_by_test_id("plan-class-select")).to_have_value(str(class_id))
    cards = page.get_by_test_id("plan-class")
    expect(cards).to_have_count(1)
    expect(cards).to_contain_text(class_name)
