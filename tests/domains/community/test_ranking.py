"""Hot ranking: the feed computed in SQL orders posts as the documented formula does, and
leaves out posts older than the window."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from campus.domains.community import ranking
from campus.domains.community.models import Post
from campus.domains.community.posts import actions
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.domains.community.conftest import API, Scene

Shape = tuple[int, int, int, float]  # likes, comments, views, age in hours

shapes = st.lists(
    st.tuples(
        st.integers(0, 500),
        st.integers(0, 200),
        st.integers(0, 20_000),
        st.floats(0.0, 24 * 29, allow_nan=False),
    ),
    min_size=2,
    max_size=8,
)


async def _posts(db: Runtime, board_id: int, author_id: int, rows: list[Shape]) -> list[int]:
    now = clock.now()
    ids = []
    async with db.db.transaction() as session:
        for likes, comments, views, age in rows:
            post_id = await actions.do_create_post(
                session,
                author_id=author_id,
                board_id=board_id,
                title="热度",
                body="b",
                picture_ids=[],
                anonymous=False,
                extra=None,
                at=now - timedelta(hours=age),
            )
            await session.execute(
                update(Post)
                .where(Post.id == post_id)
                .values(like_count=likes, comment_count=comments, view_count=views)
            )
            ids.append(post_id)
    return ids


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=shapes)
async def test_the_hot_feed_follows_the_formula(
    scene: Scene, db: Runtime, rows: list[Shape]
) -> None:
    scores = [ranking.hot(*row) for row in rows]
    ordered = sorted(scores, reverse=True)
    # Posts a few seconds apart in creation may swap only when their scores are all but equal.
    assume(all(a - b > 1e-6 * a for a, b in itertools.pairwise(ordered)))
    board = scene.board
    ids = await _posts(db, board["id"], scene.alice.id, rows)
    response = await scene.bob.client.get(
        f"{API}/posts?board={board['code']}&sort=hot&page_size=200"
    )
    listed = [p["id"] for p in response.json()["items"]]
    expected = [post_id for _s, post_id in sorted(zip(scores, ids, strict=True), reverse=True)]
    assert [i for i in listed if i in ids] == expected
    # Clean the board for the next example.
    async with db.db.transaction() as session:
        await session.execute(update(Post).where(Post.id.in_(ids)).values(status="deleted"))


async def test_old_posts_leave_the_hot_feed_but_stay_in_the_latest(
    scene: Scene, db: Runtime
) -> None:
    old, fresh = await _posts(
        db,
        scene.board["id"],
        scene.alice.id,
        [(1000, 100, 0, 24 * (ranking.WINDOW_DAYS + 1)), (0, 0, 0, 1.0)],
    )
    code = scene.board["code"]
    hot = (await scene.bob.client.get(f"{API}/posts?board={code}&sort=hot")).json()["items"]
    latest = (await scene.bob.client.get(f"{API}/posts?board={code}")).json()["items"]
    assert [p["id"] for p in hot] == [fresh]
    assert [p["id"] for p in latest] == [fresh, old]


@pytest.mark.parametrize(
    ("newer", "older"),
    [
        ((0, 0, 0, 1.0), (0, 0, 0, 5.0)),
        ((5, 0, 0, 3.0), (20, 0, 0, 48.0)),
        ((0, 1, 0, 2.0), (1, 0, 0, 2.0)),
    ],
)
def test_the_formula(newer: Shape, older: Shape) -> None:
    """Fresh beats stale at equal engagement; a few likes now beat many two days ago; a
    comment weighs more than a like."""
    assert ranking.hot(*newer) > ranking.hot(*older)
