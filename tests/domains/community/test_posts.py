"""Posts: who may post where, the extra fields of each board kind, pictures, the sensitive-word
filter, rate limits, and every bad input refused with the field named and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campus.domains.community import events, limits
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import (
    API,
    Scene,
    SignIn,
    Tree,
    assert_problem,
    counts,
    create_post,
    make_board,
    outbox,
    png_bytes,
    staff_in,
    student_in,
    upload,
)


async def test_a_student_posts_with_pictures_and_reads_it_back(scene: Scene, db: Runtime) -> None:
    pictures = [await upload(scene.alice.client) for _ in range(2)]
    post = await create_post(
        scene.alice.client,
        scene.board["id"],
        title="  周末去爬山吗  ",
        body="第一行\n第二行 https://example.com/x",
        images=pictures,
    )
    assert post["title"] == "周末去爬山吗"
    assert post["author"] == {
        "id": scene.alice.id,
        "name": "欧阳晓雪",
        "anonymous": False,
        "is_op": True,
        "real_id": None,
        "real_name": None,
    }
    assert [i["id"] for i in post["images"]] == pictures
    assert post["mine"] is True and post["status"] == "visible"
    # Another student sees it in the board's feed, and its pictures through the post.
    feed = (await scene.bob.client.get(f"{API}/posts?board={scene.board['code']}")).json()
    assert [p["id"] for p in feed["items"]] == [post["id"]]
    picture = await scene.bob.client.get(post["images"][0]["url"])
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    assert picture.content == png_bytes()
    # The file service itself serves it to its uploader only.
    assert (await scene.bob.client.get(f"/api/v1/files/{pictures[0]}")).status_code == 404
    created = await outbox(db, events.POST_CREATED)
    assert created[-1]["post_id"] == post["id"] and created[-1]["images"] == 2


async def test_the_extra_fields_of_each_board_kind(admin: httpx.AsyncClient, scene: Scene) -> None:
    market = await make_board(admin, name="二手", kind="market")
    lost = await make_board(admin, name="失物", kind="lost_found")
    event = await make_board(admin, name="活动", kind="event")
    client = scene.alice.client
    sold = await create_post(client, market["id"], extra={"price": "35.5", "condition": "like_new"})
    assert sold["extra"] == {"price": 35.5, "condition": "like_new"}
    found = await create_post(
        client,
        lost["id"],
        extra={"type": "found", "place": "图书馆三楼", "time": "2026-01-05T14:30"},
    )
    # A time typed without a zone is China time.
    assert found["extra"]["time"] == "2026-01-05T14:30:00+08:00"
    meeting = await create_post(
        client,
        event["id"],
        extra={"starts_at": "2099-05-01T19:00", "ends_at": "2099-05-01T21:00", "place": "礼堂"},
    )
    assert meeting["extra"]["place"] == "礼堂"

    cases: list[tuple[int, Any, str]] = [
        (market["id"], None, "extra.price"),
        (market["id"], {"price": -1, "condition": "new"}, "extra.price"),
        (market["id"], {"price": 1, "condition": "broken"}, "extra.condition"),
        (market["id"], {"price": 1, "condition": "new", "colour": "红"}, "extra.colour"),
        (lost["id"], {"type": "lost", "place": "", "time": "2026-01-05T14:30"}, "extra.place"),
        (lost["id"], {"type": "lost", "place": "操场", "time": "2999-01-01T00:00"}, "extra.time"),
        (
            event["id"],
            {"starts_at": "2099-05-01T19:00", "ends_at": "2099-05-01T18:00", "place": "礼堂"},
            "extra.ends_at",
        ),
        (event["id"], {"starts_at": "soon", "place": "礼堂"}, "extra.starts_at"),
        (scene.board["id"], {"price": 1}, "extra"),
    ]
    for board_id, extra, field in cases:
        response = await client.post(
            f"{API}/posts", json={"board_id": board_id, "title": "t", "body": "b", "extra": extra}
        )
        assert_problem(response, 422, field)


async def test_bad_posts_are_refused_naming_the_field_and_store_nothing(
    scene: Scene, db: Runtime, sign_in: SignIn, admin: httpx.AsyncClient, tree: Tree
) -> None:
    alice = scene.alice.client
    mine = await upload(alice)
    others = await upload(scene.bob.client)
    document = await upload(alice, "notes.pdf", b"%PDF-1.4\n%%EOF\n")
    closed = await make_board(admin, name="已停用", active=False)
    no_anonymous = await make_board(admin, name="实名板块")
    before = await counts(db)
    board = scene.board["id"]
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"title": ""}, 422, "title"),
        ({"title": "   "}, 422, "title"),
        ({"title": "长" * 61}, 422, "title"),
        ({"body": ""}, 422, "body"),
        ({"body": "字" * 5001}, 422, "body"),
        ({"images": [mine] * 10}, 422, "images"),
        ({"images": [others]}, 422, "images.0"),
        ({"images": [mine, "no-such-file"]}, 422, "images.1"),
        ({"images": [document]}, 422, "images.0"),
        ({"board_id": 999_999}, 422, "board_id"),
        ({"board_id": closed["id"]}, 422, "board_id"),
        ({"board_id": no_anonymous["id"], "anonymous": True}, 422, "anonymous"),
        ({"unexpected": 1}, 422, "unexpected"),
    ]
    for change, status, field in cases:
        body = {"board_id": board, "title": "标题", "body": "正文", **change}
        response = await alice.post(f"{API}/posts", json=body)
        problem = assert_problem(response, status, field)
        assert problem["detail"], problem
    assert await counts(db) == before
    # The picture refused with a bad neighbour is still free to use.
    await create_post(alice, board, images=[mine])


async def test_who_may_post_on_editors_and_staff_boards(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    headlines = await make_board(admin, name="头条", posting="editors")
    staff_only = await make_board(admin, name="教工", posting="staff")
    student = await sign_in(await student_in(admin, tree))
    teacher = await sign_in(await staff_in(admin, tree, tree.college_a))
    before = await counts(db)
    for board in (headlines, staff_only):
        response = await student.post(
            f"{API}/posts", json={"board_id": board["id"], "title": "t", "body": "b"}
        )
        assert_problem(response, 403, "board_id")
    assert_problem(
        await teacher.post(
            f"{API}/posts", json={"board_id": headlines["id"], "title": "t", "body": "b"}
        ),
        403,
        "board_id",
    )
    assert await counts(db) == before
    await create_post(teacher, staff_only["id"])
    await create_post(admin, headlines["id"])  # community.editor (the admin holds every code)
    listed = {b["code"]: b for b in (await student.get(f"{API}/boards")).json()}
    assert listed[headlines["code"]]["may_post"] is False
    assert listed[staff_only["code"]]["may_post"] is False


async def test_a_board_moderator_may_post_on_an_editors_board(
    admin: httpx.AsyncClient, scene: Scene
) -> None:
    headlines = await make_board(admin, name="头条", posting="editors")
    response = await admin.put(
        f"{API}/boards/{headlines['id']}/moderators", json={"person_ids": [scene.alice.id]}
    )
    assert response.status_code == 200
    await create_post(scene.alice.client, headlines["id"])


async def test_sensitive_words_block_or_are_masked(
    admin: httpx.AsyncClient, scene: Scene, db: Runtime
) -> None:
    for words, level in ((["代写论文"], "block"), (["傻瓜"], "mask")):
        response = await admin.post(
            "/api/v1/messaging/moderation/words", json={"words": words, "level": level}
        )
        assert response.status_code == 200, response.text
    before = await counts(db)
    for field in ("title", "body"):
        body = {
            "board_id": scene.board["id"],
            "title": "标题",
            "body": "正文",
            field: "专业代写论文",
        }
        problem = assert_problem(
            await scene.alice.client.post(f"{API}/posts", json=body), 422, field
        )
        assert "代写论文" in problem["errors"][0]["reason"]
    assert await counts(db) == before
    post = await create_post(scene.alice.client, scene.board["id"], body="你这个傻瓜")
    assert post["body"] == "你这个＊＊"


async def test_posting_is_rate_limited(
    scene: Scene, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "POSTS", limits.Limit("post", 2, 600.0))
    for _ in range(2):
        await create_post(scene.alice.client, scene.board["id"])
    before = await counts(db)
    response = await scene.alice.client.post(
        f"{API}/posts", json={"board_id": scene.board["id"], "title": "第三帖", "body": "b"}
    )
    problem = assert_problem(response, 429)
    assert problem["retry_after"] > 0
    assert await counts(db) == before
    # Another person is not held back by it.
    await create_post(scene.bob.client, scene.board["id"])


async def test_authors_delete_their_own_posts_only(scene: Scene, db: Runtime) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    assert_problem(await scene.bob.client.delete(f"{API}/posts/{post['id']}"), 403)
    assert (await scene.alice.client.delete(f"{API}/posts/{post['id']}")).status_code == 204
    for client in (scene.alice.client, scene.bob.client, scene.moderator.client):
        assert_problem(await client.get(f"{API}/posts/{post['id']}"), 404)
    mine = (await scene.alice.client.get(f"{API}/posts/mine")).json()
    assert post["id"] not in [p["id"] for p in mine["items"]]


async def test_views_count_once_an_hour_per_person(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    url = f"{API}/posts/{post['id']}"
    seen = [(await c.get(url)).json()["view_count"] for c in (scene.bob.client,) * 3]
    assert seen == [1, 1, 1]
    assert (await scene.moderator.client.get(url)).json()["view_count"] == 2
