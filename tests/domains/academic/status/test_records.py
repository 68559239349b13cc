"""Records (学籍): who reads which (the student their own, an academic secretary their college,
the registrar everyone), the registrar's search and roster export, opening a record, batch
graduation with its progress, the pages, and the demo university's records and processes."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlalchemy import func, select

from campus.domains.academic.status import processes
from campus.domains.academic.status.models import StatusChange, StudentStatus
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.access.scopes import ScopeKind
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES
from tests.domains.academic.status.conftest import (
    API,
    HTML,
    Enrolled,
    Places,
    SignIn,
    assert_problem,
    file,
    open_record,
    status_counts,
    student_in,
)
from tests.platform.access.conftest import staff_in


async def test_a_student_reads_only_their_own_record(
    db: Runtime, enrolled: Enrolled, registrar: httpx.AsyncClient
) -> None:
    me, mine = await enrolled()
    _other_client, other = await enrolled()
    response = await me.get(f"{API}/records/{mine['id']}")
    assert response.status_code == 200 and response.json()["student_no"] == mine["student_no"]
    assert (await me.get(f"{API}/me")).json()["person_id"] == mine["id"]
    assert_problem(await me.get(f"{API}/records/{other['id']}"), 404)
    assert (
        await me.get(f"/academic/status/records/{other['id']}", headers=HTML)
    ).status_code == 404
    assert_problem(await me.get(f"{API}/records"), 403)
    # Nor file for another student.
    before = await status_counts(db)
    assert_problem(await file(me, kind="withdraw", person_id=other["id"]), 404)
    assert await status_counts(db) == before


async def test_an_academic_secretary_sees_their_college_only(
    places: Places,
    admin: httpx.AsyncClient,
    registrar: httpx.AsyncClient,
    sign_in: SignIn,
) -> None:
    tree = places.tree
    inside = await student_in(admin, tree)
    outside = await student_in(admin, tree, class_id=places.class_b)
    for p in (inside, outside):
        await open_record(registrar, p["id"])
    secretary_person = await staff_in(admin, tree, tree.college_a)
    secretary = await sign_in(
        secretary_person, [("academic_secretary", ScopeKind.SUBTREE, tree.college_a)]
    )
    listed = (await secretary.get(f"{API}/records", params={"page_size": 200})).json()
    numbers = {r["student_no"] for r in listed["items"]}
    assert inside["student_no"] in numbers and outside["student_no"] not in numbers
    assert (await secretary.get(f"{API}/records/{inside['id']}")).status_code == 200
    assert_problem(await secretary.get(f"{API}/records/{outside['id']}"), 404)
    found = (await secretary.get(f"{API}/records", params={"q": outside["student_no"]})).json()
    assert found["total"] == 0
    # Reading is not managing: no filing on a student's behalf, no batches.
    assert_problem(await file(secretary, kind="withdraw", person_id=inside["id"]), 404)
    assert_problem(await secretary.post(f"{API}/batches", json={"grade": 2024}), 403)
    # The registrar sees both.
    for p in (inside, outside):
        assert (await registrar.get(f"{API}/records/{p['id']}")).status_code == 200


async def test_search_filters_and_the_roster_export(
    places: Places, enrolled: Enrolled, registrar: httpx.AsyncClient
) -> None:
    _c, one = await enrolled(name="欧阳学籍")
    tree = places.tree
    page = (await registrar.get(f"{API}/records", params={"q": "欧阳学籍"})).json()
    assert [r["student_no"] for r in page["items"]] == [one["student_no"]]
    row = page["items"][0]
    assert (row["major_name"], row["class_name"], row["status_label"]) == (
        "甲专业",
        "甲2401班",
        "在读",
    )
    page = (
        await registrar.get(
            f"{API}/records", params={"major_id": tree.major_a, "grade": 2024, "status": "studying"}
        )
    ).json()
    assert one["student_no"] in {r["student_no"] for r in page["items"]}
    page = (
        await registrar.get(
            f"{API}/records", params={"major_id": tree.major_a, "status": "graduated"}
        )
    ).json()
    assert page["total"] == 0
    assert_problem(await registrar.get(f"{API}/records", params={"status": "bogus"}), 422)
    response = await registrar.get(f"{API}/records/export.xlsx", params={"major_id": tree.major_a})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("学号", "姓名", "层次")
    assert (one["student_no"], "欧阳学籍") in {(r[0], r[1]) for r in rows[1:]}


async def test_opening_a_record_is_checked(
    db: Runtime, places: Places, admin: httpx.AsyncClient, registrar: httpx.AsyncClient
) -> None:
    student = await student_in(admin, places.tree)
    staff = await staff_in(admin, places.tree, places.tree.college_a)
    before = await status_counts(db)
    assert_problem(
        await registrar.post(f"{API}/records", json={"person_id": staff["id"]}), 422, "person_id"
    )
    assert_problem(
        await registrar.post(f"{API}/records", json={"person_id": 999_999_999}), 422, "person_id"
    )
    assert await status_counts(db) == before
    opened = await open_record(registrar, student["id"])
    assert (opened["grade"], opened["years"], opened["status"]) == (2024, 4, "studying")
    assert opened["expected_graduation"] == "2028-06-30"
    assert_problem(
        await registrar.post(f"{API}/records", json={"person_id": student["id"]}), 409, "person_id"
    )


async def test_batch_graduation_of_a_cohort_with_progress(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
) -> None:
    tree = places.tree
    students = [(await enrolled())[1] for _ in range(3)]
    kept = students[2]
    before = await status_counts(db)
    assert_problem(
        await registrar.post(f"{API}/batches", json={"grade": 1999, "major_id": tree.major_a}),
        422,
        "grade",
    )
    assert_problem(
        await registrar.post(f"{API}/batches", json={"grade": 2024, "major_id": tree.college_a}),
        422,
        "major_id",
    )
    assert await status_counts(db) == before
    response = await registrar.post(
        f"{API}/batches",
        json={"grade": 2024, "major_id": tree.major_a, "excluded": [kept["student_no"]]},
    )
    assert response.status_code == 201, response.text
    batch = response.json()
    assert (batch["total"], batch["done"], batch["state"]) == (2, 0, "running")
    assert_problem(
        await registrar.post(f"{API}/batches", json={"grade": 2024, "major_id": tree.major_a}),
        409,
        "grade",
    )
    page = await registrar.get(f"/academic/status/batches/{batch['id']}", headers=HTML)
    assert page.status_code == 200 and "hx-post" in page.text
    step = await registrar.post(f"/academic/status/batches/{batch['id']}/step", headers=HTML)
    assert step.status_code == 200 and 'data-testid="batch-progress-finished"' in step.text
    done = (await registrar.get(f"{API}/batches/{batch['id']}")).json()
    assert (done["done"], done["state"]) == (2, "finished")
    for s in students[:2]:
        rec = (await registrar.get(f"{API}/records/{s['id']}")).json()
        assert (rec["status"], rec["history"][0]["kind"]) == ("graduated", "graduate")
        assert (await admin.get(f"/api/v1/users/people/{s['id']}")).json()["status"] == "graduated"
    assert (await registrar.get(f"{API}/records/{kept['id']}")).json()["status"] == "studying"
    # A finished batch does nothing more.
    again = (await registrar.post(f"{API}/batches/{batch['id']}/step")).json()
    assert again["done"] == 2


async def test_pages(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
) -> None:
    client, student = await enrolled()
    page = await client.get("/academic/status/me", headers=HTML)
    assert page.status_code == 200
    assert student["student_no"] in page.text and 'data-testid="apply-suspend"' in page.text
    assert 'data-testid="apply-resume"' not in page.text  # only what fits 在读
    form = await client.get("/academic/status/me/apply?kind=transfer", headers=HTML)
    assert form.status_code == 200 and 'name="target_major_id"' in form.text
    options = await client.get(
        f"/academic/status/options/classes?target_major_id={places.major_b}&min_grade=2024",
        headers=HTML,
    )
    assert "乙2401班" in options.text
    before = await status_counts(db)
    bad = await client.post(
        "/academic/status/me/apply?kind=transfer",
        data={
            "reason": "想转专业",
            "target_major_id": str(places.tree.major_a),
            "target_class_id": str(places.tree.class_a),
        },
        headers=HTML,
    )
    assert bad.status_code == 422 and "转入专业与当前专业相同" in bad.text
    assert await status_counts(db) == before
    good = await client.post(
        "/academic/status/me/apply?kind=suspend",
        data={"reason": "身体原因", "terms": "2"},
        headers=HTML,
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/academic/status/me"
    assert (await client.get(f"{API}/me")).json()["changes"][0]["kind"] == "suspend"
    assert (await client.get("/academic/status/me/apply?kind=fly", headers=HTML)).status_code == 404
    assert (await client.get("/academic/status/records", headers=HTML)).status_code == 403

    listing = await registrar.get(
        f"/academic/status/records?q={student['student_no']}", headers=HTML
    )
    assert listing.status_code == 200 and student["student_no"] in listing.text
    detail = await registrar.get(f"/academic/status/records/{student['id']}", headers=HTML)
    assert detail.status_code == 200 and 'data-testid="apply-graduate"' in detail.text
    changes = await registrar.get("/academic/status/changes?state=pending", headers=HTML)
    assert changes.status_code == 200 and student["student_no"] in changes.text
    assert (await registrar.get("/academic/status/batches", headers=HTML)).status_code == 200
    on_behalf = await registrar.post(
        f"/academic/status/records/{student['id']}/apply?kind=withdraw",
        data={"reason": "本人申请退学"},
        headers=HTML,
        follow_redirects=False,
    )
    assert on_behalf.status_code == 303


async def test_the_demo_university_has_records_processes_and_requests(
    db: Runtime, demo: SeedContext, login_as: Any
) -> None:
    async with db.db.read() as session:
        students = await users.person_ids_of_types(session, STUDENT_TYPES, status=None)
        records = int(await session.scalar(select(func.count()).select_from(StudentStatus)) or 0)
        assert records >= len(students) - 5 and records > 1000
        changed = int(
            await session.scalar(
                select(func.count())
                .select_from(StudentStatus)
                .where(StudentStatus.status != "studying")
            )
            or 0
        )
        assert changed >= 3
        pending = list(
            await session.scalars(select(StatusChange).where(StatusChange.state == "pending"))
        )
        assert {c.kind for c in pending} >= {"suspend", "transfer"}
    student = await login_as("student")
    mine = (await student.get(f"{API}/me")).json()
    assert [c["kind"] for c in mine["changes"] if c["state"] == "pending"] == ["suspend"]
    assert_problem(await file(student, kind="suspend", terms=1), 409, "kind")
    registrar = await login_as("staff")
    listed = (await registrar.get(f"{API}/changes", params={"state": "pending"})).json()
    assert listed["total"] >= 2
    # The demo counselor decides the demo student's request, so reads their record; not a
    # classmate's who has filed nothing.
    counselor = await login_as("counselor")
    assert (await counselor.get(f"{API}/records/{mine['person_id']}")).status_code == 200
    async with db.db.read() as session:
        me = await users.get_person_ref(session, mine["person_id"])
        assert me is not None and me.class_id is not None
        filed_ids = set(await session.scalars(select(StatusChange.person_id)))
        quiet = next(
            p.id
            for p in await users.members_of_class(session, me.class_id)
            if p.id not in filed_ids
        )
    assert_problem(await counselor.get(f"{API}/records/{quiet}"), 404)
    admin = await login_as("admin")
    for kind in processes.KINDS:
        response = await admin.get(f"/api/v1/workflow/processes/{processes.process_key(kind)}")
        assert response.status_code == 200, response.text
