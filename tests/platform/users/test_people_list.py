"""The people list: pagination, sorting, filters (org subtree, type, status, class, q)."""

from __future__ import annotations

import random

import httpx

from tests.platform.users.conftest import (
    Campus,
    create_org,
    create_person,
    staff_body,
    student_body,
    unique,
)


async def _five_students(admin: httpx.AsyncClient, campus: Campus) -> tuple[str, list[dict]]:
    prefix = unique("P")
    names = ["赵一", "钱二", "孙三", "李四", "周五"]
    people = [
        await create_person(
            admin, student_body(campus, name=name, student_no=f"{prefix}{i}", phone=None)
        )
        for i, name in zip((3, 1, 5, 2, 4), names, strict=True)
    ]
    return prefix, people


async def test_pages_and_sorting(admin: httpx.AsyncClient, campus: Campus) -> None:
    prefix, _people = await _five_students(admin, campus)
    url = f"/api/v1/users/people?q={prefix}&page_size=2"

    first = (await admin.get(url)).json()
    assert {k: v for k, v in first.items() if k != "items"} == {
        "total": 5,
        "page": 1,
        "page_size": 2,
        "pages": 3,
        "sort": "number",
    }
    assert [i["number"] for i in first["items"]] == [f"{prefix}1", f"{prefix}2"]
    last = (await admin.get(url + "&page=3")).json()
    assert [i["number"] for i in last["items"]] == [f"{prefix}5"]
    beyond = (await admin.get(url + "&page=4")).json()
    assert beyond["items"] == [] and (beyond["total"], beyond["page"], beyond["pages"]) == (5, 4, 3)
    nobody = (await admin.get(f"/api/v1/users/people?q={prefix}x")).json()
    assert (nobody["items"], nobody["total"], nobody["pages"], nobody["page_size"]) == (
        [],
        0,
        1,
        20,
    )

    descending = (await admin.get(url + "&sort=-number")).json()
    assert [i["number"] for i in descending["items"]] == [f"{prefix}5", f"{prefix}4"]
    by_name = (await admin.get(f"/api/v1/users/people?q={prefix}&sort=name")).json()
    names = [i["name"] for i in by_name["items"]]
    assert names == sorted(names)


async def test_bad_paging_and_sort_are_422(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users/people?page_size=201")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "page_size", "reason": "应不大于 200"}]
    response = await admin.get("/api/v1/users/people?page=0")
    assert response.json()["errors"] == [{"field": "page", "reason": "应不小于 1"}]
    response = await admin.get("/api/v1/users/people?page=x&page_size=0")
    assert response.json()["errors"] == [
        {"field": "page", "reason": "应为整数"},
        {"field": "page_size", "reason": "应不小于 1"},
    ]
    response = await admin.get("/api/v1/users/people?sort=password")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sort"
    response = await admin.get("/api/v1/users/people?org_unit_id=987654321")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "org_unit_id", "reason": "组织机构 987654321 不存在"}
    ]


async def test_org_filter_with_and_without_subtree(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    student = await create_person(admin, student_body(campus))  # in the major, below the college
    teacher = await create_person(admin, staff_body(campus))  # in the college itself

    def ids(page: dict) -> set[int]:
        return {i["id"] for i in page["items"]}

    base = f"/api/v1/users/people?org_unit_id={campus.college_id}&page_size=200"
    direct = (await admin.get(base)).json()
    subtree = (await admin.get(base + "&subtree=true")).json()
    assert ids(direct) == {teacher["id"]}
    assert ids(subtree) == {teacher["id"], student["id"]}
    students = (await admin.get(base + "&subtree=true&type=undergraduate")).json()
    assert ids(students) == {student["id"]}
    in_class = (await admin.get(f"/api/v1/users/people?class_id={campus.class_id}")).json()
    assert ids(in_class) == {student["id"]}
    assert in_class["items"][0]["class_name"] == "测试2401班"
    assert in_class["items"][0]["org_unit_name"] == "测试专业"


async def test_status_filter_and_name_search(admin: httpx.AsyncClient, campus: Campus) -> None:
    # A "name" no one else has, of letters only: its middle must not be the start of a number.
    surname = "".join(random.choices("ABCDEFGHJKLMNPQRSTUVWXYZ", k=4))
    active = await create_person(admin, student_body(campus, name=f"{surname}甲"))
    gone = await create_person(admin, student_body(campus, name=f"{surname}乙"))
    await admin.post(
        f"/api/v1/users/people/{gone['id']}/status", json={"status": "left", "reason": "退学"}
    )
    everyone = (await admin.get(f"/api/v1/users/people?q={surname}")).json()
    assert {i["id"] for i in everyone["items"]} == {active["id"], gone["id"]}
    left = (await admin.get(f"/api/v1/users/people?q={surname}&status=left")).json()
    assert [i["id"] for i in left["items"]] == [gone["id"]]
    middle = (await admin.get(f"/api/v1/users/people?q={surname[1:]}")).json()
    assert middle["total"] == 0  # q matches the start of a name or number, not the middle


async def test_quick_search_and_subtree_of_new_units(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    dept = await create_org(admin, name="教研室", kind="department", parent_id=campus.college_id)
    teacher = await create_person(admin, staff_body(campus, org_unit_id=dept["id"]))
    found = (await admin.get(f"/api/v1/users/people/search?q={teacher['staff_no']}")).json()
    assert [p["id"] for p in found] == [teacher["id"]]
    assert found[0]["number"] == teacher["staff_no"]
