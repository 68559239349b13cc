"""Graduation audit through HTTP: a student's report of what is missing, a cohort run with
progress and its results, and the refusals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, select

from campus.domains.academic.graduation.models import AuditRun, StudentAudit
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.domains.academic.graduation.conftest import Plan, passes
from tests.domains.academic.status.conftest import Enrolled
from tests.platform.access.conftest import Tree, assert_problem

API = "/api/v1/academic/graduation"


async def _report(client: httpx.AsyncClient, path: str = f"{API}/me") -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    report: dict[str, Any] = response.json()["report"]
    return report


async def test_a_student_sees_what_is_missing_until_it_is_passed(
    db: Runtime, enrolled: Enrolled, plan: Plan
) -> None:
    client, person = await enrolled()
    await passes(db, plan, person["id"], "ds", "free")
    await passes(db, plan, person["id"], "os", score=Decimal(40), passed=False)
    report = await _report(client)
    assert report["passed"] is False
    required, elective = report["groups"]
    assert [c["name"] for c in required["missing_required"]] == ["审核·操作系统"]
    assert Decimal(required["earned"]) == 4 and Decimal(required["missing_credits"]) == 3
    assert Decimal(elective["missing_credits"]) == 2
    assert Decimal(report["total_earned"]) == 5 and Decimal(report["outside_credits"]) == 1
    page = await client.get("/academic/graduation/me")
    assert page.status_code == 200
    assert "尚未满足毕业要求" in page.text and "审核·操作系统" in page.text

    await passes(db, plan, person["id"], "os", attempt="retake")  # retaken and passed
    await passes(db, plan, person["id"], "ml")
    report = await _report(client)
    assert report["passed"] is True
    assert Decimal(report["total_earned"]) == 10  # the failed attempt earns nothing, once
    assert "满足毕业要求" in (await client.get("/academic/graduation/me")).text


async def test_a_cohort_run_audits_everyone_once_and_feeds_batch_graduation(
    db: Runtime, enrolled: Enrolled, plan: Plan, tree: Tree, registrar: httpx.AsyncClient
) -> None:
    ready = [await enrolled() for _ in range(3)]
    behind = [await enrolled() for _ in range(2)]
    for _client, person in ready:
        await passes(db, plan, person["id"], "ds", "os", "ml", "free")
    for _client, person in behind:
        await passes(db, plan, person["id"], "ds")

    response = await registrar.post(f"{API}/runs", json={"grade": 2024, "major_id": tree.major_a})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["total"] == 5 and run["state"] == "running"
    assert_problem(
        await registrar.post(f"{API}/runs", json={"grade": 2024, "major_id": tree.major_a}),
        409,
        "grade",
    )
    steps = 0
    while run["state"] == "running":
        run = (await registrar.post(f"{API}/runs/{run['id']}/step")).json()
        steps += 1
    assert steps == 1
    assert (run["passed"], run["failed"], run["no_programme"], run["done"]) == (3, 2, 0, 5)
    again = (await registrar.post(f"{API}/runs/{run['id']}/step")).json()
    assert again["done"] == 5  # a finished run audits nobody twice

    failed = (await registrar.get(f"{API}/runs/{run['id']}/results?verdict=failed")).json()
    assert sorted(r["student_no"] for r in failed) == sorted(p["student_no"] for _, p in behind)
    page = await registrar.get(f"/academic/graduation/runs/{run['id']}")
    assert page.status_code == 200
    for _client, person in behind:
        assert person["student_no"] in page.text  # listed, and excluded from graduation
    assert "审核·操作系统" in page.text  # the most often missing required course
    sheet = await registrar.get(f"/academic/graduation/runs/{run['id']}/results.xlsx")
    assert sheet.status_code == 200 and sheet.content[:2] == b"PK"

    async with db.db.read() as session:
        audits = await session.scalar(
            select(func.count()).select_from(StudentAudit).where(StudentAudit.run_id == run["id"])
        )
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(
                AuditEntry.action.in_(["academic.graduation.run", "academic.graduation.finish"]),
                AuditEntry.target_id == str(run["id"]),
            )
        )
        events = list(
            await session.scalars(
                select(OutboxRow.payload).where(OutboxRow.name == "academic.graduation.audited")
            )
        )
    assert audits == 5 and audited == 2
    assert any(e["run_id"] == run["id"] and e["passed"] == 3 for e in events)


async def test_a_student_without_a_programme_is_reported_so(
    enrolled: Enrolled, registrar: httpx.AsyncClient, tree: Tree
) -> None:
    client, _person = await enrolled()
    response = await client.get(f"{API}/me")
    assert response.status_code == 200 and response.json()["report"] is None
    assert "没有适用的培养方案" in (await client.get("/academic/graduation/me")).text
    run = (
        await registrar.post(f"{API}/runs", json={"grade": 2024, "major_id": tree.major_a})
    ).json()
    run = (await registrar.post(f"{API}/runs/{run['id']}/step")).json()
    assert run["no_programme"] == 1 and run["passed"] == 0


async def test_refusals_change_nothing(
    db: Runtime, enrolled: Enrolled, plan: Plan, tree: Tree, registrar: httpx.AsyncClient
) -> None:
    client, person = await enrolled()
    _other, other_person = await enrolled()
    assert_problem(await client.get(f"{API}/students/{other_person['id']}"), 404)
    assert_problem(await client.post(f"{API}/runs", json={"grade": 2024}), 403)
    assert_problem(await registrar.post(f"{API}/runs", json={"grade": 1990}), 422, "grade")
    assert_problem(
        await registrar.post(f"{API}/runs", json={"grade": 2024, "major_id": tree.college_a}),
        422,
        "major_id",
    )
    assert_problem(await registrar.post(f"{API}/runs", json={"grade": "二〇二四"}), 422, "grade")
    assert_problem(await registrar.post(f"{API}/runs/999999/step"), 404)
    form = await registrar.post("/academic/graduation/runs", data={"grade": "1990"})
    assert form.status_code == 422 and "没有可审核的在读学生" in form.text
    async with db.db.read() as session:
        assert (
            await session.scalar(
                select(func.count()).select_from(AuditRun).where(AuditRun.grade == 1990)
            )
            == 0
        )
    assert (await registrar.get(f"{API}/students/{person['id']}")).status_code == 200
