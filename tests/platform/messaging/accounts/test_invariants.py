"""Invariants, whatever people do in whatever order: a post's read count is its number of
unique readers; its like count is the number of people whose last move was a like."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.platform.messaging.accounts.conftest import (
    POSTS,
    Person,
    create_account,
    publish,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn


@dataclass
class Scene:
    editor: Person
    account_id: int
    readers: list[Person]


@pytest.fixture
async def scene(admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn) -> Scene:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    readers = [await student(admin, sign_in, campus) for _ in range(3)]
    return Scene(editor, account["id"], readers)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.sampled_from(["read", "like", "unlike"])),
        min_size=1,
        max_size=12,
    )
)
async def test_counts_follow_unique_people(scene: Scene, moves: list[tuple[int, str]]) -> None:
    post = await publish(scene.editor.client, scene.account_id)
    url = f"{POSTS}/{post['id']}"
    readers: set[int] = set()
    likers: set[int] = set()
    for who, move in moves:
        client = scene.readers[who].client
        if move == "read":
            response = await client.post(f"{url}/read")
            readers.add(who)
        elif move == "like":
            response = await client.put(f"{url}/like")
            likers.add(who)
        else:
            response = await client.delete(f"{url}/like")
            likers.discard(who)
        assert response.status_code == 200, response.text
        assert response.json()["read_count"] == len(readers)
        assert response.json()["like_count"] == len(likers)
    stats = (await scene.editor.client.get(f"{url}/stats")).json()
    assert stats["read_count"] == len(readers) == sum(stats["reads"])
