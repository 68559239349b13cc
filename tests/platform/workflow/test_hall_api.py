"""The service hall's JSON API: the catalog by audience, search, favourites, applying with bad
input, managing services, other modules' to-dos, and the statistics."""

from __future__ import annotations

from sqlalchemy import func, select

from campus.kernel.runtime import Runtime
from campus.platform.workflow import service as workflow
from campus.platform.workflow.models import Instance
from campus.platform.workflow.schemas import TodoPush
from tests.conftest import LoginAs
from tests.platform.auth.conftest import Browser, MakeAccount
from tests.platform.workflow.conftest import FORM_DATA, Cast, assert_problem, make_service, step

STUDENT_SERVICES = {
    "student_leave",
    "venue_booking",
    "enrolment_certificate",
    "student_card",
    "leave_school",
}
STAFF_SERVICES = {"seal_use", "official_car", "travel_reimbursement"}


async def keys(cast: Cast, role: str, **params: str) -> set[str]:
    response = await cast[role].get("/api/v1/workflow/services", params=params)
    assert response.status_code == 200, response.text
    return {s["key"] for s in response.json()}


async def test_each_audience_sees_its_services(cast: Cast) -> None:
    assert await keys(cast, "student") >= STUDENT_SERVICES
    assert not (STAFF_SERVICES & await keys(cast, "student"))
    assert await keys(cast, "teacher") >= STAFF_SERVICES
    assert not (STUDENT_SERVICES & await keys(cast, "teacher"))


async def test_search_and_category(cast: Cast) -> None:
    assert await keys(cast, "student", q="请假") == {"student_leave"}
    assert await keys(cast, "student", category="教务服务") == {"enrolment_certificate"}


async def test_favourites(cast: Cast) -> None:
    student = cast["student"]
    assert (
        await student.put("/api/v1/workflow/services/student_card/favourite")
    ).status_code == 204
    got = (await student.get("/api/v1/workflow/services/student_card")).json()
    assert got["favourite"] is True
    assert (
        await student.delete("/api/v1/workflow/services/student_card/favourite")
    ).status_code == 204
    assert (await student.get("/api/v1/workflow/services/student_card")).json()[
        "favourite"
    ] is False
    missing = await student.put("/api/v1/workflow/services/nope/favourite")
    assert_problem(missing, 404)


async def instances(db: Runtime) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Instance)) or 0)


async def test_a_student_on_leave_reads_the_hall_but_cannot_apply(
    make_account: MakeAccount, browser: Browser, login_as: LoginAs, db: Runtime
) -> None:
    account = await make_account()
    admin = await login_as("admin")
    url = f"/api/v1/users/people/{account.person_id}/status"
    assert (
        await admin.post(url, json={"status": "suspended", "reason": "休学"})
    ).status_code == 200
    student = await browser(account)
    assert "enrolment_certificate" in {
        s["key"] for s in (await student.get("/api/v1/workflow/services")).json()
    }
    before = await instances(db)
    refused = await student.post(
        "/api/v1/workflow/services/enrolment_certificate/apply", json={"data": FORM_DATA}
    )
    assert_problem(refused, 403)
    assert "休学" in refused.json()["detail"]
    page = await student.get(
        "/hall/services/enrolment_certificate", headers={"Accept": "text/html"}
    )
    assert 'data-testid="service-on-leave"' in page.text
    assert 'data-testid="apply-button"' not in page.text
    apply_page = await student.get(
        "/hall/services/enrolment_certificate/apply", headers={"Accept": "text/html"}
    )
    assert apply_page.status_code == 403
    assert await instances(db) == before
    # Back in study (复学), the same application goes through.
    assert (await admin.post(url, json={"status": "active", "reason": "复学"})).status_code == 200
    applied = await student.post(
        "/api/v1/workflow/services/enrolment_certificate/apply", json={"data": FORM_DATA}
    )
    assert applied.status_code == 201, applied.text


async def test_bad_applications_change_nothing(cast: Cast, db: Runtime) -> None:
    student = cast["student"]
    before = await instances(db)
    wrong = await student.post(
        "/api/v1/workflow/services/enrolment_certificate/apply",
        json={"data": {**FORM_DATA, "copies": 0, "language": "法语"}},
    )
    assert_problem(wrong, 422)
    fields = {e["field"] for e in wrong.json()["errors"]}
    assert {"data.copies", "data.language"} <= fields
    staff_only = await student.post("/api/v1/workflow/services/seal_use/apply", json={"data": {}})
    assert_problem(staff_only, 403)
    unknown = await student.post("/api/v1/workflow/services/nope/apply", json={"data": {}})
    assert_problem(unknown, 404)
    assert await instances(db) == before


async def test_an_unpublished_service_is_gone(cast: Cast) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"])])
    hidden = await cast["admin"].patch(
        f"/api/v1/workflow/services/{key}", json={"published": False}
    )
    assert hidden.status_code == 200 and hidden.json()["published"] is False
    assert key not in await keys(cast, "student")
    applied = await cast["student"].post(
        f"/api/v1/workflow/services/{key}/apply", json={"data": FORM_DATA}
    )
    assert_problem(applied, 404)


async def test_service_management_refuses_bad_bindings(cast: Cast) -> None:
    admin = cast["admin"]
    base = {"key": "t_bad_service", "name": "x", "category": "测试"}
    no_form = await admin.post("/api/v1/workflow/services", json=base)
    assert_problem(no_form, 422, "form_key")
    unknown_process = await admin.post(
        "/api/v1/workflow/services",
        json={**base, "form_key": "enrolment_certificate", "process_key": "nope"},
    )
    assert_problem(unknown_process, 422, "process_key")
    bad_link = await admin.post(
        "/api/v1/workflow/services", json={**base, "kind": "link", "link": "javascript:alert(1)"}
    )
    assert_problem(bad_link, 422)
    duplicate = await admin.post(
        "/api/v1/workflow/services",
        json={**base, "key": "student_leave", "kind": "link", "link": "/x"},
    )
    assert_problem(duplicate, 409, "key")
    refused = await cast["student"].post("/api/v1/workflow/services", json=base)
    assert_problem(refused, 403)


async def test_other_modules_push_and_close_todos(cast: Cast, db: Runtime) -> None:
    item = TodoPush(
        person_id=cast.ids["teacher"],
        source="oa",
        business_key="doc:1",
        title="请阅：关于期末考试安排的通知",
        link="/oa/documents/1",
    )
    async with db.db.transaction() as session:
        first = await workflow.push_todo(session, item)
        again = await workflow.push_todo(session, item)
    assert first == again  # one open item per (source, business key, person)
    todo = (await cast["teacher"].get("/api/v1/workflow/tasks")).json()["items"]
    mine = [t for t in todo if t["id"] == first]
    assert mine and mine[0]["kind"] == "external" and mine[0]["link"] == "/oa/documents/1"
    async with db.db.transaction() as session:
        assert await workflow.close_todo(session, source="oa", business_key="doc:1") == 1
    todo = (await cast["teacher"].get("/api/v1/workflow/tasks")).json()["items"]
    assert first not in [t["id"] for t in todo]
    done = (await cast["teacher"].get("/api/v1/workflow/tasks", params={"box": "done"})).json()
    assert first in [t["id"] for t in done["items"]]


async def test_other_modules_start_processes_and_learn_the_outcome(cast: Cast, db: Runtime) -> None:
    async with db.db.transaction() as session:
        await workflow.ensure_process(
            session,
            key="t_module_flow",
            name="模块流程",
            chain={"nodes": [step("审批", cast.ids["staff"])]},
        )
        instance_id = await workflow.start_process(
            session,
            process_key="t_module_flow",
            applicant_id=cast.ids["teacher"],
            title="成绩更正",
            data={"course": "高等数学"},
            source="academic",
            business_key="grade:7",
        )
    task = (await cast["staff"].get("/api/v1/workflow/tasks")).json()["items"]
    task_id = next(t["id"] for t in task if t["instance_id"] == instance_id)
    await cast["staff"].post(f"/api/v1/workflow/tasks/{task_id}/approve", json={})
    async with db.db.read() as session:
        out = await workflow.get_instance(session, instance_id)
    assert out.status == "approved" and out.source == "academic" and out.business_key == "grade:7"


async def test_statistics(cast: Cast) -> None:
    response = await cast["admin"].get("/api/v1/workflow/stats", params={"days": 30})
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["applied"] >= 1  # the demo seed's month of leave applications
    assert len(stats["per_day"]) == 30
    counselor = next(s for s in stats["steps"] if s["step_name"] == "辅导员审批")
    assert counselor["decided"] >= 1 and counselor["avg_hours"] is not None
    refused = await cast["student"].get("/api/v1/workflow/stats")
    assert_problem(refused, 403)
