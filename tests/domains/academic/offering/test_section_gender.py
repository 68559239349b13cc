"""A section's gender restriction (性别限制, e.g. a PE section for women only): set through the
API, the section form and the Excel sheet, shown on the pages; a code other than blank, "1"
or "2" is refused naming the field, and changes nothing."""

from __future__ import annotations

import io

import httpx
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from campus.domains.academic.offering.models import Section
from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from tests.domains.academic.conftest import HTML
from tests.domains.academic.offering.test_offering import SECTIONS, by_course, planned
from tests.domains.academic.programmes.conftest import World, acad_counts
from tests.platform.access.conftest import Tree, assert_problem


async def test_the_api_sets_and_clears_a_gender_restriction_and_refuses_bad_codes(
    admin: httpx.AsyncClient, secretary_a: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    sections = await planned(admin, tree, world, secretary_a)
    url = f"{SECTIONS}/{by_course(sections, world, 'C1')[0]['id']}"
    assert (await admin.get(url)).json()["gender"] == ""
    before = await acad_counts(db)
    for wrong in ("3", "男", "12", 2):
        problem = assert_problem(await admin.patch(url, json={"gender": wrong}), 422, "gender")
        assert "应为" in str(problem)
    assert await acad_counts(db) == before
    assert (await admin.get(url)).json()["gender"] == ""

    women = await admin.patch(url, json={"gender": "2"})
    assert women.status_code == 200 and women.json()["gender"] == "2", women.text
    # Other edits keep it; blank clears it.
    assert (await admin.patch(url, json={"note": "女生班"})).json()["gender"] == "2"
    assert (await admin.patch(url, json={"gender": ""})).json()["gender"] == ""
    async with db.db.read() as session:
        changes = list(
            await session.scalars(
                select(AuditEntry.after)
                .where(AuditEntry.action == "academic.section.update")
                .order_by(AuditEntry.id)
            )
        )
    assert [c["gender"] for c in changes[-3:]] == ["2", "2", ""]


async def test_the_section_form_sets_it_and_the_list_shows_it(
    admin: httpx.AsyncClient, secretary_a: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    sections = await planned(admin, tree, world, secretary_a)
    section = by_course(sections, world, "C1")[0]
    page_url = f"/academic/offering/sections/{section['id']}"
    form = {
        "csrf_token": admin.headers["X-CSRF-Token"],
        "capacity": str(section["capacity"]),
        "week_from": str(section["week_from"]),
        "week_to": str(section["week_to"]),
        "week_parity": "all",
        "room_type": section["room_type"],
        "lectures_per_week": str(section["lectures_per_week"]),
        "min_days": str(section["min_days"]),
    }
    refused = await admin.post(page_url, data={**form, "gender": "9"}, headers=HTML)
    assert refused.status_code == 422 and 'id="gender"' in refused.text
    async with db.db.read() as session:
        assert (await session.get(Section, section["id"])).gender == ""  # type: ignore[union-attr]

    saved = await admin.post(page_url, data={**form, "gender": "1"}, headers=HTML)
    assert saved.status_code == 303, saved.text
    page = await admin.get(page_url, headers=HTML)
    assert '<option value="1" selected>仅限男生</option>' in page.text
    listing = await admin.get(f"/academic/offering?term_id={world.term_id}", headers=HTML)
    assert 'data-testid="section-gender">仅限男生' in listing.text


def _sheet(rows: list[list[object]]) -> dict[str, tuple[str, bytes, str]]:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return {"file": ("s.xlsx", buffer.getvalue(), "application/octet-stream")}


async def test_the_excel_sheet_carries_the_restriction_both_ways(
    admin: httpx.AsyncClient, secretary_a: httpx.AsyncClient, tree: Tree, world: World, db: Runtime
) -> None:
    sections = await planned(admin, tree, world, secretary_a)
    first = by_course(sections, world, "C1")[0]
    second = next(s for s in sections if s["id"] != first["id"])
    assert (await admin.patch(f"{SECTIONS}/{first['id']}", json={"gender": "2"})).status_code == 200
    exported = await admin.get(f"{SECTIONS}.xlsx?term_id={world.term_id}")
    rows = list(
        load_workbook(io.BytesIO(exported.content)).worksheets[0].iter_rows(values_only=True)
    )
    header = list(rows[0])
    column = header.index("性别限制")
    by_code = {r[0]: r for r in rows[1:]}
    assert by_code[first["code"]][column] == "女"
    assert by_code[second["code"]][column] in (None, "")

    def row(code: str, gender: str) -> list[object]:
        cells: list[object] = [code] + [None] * (len(header) - 1)
        cells[column] = gender
        return cells

    url = f"{SECTIONS}/teachers.xlsx?term_id={world.term_id}"
    before = await acad_counts(db)
    bad = await admin.post(url, files=_sheet([header, row(first["code"], "男"), row("x", "男女")]))
    assert_problem(bad, 422, "rows.3")
    assert await acad_counts(db) == before
    assert (await admin.get(f"{SECTIONS}/{first['id']}")).json()["gender"] == "2"

    sheet = _sheet([header, row(first["code"], ""), row(second["code"], "男")])
    imported = await admin.post(url, files=sheet)
    assert imported.status_code == 200, imported.text
    assert (await admin.get(f"{SECTIONS}/{first['id']}")).json()["gender"] == ""
    assert (await admin.get(f"{SECTIONS}/{second['id']}")).json()["gender"] == "1"
