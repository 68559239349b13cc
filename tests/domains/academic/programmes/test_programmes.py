"""Training programmes: the happy path, every rule of their content (each a 422 naming the
field, nothing written), versions and copies, scope, and who reads drafts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.domains.academic import service as academic
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.domains.academic.conftest import HTML
from tests.domains.academic.programmes.conftest import (
    PROGRAMMES,
    World,
    acad_counts,
    programme_body,
    published,
)
from tests.platform.access.conftest import SignIn, Tree, assert_problem, staff_in, student_in


async def test_create_read_and_publish(
    admin: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    response = await admin.post(PROGRAMMES, json=programme_body(world, tree.major_a))
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["status"] == "draft" and made["version"] == 1
    assert made["college_id"] == tree.college_a
    assert [g["name"] for g in made["groups"]] == ["通识必修", "专业必修", "专业选修"]
    required = made["groups"][0]
    assert required["available_credits"] == 7 and required["required_credits"] == 7
    data_structures = made["groups"][1]["courses"][1]
    assert data_structures["prerequisites"] == [world.course_codes["C3"]]
    assert data_structures["hours"] == 48  # from the catalogue
    response = await admin.post(f"{PROGRAMMES}/{made['id']}/publish")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "published"
    listed = await admin.get(f"{PROGRAMMES}?major_id={tree.major_a}")
    assert [p["id"] for p in listed.json()] == [made["id"]]
    async with db.db.read() as session:
        payloads = list(
            await session.scalars(
                select(OutboxRow.payload).where(OutboxRow.name == "academic.programme.published")
            )
        )
    assert {
        "programme_id": made["id"],
        "major_id": tree.major_a,
        "cohort": 2024,
        "version": 1,
    } in payloads
    found = None
    async with db.db.read() as session:
        found = await academic.programme_of_class(session, tree.class_a)
    assert found is not None and found.id == made["id"]


async def test_the_pages_and_the_publish_form(
    admin: httpx.AsyncClient, tree: Tree, world: World
) -> None:
    made = (await admin.post(PROGRAMMES, json=programme_body(world, tree.major_a))).json()
    page = await admin.get(f"/academic/programmes?college_id={tree.college_a}", headers=HTML)
    assert page.status_code == 200 and made["name"] in page.text
    page = await admin.get(f"/academic/programmes/{made['id']}", headers=HTML)
    assert page.status_code == 200 and 'data-testid="publish"' in page.text
    assert "数据结构" in page.text and "草稿" in page.text
    token = admin.headers["X-CSRF-Token"]
    response = await admin.post(
        f"/academic/programmes/{made['id']}/publish", data={"csrf_token": token}, headers=HTML
    )
    assert response.status_code == 303
    assert (await admin.get(f"{PROGRAMMES}/{made['id']}")).json()["status"] == "published"
    page = await admin.get(f"/academic/programmes/{made['id']}", headers=HTML)
    assert 'data-testid="new-version"' in page.text and 'data-testid="publish"' not in page.text


def _broken(world: World, tree: Tree, change: Any) -> dict[str, Any]:
    body = programme_body(world, tree.major_a)
    change(body, world.courses)
    return body


def _short_group(body: dict[str, Any], c: dict[str, int]) -> None:
    body["groups"][2]["min_credits"] = "5"  # electives offer 4
    body["total_credits"] = "18"


def _required_above(body: dict[str, Any], c: dict[str, int]) -> None:
    body["groups"][0]["min_credits"] = "6"  # its required courses make 7
    body["total_credits"] = "14"


def _sum_mismatch(body: dict[str, Any], c: dict[str, int]) -> None:
    body["total_credits"] = "160"


def _twice(body: dict[str, Any], c: dict[str, int]) -> None:
    body["groups"][2]["courses"].append({"course_id": c["C1"], "term": 3, "required": False})


def _later_prerequisite(body: dict[str, Any], c: dict[str, int]) -> None:
    body["prerequisites"].append({"course_id": c["C3"], "prerequisite_id": c["C5"]})


def _unknown_course(body: dict[str, Any], c: dict[str, int]) -> None:
    body["groups"][2]["courses"].append({"course_id": 987654321, "term": 3, "required": False})


def _prerequisite_outside(body: dict[str, Any], c: dict[str, int]) -> None:
    body["prerequisites"].append({"course_id": c["C4"], "prerequisite_id": c["C7"]})


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (_short_group, "groups.2.min_credits", "达不到最低要求"),
        (_required_above, "groups.0.min_credits", "超过了最低学分"),
        (_sum_mismatch, "total_credits", "不相等"),
        (_twice, "groups.2.courses.2.course_id", "出现了两次"),
        (_later_prerequisite, "prerequisites.1.prerequisite_id", "晚于课程"),
        (_unknown_course, "groups.2.courses.2.course_id", "不在课程库中"),
        (_prerequisite_outside, "prerequisites.1.prerequisite_id", "不在本方案中"),
    ],
)
async def test_bad_content_is_refused_naming_the_field(
    admin: httpx.AsyncClient,
    tree: Tree,
    world: World,
    db: Runtime,
    change: Any,
    field: str,
    words: str,
) -> None:
    before = await acad_counts(db)
    response = await admin.post(PROGRAMMES, json=_broken(world, tree, change))
    body = assert_problem(response, 422, field)
    assert any(words in e["reason"] for e in body["errors"]), body
    assert await acad_counts(db) == before


async def test_a_prerequisite_cycle_is_named(
    admin: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    c = world.courses
    body = programme_body(world, tree.major_a)
    # all in term 1 so that only the cycle is wrong: 数据结构 → 程序设计基础 → 高等数学A → 数据结构
    body["groups"][1]["courses"][1]["term"] = 1
    body["prerequisites"] += [
        {"course_id": c["C3"], "prerequisite_id": c["C1"]},
        {"course_id": c["C1"], "prerequisite_id": c["C4"]},
    ]
    before = await acad_counts(db)
    problem = assert_problem(await admin.post(PROGRAMMES, json=body), 422, "prerequisites")
    reasons = [e["reason"] for e in problem["errors"] if e["field"] == "prerequisites"]
    assert reasons == ["先修关系成环：高等数学A → 数据结构 → 程序设计基础 → 高等数学A"]
    assert await acad_counts(db) == before


async def test_published_is_read_only_and_changes_go_into_a_new_version(
    admin: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    first = await published(admin, programme_body(world, tree.major_a))
    content = programme_body(world, tree.major_a)
    del content["major_id"], content["cohort"]
    before = await acad_counts(db)
    assert_problem(await admin.put(f"{PROGRAMMES}/{first['id']}", json=content), 409)
    assert_problem(await admin.delete(f"{PROGRAMMES}/{first['id']}"), 409)
    assert_problem(await admin.post(f"{PROGRAMMES}/{first['id']}/publish"), 409)
    assert_problem(
        await admin.post(PROGRAMMES, json=programme_body(world, tree.major_a)), 409, "cohort"
    )
    assert await acad_counts(db) == before

    response = await admin.post(f"{PROGRAMMES}/{first['id']}/versions")
    assert response.status_code == 201, response.text
    second = response.json()
    assert (second["version"], second["status"], second["based_on_id"]) == (2, "draft", first["id"])
    assert_problem(await admin.post(f"{PROGRAMMES}/{first['id']}/versions"), 409)
    # the new version: 操作系统 leaves, 编译原理 comes, 数据结构 moves to term 3
    c = world.courses
    content["groups"][2]["courses"][0] = {"course_id": c["C7"], "term": 3, "required": False}
    content["groups"][1]["courses"][1]["term"] = 3
    response = await admin.put(f"{PROGRAMMES}/{second['id']}", json=content)
    assert response.status_code == 200, response.text

    diff = (await admin.get(f"{PROGRAMMES}/{first['id']}/compare/{second['id']}")).json()
    assert [x["name"] for x in diff["courses_added"]] == ["编译原理"]
    assert [x["name"] for x in diff["courses_removed"]] == ["操作系统"]
    changed = {x["name"]: x["changes"] for x in diff["courses_changed"]}
    assert changed == {"数据结构": [{"field": "term", "before": "2", "after": "3"}]}
    assert diff["groups_added"] == [] and diff["groups_removed"] == []

    page = await admin.get(
        f"/academic/programmes/{first['id']}/compare/{second['id']}", headers=HTML
    )
    assert page.status_code == 200
    assert "编译原理" in page.text and "操作系统" in page.text


async def test_copy_to_a_new_cohort(admin: httpx.AsyncClient, tree: Tree, world: World) -> None:
    first = await published(admin, programme_body(world, tree.major_a))
    response = await admin.post(f"{PROGRAMMES}/{first['id']}/copy", json={"cohort": 2025})
    assert response.status_code == 201, response.text
    copy = response.json()
    assert (copy["cohort"], copy["version"], copy["status"]) == (2025, 1, "draft")
    assert copy["name"].endswith("2025级培养方案")
    assert sum(len(g["courses"]) for g in copy["groups"]) == 6
    diff = (await admin.get(f"{PROGRAMMES}/{first['id']}/compare/{copy['id']}")).json()
    assert diff["courses_added"] == [] and diff["courses_changed"] == []
    assert_problem(
        await admin.post(f"{PROGRAMMES}/{first['id']}/copy", json={"cohort": 2025}), 409, "cohort"
    )


async def test_a_secretary_edits_only_their_colleges_programmes(
    admin: httpx.AsyncClient, tree: Tree, world: World, sign_in: SignIn, db: Runtime
) -> None:
    mine = await staff_in(admin, tree, tree.college_a)
    other = await staff_in(admin, tree, tree.college_b)
    secretary_a = await sign_in(mine, [("academic_secretary", ScopeKind.SUBTREE, tree.college_a)])
    secretary_b = await sign_in(other, [("academic_secretary", ScopeKind.SUBTREE, tree.college_b)])
    before = await acad_counts(db)
    response = await secretary_b.post(PROGRAMMES, json=programme_body(world, tree.major_a))
    assert_problem(response, 403)
    assert await acad_counts(db) == before
    response = await secretary_a.post(PROGRAMMES, json=programme_body(world, tree.major_a))
    assert response.status_code == 201, response.text
    draft = response.json()
    # the other college's secretary neither reads the draft nor publishes it
    assert_problem(await secretary_b.get(f"{PROGRAMMES}/{draft['id']}"), 403)
    assert_problem(await secretary_b.post(f"{PROGRAMMES}/{draft['id']}/publish"), 403)
    listed = await secretary_b.get(f"{PROGRAMMES}?major_id={tree.major_a}")
    assert listed.json() == []
    assert (await secretary_a.post(f"{PROGRAMMES}/{draft['id']}/publish")).status_code == 200
    listed = await secretary_b.get(f"{PROGRAMMES}?major_id={tree.major_a}")
    assert [p["id"] for p in listed.json()] == [draft["id"]]  # published: everyone browses


async def test_a_student_reads_their_own_programme(
    admin: httpx.AsyncClient, tree: Tree, world: World, sign_in: SignIn
) -> None:
    student = await sign_in(await student_in(admin, tree))
    assert_problem(await student.get("/api/v1/academic/my/programme"), 404)
    page = await student.get("/academic/my/programme", headers=HTML)
    assert page.status_code == 200 and "还没有发布培养方案" in page.text
    response = await admin.post(PROGRAMMES, json=programme_body(world, tree.major_a))
    draft = response.json()
    assert_problem(await student.get(f"{PROGRAMMES}/{draft['id']}"), 403)
    assert_problem(await student.post(PROGRAMMES, json=programme_body(world, tree.major_a)), 403)
    await admin.post(f"{PROGRAMMES}/{draft['id']}/publish")
    mine = (await student.get("/api/v1/academic/my/programme")).json()
    assert mine["id"] == draft["id"]
    page = await student.get("/academic/my/programme", headers=HTML)
    assert page.status_code == 200
    assert "高等数学A" in page.text and "第1学期" in page.text
    assert 'name="viewport"' in page.text  # the layout serves phones


async def test_unknown_programmes_are_404(admin: httpx.AsyncClient, db: Runtime) -> None:
    before = await acad_counts(db)
    assert_problem(await admin.get(f"{PROGRAMMES}/987654"), 404)
    assert_problem(await admin.post(f"{PROGRAMMES}/987654/publish"), 404)
    assert_problem(await admin.post(f"{PROGRAMMES}/987654/copy", json={"cohort": 2030}), 404)
    assert_problem(await admin.get(f"{PROGRAMMES}/987654/compare/987655"), 404)
    assert (await admin.get("/academic/programmes/987654", headers=HTML)).status_code == 404
    assert await acad_counts(db) == before


async def test_a_major_is_required_and_bad_input_is_422(
    admin: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    before = await acad_counts(db)
    body = programme_body(world, tree.college_a)
    assert_problem(await admin.post(PROGRAMMES, json=body), 422, "major_id")
    body = programme_body(world, tree.major_a)
    body["groups"][0]["courses"][0]["term"] = 13
    assert_problem(await admin.post(PROGRAMMES, json=body), 422)
    body = programme_body(world, tree.major_a, total_credits="15.25")
    assert_problem(await admin.post(PROGRAMMES, json=body), 422)
    assert await acad_counts(db) == before


def editor_form(world: World, token: str, **extra: str) -> dict[str, str]:
    codes = world.course_codes
    form = {
        "csrf_token": token,
        "total_credits": "15",
        "years": "4",
        "g0_name": "通识必修",
        "g0_min": "7",
        "g0_r0_code": codes["C1"],
        "g0_r0_term": "1",
        "g0_r0_required": "on",
        "g0_r1_code": codes["C2"],
        "g0_r1_term": "1",
        "g0_r1_required": "on",
        "g0_r2_code": "",
        "g1_name": "专业必修",
        "g1_min": "6",
        "g1_r0_code": codes["C3"],
        "g1_r0_term": "1",
        "g1_r0_required": "on",
        "g1_r1_code": codes["C4"],
        "g1_r1_term": "2",
        "g1_r1_required": "on",
        "g2_name": "专业选修",
        "g2_min": "2",
        "g2_r0_code": codes["C5"],
        "g2_r0_term": "3",
        "g2_r1_code": codes["C6"],
        "g2_r1_term": "3",
        "g3_name": "",
        "g3_min": "",
        "g3_r0_code": "",
        "prerequisites": f"{codes['C4']} <- {codes['C3']}",
    }
    form.update(extra)
    return form


async def test_the_editor_creates_and_refuses_with_errors_on_the_rows(
    admin: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    token = admin.headers["X-CSRF-Token"]
    page = await admin.get("/academic/programmes/new", headers=HTML)
    assert page.status_code == 200 and 'data-testid="programme-editor"' in page.text
    form = editor_form(world, token, major_id=str(tree.major_a), cohort="2024")
    response = await admin.post("/academic/programmes/new", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    made = (await admin.get(f"{PROGRAMMES}?major_id={tree.major_a}")).json()[0]
    got = (await admin.get(f"{PROGRAMMES}/{made['id']}")).json()
    assert [len(g["courses"]) for g in got["groups"]] == [2, 2, 2]
    assert got["prerequisites"][0]["course_code"] == world.course_codes["C4"]

    before = await acad_counts(db)
    codes = world.course_codes
    cycle = editor_form(
        world,
        token,
        g1_r1_term="1",
        prerequisites=f"{codes['C4']} <- {codes['C3']}\n{codes['C3']} <- {codes['C4']}",
    )
    response = await admin.post(f"/academic/programmes/{made['id']}/edit", data=cycle, headers=HTML)
    assert response.status_code == 422
    assert "先修关系成环：程序设计基础 → 数据结构 → 程序设计基础" in response.text
    unknown = editor_form(world, token, g2_r1_code="NOSUCH")
    response = await admin.post(
        f"/academic/programmes/{made['id']}/edit", data=unknown, headers=HTML
    )
    assert response.status_code == 422 and "课程代码 NOSUCH 不在课程库中" in response.text
    short = editor_form(world, token, g2_min="9", total_credits="22")
    response = await admin.post(f"/academic/programmes/{made['id']}/edit", data=short, headers=HTML)
    assert response.status_code == 422 and 'data-testid="group-error"' in response.text
    assert await acad_counts(db) == before
