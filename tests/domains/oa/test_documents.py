"""Documents (发文) against the real workflow engine: draft, submit, approve through every step,
the number, seal, distribution to 收文 inboxes with read receipts; rejection and withdrawal
back to draft with the reason; every refused transition."""

from __future__ import annotations

import io
from functools import partial
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from campus.domains.oa import events
from campus.domains.oa.handlers import HANDLERS
from campus.kernel.clock import today
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from tests import approvals
from tests.approvals import WORKFLOW, Clients, People, open_tasks
from tests.conftest import LoginAs
from tests.domains.oa.conftest import (
    DOCUMENTS,
    HTML,
    SignIn,
    Tree,
    assert_problem,
    oa_counts,
    outbox_payloads,
    staff_in,
)

PASSWORD = "Docs@2026pw"


@pytest.fixture
async def as_person(app, db: Runtime, login_as: LoginAs) -> Any:  # type: ignore[no-untyped-def]
    """``await as_person(person_id)``: a client signed in as anyone of the demo university."""
    admin = await login_as("admin")
    admin_id = (await admin.get("/api/v1/auth/me")).json()["person_id"]
    people = People(app, db, PASSWORD, known={admin_id: admin})
    yield people
    await people.aclose()


deliver_outcomes = partial(approvals.deliver_outcomes, handlers=HANDLERS)
decide_all = partial(approvals.decide_all, handlers=HANDLERS, comment="不同意，请修改标题")


async def draft(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "关于测试的通知")
    body.setdefault("kind", "notice")
    body.setdefault("body", "各单位：特此通知。")
    response = await client.post(DOCUMENTS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def drafter(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> tuple[httpx.AsyncClient, dict[str, Any]]:
    from tests.domains.oa.conftest import ScopeKind

    person = await staff_in(admin, tree, tree.college_a)
    return await sign_in(person, [("staff", ScopeKind.ORG, tree.college_a)]), person


# ---------------------------------------------------------------- the whole way


async def test_a_document_goes_from_draft_to_every_inbox(
    drafter: tuple[httpx.AsyncClient, dict[str, Any]],
    admin: httpx.AsyncClient,
    tree: Tree,
    sign_in: SignIn,
    as_person: Clients,
    db: Runtime,
) -> None:
    client, me = drafter
    colleague = await staff_in(admin, tree, tree.college_a)
    outsider = await staff_in(admin, tree, tree.college_b)
    document = await draft(
        client,
        urgency="urgent",
        secrecy="internal",
        main=[{"kind": "org", "id": tree.college_a}],
        copy_to=[{"kind": "person", "id": outsider["id"]}],
    )
    assert (document["status"], document["number"]) == ("draft", None)
    assert document["issuing_org_id"] == tree.college_a

    response = await client.post(f"{DOCUMENTS}/{document['id']}/submit")
    assert response.status_code == 200, response.text
    submitted = response.json()
    assert submitted["status"] == "reviewing" and submitted["instance_id"]
    instance_id = submitted["instance_id"]
    assert_problem(await client.patch(f"{DOCUMENTS}/{document['id']}", json={"title": "改"}), 409)
    # Approvers read the document they decide on.
    tasks = await open_tasks(db, instance_id)
    approver = await as_person(tasks[0][1])
    assert (await approver.get(f"{DOCUMENTS}/{document['id']}")).status_code == 200

    steps = await decide_all(db, as_person, instance_id)
    assert len(steps) == 3
    approved = (await client.get(f"{DOCUMENTS}/{document['id']}")).json()
    assert approved["status"] == "approved"
    assert approved["number"].startswith(f"甲学院发〔{today().year}〕")
    assert approved["number"].endswith("号")
    assert await outbox_payloads(db, events.DOCUMENT_APPROVED, document_id=document["id"])

    # Sealing needs oa.document.seal over the issuing unit; the drafter has none.
    assert_problem(
        await client.post(f"{DOCUMENTS}/{document['id']}/seal", json={"seal_name": "甲学院"}), 403
    )
    assert_problem(await admin.post(f"{DOCUMENTS}/{document['id']}/distribute"), 409)
    response = await admin.post(f"{DOCUMENTS}/{document['id']}/seal", json={"seal_name": "甲学院"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["seal_name"]) == ("sealed", "甲学院")
    assert_problem(
        await admin.post(f"{DOCUMENTS}/{document['id']}/seal", json={"seal_name": "再盖"}), 409
    )

    response = await admin.post(f"{DOCUMENTS}/{document['id']}/distribute")
    assert response.status_code == 200, response.text
    distributed = response.json()
    assert distributed["status"] == "distributed"
    # 主送 college A: its staff (the drafter and the colleague); 抄送 the outsider.
    assert distributed["recipients"] == 3 and distributed["read"] == 0
    assert_problem(await admin.post(f"{DOCUMENTS}/{document['id']}/distribute"), 409)
    payload = (await outbox_payloads(db, events.DOCUMENT_DISTRIBUTED))[-1]
    assert sorted(payload["recipient_ids"]) == sorted([me["id"], colleague["id"], outsider["id"]])

    reader = await sign_in(outsider)
    inbox = (await reader.get("/api/v1/oa/inbox")).json()
    item = next(i for i in inbox["items"] if i["document_id"] == document["id"])
    assert (item["role"], item["read_at"], item["number"]) == ("copy", None, approved["number"])
    assert inbox["unread"] >= 1
    page = await reader.get(f"/oa/documents/{document['id']}", headers=HTML)
    assert page.status_code == 200 and 'data-testid="document-read"' in page.text
    assert "审批进度" not in page.text  # recipients see the document, not its approval

    progress = (await client.get(f"{DOCUMENTS}/{document['id']}/receipts")).json()
    assert (progress["total"], progress["read"]) == (3, 1)
    unread = (await client.get(f"{DOCUMENTS}/{document['id']}/receipts/people?state=unread")).json()
    assert {p["person_id"] for p in unread["items"]} == {me["id"], colleague["id"]}
    assert (await reader.get(f"{DOCUMENTS}/{document['id']}/receipts")).status_code == 403
    export = await client.get(f"{DOCUMENTS}/{document['id']}/receipts.xlsx")
    rows = list(load_workbook(io.BytesIO(export.content))["名单"].iter_rows(values_only=True))
    assert len(rows) == 4
    receipts_page = await client.get(f"/oa/documents/{document['id']}/receipts", headers=HTML)
    assert 'data-testid="receipts-chart"' in receipts_page.text

    stranger = await sign_in(await staff_in(admin, tree, tree.college_b))
    assert_problem(await stranger.get(f"{DOCUMENTS}/{document['id']}"), 403)
    assert_problem(await stranger.post(f"/api/v1/oa/inbox/{document['id']}/read"), 403)


async def test_rejection_and_withdrawal_send_it_back_to_draft_with_the_reason(
    drafter: tuple[httpx.AsyncClient, dict[str, Any]],
    tree: Tree,
    as_person: Clients,
    db: Runtime,
) -> None:
    client, _me = drafter
    document = await draft(client, main=[{"kind": "org", "id": tree.college_a}])
    submitted = (await client.post(f"{DOCUMENTS}/{document['id']}/submit")).json()
    await decide_all(db, as_person, submitted["instance_id"], decision="reject")
    back = (await client.get(f"{DOCUMENTS}/{document['id']}")).json()
    assert (back["status"], back["return_reason"], back["number"]) == (
        "draft",
        "不同意，请修改标题",
        None,
    )
    returned = await outbox_payloads(db, events.DOCUMENT_RETURNED, document_id=document["id"])
    assert returned[0]["outcome"] == "rejected"

    response = await client.patch(f"{DOCUMENTS}/{document['id']}", json={"title": "改过的标题"})
    assert response.status_code == 200
    again = (await client.post(f"{DOCUMENTS}/{document['id']}/submit")).json()
    assert again["status"] == "reviewing" and again["instance_id"] != submitted["instance_id"]
    response = await client.post(f"{WORKFLOW}/instances/{again['instance_id']}/withdraw")
    assert response.status_code == 200, response.text
    await deliver_outcomes(db, again["instance_id"])
    back = (await client.get(f"{DOCUMENTS}/{document['id']}")).json()
    assert back["status"] == "draft" and back["return_reason"] == "拟稿人撤回了审批"
    # A stale outcome (of the first instance, delivered again) changes nothing.
    await deliver_outcomes(db, submitted["instance_id"])
    assert (await client.get(f"{DOCUMENTS}/{document['id']}")).json()["status"] == "draft"
    # Once submitted, a document is kept: it is edited and submitted again, not deleted.
    assert_problem(await client.delete(f"{DOCUMENTS}/{document['id']}"), 409)


# ---------------------------------------------------------------- refusals and bad input


async def test_refused_transitions_and_bad_drafts_change_nothing(
    drafter: tuple[httpx.AsyncClient, dict[str, Any]],
    admin: httpx.AsyncClient,
    tree: Tree,
    login_as: LoginAs,
    db: Runtime,
) -> None:
    client, _me = drafter
    document = await draft(client)
    url = f"{DOCUMENTS}/{document['id']}"
    student = await login_as("student")
    before = await oa_counts(db)
    # Sealing or distributing before approval.
    assert_problem(await admin.post(f"{url}/seal", json={"seal_name": "公章"}), 409)
    assert_problem(await admin.post(f"{url}/distribute"), 409)
    assert_problem(await admin.post(f"{url}/seal", json={"seal_name": ""}), 422, "seal_name")
    # Submitting without 主送, or with an empty body.
    assert_problem(await client.post(f"{url}/submit"), 422, "main")
    cases = [
        ({"title": "", "kind": "notice"}, "title"),
        ({"title": "坏文种", "kind": "memo"}, "kind"),
        ({"title": "坏紧急", "kind": "notice", "urgency": "now"}, "urgency"),
        ({"title": "坏密级", "kind": "notice", "secrecy": "top"}, "secrecy"),
        (
            {"title": "查无此单位", "kind": "notice", "main": [{"kind": "org", "id": 999_999_999}]},
            "main.0.id",
        ),
        (
            {
                "title": "查无此人",
                "kind": "notice",
                "copy_to": [{"kind": "person", "id": 999_999_999}],
            },
            "copy_to.0.id",
        ),
        (
            {"title": "坏发文单位", "kind": "notice", "issuing_org_id": 999_999_999},
            "issuing_org_id",
        ),
    ]
    for body, field in cases:
        assert_problem(await client.post(DOCUMENTS, json=body), 422, field)
    # Another unit's name, a student, someone else's draft.
    assert_problem(
        await client.post(
            DOCUMENTS, json={"title": "冒名", "kind": "notice", "issuing_org_id": tree.college_b}
        ),
        403,
    )
    assert_problem(await student.post(DOCUMENTS, json={"title": "学生拟稿", "kind": "notice"}), 403)
    assert_problem(await student.get(url), 403)
    assert_problem(await admin.patch(url, json={"title": "别人改"}), 403)
    assert_problem(await admin.post(f"{url}/submit"), 403)
    assert await oa_counts(db) == before
    response = await client.patch(
        url, json={"main": [{"kind": "org", "id": tree.college_a}], "body": ""}
    )
    assert response.status_code == 200
    assert_problem(await client.post(f"{url}/submit"), 422, "body")


async def test_prefixes_are_managed_within_reach(
    admin: httpx.AsyncClient, drafter: tuple[httpx.AsyncClient, dict[str, Any]], tree: Tree
) -> None:
    client, _me = drafter
    response = await admin.put(f"/api/v1/oa/prefixes/{tree.college_a}", json={"prefix": "甲院发"})
    assert response.status_code == 200 and response.json()["configured"] is True
    assert_problem(
        await admin.put(f"/api/v1/oa/prefixes/{tree.college_a}", json={"prefix": "有 空格"}), 422
    )
    assert_problem(
        await client.put(f"/api/v1/oa/prefixes/{tree.college_a}", json={"prefix": "x"}), 403
    )
    prefixes = {
        p["org_unit_id"]: p["prefix"] for p in (await admin.get("/api/v1/oa/prefixes")).json()
    }
    assert prefixes[tree.college_a] == "甲院发"
    assert prefixes[tree.college_b] == "乙学院发"


# ---------------------------------------------------------------- the demo


async def test_the_demo_has_documents_in_draft_and_in_approval(
    login_as: LoginAs, demo: SeedContext
) -> None:
    staff = await login_as("staff")
    mine = (await staff.get(f"{DOCUMENTS}?box=mine")).json()["items"]
    assert {d["status"] for d in mine} >= {"draft", "reviewing"}
    reviewing = next(d for d in mine if d["status"] == "reviewing")
    detail = await staff.get(f"/oa/documents/{reviewing['id']}", headers=HTML)
    assert detail.status_code == 200 and 'data-testid="approval"' in detail.text
    for url in (
        "/oa/documents",
        "/oa/documents/new",
        "/oa/inbox",
        f"/oa/documents/{mine[0]['id']}/edit",
    ):
        assert (await staff.get(url, headers=HTML)).status_code in (200, 303), url
    admin = await login_as("admin")
    office = await admin.get("/oa/documents?box=office", headers=HTML)
    assert office.status_code == 200
