"""Likes (one per person, idempotent, counted exactly) and follows (the following feed)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campus.domains.community import events, limits
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import (
    API,
    Scene,
    assert_problem,
    comment,
    create_post,
    outbox,
)


async def test_liking_twice_counts_once_and_unliking_is_idempotent(
    scene: Scene, db: Runtime
) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    url = f"{API}/posts/{post['id']}/like"
    first = await scene.bob.client.put(url)
    again = await scene.bob.client.put(url)
    assert first.json() == again.json() == {"liked": True, "like_count": 1}
    assert (await scene.moderator.client.put(url)).json() == {"liked": True, "like_count": 2}
    detail = (await scene.bob.client.get(f"{API}/posts/{post['id']}")).json()
    assert detail["liked"] is True and detail["like_count"] == 2
    assert (await scene.bob.client.delete(url)).json() == {"liked": False, "like_count": 1}
    assert (await scene.bob.client.delete(url)).json() == {"liked": False, "like_count": 1}
    liked = await outbox(db, events.POST_LIKED)
    assert [(e["liked"], e["like_count"]) for e in liked[-3:]] == [(True, 1), (True, 2), (False, 1)]


async def test_comment_likes(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    said = await comment(scene.bob.client, post["id"])
    url = f"{API}/comments/{said['id']}/like"
    assert (await scene.alice.client.put(url)).json() == {"liked": True, "like_count": 1}
    assert (await scene.alice.client.put(url)).json() == {"liked": True, "like_count": 1}
    thread = (await scene.alice.client.get(f"{API}/posts/{post['id']}/comments")).json()
    assert thread["items"][0]["liked"] is True and thread["items"][0]["like_count"] == 1


async def test_hidden_content_cannot_be_liked(scene: Scene) -> None:
    post = await create_post(scene.alice.client, scene.board["id"])
    await scene.moderator.client.post(f"{API}/posts/{post['id']}/hide", json={"note": "x"})
    assert_problem(await scene.bob.client.put(f"{API}/posts/{post['id']}/like"), 404)
    assert_problem(await scene.alice.client.put(f"{API}/posts/{post['id']}/like"), 409, "post_id")


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=1, max_size=14),
)
async def test_the_like_count_is_the_number_of_people_who_like(
    scene: Scene, monkeypatch: pytest.MonkeyPatch, moves: list[tuple[int, bool]]
) -> None:
    """Whatever sequence of likes and unlikes three people send, the count the API answers and
    the one stored are the number of people whose last move was a like."""
    monkeypatch.setattr(limits, "POSTS", limits.Limit("post", 10_000, 600.0))
    clients: list[httpx.AsyncClient] = [
        scene.alice.client,
        scene.bob.client,
        scene.moderator.client,
    ]
    post = await create_post(scene.alice.client, scene.board["id"])
    url = f"{API}/posts/{post['id']}/like"
    likers: set[int] = set()
    for who, like in moves:
        response = await (clients[who].put(url) if like else clients[who].delete(url))
        (likers.add if like else likers.discard)(who)
        assert response.json() == {"liked": like, "like_count": len(likers)}
    detail = (await scene.bob.client.get(f"{API}/posts/{post['id']}")).json()
    assert detail["like_count"] == len(likers)
    assert detail["liked"] is (1 in likers)


async def test_the_following_feed_shows_named_posts_of_the_people_followed(scene: Scene) -> None:
    named = await create_post(scene.alice.client, scene.board["id"], title="署名帖")
    await create_post(scene.alice.client, scene.board["id"], title="匿名帖", anonymous=True)
    await create_post(scene.moderator.client, scene.board["id"], title="别人的帖")
    url = f"{API}/people/{scene.alice.id}/follow"
    assert (await scene.bob.client.put(url)).json() == {"following": True, "followers": 1}
    assert (await scene.bob.client.put(url)).json() == {"following": True, "followers": 1}
    feed = (await scene.bob.client.get(f"{API}/posts/following")).json()
    assert [p["id"] for p in feed["items"]] == [named["id"]]
    people = (await scene.bob.client.get(f"{API}/following")).json()
    assert people == [{"id": scene.alice.id, "name": scene.alice.name}]
    assert (await scene.bob.client.delete(url)).json() == {"following": False, "followers": 0}
    assert (await scene.bob.client.get(f"{API}/posts/following")).json()["items"] == []


async def test_bad_follows(scene: Scene) -> None:
    assert_problem(
        await scene.bob.client.put(f"{API}/people/{scene.bob.id}/follow"), 422, "person_id"
    )
    assert_problem(await scene.bob.client.put(f"{API}/people/99999999/follow"), 404)
