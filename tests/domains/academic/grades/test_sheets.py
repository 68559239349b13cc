"""A section's grade sheet through HTTP: the teacher sets components and enters marks (totals
computed), the college reviews, the registrar publishes, the student then sees the result;
and the refusals: weights not summing to 100, marks out of scale, someone else's section,
editing a submitted or published sheet, a double submit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from campus.domains.academic.grades.models import CourseResult
from campus.domains.academic.selection.models import Enrollment
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.messaging.schemas import NotificationIn
from tests.domains.academic.grades.conftest import (
    API,
    SETUP,
    School,
    change_policy,
    enter_all,
    grade_counts,
    publish,
    set_up,
)
from tests.platform.access.conftest import (
    assert_problem,
    audit_of,
    outbox_events,
    staff_in,
    student_in,
)


async def results_of(db: Runtime, section_id: int) -> dict[int, dict[str, Any]]:
    """The section's published results by student, as plain values."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(CourseResult).where(CourseResult.section_id == section_id)
        )
        return {
            r.person_id: {
                c: getattr(r, c)
                for c in (
                    "score",
                    "level",
                    "passed",
                    "credits",
                    "grade_point",
                    "special",
                    "attempt",
                )
            }
            for r in rows
        }


def by_person(sheet: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {e["person_id"]: e for e in sheet["entries"]}


async def test_the_sheet_goes_from_teacher_to_college_to_registrar(
    db: Runtime, school: School
) -> None:
    sheet = await set_up(school)
    assert [c["key"] for c in sheet["components"]] == ["c1", "c2", "c3"]
    assert {e["person_id"] for e in sheet["entries"]} == {s["id"] for s in school.students}
    sheet = await enter_all(school)
    entries = by_person(sheet)
    a, b, c = (entries[s["id"]] for s in school.students)
    assert Decimal(a["total"]) == Decimal("83.0")  # 24 + 14 + 45
    assert Decimal(b["total"]) == Decimal("55.5")  # 18 + 10 + 27.5
    assert Decimal(c["total"]) == Decimal("97.5")  # 28.5 + 20 + 49
    # The student sees nothing before publication.
    mine = (await school.student.get(f"{API}/me")).json()
    assert mine["terms"] == [] and mine["gpa"] is None
    await publish(school)
    sheet = (await school.teacher.get(f"{API}/sections/{school.section_id}")).json()
    assert sheet["state"] == "published"
    found = await results_of(db, school.section_id)
    assert len(found) == 3
    first = found[school.students[0]["id"]]
    assert (first["score"], first["level"], first["passed"], first["credits"]) == (
        Decimal("83.0"),
        "good",
        True,
        Decimal(3),
    )
    assert first["grade_point"] == Decimal("3.3")  # 82–84 on the 4.0 table
    assert found[school.students[1]["id"]]["passed"] is False
    mine = (await school.student.get(f"{API}/me")).json()
    assert Decimal(mine["gpa"]) == Decimal("3.30")
    [term] = mine["terms"]
    [result] = term["results"]
    assert result["course_name"] == "数据结构" and Decimal(result["score"]) == Decimal("83.0")
    assert mine["class_rank"] == 2 and mine["class_size"] == 3  # 97.5 > 83 > 55.5
    five = (await school.student.get(f"{API}/me", params={"scale": "5.0"})).json()
    assert Decimal(five["gpa"]) == Decimal("3.30")  # 83 / 10 - 5
    events = await outbox_events(db, "academic.grades.published")
    assert any(e.payload["section_id"] == school.section_id for e in events)
    assert [
        e.payload["results"] for e in events if e.payload["section_id"] == school.section_id
    ] == [3]
    for action in ("setup", "enter", "submit", "review", "publish"):
        assert await audit_of(db, f"academic.grade.{action}"), action


async def test_publishing_notifies_the_students_and_warns_on_failed_credits(
    db: Runtime, school: School
) -> None:
    await change_policy(school, warning_credits="3")  # the registrar's threshold
    await set_up(school)
    await enter_all(school)  # the second student fails (55.5) the 3-credit course
    await publish(school)
    notices = [
        e.payload
        for e in await outbox_events(db, "messaging.notify_requested")
        if e.payload["link"] == "/academic/grades/me"
    ]
    ids = {s["id"] for s in school.students}
    [published] = [n for n in notices if set(n["audience"]["person_ids"]) == ids]
    assert published["title"] == "成绩发布：数据结构"
    assert NotificationIn.model_validate(published).audience.person_ids  # what messaging reads
    warnings = [
        e.payload
        for e in await outbox_events(db, "academic.warning")
        if e.payload["section_id"] == school.section_id
    ]
    assert [(w["person_id"], w["failed_credits"]) for w in warnings] == [
        (school.students[1]["id"], "3.0")
    ]
    assert any(n["title"] == "学业预警" for n in notices)


async def test_weights_must_sum_to_100(db: Runtime, school: School) -> None:
    before = await grade_counts(db)
    body = {
        "scale": "percentage",
        "components": [{"name": "平时", "weight": 30}, {"name": "期末", "weight": 60}],
    }
    response = await school.teacher.put(f"{API}/sections/{school.section_id}/setup", json=body)
    problem = assert_problem(response, 422, "components")
    assert "100" in problem["detail"]
    body = {
        "scale": "percentage",
        "components": [{"name": "期末", "weight": 50}, {"name": "期末", "weight": 50}],
    }
    response = await school.teacher.put(f"{API}/sections/{school.section_id}/setup", json=body)
    assert_problem(response, 422, "components[1].name")
    response = await school.teacher.put(
        f"{API}/sections/{school.section_id}/setup", json={**SETUP, "scale": "ten_level"}
    )
    assert response.status_code == 422
    assert await grade_counts(db) == before


async def test_marks_out_of_scale_are_refused_by_field(db: Runtime, school: School) -> None:
    await set_up(school)
    before = await grade_counts(db)
    s1, s2, _s3 = school.students
    cases = [
        ({"person_id": s1["id"], "marks": {"c1": 101}}, "entries[0].marks.c1"),
        ({"person_id": s1["id"], "marks": {"c2": -1}}, "entries[0].marks.c2"),
        ({"person_id": s1["id"], "marks": {"c3": "85.55"}}, "entries[0].marks.c3"),
        ({"person_id": s1["id"], "marks": {"c3": "abc"}}, "entries[0].marks.c3"),
        ({"person_id": s1["id"], "marks": {"c9": 80}}, "entries[0].marks.c9"),
        ({"person_id": s1["id"], "level": "优"}, "entries[0].level"),
        ({"person_id": school.section_id * 1000 + 7, "marks": {"c1": 80}}, "entries[0].person_id"),
    ]
    for entry, field in cases:
        ok = {"person_id": s2["id"], "marks": {"c1": 90}}
        response = await school.teacher.put(
            f"{API}/sections/{school.section_id}/entries", json={"entries": [entry, ok]}
        )
        assert_problem(response, 422, field)
    assert await grade_counts(db) == before
    # Level scales: a level of the scale, else refused.
    body = {"scale": "five_level", "components": [{"name": "考查", "weight": 100}]}
    await set_up(school, body)
    response = await school.teacher.put(
        f"{API}/sections/{school.section_id}/entries",
        json={"entries": [{"person_id": s1["id"], "level": "通过"}]},
    )
    assert_problem(response, 422, "entries[0].level")


async def test_someone_elses_section_is_not_theirs(school: School) -> None:
    url = f"{API}/sections/{school.section_id}"
    for client in (school.stranger, school.student, school.reviewer_b):
        assert_problem(await client.get(url), 404)
        assert_problem(await client.put(f"{url}/setup", json=SETUP), 404)
    # The college's reviewer reads it but does not enter marks.
    assert (await school.reviewer.get(url)).status_code == 200
    assert_problem(await school.reviewer.put(f"{url}/setup", json=SETUP), 403)
    # A teacher does not review, and the other college's reviewer does not see it.
    await set_up(school)
    await enter_all(school)
    assert (await school.teacher.post(f"{url}/submit")).status_code == 200
    assert_problem(await school.teacher.post(f"{url}/review"), 403)
    assert_problem(await school.reviewer_b.post(f"{url}/review"), 404)
    assert_problem(await school.reviewer.post(f"{url}/publish"), 403)
    # Nor does a stranger list it.
    mine = (await school.stranger.get(f"{API}/mine", params={"term_id": school.term_id})).json()
    assert school.section_id not in {r["section_id"] for r in mine}
    queue = (
        await school.reviewer.get(
            f"{API}/sheets", params={"term_id": school.term_id, "state": "submitted"}
        )
    ).json()
    assert [r["section_id"] for r in queue] == [school.section_id]
    queue_b = (
        await school.reviewer_b.get(f"{API}/sheets", params={"term_id": school.term_id})
    ).json()
    assert school.section_id not in {r["section_id"] for r in queue_b}


async def test_a_submitted_or_published_sheet_cannot_be_edited(db: Runtime, school: School) -> None:
    url = f"{API}/sections/{school.section_id}"
    await set_up(school)
    # Incomplete: refused, naming how many are missing.
    await school.teacher.put(
        f"{url}/entries",
        json={"entries": [{"person_id": school.students[0]["id"], "marks": {"c1": 80}}]},
    )
    assert_problem(await school.teacher.post(f"{url}/submit"), 422, "entries")
    await enter_all(school)
    assert (await school.teacher.post(f"{url}/submit")).status_code == 200
    assert_problem(await school.teacher.post(f"{url}/submit"), 409, "state")  # double submit
    one = {"entries": [{"person_id": school.students[0]["id"], "marks": {"c1": 10}}]}
    assert_problem(await school.teacher.put(f"{url}/entries", json=one), 409, "state")
    assert_problem(await school.teacher.put(f"{url}/setup", json=SETUP), 409, "state")
    assert_problem(await school.registrar.post(f"{url}/publish"), 409, "state")  # not reviewed
    assert (await school.reviewer.post(f"{url}/review")).status_code == 200
    assert (await school.registrar.post(f"{url}/publish")).status_code == 200
    before = await grade_counts(db)
    response = await school.teacher.put(f"{url}/entries", json=one)
    problem = assert_problem(response, 409, "state")
    assert "已发布" in problem["detail"]
    assert_problem(await school.registrar.post(f"{url}/publish"), 409, "state")
    assert await grade_counts(db) == before


async def test_a_review_sends_the_sheet_back_with_a_reason(db: Runtime, school: School) -> None:
    url = f"{API}/sections/{school.section_id}"
    await set_up(school)
    await enter_all(school)
    await school.teacher.post(f"{url}/submit")
    assert_problem(await school.reviewer.post(f"{url}/return", json={"reason": ""}), 422, "reason")
    response = await school.reviewer.post(f"{url}/return", json={"reason": "期末成绩偏高，请核对"})
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "draft"
    assert response.json()["return_reason"] == "期末成绩偏高，请核对"
    entries = [{"person_id": school.students[1]["id"], "marks": {"c1": 60, "c2": 60, "c3": 60}}]
    response = await school.teacher.put(f"{url}/entries", json={"entries": entries})
    assert Decimal(by_person(response.json())[school.students[1]["id"]]["total"]) == 60
    await school.teacher.post(f"{url}/submit")
    await school.reviewer.post(f"{url}/review")
    # The registrar may send a reviewed sheet back too.
    response = await school.registrar.post(f"{url}/withdraw", json={"reason": "请补录缓考学生"})
    assert response.json()["state"] == "draft"
    entries_audit = await audit_of(db, "academic.grade.return")
    assert [e["after"]["reason"] for e in entries_audit[-2:]] == [
        "期末成绩偏高，请核对",
        "请补录缓考学生",
    ]


async def test_special_marks_and_level_scales(db: Runtime, school: School) -> None:
    url = f"{API}/sections/{school.section_id}"
    await set_up(school, {"scale": "five_level", "components": [{"name": "论文", "weight": 100}]})
    s1, s2, s3 = school.students
    entries = [
        {"person_id": s1["id"], "level": "优"},
        {"person_id": s2["id"], "special": "absent"},
        {"person_id": s3["id"], "special": "deferred"},
    ]
    response = await school.teacher.put(f"{url}/entries", json={"entries": entries})
    assert response.status_code == 200, response.text
    assert all(e["complete"] for e in response.json()["entries"])
    stats = (await school.teacher.get(f"{url}/stats")).json()
    assert stats["buckets"]["优"] == 1 and stats["absent"] == 1 and stats["deferred"] == 1
    await publish(school)
    results = await results_of(db, school.section_id)
    assert set(results) == {s1["id"], s2["id"]}  # 缓考 writes no result until its exam
    assert (results[s1["id"]]["level"], results[s1["id"]]["grade_point"]) == (
        "excellent",
        Decimal("4.0"),
    )
    assert (results[s2["id"]]["special"], results[s2["id"]]["passed"]) == ("absent", False)


async def test_a_student_holding_a_place_through_selection_belongs_to_the_section(
    db: Runtime, school: School, admin: Any
) -> None:
    outsider = await staff_in(admin, school.tree, school.tree.college_b)
    elsewhere = await student_in(
        admin, school.tree, class_id=None, org_unit_id=school.tree.major_a, name="周四"
    )
    now = clock.now()
    async with db.db.transaction() as session:
        for person_id, status in ((elsewhere["id"], "selected"), (outsider["id"], "dropped")):
            session.add(
                Enrollment(
                    term_id=school.term_id,
                    section_id=school.section_id,
                    course_id=school.course_id,
                    person_id=person_id,
                    status=status,
                    source="self",
                    credits=Decimal(3),
                    queued_at=now,
                    updated_at=now,
                )
            )
    sheet = (await school.teacher.get(f"{API}/sections/{school.section_id}")).json()
    ids = {e["person_id"] for e in sheet["entries"]}
    assert elsewhere["id"] in ids and outsider["id"] not in ids
    assert len(ids) == 4
