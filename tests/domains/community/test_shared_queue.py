"""The community and the messaging center's shared report queue stay in step: what a board's
moderator decides closes the shared reports too, and no decision echoes back and forth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campus.domains.community import events
from campus.domains.community.handlers import on_report_decided
from campus.kernel.errors import InvalidInput
from campus.kernel.events import Event
from campus.kernel.runtime import Runtime
from campus.platform.messaging import service as messaging
from tests.domains.community.conftest import API, Scene, assert_problem, create_post, outbox

SHARED = "/api/v1/messaging/moderation/reports"


async def shared_report(admin: httpx.AsyncClient, report_id: int) -> dict[str, Any]:
    """The report as the messaging center's queue shows it, whatever its status."""
    for status in ("pending", "removed", "dismissed"):
        page = (await admin.get(SHARED, params={"status": status, "page_size": 200})).json()
        found = [r for r in page["items"] if r["id"] == report_id]
        if found:
            return dict(found[0])
    raise AssertionError(f"shared report {report_id} not found")


async def reported_post(scene: Scene) -> tuple[dict[str, Any], int]:
    post = await create_post(scene.alice.client, scene.board["id"], title="可疑帖子")
    response = await scene.bob.client.post(
        f"{API}/posts/{post['id']}/report", json={"reason": "广告"}
    )
    assert response.status_code == 201, response.text
    return post, int(response.json()["report_id"])


async def run_handler(db: Runtime, payload: dict[str, Any]) -> None:
    async with db.db.transaction() as session:
        await on_report_decided(session, Event(name=messaging.REPORT_DECIDED, payload=payload))


async def test_resolving_in_the_board_queue_closes_the_shared_report(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient
) -> None:
    post, shared_id = await reported_post(scene)
    assert (await shared_report(admin, shared_id))["status"] == "pending"
    resolved = await scene.moderator.client.post(
        f"{API}/moderation/post/{post['id']}/resolve", json={"action": "remove", "note": "广告帖"}
    )
    assert resolved.json() == {"closed": 1}
    shared = await shared_report(admin, shared_id)
    assert (shared["status"], shared["moderator_id"], shared["decision_note"]) == (
        "removed",
        scene.moderator.id,
        "广告帖",
    )
    decided = await outbox(db, messaging.REPORT_DECIDED)
    assert decided[-1]["report_ids"] == [shared_id] and decided[-1]["by_owner"] is True
    # The community's own handler receives that event too: it does nothing more.
    hidden_before = len(await outbox(db, events.POST_HIDDEN))
    resolved_before = len(await outbox(db, events.REPORT_RESOLVED))
    await run_handler(db, decided[-1])
    assert len(await outbox(db, events.POST_HIDDEN)) == hidden_before
    assert len(await outbox(db, events.REPORT_RESOLVED)) == resolved_before
    assert len(await outbox(db, messaging.REPORT_DECIDED)) == len(decided)


async def test_a_dismissal_in_the_board_queue_dismisses_the_shared_report(
    scene: Scene, admin: httpx.AsyncClient
) -> None:
    post, shared_id = await reported_post(scene)
    await scene.moderator.client.post(
        f"{API}/moderation/post/{post['id']}/resolve", json={"action": "dismiss"}
    )
    assert (await shared_report(admin, shared_id))["status"] == "dismissed"
    # Settled already: the shared queue refuses to decide it a second time.
    again = await admin.post(f"{SHARED}/{shared_id}/decision", json={"action": "remove"})
    assert_problem(again, 409, "action")
    assert (await scene.bob.client.get(f"{API}/posts/{post['id']}")).status_code == 200


async def test_hiding_a_reported_post_by_hand_closes_its_reports_everywhere(
    scene: Scene, admin: httpx.AsyncClient
) -> None:
    post, shared_id = await reported_post(scene)
    hidden = await scene.moderator.client.post(
        f"{API}/posts/{post['id']}/hide", json={"note": "不实信息"}
    )
    assert hidden.status_code == 204
    assert (await shared_report(admin, shared_id))["status"] == "removed"
    queue = (await scene.moderator.client.get(f"{API}/moderation/queue")).json()
    assert post["id"] not in [i["target_id"] for i in queue["items"]]
    closed = (await scene.moderator.client.get(f"{API}/moderation/queue?status=removed")).json()
    assert post["id"] in [i["target_id"] for i in closed["items"]]


async def test_a_shared_queue_decision_is_not_echoed_back(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient
) -> None:
    post, shared_id = await reported_post(scene)
    decided = await admin.post(
        f"{SHARED}/{shared_id}/decision", json={"action": "remove", "note": "违规"}
    )
    assert decided.status_code == 200, decided.text
    events_before = await outbox(db, messaging.REPORT_DECIDED)
    assert events_before[-1]["by_owner"] is False
    # The worker hands it to the community, which hides the post and closes its mirror ...
    await run_handler(db, events_before[-1])
    assert_problem(await scene.bob.client.get(f"{API}/posts/{post['id']}"), 404)
    closed = (await scene.moderator.client.get(f"{API}/moderation/queue?status=removed")).json()
    assert post["id"] in [i["target_id"] for i in closed["items"]]
    # ... without deciding the shared report again (no second event, no second audit).
    assert await outbox(db, messaging.REPORT_DECIDED) == events_before
    assert (await shared_report(admin, shared_id))["moderator_id"] is not None


async def test_settling_with_nothing_pending_writes_nothing(scene: Scene, db: Runtime) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    before = await outbox(db, messaging.REPORT_DECIDED)
    async with db.db.transaction() as session:
        closed = await messaging.settle_reports(
            session, scene.moderator.id, "community.post", str(post["id"]), "remove", "x"
        )
    assert closed == []
    assert await outbox(db, messaging.REPORT_DECIDED) == before


@pytest.mark.parametrize(
    ("action", "kind", "field"),
    [("ban", "community.post", "action"), ("remove", "community", "target_kind")],
)
async def test_settling_refuses_an_unknown_action_or_kind(
    db: Runtime, action: str, kind: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        async with db.db.transaction() as session:
            await messaging.settle_reports(session, 1, kind, "1", action)
    assert [e.field for e in refused.value.errors] == [field]
