"""The public interface other modules call: schemas out, never ORM objects."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook

from campus.kernel import migrate
from campus.kernel.context import Principal
from campus.kernel.db import Database
from campus.kernel.errors import InvalidInput
from campus.kernel.runtime import Runtime
from campus.platform.users import service
from campus.platform.users.schemas import OrgTreeNode, PersonRef
from campus.platform.users.service import PersonAccess, access_person
from tests.platform.users.conftest import Campus, create_person, staff_body, student_body


def test_access_person() -> None:
    def principal(*codes: str) -> Principal:
        return Principal(person_id=1, name="x", login="x", permissions=frozenset(codes))

    assert access_person(None, 1) is PersonAccess.NONE
    assert access_person(principal(), 1) is PersonAccess.FULL  # one's own record
    assert access_person(principal(), 2) is PersonAccess.NONE
    assert access_person(principal("users.person.read"), 2) is PersonAccess.MASKED
    assert access_person(principal("users.person.sensitive"), 2) is PersonAccess.NONE
    both = principal("users.person.read", "users.person.sensitive")
    assert access_person(both, 2) is PersonAccess.FULL
    assert access_person(principal("*"), 2) is PersonAccess.FULL


async def test_people_lookups(admin: httpx.AsyncClient, campus: Campus, db: Runtime) -> None:
    student = await create_person(admin, student_body(campus))
    teacher = await create_person(admin, staff_body(campus, phone="13700001234"))
    async with db.db.read() as session:
        ref = await service.get_person(session, student["id"])
        assert isinstance(ref, PersonRef)
        assert (ref.number, ref.class_id, ref.org_unit_id) == (
            student["student_no"],
            campus.class_id,
            campus.major_id,
        )
        assert await service.get_person(session, 987654321) is None
        people = await service.get_people(session, [student["id"], teacher["id"], 987654321])
        assert set(people) == {student["id"], teacher["id"]}
        by_number = await service.find_person_by_login(session, teacher["staff_no"])
        by_phone = await service.find_person_by_login(session, "13700001234")
        assert by_number is not None and by_phone is not None
        assert by_number.id == by_phone.id == teacher["id"]
        found = await service.search_people(session, student["student_no"])
        assert [p.id for p in found] == [student["id"]]

        direct = await service.members_of_org(session, campus.college_id)
        subtree = await service.members_of_org(session, campus.college_id, subtree=True)
        assert {p.id for p in direct} == {teacher["id"]}
        assert {p.id for p in subtree} == {teacher["id"], student["id"]}
        in_class = await service.members_of_class(session, campus.class_id)
        assert [p.id for p in in_class] == [student["id"]]

        tree = await service.org_tree(session)
        assert isinstance(tree[0], OrgTreeNode)
        assert campus.college_id in {c.id for c in tree[0].children}
        detail = await service.person_detail(session, student["id"])
        assert detail is not None and detail.masked and "*" in (detail.id_number or "")
        assert await service.person_detail(session, student["id"], PersonAccess.NONE) is None


async def test_excel_through_the_service(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    await create_person(admin, student_body(campus, name="服务导出"))
    async with db.db.read() as session:
        data, count = await service.export_people(session)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.max_row == count + 1 and count >= 1
    async with db.db.transaction() as session:
        report = await service.import_people(session, data, only_valid=False, dry_run=True)
        assert (report.status, report.valid_rows, report.invalid_rows) == ("validated", 0, count)
        with pytest.raises(InvalidInput) as raised:  # everyone in it exists already
            await service.import_people(session, data, only_valid=False)
    assert raised.value.extra["report"]["total_rows"] == count


async def test_problems_in_english_when_asked(admin: httpx.AsyncClient, campus: Campus) -> None:
    response = await admin.post(
        "/api/v1/users/people",
        json=staff_body(campus, org_unit_id=987654321),
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "org_unit_id", "reason": "Org unit 987654321 does not exist"}
    ]


async def test_has_people_tells_an_empty_database_from_a_seeded_one(
    db: Runtime, tmp_path: Path
) -> None:
    async with db.db.read() as session:
        assert await service.has_people(session)
    empty = Database(f"sqlite+aiosqlite:///{tmp_path}/empty.db")
    await asyncio.to_thread(migrate.upgrade, empty.url)
    try:
        async with empty.read() as session:
            assert not await service.has_people(session)
    finally:
        await empty.dispose()


async def test_the_org_directory_answers_paths_and_kinds_in_memory(
    db: Runtime, campus: Campus
) -> None:
    async with db.db.read() as session:
        directory = await service.org_directory(session)
    major, college = campus.major_id, campus.college_id
    assert directory.path(major)[-2:] == [college, major]
    assert directory.path(major)[0] == campus.root_id
    assert directory.nearest(major, "college") == college
    assert directory.nearest(college, "major") == college  # none above: the unit itself
    assert directory.within(major, college) and not directory.within(college, major)
    assert set(directory.subtree(college)) >= {college, major}
    assert campus.other_college_id not in directory.subtree(college)
    assert major in directory.of_kind("major") and college not in directory.of_kind("major")
    assert directory.by_code()[directory.codes[major]] == major
    depth = {unit: d for unit, _name, d in directory.ordered()}
    assert depth[major] == depth[college] + 1
