"""The user center's pages: people list (search, filters, pagination, export link), person
detail, org tree with htmx-loaded children, and the import flow."""

from __future__ import annotations

import re

import httpx

from tests.platform.users.conftest import (
    Campus,
    SignIn,
    create_org,
    create_person,
    staff_body,
    student_body,
    unique,
)
from tests.platform.users.test_import_export import XLSX, _row, _upload

HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}


async def test_people_page_lists_and_filters(admin: httpx.AsyncClient, campus: Campus) -> None:
    student = await create_person(admin, student_body(campus, name="页面学生"))
    response = await admin.get("/users/people", headers=HTML)
    assert response.status_code == 200
    html = response.text
    for testid in ("people-filters", "people-search", "people-table", "people-export"):
        assert f'data-testid="{testid}"' in html
    assert "人员管理" in html and "<html" in html

    response = await admin.get(f"/users/people?q={student['student_no']}", headers=HTMX)
    fragment = response.text
    assert "<html" not in fragment  # htmx gets the table alone
    assert fragment.count('data-testid="person-row"') == 1
    assert "页面学生" in fragment and f"/users/people/{student['id']}" in fragment
    assert "export.xlsx?" in fragment and f"q={student['student_no']}" in fragment


async def test_people_page_takes_the_filter_form_as_sent(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    student = await create_person(admin, student_body(campus))
    # A form sends empty selects as "" and the subtree box as a hidden "false" plus "true".
    url = (
        f"/users/people?q={student['student_no']}&type=&status=&org_unit_id="
        "&subtree=false&subtree=true&sort=number"
    )
    response = await admin.get(url, headers=HTMX)
    assert response.status_code == 200
    assert response.text.count('data-testid="person-row"') == 1
    response = await admin.get(
        f"/users/people?type=undergraduate&org_unit_id={campus.college_id}&subtree=false",
        headers=HTMX,
    )
    assert 'data-testid="people-empty"' in response.text  # students sit in the major, below
    response = await admin.get("/users/people?type=wizard", headers=HTML)
    assert response.status_code == 422


async def test_people_page_paginates(admin: httpx.AsyncClient, campus: Campus) -> None:
    prefix = unique("G")
    for i in range(3):
        await create_person(admin, student_body(campus, student_no=f"{prefix}{i}"))
    response = await admin.get(f"/users/people?q={prefix}&page_size=2", headers=HTMX)
    assert 'data-testid="people-pagination"' in response.text
    assert "第 1 / 2 页" in response.text
    second = await admin.get(f"/users/people?q={prefix}&page_size=2&page=2", headers=HTMX)
    assert second.text.count('data-testid="person-row"') == 1


async def test_person_page_masks_for_readers(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    student = await create_person(admin, student_body(campus, phone="13812345678"))
    full = (await admin.get(f"/users/people/{student['id']}", headers=HTML)).text
    assert student["id_number"] in full and "13812345678" in full
    reader = await sign_in(await create_person(admin, staff_body(campus)), "users.person.read")
    masked = (await reader.get(f"/users/people/{student['id']}", headers=HTML)).text
    assert student["id_number"] not in masked
    assert "138****5678" in masked
    assert "身份证号和手机号已部分隐藏" in masked


async def test_person_page_of_someone_else_is_refused(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    me = await create_person(admin, student_body(campus))
    other = await create_person(admin, student_body(campus))
    client = await sign_in(me)
    assert (await client.get(f"/users/people/{me['id']}", headers=HTML)).status_code == 200
    assert (await client.get(f"/users/people/{other['id']}", headers=HTML)).status_code == 403
    response = await client.get("/users/me", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == f"/users/people/{me['id']}"


async def test_anonymous_browser_goes_to_login(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/users/people", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_org_tree_page_and_children(admin: httpx.AsyncClient, campus: Campus) -> None:
    dept = await create_org(admin, name="深层系", kind="department", parent_id=campus.college_id)
    response = await admin.get("/users/org", headers=HTML)
    assert response.status_code == 200
    html = response.text
    assert 'data-testid="org-tree"' in html
    assert "测试学院" in html  # the first level is shown
    assert f'hx-get="/users/org/{campus.college_id}/children"' in html
    assert "深层系" not in html  # deeper levels load when opened

    children = await admin.get(f"/users/org/{campus.college_id}/children", headers=HTMX)
    assert "深层系" in children.text and "测试专业" in children.text
    assert f'data-org-id="{dept["id"]}"' in children.text
    assert (await admin.get("/users/org/987654321/children", headers=HTMX)).status_code == 404


async def test_menu_shows_the_user_center_to_admins(admin: httpx.AsyncClient) -> None:
    html = (await admin.get("/users/people", headers=HTML)).text
    assert 'href="/users/org"' in html and 'href="/users/import"' in html


async def test_import_page_flow(admin: httpx.AsyncClient, campus: Campus) -> None:
    page = await admin.get("/users/import", headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="import-form"' in page.text and 'data-testid="import-template"' in page.text

    good = _row(campus, 姓名="页面导入")
    bad = _row(campus, 姓名="页面错误", 籍贯="火星")
    response = await admin.post(
        "/users/import/check",
        files={"file": ("people.xlsx", _upload([good, bad]), XLSX)},
        headers=HTMX,
    )
    assert response.status_code == 200
    report = response.text
    assert 'data-testid="import-report"' in report
    assert "籍贯" in report and "GB/T 2260" in report
    assert 'data-testid="import-only-valid"' in report
    assert 'data-testid="import-commit"' not in report  # not everything may be imported
    token = re.search(r'"token": "([^"]+)"', report)
    assert token is not None

    response = await admin.post(
        "/users/import/commit", data={"token": token.group(1), "only_valid": "true"}, headers=HTMX
    )
    assert response.status_code == 200
    assert 'data-testid="import-result"' in response.text and "已导入 1 人" in response.text
    found = (await admin.get(f"/api/v1/users/people?q={good['学号/工号']}")).json()
    assert found["total"] == 1
    assert (await admin.get(f"/api/v1/users/people?q={bad['学号/工号']}")).json()["total"] == 0

    again = await admin.post(
        "/users/import/commit", data={"token": token.group(1), "only_valid": "true"}, headers=HTMX
    )
    assert "已过期" in again.text  # the upload is used once


async def test_import_page_explains_wrong_headers(admin: httpx.AsyncClient) -> None:
    from tests.platform.users.test_import_export import _sheet

    response = await admin.post(
        "/users/import/check",
        files={"file": ("x.xlsx", _sheet(["甲", "乙"], [["1", "2"]]), XLSX)},
        headers=HTMX,
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert 'data-testid="import-error"' in response.text
    assert "缺少必填列" in response.text


async def test_people_list_masks_phones_even_for_sensitive_holders(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    await create_person(admin, student_body(campus, student_no="M55500001", phone="13912345678"))
    page = (await admin.get("/users/people?q=M55500001", headers=HTMX)).text
    assert "139****5678" in page and "13912345678" not in page
    api = (await admin.get("/api/v1/users/people?q=M55500001")).json()
    assert api["items"][0]["phone"] == "13912345678"
