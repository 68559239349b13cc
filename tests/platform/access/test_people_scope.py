"""The user center's people list, export and detail read only what the reader's grants reach:
a college's academic secretary sees their college, the administrator everyone."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access.scopes import ScopeKind
from campus.platform.users import service as users
from tests.conftest import LoginAs
from tests.platform.access.conftest import (
    SignIn,
    Tree,
    assert_problem,
    staff_in,
    student_in,
)

PEOPLE = "/api/v1/users/people"


async def total(client: httpx.AsyncClient, query: str = "") -> int:
    response = await client.get(f"{PEOPLE}?{query}")
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


async def secretary_of(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    person = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(person, [("academic_secretary", ScopeKind.SUBTREE, tree.college_a)])
    return client, person


async def test_a_secretary_lists_their_college_and_the_admin_everyone(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree, phone="13912345678")
    outsider = await staff_in(admin, tree, tree.college_b)
    secretary, me = await secretary_of(admin, tree, sign_in)

    page = (await secretary.get(f"{PEOPLE}?page_size=200")).json()
    assert {item["id"] for item in page["items"]} == {student["id"], me["id"]}
    assert page["total"] == 2
    assert [i["phone"] for i in page["items"] if i["id"] == student["id"]] == ["139****5678"]
    # Filters narrow the reach further, never widen it.
    assert await total(secretary, f"org_unit_id={tree.college_b}") == 0
    assert await total(secretary, f"q={outsider['staff_no']}") == 0

    everyone = await total(admin)
    assert everyone > 1000  # the demo university
    assert await total(admin, f"q={outsider['staff_no']}") == 1


async def test_quick_search_and_class_lists_stay_within_reach(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree)
    outsider = await staff_in(admin, tree, tree.college_b)
    secretary, _me = await secretary_of(admin, tree, sign_in)
    found = await secretary.get(f"{PEOPLE}/search?q={student['student_no']}")
    assert [p["id"] for p in found.json()] == [student["id"]]
    assert (await secretary.get(f"{PEOPLE}/search?q={outsider['staff_no']}")).json() == []
    assert len((await admin.get(f"{PEOPLE}/search?q={outsider['staff_no']}")).json()) == 1
    members = await secretary.get(f"/api/v1/users/classes/{tree.class_a}/members")
    assert [p["id"] for p in members.json()] == [student["id"]]
    other = await sign_in(
        await staff_in(admin, tree, tree.college_b),
        [("academic_secretary", ScopeKind.SUBTREE, tree.college_b)],
    )
    assert (await other.get(f"/api/v1/users/classes/{tree.class_a}/members")).json() == []


async def test_the_export_holds_the_same_people_as_the_list(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree)
    await staff_in(admin, tree, tree.college_b)
    secretary, me = await secretary_of(admin, tree, sign_in)
    response = await secretary.get(f"{PEOPLE}/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cells = {str(c.value) for row in sheet.iter_rows(min_row=2) for c in row if c.value}
    assert student["student_no"] in cells and me["staff_no"] in cells
    assert sheet.max_row - 1 == 2  # a header row and the two people of college A


async def test_a_secretary_reads_inside_the_college_and_is_refused_outside(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree)
    outsider = await staff_in(admin, tree, tree.college_b)
    secretary, _me = await secretary_of(admin, tree, sign_in)
    inside = await secretary.get(f"{PEOPLE}/{student['id']}")
    assert inside.status_code == 200 and inside.json()["masked"] is True
    body = assert_problem(await secretary.get(f"{PEOPLE}/{outsider['id']}"), 403)
    assert body["detail"] == "只能查看本人的信息"
    assert (await secretary.get(f"/users/people/{outsider['id']}")).status_code == 403


async def test_sensitive_fields_show_only_where_their_permission_reaches(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    student = await student_in(admin, tree, phone="13712345678")
    outsider = await staff_in(admin, tree, tree.college_b)
    person = await staff_in(admin, tree, tree.college_a)
    # Reads everywhere, but sees phones only in college A (the counselor role carries both).
    reader = await sign_in(
        person,
        [
            ("finance", ScopeKind.ALL, None),
            ("counselor", ScopeKind.SUBTREE, tree.college_a),
        ],
    )
    assert (await reader.get(f"{PEOPLE}/{student['id']}")).json()["masked"] is False
    assert (await reader.get(f"{PEOPLE}/{outsider['id']}")).json()["masked"] is True
    page = (await reader.get(f"{PEOPLE}?q={student['student_no']}")).json()
    assert [i["phone"] for i in page["items"]] == ["137****5678"]  # not everywhere: masked


async def test_demo_counselor_and_teacher_see_the_demo_college(
    login_as: LoginAs, admin: httpx.AsyncClient, db: Runtime, demo: SeedContext
) -> None:
    async with db.db.read() as session:
        college = await users.find_org_unit_by_code(session, "12")
    assert college is not None
    in_college = await total(admin, f"org_unit_id={college.id}&subtree=true")
    for role in ("counselor", "teacher"):
        client = await login_as(role)
        assert await total(client) == in_college, role
    staff = await login_as("staff")  # the registrar of 教务处: everyone
    assert await total(staff) == await total(admin)
    student = await login_as("student")
    assert_problem(await student.get(PEOPLE), 403)


async def test_a_college_administrator_changes_only_their_college(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    """Writes are held to the scope of ``users.person.manage`` too, not only to the code."""
    role = await admin.post(
        "/api/v1/access/roles",
        json={
            "code": "college_people_admin",
            "name": "学院人员管理员",
            "permissions": ["users.person.read", "users.person.manage"],
        },
    )
    assert role.status_code == 201, role.text
    inside = await student_in(admin, tree)
    outside = await staff_in(admin, tree, tree.college_b)
    manager = await sign_in(
        await staff_in(admin, tree, tree.college_a),
        [("college_people_admin", ScopeKind.SUBTREE, tree.college_a)],
    )

    ok = await manager.patch(f"{PEOPLE}/{inside['id']}", json={"email": "in@demo.edu.cn"})
    assert ok.status_code == 200, ok.text
    refused = await manager.patch(f"{PEOPLE}/{outside['id']}", json={"email": "x@demo.edu.cn"})
    assert_problem(refused, 403)
    moved = await manager.patch(
        f"{PEOPLE}/{inside['id']}", json={"org_unit_id": tree.college_b, "class_id": None}
    )
    assert_problem(moved, 403)
    async with db.db.read() as session:
        unchanged = await users.get_person_ref(session, inside["id"])
        other = await users.person_detail(session, outside["id"])
    assert unchanged is not None and unchanged.org_unit_id != tree.college_b
    assert other is not None and other.email != "x@demo.edu.cn"


async def test_the_portal_search_finds_only_people_within_reach(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    inside = await student_in(admin, tree)
    outside = await staff_in(admin, tree, tree.college_b)
    secretary, _me = await secretary_of(admin, tree, sign_in)
    html = {"Accept": "text/html"}
    found = (await secretary.get("/search", params={"q": inside["student_no"]}, headers=html)).text
    assert inside["name"] in found
    hidden = (await secretary.get("/search", params={"q": outside["staff_no"]}, headers=html)).text
    assert 'data-testid="search-person"' not in hidden
    assert f'href="/users/people/{outside["id"]}"' not in hidden
