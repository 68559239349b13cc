"""Who reads what: masking without users.person.sensitive, one's own record, others' (403)."""

from __future__ import annotations

import httpx

from campus.platform.users import idcard
from tests.platform.users.conftest import Campus, SignIn, create_person, staff_body, student_body


async def test_reader_without_sensitive_sees_masked_numbers(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    student = await create_person(admin, student_body(campus, phone="13812345678"))
    assert student["id_number"] and "*" not in student["id_number"]  # the admin holds "*"
    reader = await sign_in(
        await create_person(admin, staff_body(campus)), "users.person.read", "users.org.read"
    )

    detail = (await reader.get(f"/api/v1/users/people/{student['id']}")).json()
    assert detail["masked"] is True
    assert detail["id_number"] == idcard.mask(student["id_number"])
    assert detail["id_number"] == student["id_number"][:6] + "********" + student["id_number"][-4:]
    assert detail["phone"] == "138****5678"

    page = (await reader.get(f"/api/v1/users/people?q={student['student_no']}")).json()
    assert [i["phone"] for i in page["items"]] == ["138****5678"]


async def test_sensitive_permission_shows_everything(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    student = await create_person(admin, student_body(campus))
    officer = await sign_in(
        await create_person(admin, staff_body(campus)),
        "users.person.read",
        "users.person.sensitive",
    )
    detail = (await officer.get(f"/api/v1/users/people/{student['id']}")).json()
    assert detail["masked"] is False
    assert detail["id_number"] == student["id_number"]
    assert detail["phone"] == student["phone"]


async def test_person_reads_own_record_but_not_anothers(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    me = await create_person(admin, student_body(campus))
    classmate = await create_person(admin, student_body(campus))
    client = await sign_in(me)  # no permissions at all

    own = await client.get(f"/api/v1/users/people/{me['id']}")
    assert own.status_code == 200
    assert own.json()["id_number"] == me["id_number"]  # one's own record is not masked
    other = await client.get(f"/api/v1/users/people/{classmate['id']}")
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["detail"] == "只能查看本人的信息"
    assert (await client.get("/api/v1/users/people")).status_code == 403
    assert (await client.get(f"/api/v1/users/people/{me['id']}/counselors")).status_code == 200


async def test_reader_cannot_write(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(
        await create_person(admin, staff_body(campus)), "users.person.read", "users.org.read"
    )
    response = await reader.post("/api/v1/users/people", json=student_body(campus))
    assert response.status_code == 403
    student = await create_person(admin, student_body(campus))
    response = await reader.patch(f"/api/v1/users/people/{student['id']}", json={"name": "改名"})
    assert response.status_code == 403
    response = await reader.post(
        "/api/v1/users/org-units",
        json={"code": "X1", "name": "x", "kind": "college", "parent_id": campus.root_id},
    )
    assert response.status_code == 403
    assert (await admin.get(f"/api/v1/users/people/{student['id']}")).json()["name"] == "张三"
