"""The grade sheet as Excel (downloaded, filled, uploaded back; a bad row refuses the whole
file with its row and column), and the pages: the teacher's sheet with its form posts, the
student's results on a phone, the registrar's ranking."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import httpx
from openpyxl import Workbook, load_workbook

from campus.kernel.runtime import Runtime
from tests.domains.academic.grades.conftest import (
    API,
    HTML,
    School,
    enter_all,
    grade_counts,
    publish,
    set_up,
)
from tests.platform.access.conftest import assert_problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"file": ("成绩.xlsx", data, XLSX)}


async def _download(school: School) -> Workbook:
    response = await school.teacher.get(f"{API}/sections/{school.section_id}/sheet.xlsx")
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content))


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_the_sheet_goes_to_excel_and_back(db: Runtime, school: School) -> None:
    await set_up(school)
    book = await _download(school)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["学号*", "姓名", "班级", "平时（30%）", "期中（20%）", "期末（50%）"]
    assert sheet.max_row == 4  # three students
    numbers = {s["student_no"]: s["id"] for s in school.students}
    for row in range(2, 5):
        sheet.cell(row=row, column=4, value=90)
        sheet.cell(row=row, column=5, value=80)
        sheet.cell(row=row, column=6, value=70.5)
    sheet.cell(row=4, column=7, value="缺考")
    response = await school.teacher.post(
        f"{API}/sections/{school.section_id}/sheet.xlsx", files=_upload(_bytes(book))
    )
    assert response.status_code == 200, response.text
    entries = {e["number"]: e for e in response.json()["entries"]}
    last = sheet.cell(row=4, column=1).value
    for number in numbers:
        if number == last:
            assert entries[number]["special"] == "absent" and entries[number]["total"] is None
        else:
            assert Decimal(entries[number]["total"]) == Decimal("78.3")  # 27 + 16 + 35.25
    # And it comes back out as entered.
    again = (await _download(school)).worksheets[0]
    assert [again.cell(row=2, column=c).value for c in (4, 5, 6)] == [90, 80, 70.5]


async def test_a_bad_row_refuses_the_whole_file(db: Runtime, school: School) -> None:
    await set_up(school)
    book = await _download(school)
    sheet = book.worksheets[0]
    for row in range(2, 5):
        for col, mark in ((4, 90), (5, 80), (6, 70)):
            sheet.cell(row=row, column=col, value=mark)
    sheet.cell(row=3, column=5, value=120)
    sheet.cell(row=4, column=7, value="请假")
    sheet.append(["S-nobody", "无名", "", 1, 2, 3])
    before = await grade_counts(db)
    response = await school.teacher.post(
        f"{API}/sections/{school.section_id}/sheet.xlsx", files=_upload(_bytes(book))
    )
    problem = assert_problem(response, 422)
    found = {(p["row"], p["column"]) for p in problem["report"]["problems"]}
    assert found == {(3, "期中（20%）"), (4, "特殊情况"), (5, "学号")}
    assert await grade_counts(db) == before
    response = await school.teacher.post(
        f"{API}/sections/{school.section_id}/sheet.xlsx", files=_upload(b"not a workbook")
    )
    assert_problem(response, 422, "file")


async def test_the_teachers_page_saves_marks_and_submits(db: Runtime, school: School) -> None:
    page = await school.teacher.get(f"/academic/grades/sections/{school.section_id}", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="setup-form"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    csrf = {"csrf_token": token.group(1)}
    form = {
        **csrf,
        "scale": "percentage",
        "name_0": "平时",
        "weight_0": "40",
        "name_1": "期末",
        "weight_1": "50",
    }
    response = await school.teacher.post(
        f"/academic/grades/sections/{school.section_id}/setup", data=form, headers=HTML
    )
    assert response.status_code == 422
    assert "权重之和须为 100" in response.text
    form["weight_1"] = "60"
    response = await school.teacher.post(
        f"/academic/grades/sections/{school.section_id}/setup", data=form, headers=HTML
    )
    assert response.status_code == 303, response.text
    s1, s2, s3 = (s["id"] for s in school.students)
    marks = {**csrf, f"m_{s1}_c1": "100", f"m_{s1}_c2": "130", f"m_{s2}_c1": "70"}
    response = await school.teacher.post(
        f"/academic/grades/sections/{school.section_id}/entries", data=marks, headers=HTML
    )
    assert response.status_code == 422
    assert "须在 0–100 之间" in response.text and 'value="130"' in response.text
    assert (await grade_counts(db))["acad_grade_entry"] == 0
    marks.update({f"m_{s1}_c2": "80", f"m_{s2}_c2": "60", f"special_{s3}": "absent"})
    response = await school.teacher.post(
        f"/academic/grades/sections/{school.section_id}/entries", data=marks, headers=HTML
    )
    assert response.status_code == 303, response.text
    page = await school.teacher.get(f"/academic/grades/sections/{school.section_id}", headers=HTML)
    assert ">88.0<" in page.text  # 40 + 48
    assert 'data-testid="chart-distribution"' in page.text
    response = await school.teacher.post(
        f"/academic/grades/sections/{school.section_id}/submit", data=csrf, headers=HTML
    )
    assert response.status_code == 303
    page = await school.teacher.get(f"/academic/grades/sections/{school.section_id}", headers=HTML)
    assert "待学院审核" in page.text and 'data-testid="save-entries"' not in page.text
    listing = await school.reviewer.get(f"/academic/grades?term_id={school.term_id}", headers=HTML)
    assert listing.status_code == 200 and "数据结构（01班）" in listing.text


async def test_the_student_page_and_the_ranking(school: School, admin: httpx.AsyncClient) -> None:
    page = await school.student.get("/academic/grades/me", headers=HTML)
    assert page.status_code == 200 and "还没有发布的成绩" in page.text
    await set_up(school)
    await enter_all(school)
    await publish(school)
    page = await school.student.get("/academic/grades/me", headers=HTML)
    assert "数据结构" in page.text and "83.0" in page.text
    ranking = await school.registrar.get(f"{API}/ranking", params={"class_id": school.tree.class_a})
    assert ranking.status_code == 200, ranking.text
    rows = ranking.json()
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [Decimal(r["gpa"]) for r in rows] == [Decimal("4.00"), Decimal("3.30"), Decimal("0.00")]
    assert_problem(
        await school.reviewer.get(f"{API}/ranking", params={"class_id": school.tree.class_a}), 403
    )
    assert_problem(await school.registrar.get(f"{API}/ranking"), 422, "major_id")
    page = await school.registrar.get(
        f"/academic/grades/ranking?major_id={school.tree.major_a}&grade=2024", headers=HTML
    )
    assert page.status_code == 200 and page.text.count('data-testid="rank-row"') == 3
