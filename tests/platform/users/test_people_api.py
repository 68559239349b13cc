"""The people API: create, read, update, status changes, and the bad input each refuses."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event, func, select

from campus.kernel.runtime import Runtime
from campus.platform.users.models import Identity, Person
from tests.platform.users.conftest import (
    Campus,
    audit_entries,
    create_person,
    event_payloads,
    id_number,
    staff_body,
    student_body,
    unique,
)


async def _people_count(db: Runtime) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count(Person.id))) or 0)


def _field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["reason"] for e in response.json().get("errors", [])}


async def test_create_person_records_event_and_audit(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    body = student_body(campus, name="王小明", email="WXM@Example.edu.cn")
    person = await create_person(admin, body)

    assert person["student_no"] == body["student_no"]
    assert person["number"] == body["student_no"]
    assert person["org_unit_id"] == campus.major_id  # taken from the class
    assert person["class_id"] == campus.class_id
    assert (
        person["birth_date"]
        == f"{body['id_number'][6:10]}-{body['id_number'][10:12]}-{body['id_number'][12:14]}"
    )
    assert person["ethnicity_name"] == "汉族"
    assert person["political_status_name"] == "共青团员"
    assert person["native_place_name"] == "北京市朝阳区"
    assert person["email"] == "wxm@example.edu.cn"
    assert [u["id"] for u in person["org_path"]][-3:] == [
        campus.root_id,
        campus.college_id,
        campus.major_id,
    ]
    [event] = await event_payloads(db, "users.person.created", person_id=person["id"])
    assert event["number"] == body["student_no"]
    assert event["class_id"] == campus.class_id
    [entry] = await audit_entries(db, "users.person.create", person["id"])
    assert "*" in entry["after"]["id_number"]  # the log keeps identity numbers masked
    assert entry["actor_id"] is not None


@contextmanager
def user_center_reads(runtime: Runtime) -> Iterator[list[str]]:
    """The SELECTs on the user center's tables sent meanwhile (not the sign-in's look-ups)."""
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "users_" in statement:
            sent.append(statement)

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", remember)


async def test_detail_reads_person_org_path_and_positions_in_three_queries(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    student = await create_person(admin, student_body(campus))
    teacher = await create_person(admin, staff_body(campus, name="三查询"))
    response = await admin.post(
        "/api/v1/users/positions",
        json={"person_id": teacher["id"], "kind": "counselor", "class_id": campus.class_id},
    )
    assert response.status_code == 201, response.text

    with user_center_reads(db) as of_teacher_reads:
        detail = (await admin.get(f"/api/v1/users/people/{teacher['id']}")).json()
    with user_center_reads(db) as of_student_reads:
        of_student = (await admin.get(f"/api/v1/users/people/{student['id']}")).json()

    assert len(of_teacher_reads) == 3, of_teacher_reads
    assert len(of_student_reads) == 3, of_student_reads
    assert (detail["number"], detail["staff_no"], detail["student_no"]) == (
        teacher["staff_no"],
        teacher["staff_no"],
        None,
    )
    assert detail["org_unit_name"] == "测试学院" and detail["class_name"] is None
    assert [u["id"] for u in detail["org_path"]][-2:] == [campus.root_id, campus.college_id]
    assert [(p["kind"], p["class_id"]) for p in detail["positions"]] == [
        ("counselor", campus.class_id)
    ]
    assert (of_student["student_no"], of_student["class_name"]) == (
        student["student_no"],
        "测试2401班",
    )
    assert [u["id"] for u in of_student["org_path"]][-2:] == [campus.college_id, campus.major_id]


async def test_detail_of_unknown_person_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get("/api/v1/users/people/987654321")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_duplicate_student_number_is_409_and_writes_nothing(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    first = await create_person(admin, student_body(campus))
    before = await _people_count(db)
    response = await admin.post(
        "/api/v1/users/people", json=student_body(campus, student_no=first["student_no"])
    )
    assert response.status_code == 409
    errors = _field_errors(response)
    assert "student_no" in errors and "已被他人使用" in errors["student_no"]
    assert await _people_count(db) == before


async def test_duplicate_identity_number_is_409(admin: httpx.AsyncClient, campus: Campus) -> None:
    first = await create_person(admin, student_body(campus))
    response = await admin.post(
        "/api/v1/users/people", json=student_body(campus, id_number=first["id_number"])
    )
    assert response.status_code == 409
    assert "id_number" in _field_errors(response)


async def test_unknown_org_unit_is_422_naming_the_field(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    before = await _people_count(db)
    response = await admin.post(
        "/api/v1/users/people", json=staff_body(campus, org_unit_id=987654321)
    )
    assert response.status_code == 422
    assert _field_errors(response) == {"org_unit_id": "组织机构 987654321 不存在"}
    assert await _people_count(db) == before


async def test_malformed_identity_number_is_422(admin: httpx.AsyncClient, campus: Campus) -> None:
    good = id_number()
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    response = await admin.post(
        "/api/v1/users/people", json=student_body(campus, id_number=wrong_check)
    )
    assert response.status_code == 422
    assert _field_errors(response) == {"id_number": "身份证号校验位不正确"}

    response = await admin.post(
        "/api/v1/users/people", json=student_body(campus, id_number="12345")
    )
    assert _field_errors(response)["id_number"].startswith("身份证号应为 18 位")


async def test_identity_number_must_agree_with_gender_and_birth_date(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    body = student_body(campus, gender="2", birth_date="2001-01-01", id_number=id_number(male=True))
    response = await admin.post("/api/v1/users/people", json=body)
    assert response.status_code == 422
    assert _field_errors(response) == {
        "gender": "性别与身份证号不一致",
        "birth_date": "出生日期与身份证号不一致",
    }


async def test_unknown_standard_codes_are_422_each_named(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    body = student_body(
        campus, gender="3", ethnicity="99", political_status="14", native_place="999999"
    )
    response = await admin.post("/api/v1/users/people", json=body)
    assert response.status_code == 422
    errors = _field_errors(response)
    assert set(errors) == {"gender", "ethnicity", "political_status", "native_place"}
    assert "GB/T 3304" in errors["ethnicity"]
    assert "GB/T 2260" in errors["native_place"]


async def test_students_need_a_student_number_and_staff_no_class(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    body = student_body(campus)
    del body["student_no"]
    response = await admin.post("/api/v1/users/people", json=body)
    assert _field_errors(response) == {"student_no": "学生必须有学号"}

    response = await admin.post(
        "/api/v1/users/people", json=staff_body(campus, class_id=campus.class_id)
    )
    assert response.status_code == 422
    assert "class_id" in _field_errors(response)


async def test_class_outside_the_given_unit_is_refused(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    body = student_body(campus, org_unit_id=campus.other_college_id)
    response = await admin.post("/api/v1/users/people", json=body)
    assert response.status_code == 422
    assert _field_errors(response) == {"class_id": "行政班不属于所填的所属单位"}


async def test_update_changes_given_fields_and_keeps_others(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    person = await create_person(admin, student_body(campus))
    new_no = unique("S")
    response = await admin.patch(
        f"/api/v1/users/people/{person['id']}",
        json={"name": "张三丰", "phone": None, "student_no": new_no, "ethnicity": "03"},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["phone"], updated["student_no"]) == ("张三丰", None, new_no)
    assert updated["ethnicity_name"] == "回族"
    assert updated["email"] == person["email"]
    async with db.db.read() as session:
        numbers = set(
            await session.scalars(select(Identity.value).where(Identity.person_id == person["id"]))
        )
    assert numbers == {new_no}
    events = await event_payloads(db, "users.person.updated", person_id=person["id"])
    assert events == [
        {"person_id": person["id"], "changed": ["ethnicity", "name", "phone", "student_no"]}
    ]


async def test_new_identity_number_brings_its_birth_date(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    person = await create_person(admin, student_body(campus))
    new_number = id_number(male=True)
    url = f"/api/v1/users/people/{person['id']}"
    response = await admin.patch(url, json={"id_number": new_number})
    assert response.status_code == 200, response.text
    born = new_number[6:14]
    assert response.json()["birth_date"].replace("-", "") == born
    assert response.json()["birth_date"] != person["birth_date"]
    response = await admin.patch(url, json={"id_number": None})
    assert response.json()["id_number"] is None
    assert response.json()["birth_date"].replace("-", "") == born  # kept when the number goes


async def test_update_refuses_bad_input_and_status(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    person = await create_person(admin, student_body(campus))
    other = await create_person(admin, student_body(campus))
    url = f"/api/v1/users/people/{person['id']}"
    response = await admin.patch(url, json={"status": "left"})
    assert response.status_code == 422
    assert _field_errors(response) == {"status": "不允许的字段"}
    response = await admin.patch(url, json={"student_no": other["student_no"]})
    assert response.status_code == 409
    response = await admin.patch(url, json={"name": None})
    assert _field_errors(response) == {"name": "不能清空"}
    response = await admin.patch(url, json={"native_place": "000000"})
    assert "native_place" in _field_errors(response)
    unchanged = (await admin.get(url)).json()
    assert unchanged["student_no"] == person["student_no"]
    assert unchanged["native_place"] == "110105"


async def test_moving_to_another_class_moves_the_unit(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    person = await create_person(admin, student_body(campus))
    response = await admin.post(
        "/api/v1/users/classes",
        json={
            "code": unique("C"),
            "name": "另一学院2401班",
            "org_unit_id": campus.other_college_id,
            "grade": 2024,
        },
    )
    other_class = response.json()
    response = await admin.patch(
        f"/api/v1/users/people/{person['id']}", json={"class_id": other_class["id"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["org_unit_id"] == campus.other_college_id


async def test_status_lifecycle(admin: httpx.AsyncClient, campus: Campus, db: Runtime) -> None:
    student = await create_person(admin, student_body(campus))
    url = f"/api/v1/users/people/{student['id']}/status"

    response = await admin.post(url, json={"status": "retired", "reason": "退休"})
    assert _field_errors(response) == {"status": "只有教职工可以退休"}
    response = await admin.post(url, json={"status": "suspended", "reason": "因病休学"})
    assert response.status_code == 200 and response.json()["status"] == "suspended"
    response = await admin.post(url, json={"status": "active", "reason": "复学"})
    assert response.json()["status"] == "active"
    response = await admin.post(url, json={"status": "graduated", "reason": "2028届毕业"})
    assert response.json()["status"] == "graduated"
    response = await admin.post(url, json={"status": "active", "reason": "误操作"})
    assert response.status_code == 422
    assert _field_errors(response) == {"status": "不能从“毕业”变为“正常”"}
    response = await admin.post(url, json={"status": "left"})
    assert _field_errors(response) == {"reason": "必填"}

    payloads = await event_payloads(db, "users.person.status_changed", person_id=student["id"])
    assert [(p["from_status"], p["to_status"]) for p in payloads] == [
        ("active", "suspended"),
        ("suspended", "active"),
        ("active", "graduated"),
    ]


async def test_staff_retire_but_do_not_graduate(admin: httpx.AsyncClient, campus: Campus) -> None:
    teacher = await create_person(admin, staff_body(campus))
    url = f"/api/v1/users/people/{teacher['id']}/status"
    response = await admin.post(url, json={"status": "graduated", "reason": "x"})
    assert _field_errors(response) == {"status": "只有学生可以毕业"}
    response = await admin.post(url, json={"status": "retired", "reason": "到龄退休"})
    assert response.json()["status"] == "retired"


async def test_anonymous_gets_401(anon: httpx.AsyncClient) -> None:
    for url in ("/api/v1/users/people", "/api/v1/users/people/1", "/api/v1/users/org-units/tree"):
        response = await anon.get(url)
        assert response.status_code == 401, url
