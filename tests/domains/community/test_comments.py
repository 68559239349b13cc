"""Comments and replies (one level), their notifications, and what may not be commented on."""

from __future__ import annotations

import httpx
import pytest

from campus.domains.community import events, limits, notify
from campus.kernel.errors import InvalidInput
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import (
    API,
    Scene,
    assert_problem,
    comment,
    counts,
    create_post,
    inbox_titles,
    make_board,
    outbox,
)


async def test_comments_and_replies_thread_and_count(scene: Scene, db: Runtime) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], title="求推荐自习室")
    first = await comment(scene.bob.client, post["id"], body="图书馆四楼\nhttps://lib.example.cn")
    reply = await comment(scene.alice.client, post["id"], body="谢谢！", parent_id=first["id"])
    second = await comment(scene.moderator.client, post["id"], body="三教也行")
    thread = (await scene.bob.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert thread["total"] == 2
    assert [c["id"] for c in thread["items"]] == [first["id"], second["id"]]
    assert [r["id"] for r in thread["items"][0]["replies"]] == [reply["id"]]
    assert thread["items"][0]["replies"][0]["author"]["is_op"] is True
    detail = (await scene.bob.client.get(f"{API}/posts/{post['id']}")).json()
    assert detail["comment_count"] == 3
    # The post's author hears of comments, the comment's author of the reply.
    assert "司马长风 评论了你的帖子“求推荐自习室”" in await inbox_titles(scene.alice.client)
    assert "欧阳晓雪 回复了你的评论" in await inbox_titles(scene.bob.client)
    created = await outbox(db, events.COMMENT_CREATED)
    assert [c["comment_id"] for c in created[-3:]] == [first["id"], reply["id"], second["id"]]


async def test_bad_comments_are_refused_and_store_nothing(
    scene: Scene, db: Runtime, admin: httpx.AsyncClient
) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    other = await create_post(scene.alice.client, scene.board["id"])
    top = await comment(scene.bob.client, post["id"])
    reply = await comment(scene.bob.client, post["id"], parent_id=top["id"])
    elsewhere = await comment(scene.bob.client, other["id"])
    named_board = await make_board(admin, name="实名")
    named_post = await create_post(scene.alice.client, named_board["id"])
    before = await counts(db)
    url = f"{API}/posts/{post['id']}/comments"
    cases = [
        ({"body": ""}, "body"),
        ({"body": "  "}, "body"),
        ({"body": "字" * 1001}, "body"),
        ({"body": "回复", "parent_id": reply["id"]}, "parent_id"),
        ({"body": "回复", "parent_id": elsewhere["id"]}, "parent_id"),
        ({"body": "回复", "parent_id": 999_999}, "parent_id"),
    ]
    for body, field in cases:
        assert_problem(await scene.bob.client.post(url, json=body), 422, field)
    assert_problem(
        await scene.bob.client.post(
            f"{API}/posts/{named_post['id']}/comments", json={"body": "x", "anonymous": True}
        ),
        422,
        "anonymous",
    )
    assert_problem(
        await scene.bob.client.post(f"{API}/posts/999999/comments", json={"body": "x"}), 404
    )
    assert await counts(db) == before


async def test_no_comments_on_hidden_or_deleted_posts(scene: Scene, db: Runtime) -> None:
    hidden = await create_post(scene.alice.client, scene.board["id"])
    deleted = await create_post(scene.alice.client, scene.board["id"])
    response = await scene.moderator.client.post(
        f"{API}/posts/{hidden['id']}/hide", json={"note": "广告"}
    )
    assert response.status_code == 204
    assert (await scene.alice.client.delete(f"{API}/posts/{deleted['id']}")).status_code == 204
    before = await counts(db)
    body = {"body": "还能评论吗"}
    # Others cannot even see them; its author and moderator see the hidden one, closed.
    assert_problem(
        await scene.bob.client.post(f"{API}/posts/{hidden['id']}/comments", json=body), 404
    )
    for client in (scene.alice.client, scene.moderator.client):
        assert_problem(
            await client.post(f"{API}/posts/{hidden['id']}/comments", json=body), 409, "post_id"
        )
    for client in (scene.alice.client, scene.bob.client):
        assert_problem(await client.post(f"{API}/posts/{deleted['id']}/comments", json=body), 404)
    assert await counts(db) == before


async def test_a_deleted_comment_leaves_the_thread_and_the_count(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    mine = await comment(scene.bob.client, post["id"])
    assert_problem(await scene.alice.client.delete(f"{API}/comments/{mine['id']}"), 403)
    assert (await scene.bob.client.delete(f"{API}/comments/{mine['id']}")).status_code == 204
    thread = (await scene.alice.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert thread["items"] == []
    assert (await scene.alice.client.get(f"{API}/posts/{post['id']}")).json()["comment_count"] == 0
    assert_problem(await scene.bob.client.delete(f"{API}/comments/{mine['id']}"), 404)


async def test_commenting_is_rate_limited(
    scene: Scene, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "COMMENTS", limits.Limit("comment", 3, 300.0))
    post = await create_post(scene.alice.client, scene.board["id"])
    for _ in range(3):
        await comment(scene.bob.client, post["id"])
    before = await counts(db)
    response = await scene.bob.client.post(f"{API}/posts/{post['id']}/comments", json={"body": "x"})
    assert_problem(response, 429)
    assert await counts(db) == before


async def test_a_person_who_blocked_you_cannot_be_replied_to(scene: Scene, db: Runtime) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    anonymous = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    response = await scene.alice.client.put(f"/api/v1/messaging/moderation/blocks/{scene.bob.id}")
    assert response.status_code == 204, response.text
    refused = await scene.bob.client.post(f"{API}/posts/{post['id']}/comments", json={"body": "hi"})
    assert_problem(refused, 403, "post_id")
    # An anonymous post takes the comment: refusing it would tell who wrote it.
    await comment(scene.bob.client, anonymous["id"])
    assert_problem(
        await scene.bob.client.put(f"{API}/people/{scene.alice.id}/follow"), 403, "person_id"
    )


async def test_a_notification_the_messaging_center_refuses_does_not_refuse_the_comment(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*_args: object) -> int:
        raise InvalidInput.on("audience", "所选对象中没有任何人")

    monkeypatch.setattr(notify.messaging, "notify", refuse)
    post = await create_post(scene.alice.client, scene.board["id"])
    said = await comment(scene.bob.client, post["id"], body="还在吗")
    thread = (await scene.bob.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert [c["id"] for c in thread["items"]] == [said["id"]]
