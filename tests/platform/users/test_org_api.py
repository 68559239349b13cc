"""Org units, classes and positions: create, update, move (cycles refused, paths kept), tree."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from campus.platform.users import service
from campus.platform.users.models import OrgUnit
from tests.platform.users.conftest import (
    Campus,
    create_org,
    create_person,
    event_payloads,
    staff_body,
    student_body,
    unique,
)


async def _paths(db: Runtime, *ids: int) -> dict[int, str]:
    async with db.db.read() as session:
        rows = await session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(ids)))
        return {i: p for i, p in rows.all()}


async def test_tree_and_children(admin: httpx.AsyncClient, campus: Campus) -> None:
    tree = (await admin.get("/api/v1/users/org-units/tree")).json()
    assert len(tree) == 1 and tree[0]["kind"] == "university"
    college = next(c for c in tree[0]["children"] if c["id"] == campus.college_id)
    assert [m["id"] for m in college["children"]] == [campus.major_id]
    assert college["child_count"] == 1

    children = (await admin.get(f"/api/v1/users/org-units?parent_id={campus.college_id}")).json()
    assert [(c["id"], c["child_count"]) for c in children] == [(campus.major_id, 0)]
    subtree = (await admin.get(f"/api/v1/users/org-units/tree?root_id={campus.college_id}")).json()
    assert [n["id"] for n in subtree] == [campus.college_id]


async def test_create_rules(admin: httpx.AsyncClient, campus: Campus) -> None:
    url = "/api/v1/users/org-units"
    response = await admin.post(
        url,
        json={
            "code": campus.college_code,
            "name": "重名",
            "kind": "college",
            "parent_id": campus.root_id,
        },
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "code"
    response = await admin.post(
        url, json={"code": unique("T"), "name": "x", "kind": "college", "parent_id": 987654321}
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "parent_id", "reason": "组织机构 987654321 不存在"}
    ]
    response = await admin.post(
        url, json={"code": unique("T"), "name": "x", "kind": "major", "parent_id": campus.root_id}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"] == "“专业”不能设在“学校”之下"
    response = await admin.post(
        url, json={"code": unique("T"), "name": "第二所大学", "kind": "university"}
    )
    assert response.status_code == 409
    response = await admin.post(
        url, json={"code": "坏 代码", "name": "x", "kind": "office", "parent_id": campus.root_id}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"


async def test_update_org_unit(admin: httpx.AsyncClient, campus: Campus, db: Runtime) -> None:
    url = f"/api/v1/users/org-units/{campus.major_id}"
    response = await admin.patch(url, json={"name": "软件工程", "discipline_code": "080902"})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["discipline_code"]) == ("软件工程", "080902")
    assert await event_payloads(db, "users.org_unit.updated", org_unit_id=campus.major_id) == [
        {"org_unit_id": campus.major_id, "changed": ["discipline_code", "name"]}
    ]
    response = await admin.patch(url, json={"code": campus.college_code})
    assert response.status_code == 409
    english = await admin.patch(url, json={"name_en": "Software Engineering"})
    assert english.status_code == 200 and english.json()["name_en"] == "Software Engineering"
    for bad in ({"name_en": "E" * 201}, {"name_en": None}):
        refused = await admin.patch(url, json=bad)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "name_en"
    assert (await admin.get(url)).json()["name_en"] == "Software Engineering"
    assert (
        await admin.patch("/api/v1/users/org-units/987654321", json={"name": "x"})
    ).status_code == 404


async def test_cannot_deactivate_a_unit_with_active_people(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    await create_person(admin, student_body(campus))
    url = f"/api/v1/users/org-units/{campus.major_id}"
    response = await admin.patch(url, json={"active": False})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "active", "reason": "机构内还有在籍在岗人员，不能停用"}
    ]
    empty = await create_org(admin, name="空办公室", kind="office", parent_id=campus.root_id)
    response = await admin.patch(f"/api/v1/users/org-units/{empty['id']}", json={"active": False})
    assert response.json()["active"] is False


async def test_move_rewrites_the_subtree_paths(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    a = await create_org(admin, name="系A", kind="department", parent_id=campus.college_id)
    b = await create_org(admin, name="教研室B", kind="department", parent_id=a["id"])
    c = await create_org(admin, name="课题组C", kind="department", parent_id=b["id"])
    teacher = await create_person(admin, staff_body(campus, org_unit_id=c["id"]))

    response = await admin.post(
        f"/api/v1/users/org-units/{a['id']}/move", json={"parent_id": campus.other_college_id}
    )
    assert response.status_code == 200, response.text
    assert response.json()["parent_id"] == campus.other_college_id
    paths = await _paths(db, a["id"], b["id"], c["id"], campus.other_college_id)
    base = paths[campus.other_college_id]
    assert paths[a["id"]] == f"{base}{a['id']}/"
    assert paths[b["id"]] == f"{base}{a['id']}/{b['id']}/"
    assert paths[c["id"]] == f"{base}{a['id']}/{b['id']}/{c['id']}/"

    def members(org_id: int) -> str:
        return f"/api/v1/users/people?org_unit_id={org_id}&subtree=true&type=faculty"

    moved_to = (await admin.get(members(campus.other_college_id))).json()
    left_from = (await admin.get(members(campus.college_id))).json()
    assert teacher["id"] in {i["id"] for i in moved_to["items"]}
    assert teacher["id"] not in {i["id"] for i in left_from["items"]}
    assert await event_payloads(db, "users.org_unit.moved", org_unit_id=a["id"]) == [
        {
            "org_unit_id": a["id"],
            "from_parent_id": campus.college_id,
            "to_parent_id": campus.other_college_id,
            "subtree_size": 3,
        }
    ]
    async with db.db.read() as session:
        assert await service.org_subtree_ids(session, a["id"]) == sorted(
            [a["id"], b["id"], c["id"]]
        )


async def test_move_that_would_make_a_cycle_is_refused(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    a = await create_org(admin, name="系A", kind="department", parent_id=campus.college_id)
    b = await create_org(admin, name="教研室B", kind="department", parent_id=a["id"])
    before = await _paths(db, a["id"], b["id"])

    for target in (b["id"], a["id"]):
        response = await admin.post(
            f"/api/v1/users/org-units/{a['id']}/move", json={"parent_id": target}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        [error] = response.json()["errors"]
        assert error["field"] == "parent_id" and "循环" in error["reason"]
    assert await _paths(db, a["id"], b["id"]) == before
    assert await event_payloads(db, "users.org_unit.moved", org_unit_id=a["id"]) == []


async def test_move_checks_kinds_and_existence(admin: httpx.AsyncClient, campus: Campus) -> None:
    url = f"/api/v1/users/org-units/{campus.major_id}/move"
    response = await admin.post(url, json={"parent_id": campus.root_id})
    assert response.status_code == 422  # a major belongs to a college or department
    response = await admin.post(url, json={"parent_id": 987654321})
    assert response.json()["errors"][0]["field"] == "parent_id"
    response = await admin.post(
        "/api/v1/users/org-units/987654321/move", json={"parent_id": campus.root_id}
    )
    assert response.status_code == 404


async def test_classes(admin: httpx.AsyncClient, campus: Campus) -> None:
    await create_person(admin, student_body(campus))
    listed = (await admin.get(f"/api/v1/users/classes?org_unit_id={campus.college_id}")).json()
    assert [(c["id"], c["student_count"]) for c in listed] == [(campus.class_id, 1)]
    response = await admin.post(
        "/api/v1/users/classes",
        json={
            "code": campus.class_code,
            "name": "重复",
            "org_unit_id": campus.major_id,
            "grade": 2024,
        },
    )
    assert response.status_code == 409
    office = await create_org(admin, name="教务处", kind="office", parent_id=campus.root_id)
    response = await admin.post(
        "/api/v1/users/classes",
        json={"code": unique("C"), "name": "x", "org_unit_id": office["id"], "grade": 2024},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "org_unit_id"
    members = (await admin.get(f"/api/v1/users/classes/{campus.class_id}/members")).json()
    assert len(members) == 1


async def test_positions_and_counselors(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    student = await create_person(admin, student_body(campus))
    college_counselor = await create_person(admin, staff_body(campus, name="院辅导员"))
    class_counselor = await create_person(admin, staff_body(campus, name="班辅导员"))
    dean = await create_person(admin, staff_body(campus, name="院长"))
    url = "/api/v1/users/positions"

    response = await admin.post(
        url,
        json={
            "person_id": college_counselor["id"],
            "kind": "counselor",
            "org_unit_id": campus.college_id,
        },
    )
    assert response.status_code == 201, response.text
    counselors = (await admin.get(f"/api/v1/users/people/{student['id']}/counselors")).json()
    assert [c["id"] for c in counselors] == [college_counselor["id"]]  # found up the tree
    assert counselors[0]["number"] == college_counselor["staff_no"]

    response = await admin.post(
        url,
        json={"person_id": class_counselor["id"], "kind": "counselor", "class_id": campus.class_id},
    )
    position = response.json()
    assert position["title"] == "辅导员" and position["class_id"] == campus.class_id
    counselors = (await admin.get(f"/api/v1/users/people/{student['id']}/counselors")).json()
    assert [c["id"] for c in counselors] == [class_counselor["id"]]  # the class's own comes first

    response = await admin.post(
        url,
        json={"person_id": class_counselor["id"], "kind": "counselor", "class_id": campus.class_id},
    )
    assert response.status_code == 409
    response = await admin.post(
        url, json={"person_id": dean["id"], "kind": "dean", "org_unit_id": campus.major_id}
    )
    assert response.status_code == 422  # deans lead colleges
    response = await admin.post(
        url, json={"person_id": student["id"], "kind": "dean", "org_unit_id": campus.college_id}
    )
    assert response.json()["errors"][0]["field"] == "person_id"
    response = await admin.post(
        url, json={"person_id": dean["id"], "kind": "dean", "org_unit_id": campus.college_id}
    )
    assert response.status_code == 201
    async with db.db.read() as session:
        deans = await service.holders_of(session, "dean", org_unit_id=campus.college_id)
    assert [(d.id, d.number) for d in deans] == [(dean["id"], dean["staff_no"])]
    detail = (await admin.get(f"/api/v1/users/people/{dean['id']}")).json()
    assert [p["title"] for p in detail["positions"]] == ["院长"]

    response = await admin.delete(f"/api/v1/users/positions/{position['id']}")
    assert response.status_code == 204
    counselors = (await admin.get(f"/api/v1/users/people/{student['id']}/counselors")).json()
    assert [c["id"] for c in counselors] == [college_counselor["id"]]
    assert len(await event_payloads(db, "users.position.ended", position_id=position["id"])) == 1
