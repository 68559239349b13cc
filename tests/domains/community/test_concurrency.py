"""Likes under concurrency: many people liking one post at once, and one person liking it many
times at once, each in a committed transaction of its own, leave the count exact. These need
real commits and concurrent connections: a database of their own (a fresh SQLite file, or
``<name>_cmty`` beside CAMPUS_DATABASE_URL's PostgreSQL database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select

from campus.domains.community.models import Board, Post, PostLike
from campus.domains.community.posts import actions
from campus.kernel import clock
from campus.kernel.db import Database
from campus.kernel.events import OutboxRow
from tests.own_database import migrated_database

PEOPLE = 16


@pytest.fixture(scope="module")
async def cmty_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await migrated_database("cmty", tmp_path_factory.mktemp("cmty"))


@pytest.fixture
async def fresh(cmty_url: str) -> AsyncIterator[tuple[Database, int]]:
    db = Database(cmty_url)
    now = clock.now()
    async with db.transaction() as session:
        for table in (PostLike, Post, Board, OutboxRow):
            await session.execute(delete(table))
        board = Board(
            code="race", name="并发", description="", icon="x", sort_order=1, kind="general",
            posting="all", allow_anonymous=False, active=True, created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(board)
        await session.flush()
        post = Post(
            board_id=board.id, author_id=1, anonymous=False, title="t", body="b", images=[],
            status="visible", like_count=0, comment_count=0, view_count=0,
            created_ts=int(now.timestamp()), moderation_note="", created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(post)
        await session.flush()
        post_id = post.id
    yield db, post_id
    await db.dispose()


async def _like(db: Database, post_id: int, person_id: int, like: bool = True) -> None:
    async with db.transaction(lock_early=True) as session:
        post = await session.get(Post, post_id)
        assert post is not None
        await actions.do_like_post(session, post, person_id, like)


async def _state(db: Database, post_id: int) -> tuple[int, int]:
    async with db.read() as session:
        count = await session.scalar(select(Post.like_count).where(Post.id == post_id))
        rows = await session.scalar(
            select(func.count()).select_from(PostLike).where(PostLike.post_id == post_id)
        )
        return int(count or 0), int(rows or 0)


async def _likers(db: Database, post_id: int) -> set[int]:
    async with db.read() as session:
        rows = await session.scalars(select(PostLike.person_id).where(PostLike.post_id == post_id))
        return set(rows)


async def test_many_people_liking_at_once_are_all_counted(fresh: tuple[Database, int]) -> None:
    db, post_id = fresh
    await asyncio.gather(*(_like(db, post_id, person) for person in range(1, PEOPLE + 1)))
    assert await _state(db, post_id) == (PEOPLE, PEOPLE)


async def test_one_person_liking_many_times_at_once_counts_once(
    fresh: tuple[Database, int],
) -> None:
    db, post_id = fresh
    await asyncio.gather(*(_like(db, post_id, 7) for _ in range(PEOPLE)))
    assert await _state(db, post_id) == (1, 1)


async def test_likes_and_unlikes_at_once_leave_the_count_equal_to_the_rows(
    fresh: tuple[Database, int],
) -> None:
    db, post_id = fresh
    await asyncio.gather(*(_like(db, post_id, person) for person in range(1, PEOPLE + 1)))
    moves = [_like(db, post_id, person, person % 2 == 0) for person in range(1, PEOPLE + 1)]
    # Persons 2 and 4 like and unlike at the same moment: either may win, but not both.
    moves += [_like(db, post_id, person, False) for person in range(1, 5)]
    await asyncio.gather(*moves)
    count, rows = await _state(db, post_id)
    likers = await _likers(db, post_id)
    settled = {p for p in range(5, PEOPLE + 1) if p % 2 == 0}
    assert settled <= likers <= settled | {2, 4}
    assert count == rows == len(likers)
