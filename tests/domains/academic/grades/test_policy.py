"""The registrar's grade policy (成绩规则) through HTTP: the seeded defaults are the old
constants; a bad policy is refused by field (422, nothing changed); only a campus-wide
publisher changes it (403 for a student, a teacher, a college reviewer or publisher); a changed
band changes a computed GPA; the make-up cap and the retake choice; the warning threshold."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from campus.domains.academic.events import GRADE_POLICY_CHANGED
from campus.domains.academic.grades import handlers as grade_handlers
from campus.domains.academic.grades import scales
from campus.kernel.bus import Dispatcher, Outcome
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.domains.academic import factories
from tests.domains.academic.grades.conftest import (
    API,
    SETUP,
    School,
    change_policy,
    enter_all,
    make_role,
    publish,
)
from tests.platform.access.conftest import (
    SignIn,
    assert_problem,
    audit_of,
    outbox_events,
    staff_in,
)

PAGE = "/academic/grades/policy"


async def policy_of(school: School) -> dict[str, Any]:
    response = await school.registrar.get(f"{API}/policy")
    assert response.status_code == 200, response.text
    return dict(response.json())


def with_band(policy: dict[str, Any], key: str, index: int, **band: str) -> dict[str, Any]:
    changed = copy.deepcopy(policy)
    changed["scales"][key]["bands"][index].update(band)
    return changed


async def my_gpa(school: School, scale: str = "4.0") -> dict[str, Any]:
    response = await school.student.get(f"{API}/me", params={"scale": scale})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_fresh_install_has_the_old_constants(school: School) -> None:
    policy = await policy_of(school)
    four = policy["scales"]["4.0"]
    assert [(Decimal(b["low"]), Decimal(b["points"])) for b in four["bands"]] == list(
        scales.DEFAULT_SCALES["4.0"].bands
    )
    assert four["bands"][0] == {"low": "0", "points": "0"}
    assert Decimal(four["levels"]["excellent"]) == Decimal("4.0")
    five = policy["scales"]["5.0"]
    assert len(five["bands"]) == 42 and Decimal(five["bands"][-1]["low"]) == Decimal("99.5")
    assert Decimal(policy["warning_credits"]) == 10
    assert (policy["makeup"], policy["retake"], policy["pass_fail_counted"]) == (
        "cap",
        "highest",
        False,
    )


BAD = [
    (lambda p: with_band(p, "4.0", 0, low="5"), "scales.4.0.bands.0.low", "须为 0"),
    (lambda p: with_band(p, "4.0", 2, low="60"), "scales.4.0.bands.2.low", "须大于上一档"),
    (lambda p: with_band(p, "4.0", 9, low="100.5"), "scales.4.0.bands.9.low", "0 到 100"),
    (lambda p: with_band(p, "4.0", 3, points="0.5"), "scales.4.0.bands.3.points", "不能低于"),
    (lambda p: with_band(p, "4.0", 9, points="4.5"), "scales.4.0.bands.9.points", "0 到 4.0"),
    (lambda p: with_band(p, "5.0", 5, points="1.355"), "scales.5.0.bands.5.points", "两位小数"),
    (
        lambda p: {
            **p,
            "scales": {
                **p["scales"],
                "4.0": {
                    **p["scales"]["4.0"],
                    "levels": {**p["scales"]["4.0"]["levels"], "good": "4.0", "excellent": "3.5"},
                },
            },
        },
        "scales.4.0.levels.excellent",
        "不能低于",
    ),
    (
        lambda p: {
            **p,
            "scales": {
                **p["scales"],
                "5.0": {**p["scales"]["5.0"], "pass_fail": {"passed": "5.5", "failed": "0"}},
            },
        },
        "scales.5.0.pass_fail.passed",
        "0 到 5.0",
    ),
    (lambda p: {**p, "scales": {"4.0": p["scales"]["4.0"]}}, "scales.5.0", "5.0"),
    (lambda p: {**p, "warning_credits": "0"}, "warning_credits", "大于 0"),
    (lambda p: {**p, "warning_credits": "-3"}, "warning_credits", "大于 0"),
    (lambda p: {**p, "makeup": "never"}, "makeup", ""),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD)
async def test_a_bad_policy_is_refused_by_field_and_changes_nothing(
    db: Runtime, school: School, bad: Any, field: str, words: str
) -> None:
    before = await policy_of(school)
    response = await school.registrar.put(f"{API}/policy", json=bad(before))
    body = assert_problem(response, 422, field)
    reason = next(e["reason"] for e in body["errors"] if e["field"] == field)
    assert words in reason, reason
    assert await policy_of(school) == before
    assert not await audit_of(db, "academic.grade.policy")
    assert not await outbox_events(db, "academic.grades.policy_changed")


async def test_only_a_campus_wide_publisher_changes_the_policy_a_college_one_reads_it(
    db: Runtime, school: School, admin: Any, sign_in: SignIn
) -> None:
    policy = await policy_of(school)
    changed = {**policy, "warning_credits": "6"}
    publish_code = await make_role(admin, "grade_publish_college", ["academic.grade.publish"])
    college_publisher = await sign_in(
        await staff_in(admin, school.tree, school.tree.college_a),
        [(publish_code, ScopeKind.SUBTREE, school.tree.college_a)],
    )
    for client in (school.student, school.teacher, school.reviewer, college_publisher):
        assert_problem(await client.put(f"{API}/policy", json=changed), 403)
    for client in (school.student, school.teacher, school.reviewer):
        assert (await client.get(PAGE)).status_code == 403
    # A college's publisher has the menu entry: the page shows the rules, read only.
    shown = await college_publisher.get(PAGE)
    assert shown.status_code == 200 and 'data-testid="policy-readonly"' in shown.text
    assert 'data-testid="save-policy"' not in shown.text
    posted = await college_publisher.post(PAGE, data={"warning_credits": "6"})
    assert posted.status_code == 403
    assert (await school.student.post(PAGE, data={"warning_credits": "6"})).status_code == 403
    assert (await school.student.get(f"{API}/policy")).status_code == 200  # rules are public
    assert await policy_of(school) == policy
    assert not await audit_of(db, "academic.grade.policy")


async def test_a_changed_band_changes_the_computed_gpa(db: Runtime, school: School) -> None:
    await set_up_and_publish(school)  # the first student: 83.0 → 3.3 on the 4.0 table
    assert Decimal((await my_gpa(school))["gpa"]) == Decimal("3.30")
    saved = await change_policy(
        school, **with_band(await policy_of(school), "4.0", 7, points="3.5")
    )  # 82 → 3.5
    assert saved["scales"]["4.0"]["bands"][7] == {"low": "82", "points": "3.5"}
    mine = await my_gpa(school)
    assert Decimal(mine["gpa"]) == Decimal("3.50")
    assert Decimal(mine["terms"][0]["results"][0]["grade_point"]) == Decimal("3.5")
    [entry] = await audit_of(db, "academic.grade.policy")
    assert entry["before"]["scales"]["4.0"]["bands"][7] == ["82", "3.3"]
    assert entry["after"]["scales"]["4.0"]["bands"][7] == ["82", "3.5"]
    [event] = await outbox_events(db, "academic.grades.policy_changed")
    assert event.payload["changed"] == ["scales"]


async def set_up_and_publish(school: School) -> None:
    response = await school.teacher.put(f"{API}/sections/{school.section_id}/setup", json=SETUP)
    assert response.status_code == 200, response.text
    await enter_all(school)  # 83.0, 55.5 (fails), 97.5
    await publish(school)


async def later_section(db: Runtime, school: School, course_id: int | None = None) -> int:
    """The same course (or ``course_id``) next term, taught to the same class: make-ups and
    retakes."""
    async with db.db.transaction() as session:
        term = await factories.add_term(
            session, start_date=date(2027, 2, 22), end_date=date(2027, 7, 2)
        )
        section = await factories.add_section(
            session,
            term_id=term.id,
            course_id=course_id or school.course_id,
            org_unit_id=school.tree.college_a,
            teacher_id=school.teacher_id,
            class_ids=[school.tree.class_a],
            name="数据结构（补考与重修）",
        )
    return section.id


async def second_attempts(db: Runtime, school: School) -> None:
    """The first student retakes (重修) and scores 70 (2.0) after 83 (3.3); the second
    passes the make-up (补考) with 85 after failing with 55.5."""
    await set_up_and_publish(school)
    section_id = await later_section(db, school)
    base = f"{API}/sections/{section_id}"
    one = {"name": "期末", "weight": 100}
    response = await school.teacher.put(
        f"{base}/setup", json={"scale": "percentage", "components": [one]}
    )
    assert response.status_code == 200, response.text
    first, second, third = school.students
    entries = [
        {"person_id": first["id"], "marks": {"c1": 70}, "attempt": "retake"},
        {"person_id": second["id"], "marks": {"c1": 85}, "attempt": "makeup"},
        {"person_id": third["id"], "special": "deferred"},
    ]
    response = await school.teacher.put(f"{base}/entries", json={"entries": entries})
    assert response.status_code == 200, response.text
    await publish(school, section_id)


def counted(mine: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [
        (r["attempt"], r["grade_point"], r["capped"])
        for term in mine["terms"]
        for r in term["results"]
        if r["counted"]
    ]


async def test_a_passed_make_up_is_capped_at_the_pass_mark_unless_the_policy_says(
    db: Runtime, school: School, sign_in: SignIn
) -> None:
    await second_attempts(db, school)
    second = await sign_in(school.students[1])
    mine = (await second.get(f"{API}/me")).json()
    assert counted(mine) == [("makeup", "1.0", True)]  # 85 counts as 60 → 1.0
    assert Decimal(mine["gpa"]) == Decimal("1.00")
    assert Decimal(mine["earned_credits"]) == 3 and Decimal(mine["failed_credits"]) == 0
    page = await second.get("/academic/grades/me")
    assert "按及格计绩点" in page.text and "补考及格按及格计" in page.text
    await change_policy(school, makeup="actual")
    mine = (await second.get(f"{API}/me")).json()
    assert counted(mine) == [("makeup", "3.7", False)]  # 85 as it stands
    assert Decimal(mine["gpa"]) == Decimal("3.70")
    assert "按实际成绩计" in (await second.get("/academic/grades/me")).text


async def test_the_retake_rule_chooses_the_highest_or_the_latest_attempt(
    db: Runtime, school: School
) -> None:
    await second_attempts(db, school)
    mine = await my_gpa(school)
    assert counted(mine) == [("normal", "3.3", False)]  # 83 beats the retake's 70
    assert Decimal(mine["gpa"]) == Decimal("3.30")
    await change_policy(school, retake="latest")
    mine = await my_gpa(school)
    assert counted(mine) == [("retake", "2.0", False)]
    assert Decimal(mine["gpa"]) == Decimal("2.00")
    assert Decimal(mine["earned_credits"]) == 3  # the course stays passed, counted once
    assert "取最近" in (await school.student.get("/academic/grades/me")).text


async def test_the_warning_threshold_follows_the_policy(db: Runtime, school: School) -> None:
    await change_policy(school, warning_credits="3.5")
    await set_up_and_publish(school)  # the second student fails 3 credits: below 3.5
    assert not await warnings_of(db, school.section_id)
    async with db.db.transaction() as session:
        course = await factories.add_course(
            session, org_unit_id=school.tree.college_a, name="离散数学", credits=Decimal(1)
        )
    section_id = await later_section(db, school, course.id)
    base = f"{API}/sections/{section_id}"
    one = {"name": "期末", "weight": 100}
    await school.teacher.put(f"{base}/setup", json={"scale": "percentage", "components": [one]})
    second = school.students[1]
    entries = [{"person_id": s["id"], "marks": {"c1": 90}} for s in school.students]
    entries[1]["marks"] = {"c1": 40}
    response = await school.teacher.put(f"{base}/entries", json={"entries": entries})
    assert response.status_code == 200, response.text
    await publish(school, section_id)  # 3 + 1 failed credits reach 3.5
    [warning] = await warnings_of(db, section_id)
    assert (warning["person_id"], warning["failed_credits"], warning["threshold"]) == (
        second["id"],
        "4.0",
        "3.5",
    )


async def test_lowering_the_threshold_warns_those_now_over_it_once(
    db: Runtime, school: School
) -> None:
    await set_up_and_publish(school)  # the second student fails 3 credits: below 10
    mine = {s["id"] for s in school.students}
    assert not [w for w in await all_warnings(db) if w["person_id"] in mine]
    dispatcher = Dispatcher(db.db)
    [handler] = [h for h in grade_handlers.HANDLERS if h.pattern == GRADE_POLICY_CHANGED]

    await change_policy(school, warning_credits="12")  # raised: nobody to warn
    await change_policy(school, warning_credits="3")  # lowered under the second student
    for event in await outbox_events(db, GRADE_POLICY_CHANGED):
        assert await dispatcher.run_once(handler, event) == Outcome.HANDLED
        assert await dispatcher.run_once(handler, event) == Outcome.DUPLICATE
    warned = [w for w in await all_warnings(db) if w["person_id"] in mine]
    assert warned == [
        {
            "person_id": school.students[1]["id"],
            "failed_credits": "3.0",
            "threshold": "3",
            "term_id": None,
            "section_id": None,
        }
    ]
    notices = [
        e.payload
        for e in await outbox_events(db, "messaging.notify_requested")
        if e.payload["title"] == "学业预警"
        and e.payload["audience"]["person_ids"] == [school.students[1]["id"]]
    ]
    assert len(notices) == 1 and "预警线 3" in notices[0]["body"]


async def all_warnings(db: Runtime) -> list[dict[str, Any]]:
    return [e.payload for e in await outbox_events(db, "academic.warning")]


async def warnings_of(db: Runtime, section_id: int) -> list[dict[str, Any]]:
    return [
        e.payload
        for e in await outbox_events(db, "academic.warning")
        if e.payload["section_id"] == section_id
    ]


async def test_the_registrar_edits_the_policy_on_its_page(db: Runtime, school: School) -> None:
    page = await school.registrar.get(PAGE)
    assert page.status_code == 200
    assert 'name="scales.4.0.bands.7.points" value="3.3"' in page.text
    form = form_of(await policy_of(school))
    form["scales.4.0.bands.7.points"] = "3.4"
    form["warning_credits"] = "8"
    form["retake"] = "latest"
    response = await school.registrar.post(PAGE, data=form)
    assert response.status_code == 303, response.text
    saved = await policy_of(school)
    assert saved["scales"]["4.0"]["bands"][7]["points"] == "3.4"
    assert (saved["warning_credits"], saved["retake"]) == ("8.0", "latest")
    response = await school.registrar.post(PAGE, data={**form, "scales.4.0.bands.7.low": "70"})
    assert response.status_code == 422
    assert 'data-testid="error-scales.4.0.bands.7.low"' in response.text
    assert 'value="70"' in response.text  # what was typed is kept
    response = await school.registrar.post(PAGE, data={**form, "scales.4.0.bands.12.low": "95"})
    assert response.status_code == 422  # a band left without points, on its own row
    assert 'data-testid="error-scales.4.0.bands.12.points"' in response.text
    assert await policy_of(school) == saved


def form_of(policy: dict[str, Any]) -> dict[str, str]:
    """The page's form fields for a policy (the inputs are named by the API's field paths),
    with four empty band rows under each table as the page shows them."""
    form = {
        "makeup": policy["makeup"],
        "retake": policy["retake"],
        "warning_credits": policy["warning_credits"],
    }
    for key, table in policy["scales"].items():
        at = f"scales.{key}"
        rows = [*table["bands"], *[{"low": "", "points": ""}] * 4]
        for i, band in enumerate(rows):
            form[f"{at}.bands.{i}.low"] = band["low"]
            form[f"{at}.bands.{i}.points"] = band["points"]
        for group in ("levels", "pass_fail"):
            for name, value in table[group].items():
                form[f"{at}.{group}.{name}"] = value
    return form
