"""Student status changes (学籍异动) end to end through the real workflow engine: each kind
approved applies the change (record, history, user center, event), rejection and withdrawal
leave the record as it was, and every refusal changes nothing. Races (two approvals at once, an
outcome delivered twice) are in test_concurrency.py, on a database of their own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campus.kernel.runtime import Runtime
from tests.domains.academic.status.conftest import (
    API,
    HTML,
    WORKFLOW,
    Approved,
    Clients,
    Enrolled,
    Places,
    assert_problem,
    changed_events,
    decide_all,
    deliver_outcomes,
    file,
    filed,
    open_tasks,
    record,
    status_counts,
)


async def person(admin: httpx.AsyncClient, person_id: int) -> dict[str, Any]:
    response = await admin.get(f"/api/v1/users/people/{person_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


# ---------------------------------------------------------------- each kind, approved


async def test_suspension_then_resumption_into_a_later_cohort(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    approved: Approved,
) -> None:
    client, student = await enrolled()
    change, steps = await approved(client, kind="suspend", terms=2)
    assert (change["state"], change["terms"], change["kind_label"]) == ("pending", 2, "休学")
    assert len(steps) == 3  # counselor, college, registrar
    mine = (await client.get(f"{API}/me")).json()
    assert (mine["status"], mine["in_school"]) == ("suspended", False)
    assert mine["changes"][0]["state"] == "approved"
    [history] = mine["history"]
    assert (history["kind"], history["from_status"], history["to_status"]) == (
        "suspend",
        "studying",
        "suspended",
    )
    assert history["instance_id"] == change["instance_id"] and history["actor_id"] is not None
    assert (await person(admin, student["id"]))["status"] == "suspended"

    await approved(client, kind="resume", target_class_id=places.class_a2)
    after = await record(registrar, student["id"])
    assert (after["status"], after["class_id"], after["grade"]) == (
        "studying",
        places.class_a2,
        2025,
    )
    assert after["expected_graduation"].startswith("2029")  # one cohort later than 2028
    assert len(after["history"]) == 2
    user = await person(admin, student["id"])
    assert (user["status"], user["class_id"]) == ("active", places.class_a2)
    kinds = [e["kind"] for e in await changed_events(db, student["id"])]
    assert kinds == ["enrol", "suspend", "resume"]
    page = await registrar.get(f"/academic/status/records/{student['id']}", headers=HTML)
    assert page.status_code == 200
    assert page.text.count('data-testid="history-row"') == 2 and "甲2501班" in page.text
    mine_page = await client.get("/academic/status/me", headers=HTML)
    assert mine_page.text.count('data-testid="history-row"') == 2
    assert 'data-testid="apply-suspend"' in mine_page.text


async def test_change_of_major_passes_the_receiving_college(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    approved: Approved,
) -> None:
    client, student = await enrolled()
    change, steps = await approved(
        client, kind="transfer", target_major_id=places.major_b, target_class_id=places.class_b
    )
    assert change["target_major_name"] == "乙专业"
    assert len(steps) == 4  # counselor, college, receiving college, registrar
    after = await record(registrar, student["id"])
    assert (after["major_id"], after["college_id"], after["class_id"]) == (
        places.major_b,
        places.tree.college_b,
        places.class_b,
    )
    assert after["history"][0]["to_major_name"] == "乙专业"
    user = await person(admin, student["id"])
    assert (user["org_unit_id"], user["class_id"]) == (places.major_b, places.class_b)
    [event] = [e for e in await changed_events(db, student["id"]) if e["kind"] == "transfer"]
    assert event["major_id"] == places.major_b and event["change_id"] == change["id"]


async def test_repeat_and_withdrawal(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    approved: Approved,
) -> None:
    client, student = await enrolled()
    await approved(client, kind="repeat", target_class_id=places.class_a2)
    after = await record(registrar, student["id"])
    assert (after["status"], after["grade"], after["class_id"]) == (
        "studying",
        2025,
        places.class_a2,
    )

    await approved(client, kind="withdraw")
    after = await record(registrar, student["id"])
    assert (after["status"], after["in_school"]) == ("withdrawn", False)
    assert (await person(admin, student["id"]))["status"] == "left"
    assert [h["kind"] for h in after["history"]] == ["withdraw", "repeat"]


async def test_graduation_and_completion_are_filed_by_the_registrar(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    approved: Approved,
) -> None:
    client, student = await enrolled()
    before = await status_counts(db)
    assert_problem(await file(client, kind="graduate"), 422, "kind")
    assert await status_counts(db) == before
    await approved(registrar, kind="graduate", person_id=student["id"])
    after = await record(registrar, student["id"])
    assert (after["status"], after["in_school"]) == ("graduated", False)
    assert (await person(admin, student["id"]))["status"] == "graduated"

    _other_client, other = await enrolled()
    await approved(registrar, kind="complete", person_id=other["id"])
    assert (await record(registrar, other["id"]))["status"] == "completed"


# ---------------------------------------------------------------- not approved


@pytest.mark.parametrize("outcome", ["reject", "withdraw"])
async def test_rejection_or_withdrawal_leaves_the_record_unchanged(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    as_person: Clients,
    outcome: str,
) -> None:
    client, student = await enrolled()
    before = await record(registrar, student["id"])
    change = await filed(
        client, kind="transfer", target_major_id=places.major_b, target_class_id=places.class_b
    )
    if outcome == "reject":
        await decide_all(db, as_person, change["instance_id"], "reject")
        expected, note = "rejected", "材料不全，不同意"
    else:
        response = await client.post(f"{WORKFLOW}/instances/{change['instance_id']}/withdraw")
        assert response.status_code == 200, response.text
        await deliver_outcomes(db, change["instance_id"])
        expected, note = "withdrawn", "申请人撤回了申请"
    after = await record(registrar, student["id"])
    assert after["changes"][0]["state"] == expected
    assert after["changes"][0]["outcome_note"] == note
    for key in ("status", "major_id", "class_id", "grade", "expected_graduation"):
        assert after[key] == before[key]
    assert after["history"] == []
    assert (await person(admin, student["id"]))["org_unit_id"] == places.tree.major_a
    # Closed, the kind may be filed again.
    assert (await file(client, kind="suspend", terms=1)).status_code == 201


# ---------------------------------------------------------------- refusals


async def test_requests_that_do_not_fit_are_refused_and_write_nothing(
    db: Runtime,
    places: Places,
    enrolled: Enrolled,
    registrar: httpx.AsyncClient,
    approved: Approved,
) -> None:
    client, _student = await enrolled()
    tree = places.tree
    before = await status_counts(db)
    body = assert_problem(
        await file(client, kind="resume", target_class_id=places.class_a2), 409, "kind"
    )
    assert "在读" in body["detail"] and "复学" in body["detail"]
    assert_problem(await file(client, kind="suspend"), 422, "terms")
    assert_problem(await file(client, kind="suspend", terms=9), 422, "terms")
    assert_problem(await file(client, kind="suspend", terms=1, reason=""), 422, "reason")
    body = assert_problem(
        await file(
            client, kind="transfer", target_major_id=tree.major_a, target_class_id=tree.class_a
        ),
        422,
        "target_major_id",
    )
    assert body["errors"][0]["reason"] == "转入专业与当前专业相同"
    assert_problem(
        await file(
            client, kind="transfer", target_major_id=places.major_b, target_class_id=tree.class_a
        ),
        422,
        "target_class_id",
    )
    assert_problem(
        await file(
            client, kind="transfer", target_major_id=tree.college_b, target_class_id=places.class_b
        ),
        422,
        "target_major_id",
    )
    assert_problem(
        await file(client, kind="transfer", target_major_id=places.major_b), 422, "target_class_id"
    )
    # 留级 into the same cohort, or into another major's class.
    assert_problem(
        await file(client, kind="repeat", target_class_id=tree.class_a), 422, "target_class_id"
    )
    assert_problem(
        await file(client, kind="repeat", target_class_id=places.class_b), 422, "target_class_id"
    )
    assert_problem(
        await file(client, kind="repeat", target_class_id=999_999_999), 422, "target_class_id"
    )
    assert_problem(await file(client, kind="leave"), 422)
    assert await status_counts(db) == before

    # A second open request of the same kind.
    await filed(client, kind="suspend", terms=1)
    middle = await status_counts(db)
    body = assert_problem(await file(client, kind="suspend", terms=2), 409, "kind")
    assert "休学" in body["detail"]
    assert await status_counts(db) == middle

    # Graduated: nothing more may be filed, not even by the registrar.
    _c, other = await enrolled()
    await approved(registrar, kind="graduate", person_id=other["id"])
    after = await status_counts(db)
    body = assert_problem(
        await file(registrar, kind="suspend", terms=1, person_id=other["id"]), 409, "kind"
    )
    assert "毕业" in body["detail"]
    assert await status_counts(db) == after


async def test_an_approver_cannot_decide_twice(
    db: Runtime, enrolled: Enrolled, as_person: Clients
) -> None:
    client, _student = await enrolled()
    change = await filed(client, kind="withdraw")
    [(task_id, assignee)] = await open_tasks(db, change["instance_id"])
    approver = await as_person(assignee)
    first = await approver.post(f"{WORKFLOW}/tasks/{task_id}/approve", json={"comment": ""})
    assert first.status_code == 200, first.text
    second = await approver.post(f"{WORKFLOW}/tasks/{task_id}/approve", json={"comment": ""})
    assert second.status_code in (403, 404, 409), second.text
