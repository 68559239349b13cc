"""The course catalogue through the API and pages: validation, the data scope of an academic
secretary (their own college only), search, audit and events, and the Excel import."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from campus.domains.academic.catalog.actions import COLUMNS
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.domains.academic.master.conftest import (
    COURSES,
    HTML,
    Tree,
    assert_problem,
    counts,
    xlsx,
)

HEADER = [c.header + ("*" if c.required else "") for c in COLUMNS]


def course_body(org_unit_id: int, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "T0809001",
        "name": "测试数据结构",
        "name_en": "Data Structures (test)",
        "credits": 3.5,
        "lecture_hours": 48,
        "lab_hours": 16,
        "assessment": "exam",
        "org_unit_id": org_unit_id,
        "room_type": "multimedia",
    }
    body.update(overrides)
    return body


async def org_code(admin: httpx.AsyncClient, unit_id: int) -> str:
    response = await admin.get(f"/api/v1/users/org-units/{unit_id}")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def test_secretary_keeps_own_college_courses_only(
    secretary_a: httpx.AsyncClient, registrar: httpx.AsyncClient, tree: Tree, db: Runtime
) -> None:
    made = await secretary_a.post(COURSES, json=course_body(tree.college_a))
    assert made.status_code == 201, made.text
    course = made.json()
    assert course["credits"] == 3.5 and course["org_unit_name"] == "甲学院"
    async with db.db.read() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "academic.course.create",
                    AuditEntry.target_id == str(course["id"]),
                )
            )
        )
        assert entries and entries[0].after is not None and entries[0].after["credits"] == "3.5"
        events = list(
            await session.scalars(
                select(OutboxRow).where(OutboxRow.name == "academic.course.saved")
            )
        )
        assert any(e.payload["course_id"] == course["id"] for e in events)

    other = await registrar.post(
        COURSES, json=course_body(tree.college_b, code="T0809002", name="乙课程")
    )
    assert other.status_code == 201
    other_id = other.json()["id"]

    before = await counts(db)
    assert_problem(
        await secretary_a.post(COURSES, json=course_body(tree.college_b, code="T0809003")), 403
    )
    assert_problem(
        await secretary_a.put(
            f"{COURSES}/{other_id}", json=course_body(tree.college_b, code="T0809002")
        ),
        403,
    )
    # Nor may the secretary move their own course to college B.
    assert_problem(
        await secretary_a.put(f"{COURSES}/{course['id']}", json=course_body(tree.college_b)), 403
    )
    assert_problem(await secretary_a.delete(f"{COURSES}/{other_id}"), 403)
    assert (await counts(db))["courses"] == before["courses"]
    assert (await registrar.get(f"{COURSES}/{other_id}")).json()["name"] == "乙课程"

    changed = await secretary_a.put(
        f"{COURSES}/{course['id']}", json=course_body(tree.college_a, credits=4, active=False)
    )
    assert changed.status_code == 200 and changed.json()["credits"] == 4.0
    assert changed.json()["active"] is False
    mine = (await secretary_a.get(COURSES, params={"mine": "true", "q": "T08090"})).json()
    assert [c["code"] for c in mine["items"]] == ["T0809001"]
    everything = (await registrar.get(COURSES, params={"mine": "true", "q": "T08090"})).json()
    assert [c["code"] for c in everything["items"]] == ["T0809001", "T0809002"]
    # The registrar edits any course.
    edited = await registrar.put(
        f"{COURSES}/{other_id}",
        json=course_body(tree.college_b, code="T0809002", name="乙课程（修订）"),
    )
    assert edited.status_code == 200


async def test_bad_courses_are_refused_and_change_nothing(
    registrar: httpx.AsyncClient, plain: httpx.AsyncClient, tree: Tree, db: Runtime
) -> None:
    assert (await registrar.post(COURSES, json=course_body(tree.college_a))).status_code == 201
    before = await counts(db)
    cases = [
        (course_body(tree.college_a, code="T1", credits=3.3), 422, "credits"),
        (course_body(tree.college_a, code="T1", credits=0), 422, "credits"),
        (course_body(tree.college_a, code="T1", lecture_hours=-1), 422, "lecture_hours"),
        (course_body(tree.college_a, code="T1", assessment="paper"), 422, "assessment"),
        (course_body(tree.college_a, code="T1", room_type="garage"), 422, "room_type"),
        (course_body(987654, code="T1"), 422, "org_unit_id"),
        (course_body(tree.major_a, code="T1"), 422, "org_unit_id"),
        (course_body(tree.college_a, code=""), 422, "code"),
        (course_body(tree.college_a), 409, "code"),
    ]
    for body, status, field in cases:
        assert_problem(await registrar.post(COURSES, json=body), status, field)
    assert_problem(await plain.post(COURSES, json=course_body(tree.college_a, code="T1")), 403)
    assert_problem(
        await registrar.put(f"{COURSES}/987654", json=course_body(tree.college_a, code="T1")), 404
    )
    assert await counts(db) == before


async def test_search_and_filter(
    plain: httpx.AsyncClient, registrar: httpx.AsyncClient, tree: Tree
) -> None:
    by_name = (await plain.get(COURSES, params={"q": "数据结构"})).json()
    assert by_name["total"] >= 1 and all("数据结构" in c["name"] for c in by_name["items"])
    by_code = (await plain.get(COURSES, params={"q": "GE00"})).json()
    assert {c["name"] for c in by_code["items"]} >= {"思想道德与法治", "中国近现代史纲要"}
    await registrar.post(COURSES, json=course_body(tree.college_b, code="T0809009"))
    of_b = (await plain.get(COURSES, params={"org_unit_id": tree.college_b})).json()
    assert [c["code"] for c in of_b["items"]] == ["T0809009"]
    assert (await plain.get(COURSES, params={"mine": "true"})).json()["total"] == 0
    assert_problem(await plain.get(f"{COURSES}/987654"), 404)


async def test_excel_import_checks_every_row_and_the_scope(
    secretary_a: httpx.AsyncClient, admin: httpx.AsyncClient, tree: Tree, db: Runtime
) -> None:
    code_a, code_b = await org_code(admin, tree.college_a), await org_code(admin, tree.college_b)
    good = [
        ["T7001", "导入课程一", "", 2, 32, 0, "考查", code_a, "", "", "", ""],
        [
            "T7002",
            "导入课程二",
            "Imported II",
            3.5,
            48,
            16,
            "考试",
            code_a,
            "",
            "机房",
            "简介",
            "是",
        ],
    ]
    bad = [
        *good,
        ["T7003", "别院课程", "", 2, 32, 0, "考试", code_b, "", "", "", ""],
        ["T7004", "学分不对", "", 2.2, 32, 0, "考试", code_a, "", "", "", ""],
        ["T7001", "重复", "", 2, 32, 0, "口试", code_a, "", "", "", ""],
        ["T7005", "", "", 2, 32, 0, "考试", "NOPE", "", "", "", ""],
    ]
    before = await counts(db)
    refused = await secretary_a.post(
        f"{COURSES}/import", files={"file": ("c.xlsx", xlsx(HEADER, bad))}
    )
    report = assert_problem(refused, 422)["report"]
    problems = {(p["row"], p["column"]) for p in report["problems"]}
    assert {
        (4, "开课单位代码"),
        (5, "学分"),
        (6, "考核方式"),
        (7, "开课单位代码"),
        (7, "课程名称"),
    } <= problems
    assert report["imported"] == 0
    assert await counts(db) == before

    done = await secretary_a.post(
        f"{COURSES}/import", files={"file": ("c.xlsx", xlsx(HEADER, good))}
    )
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 2
    found = (await secretary_a.get(COURSES, params={"q": "T700"})).json()["items"]
    assert [(c["code"], c["credits"], c["assessment"], c["room_type"]) for c in found] == [
        ("T7001", 2.0, "check", "multimedia"),
        ("T7002", 3.5, "exam", "computer"),
    ]
    duplicate = await secretary_a.post(
        f"{COURSES}/import", files={"file": ("c.xlsx", xlsx(HEADER, good[:1]))}
    )
    assert (
        assert_problem(duplicate, 422)["report"]["problems"][0]["reason"] == "课程代码 T7001 已存在"
    )

    export = await secretary_a.get(f"{COURSES}/export.xlsx", params={"q": "T700"})
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["T7001", "T7002"]
    assert rows[2][3] == 3.5 and rows[2][6] == "考试" and rows[2][7] == code_a
    # What was exported imports again once the codes are new.
    again = [[f"U{r[0]}", *r[1:]] for r in rows[1:]]
    reimport = await secretary_a.post(
        f"{COURSES}/import", files={"file": ("c.xlsx", xlsx(list(rows[0]), again))}
    )
    assert reimport.status_code == 200 and reimport.json()["imported"] == 2


async def test_catalog_pages(
    secretary_a: httpx.AsyncClient,
    registrar: httpx.AsyncClient,
    plain: httpx.AsyncClient,
    tree: Tree,
    db: Runtime,
) -> None:
    listed = await plain.get("/academic/courses", params={"q": "大学英语"}, headers=HTML)
    assert listed.status_code == 200 and listed.text.count('data-testid="course-row"') == 4
    assert 'data-testid="new-course"' not in listed.text
    assert "<td>3</td>" in listed.text and "<td>3.0</td>" not in listed.text
    assert (await plain.get("/academic/courses/new", headers=HTML)).status_code == 403

    other = (await registrar.post(COURSES, json=course_body(tree.college_b, code="T6001"))).json()
    detail = await secretary_a.get(f"/academic/courses/{other['id']}", headers=HTML)
    assert detail.status_code == 200 and "测试数据结构" in detail.text
    assert '<div class="datagrid-content">3.5</div>' in detail.text
    assert 'data-testid="edit-course"' not in detail.text
    assert (
        await secretary_a.get(f"/academic/courses/{other['id']}/edit", headers=HTML)
    ).status_code == 403

    form = await secretary_a.get("/academic/courses/new", headers=HTML)
    assert form.status_code == 200 and "甲学院" in form.text and "乙学院" not in form.text
    before = await counts(db)
    data = {
        "code": "T6002",
        "name": "页面课程",
        "credits": "2.3",
        "lecture_hours": "32",
        "org_unit_id": str(tree.college_a),
        "assessment": "check",
        "room_type": "multimedia",
        "active": "1",
    }
    refused = await secretary_a.post("/academic/courses/new", data=data, headers=HTML)
    assert refused.status_code == 422 and 'data-testid="error-credits"' in refused.text
    assert await counts(db) == before
    saved = await secretary_a.post(
        "/academic/courses/new", data={**data, "credits": "2.5"}, headers=HTML
    )
    assert saved.status_code == 303
    page = await secretary_a.get(saved.headers["location"], headers=HTML)
    assert "页面课程" in page.text and 'data-testid="edit-course"' in page.text
    assert '<div class="datagrid-content">2.5</div>' in page.text
    stolen = await secretary_a.post(
        f"/academic/courses/{other['id']}/edit", data={**data, "code": "T6001"}, headers=HTML
    )
    assert stolen.status_code == 403
    assert (await registrar.get(f"{COURSES}/{other['id']}")).json()["name"] == "测试数据结构"
