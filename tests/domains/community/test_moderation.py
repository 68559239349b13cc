"""Reports into the shared queue, the per-board moderation queue, hiding and restoring,
bans, and decisions taken in the messaging center's queue."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from campus.domains.community import events
from campus.domains.community.handlers import on_report_decided
from campus.kernel.audit import AuditEntry
from campus.kernel.events import Event
from campus.kernel.runtime import Runtime
from campus.platform.messaging import service as messaging
from tests.domains.community.conftest import (
    API,
    Scene,
    SignIn,
    Tree,
    assert_problem,
    comment,
    counts,
    create_post,
    inbox_titles,
    make_board,
    outbox,
    staff_in,
)


async def _audited(db: Runtime, action: str) -> list[str | None]:
    """The targets of the audit entries of ``action``, oldest first."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows.all())


async def test_a_report_goes_to_the_shared_queue_and_the_board_moderator_hides_it(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient
) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], title="加群领红包")
    response = await scene.bob.client.post(
        f"{API}/posts/{post['id']}/report", json={"reason": "垃圾广告"}
    )
    assert response.status_code == 201, response.text
    created = response.json()
    again = await scene.bob.client.post(f"{API}/posts/{post['id']}/report", json={"reason": "x"})
    assert again.json() == created  # the same report, not a second one
    # The messaging center's shared queue holds it, with where to open it.
    shared = (await admin.get("/api/v1/messaging/moderation/reports?kind=community.post")).json()
    entry = next(r for r in shared["items"] if r["id"] == created["report_id"])
    assert entry["link"] == f"/community/posts/{post['id']}"
    assert entry["author_id"] == scene.alice.id

    queue = (await scene.moderator.client.get(f"{API}/moderation/queue")).json()
    item = next(i for i in queue["items"] if i["target_id"] == post["id"])
    assert (item["target_kind"], item["reports"], item["reasons"]) == ("post", 1, ["垃圾广告"])
    resolved = await scene.moderator.client.post(
        f"{API}/moderation/post/{post['id']}/resolve", json={"action": "remove", "note": "广告"}
    )
    assert resolved.json() == {"closed": 1}
    # Gone from the board for everyone but its author and the moderator.
    feed = (await scene.bob.client.get(f"{API}/posts?board={scene.board['code']}")).json()
    assert post["id"] not in [p["id"] for p in feed["items"]]
    assert_problem(await scene.bob.client.get(f"{API}/posts/{post['id']}"), 404)
    seen = (await scene.alice.client.get(f"{API}/posts/{post['id']}")).json()
    assert (seen["status"], seen["moderation_note"]) == ("hidden", "广告")
    assert "你的帖子“加群领红包”已被版主隐藏" in await inbox_titles(scene.alice.client)
    assert (await _audited(db, "community.post.hide"))[-1] == str(post["id"])
    assert (await outbox(db, events.POST_HIDDEN))[-1]["post_id"] == post["id"]
    assert (await outbox(db, events.REPORT_RESOLVED))[-1]["report_ids"] == [created["report_id"]]
    after = (await scene.moderator.client.get(f"{API}/moderation/queue")).json()
    assert post["id"] not in [i["target_id"] for i in after["items"]]
    closed = (await scene.moderator.client.get(f"{API}/moderation/queue?status=removed")).json()
    assert post["id"] in [i["target_id"] for i in closed["items"]]
    # Restored, it is back.
    assert (
        await scene.moderator.client.post(f"{API}/posts/{post['id']}/restore")
    ).status_code == 204
    assert (await scene.bob.client.get(f"{API}/posts/{post['id']}")).status_code == 200


async def test_a_dismissed_report_leaves_the_content(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    said = await comment(scene.alice.client, post["id"], body="正常评论")
    await scene.bob.client.post(f"{API}/comments/{said['id']}/report", json={"reason": "看不惯"})
    resolved = await scene.moderator.client.post(
        f"{API}/moderation/comment/{said['id']}/resolve", json={"action": "dismiss"}
    )
    assert resolved.json() == {"closed": 1}
    thread = (await scene.bob.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert [c["id"] for c in thread["items"]] == [said["id"]]
    again = await scene.moderator.client.post(
        f"{API}/moderation/comment/{said['id']}/resolve", json={"action": "dismiss"}
    )
    assert_problem(again, 409, "action")


async def test_only_the_boards_moderators_moderate_it(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    other_board = await make_board(admin, name="别的板块")
    outsider_person = await staff_in(admin, tree, tree.college_b)
    outsider = await sign_in(outsider_person)
    await admin.put(
        f"{API}/boards/{other_board['id']}/moderators", json={"person_ids": [outsider_person["id"]]}
    )
    post = await create_post(scene.alice.client, scene.board["id"])
    said = await comment(scene.alice.client, post["id"])
    await scene.bob.client.post(f"{API}/posts/{post['id']}/report", json={"reason": "广告"})
    before = await counts(db)
    for client in (scene.bob.client, outsider):
        assert_problem(await client.post(f"{API}/posts/{post['id']}/hide", json={"note": "x"}), 403)
        assert_problem(
            await client.post(f"{API}/comments/{said['id']}/hide", json={"note": "x"}), 403
        )
        assert_problem(
            await client.post(
                f"{API}/moderation/post/{post['id']}/resolve", json={"action": "remove"}
            ),
            403,
        )
        assert_problem(
            await client.post(
                f"{API}/boards/{scene.board['id']}/bans",
                json={"person_id": scene.alice.id, "days": 1, "reason": "x"},
            ),
            403,
        )
        assert_problem(
            await client.get(f"{API}/moderation/queue?board_id={scene.board['id']}"), 403
        )
    assert_problem(await scene.bob.client.get(f"{API}/moderation/queue"), 403)
    # The other board's moderator sees an empty queue of their own.
    assert (await outsider.get(f"{API}/moderation/queue")).json()["items"] == []
    assert await counts(db) == before


async def test_bad_reports(scene: Scene, db: Runtime) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    before = await counts(db)
    url = f"{API}/posts/{post['id']}/report"
    assert_problem(await scene.bob.client.post(url, json={"reason": ""}), 422, "reason")
    assert_problem(await scene.bob.client.post(url, json={"reason": "长" * 201}), 422, "reason")
    assert_problem(await scene.alice.client.post(url, json={"reason": "自己"}), 422, "reason")
    assert_problem(
        await scene.bob.client.post(f"{API}/posts/999999/report", json={"reason": "x"}), 404
    )
    assert await counts(db) == before


async def test_a_banned_person_may_not_post_or_comment_on_that_board(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient
) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    other_board = await make_board(admin, name="别处")
    # The moderator bans the anonymous author by their post, without learning more than they see.
    response = await scene.moderator.client.post(
        f"{API}/boards/{scene.board['id']}/bans",
        json={"post_id": post["id"], "days": 3, "reason": "刷屏"},
    )
    assert response.status_code == 201, response.text
    ban = response.json()
    assert ban["person"]["id"] == scene.alice.id
    assert "你在“树洞”被禁言至" in (await inbox_titles(scene.alice.client))[0]
    before = await counts(db)
    refused = await scene.alice.client.post(
        f"{API}/posts", json={"board_id": scene.board["id"], "title": "t", "body": "b"}
    )
    assert "禁言" in assert_problem(refused, 403, "board_id")["detail"]
    assert_problem(
        await scene.alice.client.post(f"{API}/posts/{post['id']}/comments", json={"body": "x"}),
        403,
        "board_id",
    )
    assert await counts(db) == before
    await create_post(scene.alice.client, other_board["id"])  # elsewhere she may
    board = (await scene.alice.client.get(f"{API}/boards/{scene.board['id']}")).json()
    assert board["may_post"] is False
    # Lifted, she may again.
    assert (await scene.moderator.client.delete(f"{API}/bans/{ban['id']}")).status_code == 204
    await create_post(scene.alice.client, scene.board["id"])
    assert_problem(await scene.moderator.client.delete(f"{API}/bans/{ban['id']}"), 404)


async def test_bad_bans(scene: Scene, db: Runtime, admin: httpx.AsyncClient) -> None:
    other_board = await make_board(admin, name="别处")
    elsewhere = await create_post(scene.alice.client, other_board["id"])
    url = f"{API}/boards/{scene.board['id']}/bans"
    before = await counts(db)
    cases = [
        ({"person_id": scene.alice.id, "days": 0, "reason": "x"}, "days"),
        ({"person_id": scene.alice.id, "days": 366, "reason": "x"}, "days"),
        ({"person_id": scene.alice.id, "days": 1, "reason": ""}, "reason"),
        ({"days": 1, "reason": "x"}, "person_id"),
        (
            {"person_id": scene.alice.id, "post_id": elsewhere["id"], "days": 1, "reason": "x"},
            "person_id",
        ),
        ({"post_id": elsewhere["id"], "days": 1, "reason": "x"}, "post_id"),
        ({"person_id": 99_999_999, "days": 1, "reason": "x"}, "person_id"),
        ({"person_id": scene.moderator.id, "days": 1, "reason": "x"}, "person_id"),
    ]
    for body, field in cases:
        assert_problem(await scene.moderator.client.post(url, json=body), 422, field)
    assert await counts(db) == before


async def test_a_decision_in_the_shared_queue_takes_the_post_down(
    scene: Scene, db: Runtime
) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    reported = await scene.bob.client.post(
        f"{API}/posts/{post['id']}/report", json={"reason": "违法违规"}
    )
    shared_id = reported.json()["report_id"]
    decision = messaging.ReportDecided(
        report_ids=[shared_id],
        target_kind="community.post",
        target_id=str(post["id"]),
        action="remove",
        moderator_id=scene.moderator.id,
        note="经核实",
    )
    event = Event(name=messaging.REPORT_DECIDED, payload=decision.model_dump())
    for _ in range(2):  # a redelivery changes nothing more
        async with db.db.transaction() as session:
            await on_report_decided(session, event)
    assert_problem(await scene.bob.client.get(f"{API}/posts/{post['id']}"), 404)
    queue = (await scene.moderator.client.get(f"{API}/moderation/queue?status=removed")).json()
    assert [i["target_id"] for i in queue["items"]].count(post["id"]) == 1
    assert len([e for e in await outbox(db, events.POST_HIDDEN) if e["post_id"] == post["id"]]) == 1
    # Other modules' content is not the community's business.
    other = Event(
        name=messaging.REPORT_DECIDED,
        payload={**decision.model_dump(), "target_kind": "im.message", "target_id": "1"},
    )
    async with db.db.transaction() as session:
        await on_report_decided(session, other)
