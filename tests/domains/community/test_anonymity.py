"""Anonymous display: the real author is stored and seen by the board's moderators only; every
other reader, through every API and page, sees 匿名同学 and a pseudonym stable within a post."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from campus.domains.community.models import Post
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import (
    API,
    HTML,
    Scene,
    comment,
    create_post,
    inbox_titles,
)


def _leaks(value: Any, person_id: int, name: str) -> list[str]:
    """Every place in a JSON answer that names the person (their id as an author, their name)."""
    found: list[str] = []

    def walk(item: Any, path: str) -> None:
        if isinstance(item, dict):
            for key, child in item.items():
                if key in ("id", "real_id", "author_id", "person_id") and child == person_id:
                    found.append(f"{path}.{key}")
                walk(child, f"{path}.{key}")
        elif isinstance(item, list):
            for index, child in enumerate(item):
                walk(child, f"{path}[{index}]")
        elif isinstance(item, str) and name in item:
            found.append(path)

    walk(value, "$")
    return found


async def _everything_bob_reads(
    bob: httpx.AsyncClient, post_id: int, board: str, alice_id: int
) -> list[Any]:
    urls = [
        f"{API}/posts/{post_id}",
        f"{API}/posts/{post_id}/comments",
        f"{API}/posts?board={board}",
        f"{API}/posts?sort=hot",
        f"{API}/posts",
        f"{API}/posts/following",
        f"{API}/people/{alice_id}/posts",
    ]
    answers = []
    for url in urls:
        response = await bob.get(url)
        assert response.status_code == 200, (url, response.text)
        answers.append(response.json())
    return answers


async def test_an_anonymous_post_never_shows_its_author_to_others(
    scene: Scene, db: Runtime
) -> None:
    alice, bob = scene.alice, scene.bob
    post = await create_post(
        alice.client, scene.board["id"], title="想问个私人问题", anonymous=True
    )
    reply_to = await comment(bob.client, post["id"], body="说来听听")
    await comment(alice.client, post["id"], body="楼主补充", anonymous=True)
    await comment(alice.client, post["id"], body="我也来", parent_id=reply_to["id"], anonymous=True)
    follow = await bob.client.put(f"{API}/people/{alice.id}/follow")
    assert follow.status_code == 200

    # Stored with its real author.
    async with db.db.read() as session:
        stored = await session.scalar(select(Post).where(Post.id == post["id"]))
        assert stored is not None and stored.author_id == alice.id and stored.anonymous

    answers = await _everything_bob_reads(bob.client, post["id"], scene.board["code"], alice.id)
    assert _leaks(answers, alice.id, alice.name) == []
    shown = answers[0]["author"]
    assert shown["id"] is None and shown["name"].startswith("匿名同学·")
    # Her anonymous comments carry the same pseudonym, marked 楼主.
    thread = answers[1]["items"]
    own = [thread[1]["author"], thread[0]["replies"][0]["author"]]
    assert {a["name"] for a in own} == {shown["name"]}
    assert all(a["is_op"] for a in own)
    # Bob hears of her reply under the pseudonym.
    heard = await inbox_titles(bob.client)
    assert f"{shown['name']} 回复了你的评论" in heard
    assert not [t for t in heard if alice.name in t]
    # Neither the following feed nor her page lists it.
    assert post["id"] not in [p["id"] for p in answers[5]["items"]]
    assert post["id"] not in [p["id"] for p in answers[6]["items"]]
    # The pages do not name her either.
    for url in (
        f"/community/posts/{post['id']}",
        f"/community/b/{scene.board['code']}",
        "/community",
    ):
        page = await bob.client.get(url, headers=HTML)
        assert page.status_code == 200
        assert alice.name not in page.text, url
        assert f'/community/people/{alice.id}"' not in page.text, url


async def test_moderators_see_the_real_author(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    seen = (await scene.moderator.client.get(f"{API}/posts/{post['id']}")).json()["author"]
    assert seen["id"] is None
    assert (seen["real_id"], seen["real_name"]) == (scene.alice.id, scene.alice.name)
    page = await scene.moderator.client.get(f"/community/posts/{post['id']}", headers=HTML)
    assert scene.alice.name in page.text


async def test_pseudonyms_differ_between_posts_and_writers(scene: Scene) -> None:
    first = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    second = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    other = await comment(scene.bob.client, first["id"], anonymous=True)
    names = {first["author"]["name"], second["author"]["name"], other["author"]["name"]}
    assert len(names) == 3
    assert other["author"]["is_op"] is False


async def test_a_named_comment_by_an_anonymous_author_is_not_marked_op(scene: Scene) -> None:
    """Marking her named comment 楼主 would unmask the anonymous post."""
    post = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    named = await comment(scene.alice.client, post["id"], body="实名回复")
    assert named["author"] == {**named["author"], "id": scene.alice.id, "is_op": False}
    thread = (await scene.bob.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert thread["items"][0]["author"]["is_op"] is False


async def test_the_author_finds_their_anonymous_posts_under_mine(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"], anonymous=True)
    mine = (await scene.alice.client.get(f"{API}/posts/mine")).json()["items"]
    assert [p["id"] for p in mine] == [post["id"]]
    assert mine[0]["mine"] is True and mine[0]["author"]["id"] is None
