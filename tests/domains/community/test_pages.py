"""The pages of the community tab: they render for the people who may see them, the forms
save or come back with the fields named, and people's text is escaped."""

from __future__ import annotations

import re

import httpx

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from tests.conftest import LoginAs
from tests.domains.community.conftest import (
    API,
    HTML,
    HTMX,
    Scene,
    comment,
    counts,
    create_post,
    upload,
)


def _csrf(client: httpx.AsyncClient) -> dict[str, str]:
    return {"csrf_token": client.headers["X-CSRF-Token"]}


async def test_the_demo_community_is_seeded_and_its_pages_render(
    login_as: LoginAs, demo: SeedContext
) -> None:
    student = await login_as("student")
    home = await student.get("/community", headers=HTML)
    assert home.status_code == 200
    for name in ("校园头条", "二手市场", "失物招领", "求助", "活动", "校园生活"):
        assert name in home.text
    assert home.text.count('data-testid="post-row"') >= 10
    boards = (await student.get(f"{API}/boards")).json()
    assert [b["code"] for b in boards] == [
        "headlines",
        "market",
        "lost-found",
        "help",
        "events",
        "life",
    ]
    market = (await student.get(f"{API}/posts?board=market")).json()["items"]
    assert market and all(p["extra"]["price"] >= 0 for p in market)
    for url in (
        "/community/b/market",
        "/community/b/market?sort=hot",
        "/community/b/lost-found",
        "/community/b/events",
        "/community/mine",
        "/community/following",
        "/community/new",
        "/community/new?board=market",
        f"/community/posts/{market[0]['id']}",
    ):
        response = await student.get(url, headers=HTML)
        assert response.status_code == 200, url
    mine = await student.get("/community/mine", headers=HTML)
    assert 'data-testid="post-row"' in mine.text
    following = await student.get("/community/following", headers=HTML)
    assert 'data-testid="post-row"' in following.text
    # The counselor moderates 校园生活, where the demo has a report waiting.
    counselor = await login_as("counselor")
    queue = await counselor.get("/community/moderation", headers=HTML)
    assert queue.status_code == 200
    assert 'data-testid="queue-item"' in queue.text
    assert (await student.get("/community/moderation", headers=HTML)).status_code == 403
    admin = await login_as("admin")
    boards_page = await admin.get("/community/admin/boards", headers=HTML)
    assert boards_page.text.count('data-testid="board-row"') == 6
    assert (await student.get("/community/admin/boards", headers=HTML)).status_code == 403


async def test_people_text_is_escaped_and_links_are_safe(scene: Scene) -> None:
    post = await create_post(
        scene.alice.client,
        scene.board["id"],
        title="<script>alert(1)</script>",
        body=(
            "<img src=x onerror=alert(1)>\n"
            "见 https://example.com/a?b=1&c=2，谢谢 javascript:alert(1)"
        ),
    )
    page = await scene.bob.client.get(f"/community/posts/{post['id']}", headers=HTML)
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer nofollow ugc">' in page.text
    )
    assert 'href="javascript:' not in page.text
    assert "<br>" in page.text
    preview = await scene.alice.client.post(
        "/community/preview",
        data={"body": "<b>粗</b>\nhttp://a.cn", **_csrf(scene.alice.client)},
        headers=HTMX,
    )
    assert "&lt;b&gt;粗&lt;/b&gt;<br>" in preview.text
    assert '<a href="http://a.cn"' in preview.text


async def test_writing_a_post_in_the_editor(scene: Scene, db: Runtime) -> None:
    client = scene.alice.client
    picture = await upload(client)
    form = {
        "board_id": str(scene.board["id"]),
        "title": "编辑器发帖",
        "body": "正文",
        "images": [picture],
        "anonymous": "1",
        **_csrf(client),
    }
    response = await client.post("/community/new", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/community/posts/\d+", location)
    page = await client.get(location, headers=HTML)
    assert "编辑器发帖" in page.text and picture in page.text
    # A refused form comes back with its values and the fields named, nothing stored.
    before = await counts(db)
    response = await client.post("/community/new", data={**form, "title": ""}, headers=HTML)
    assert response.status_code == 422
    assert 'data-testid="error-title"' in response.text
    assert "正文" in response.text
    response = await client.post("/community/new", data=form, headers=HTML)
    assert response.status_code == 422
    assert 'data-testid="error-images"' in response.text  # the picture is used already
    assert await counts(db) == before


async def test_the_editor_names_the_missing_extra_fields(login_as: LoginAs, db: Runtime) -> None:
    student = await login_as("student")
    boards = {b["code"]: b for b in (await student.get(f"{API}/boards")).json()}
    form = {
        "board_id": str(boards["market"]["id"]),
        "title": "出台灯",
        "body": "九成新",
        "price": "",
        "condition": "good",
        **_csrf(student),
    }
    before = await counts(db)
    response = await student.post("/community/new", data=form, headers=HTML)
    assert response.status_code == 422
    assert 'data-testid="error-extra-price"' in response.text
    assert await counts(db) == before
    response = await student.post("/community/new", data={**form, "price": "25"}, headers=HTML)
    assert response.status_code == 303


async def test_comments_likes_and_follows_from_the_post_page(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    bob = scene.bob.client
    response = await bob.post(
        f"/community/posts/{post['id']}/comments",
        data={"body": "页面评论", **_csrf(bob)},
        headers=HTML,
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"/community/posts/{post['id']}#comment-")
    empty = await bob.post(
        f"/community/posts/{post['id']}/comments", data={"body": " ", **_csrf(bob)}, headers=HTML
    )
    assert empty.status_code == 422 and 'data-testid="error-body"' in empty.text
    liked = await bob.post(f"/community/posts/{post['id']}/like", data={"like": "1"}, headers=HTMX)
    assert 'aria-pressed="true"' in liked.text and ">1</span>" in liked.text
    unliked = await bob.post(
        f"/community/posts/{post['id']}/like", data={"like": "0"}, headers=HTMX
    )
    assert 'aria-pressed="false"' in unliked.text and ">0</span>" in unliked.text
    followed = await bob.post(
        f"/community/people/{scene.alice.id}/follow", data={"follow": "1"}, headers=HTMX
    )
    assert "已关注" in followed.text
    person = await bob.get(f"/community/people/{scene.alice.id}", headers=HTML)
    assert person.status_code == 200 and "测试帖子" in person.text


async def test_report_and_hide_from_the_pages(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], title="可疑帖子")
    said = await comment(scene.alice.client, post["id"], body="可疑评论")
    bob = scene.bob.client
    response = await bob.post(
        f"/community/posts/{post['id']}/report",
        data={"reason": "垃圾广告", "detail": "加微信", **_csrf(bob)},
        headers=HTML,
    )
    assert response.status_code == 303
    moderator = scene.moderator.client
    queue = await moderator.get("/community/moderation", headers=HTML)
    assert "可疑帖子" in queue.text and "垃圾广告：加微信" in queue.text
    resolved = await moderator.post(
        f"/community/moderation/post/{post['id']}/resolve",
        data={"action": "remove", "note": "广告", **_csrf(moderator)},
        headers=HTML,
    )
    assert resolved.status_code == 303
    assert (await bob.get(f"/community/posts/{post['id']}", headers=HTML)).status_code == 404
    board = await bob.get(f"/community/b/{scene.board['code']}", headers=HTML)
    assert "可疑帖子" not in board.text
    hidden = await moderator.post(
        f"/community/comments/{said['id']}/hide",
        data={"note": "x", **_csrf(moderator)},
        headers=HTML,
    )
    assert hidden.status_code == 303
    # A board's moderator who is not a community-wide one may not open another's queue.
    assert (await bob.get("/community/moderation", headers=HTML)).status_code == 403


async def test_the_editor_takes_only_the_chosen_kinds_extra_fields(scene: Scene) -> None:
    """A browser without scripts sends every kind's inputs; a general board takes none."""
    client = scene.alice.client
    form = {
        "board_id": str(scene.board["id"]),
        "title": "没有脚本也能发",
        "body": "正文",
        "condition": "new",
        "lf_type": "lost",
        "price": "",
        **_csrf(client),
    }
    response = await client.post("/community/new", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    post_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert (await client.get(f"{API}/posts/{post_id}")).json()["extra"] is None
