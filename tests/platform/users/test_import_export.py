"""Excel: the template, importing (all or nothing, or only the valid rows), the row report,
wrong headers, size limits, and exporting what the list shows."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.platform.users import excel
from campus.platform.users.models import Identity, Person
from tests.platform.users.conftest import (
    Campus,
    SignIn,
    create_person,
    event_payloads,
    id_number,
    staff_body,
    student_body,
    unique,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT = "/api/v1/users/people/import"


def _sheet(headers: list[str], rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _row(campus: Campus, **values: Any) -> dict[str, Any]:
    row = {
        "姓名": "导入学生",
        "性别": "男",
        "人员类型": "本科生",
        "学号/工号": unique("I"),
        "身份证号": id_number(male=True),
        "民族": "汉族",
        "政治面貌": "共青团员",
        "籍贯": "北京市朝阳区",
        "所属单位代码": campus.major_code,
        "行政班代码": campus.class_code,
        "手机号": "13900001111",
        "电子邮箱": None,
        "状态": None,
    }
    row.update(values)
    return row


def _upload(rows: list[dict[str, Any]]) -> bytes:
    headers = list(rows[0])
    return _sheet(headers, [[r[h] for h in headers] for r in rows])


async def _post(client: httpx.AsyncClient, data: bytes, **form: str) -> httpx.Response:
    return await client.post(IMPORT, files={"file": ("people.xlsx", data, XLSX)}, data=form)


async def _count(db: Runtime) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count(Person.id))) or 0)


async def _existing(db: Runtime, numbers: list[str]) -> set[str]:
    async with db.db.read() as session:
        return set(await session.scalars(select(Identity.value).where(Identity.value.in_(numbers))))


async def test_template_has_the_chinese_headers_and_code_sheets(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    response = await admin.get("/api/v1/users/people/import-template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in book.worksheets[0][1]]
    assert headers[:4] == ["姓名*", "性别*", "人员类型*", "学号/工号*"]
    assert "所属单位代码*" in headers and "身份证号" in headers
    assert {"代码表", "单位代码", "行政班代码", "填写说明"} <= set(book.sheetnames)
    org_codes = [row[0] for row in book["单位代码"].iter_rows(min_row=2, values_only=True)]
    assert campus.major_code in org_codes


async def test_template_filled_in_imports(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    template = (await admin.get("/api/v1/users/people/import-template.xlsx")).content
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    headers = [str(c.value).rstrip("*") for c in sheet[1]]
    rows = [
        _row(campus, 姓名="模板甲"),
        _row(campus, 姓名="模板乙", 性别="女", 身份证号=id_number(male=False)),
    ]
    teacher = _row(
        campus, 姓名="模板老师", 人员类型="教师", 行政班代码=None, 所属单位代码=campus.college_code
    )
    teacher["身份证号"] = None
    rows.append(teacher)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)

    response = await _post(admin, buffer.getvalue())
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["status"], report["imported"], report["problems"]) == ("imported", 3, [])
    page = (await admin.get(f"/api/v1/users/people?q={rows[0]['学号/工号']}")).json()
    [imported] = page["items"]
    detail = (await admin.get(f"/api/v1/users/people/{imported['id']}")).json()
    assert detail["class_id"] == campus.class_id and detail["org_unit_id"] == campus.major_id
    assert (detail["ethnicity"], detail["political_status"], detail["native_place"]) == (
        "01",
        "03",
        "110105",
    )
    assert detail["birth_date"] is not None  # taken from the identity number
    staff_page = (await admin.get(f"/api/v1/users/people?q={teacher['学号/工号']}")).json()
    assert staff_page["items"][0]["person_type"] == "faculty"
    staff = (await admin.get(f"/api/v1/users/people/{staff_page['items'][0]['id']}")).json()
    assert staff["staff_no"] == teacher["学号/工号"]
    events = await event_payloads(db, "users.person.created", person_id=imported["id"])
    assert events and events[0]["imported"] is True
    async with db.db.read() as session:
        counts = list(
            await session.scalars(
                select(AuditEntry.after).where(AuditEntry.action == "users.person.import")
            )
        )
    assert counts == [{"count": 3}]  # one entry for the whole import


async def test_mixed_rows_import_nothing_until_only_valid_is_chosen(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    good = [_row(campus, 姓名=f"好{i}") for i in range(3)]
    bad_id = _row(campus, 姓名="坏身份证", 身份证号="110105200001011230")
    bad_org = _row(campus, 姓名="坏单位", 所属单位代码="NO-SUCH-UNIT", 行政班代码=None)
    bad_many = _row(campus, 姓名="多处错", 民族="火星族", 手机号="12345", 性别="未知")
    rows = [good[0], bad_id, good[1], bad_org, good[2], bad_many]
    data = _upload(rows)
    numbers = [r["学号/工号"] for r in rows]
    before = await _count(db)

    response = await _post(admin, data)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "共 6 行，其中 3 行有错误，未导入任何数据"
    report = body["report"]
    assert (report["total_rows"], report["valid_rows"], report["invalid_rows"]) == (6, 3, 3)
    problems = {(p["row"], p["column"]) for p in report["problems"]}
    assert problems == {
        (3, "身份证号"),
        (5, "所属单位代码"),
        (7, "民族"),
        (7, "手机号"),
        (7, "性别"),
    }
    reasons = {(p["row"], p["column"]): p["reason"] for p in report["problems"]}
    assert reasons[(3, "身份证号")] == "身份证号校验位不正确"
    assert reasons[(5, "所属单位代码")] == "单位代码 NO-SUCH-UNIT 不存在"
    assert await _count(db) == before
    assert await _existing(db, numbers) == set()

    response = await _post(admin, data, only_valid="true")
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 3
    assert await _count(db) == before + 3
    assert await _existing(db, numbers) == {r["学号/工号"] for r in good}


async def test_dry_run_checks_without_writing(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    before = await _count(db)
    response = await _post(admin, _upload([_row(campus)]), dry_run="true")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["valid_rows"]) == ("validated", 1)
    assert await _count(db) == before


async def test_duplicates_inside_the_file_and_with_existing_people(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    existing = await create_person(admin, student_body(campus))
    first = _row(campus)
    again = _row(campus, 学号_工号=None)
    again["学号/工号"] = first["学号/工号"]
    taken = _row(campus, 身份证号=existing["id_number"])
    response = await _post(admin, _upload([first, again, taken]))
    problems = response.json()["report"]["problems"]
    assert {(p["row"], p["column"], p["reason"]) for p in problems} == {
        (3, "学号/工号", "与第 2 行重复"),
        (4, "身份证号", "该身份证号已被他人使用"),
    }


async def test_wrong_headers_are_422_with_a_clear_message(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    data = _sheet(["名字", "性别", "人员类型", "学号/工号"], [["张三", "男", "本科生", "X1"]])
    before = await _count(db)
    response = await _post(admin, data)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "缺少必填列：姓名、所属单位代码" in detail
    assert "无法识别的列：名字" in detail
    assert "请下载导入模板" in detail
    assert response.json()["errors"][0]["field"] == "file"
    assert await _count(db) == before


async def test_not_an_excel_file_is_422(admin: httpx.AsyncClient) -> None:
    response = await _post(admin, b"name,gender\n")
    assert response.status_code == 422
    assert response.json()["detail"] == "文件不是有效的 Excel（.xlsx）文件"
    response = await _post(admin, _sheet(list(_row_headers()), []))
    assert response.status_code == 422
    assert response.json()["detail"] == "表格中没有数据行"


def _row_headers() -> list[str]:
    return [c.header for c in excel.COLUMNS]


async def test_oversized_upload_is_413(admin: httpx.AsyncClient, runtime: Runtime) -> None:
    too_big = b"0" * (runtime.settings.max_upload_bytes + 1)
    response = await _post(admin, too_big)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_too_many_rows_is_413(
    admin: httpx.AsyncClient, campus: Campus, monkeypatch: pytest.MonkeyPatch, db: Runtime
) -> None:
    monkeypatch.setattr(excel, "MAX_ROWS", 3)
    before = await _count(db)
    response = await _post(admin, _upload([_row(campus) for _ in range(4)]))
    assert response.status_code == 413
    assert response.json()["detail"] == "一次最多导入 3 行，请拆分文件后分批导入"
    assert await _count(db) == before


async def test_reader_cannot_import(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, staff_body(campus)), "users.person.read")
    response = await _post(reader, _upload([_row(campus)]))
    assert response.status_code == 403


async def test_export_then_import_as_fresh_rows(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    originals = [
        await create_person(admin, student_body(campus, name="导出甲", ethnicity="05")),
        await create_person(admin, student_body(campus, name="导出乙", political_status="13")),
    ]
    response = await admin.get(
        f"/api/v1/users/people/export.xlsx?class_id={campus.class_id}&sort=name"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    headers = [str(c.value).rstrip("*") for c in sheet[1]]
    exported = [
        dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert sorted(r["姓名"] for r in exported) == ["导出乙", "导出甲"]
    first = next(r for r in exported if r["姓名"] == "导出甲")
    assert (first["民族"], first["籍贯"], first["行政班"]) == (
        "维吾尔族",
        "北京市朝阳区",
        "测试2401班",
    )
    assert first["身份证号"] == originals[0]["id_number"]  # the admin may see it in full

    # The same people again as new rows: new numbers, new identity numbers.
    for row_index, row in enumerate(sheet.iter_rows(min_row=2), start=0):
        row[headers.index("学号/工号")].value = f"{exported[row_index]['学号/工号']}N"
        row[headers.index("身份证号")].value = id_number(male=True)
        row[headers.index("出生日期")].value = None  # taken from the new identity number
    buffer = io.BytesIO()
    book.save(buffer)
    response = await _post(admin, buffer.getvalue())
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2
    copies = (await admin.get(f"/api/v1/users/people?class_id={campus.class_id}&q=导出")).json()
    assert copies["total"] == 4
    copy = (await admin.get(f"/api/v1/users/people?q={first['学号/工号']}N")).json()["items"][0]
    detail = (await admin.get(f"/api/v1/users/people/{copy['id']}")).json()
    assert (detail["name"], detail["ethnicity"], detail["native_place"]) == (
        "导出甲",
        "05",
        "110105",
    )


async def test_export_masks_without_sensitive_permission(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    student = await create_person(admin, student_body(campus))
    reader = await sign_in(await create_person(admin, staff_body(campus)), "users.person.read")
    response = await reader.get(f"/api/v1/users/people/export.xlsx?q={student['student_no']}")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    headers = [str(c.value).rstrip("*") for c in sheet[1]]
    [row] = list(sheet.iter_rows(min_row=2, values_only=True))
    assert (
        row[headers.index("身份证号")]
        == student["id_number"][:6] + "********" + student["id_number"][-4:]
    )
    assert row[headers.index("手机号")] == "138****5678"
    # A masked export cannot be imported back: the masked numbers fail their checks.
    response = await _post(admin, response.content)
    assert response.status_code == 422
