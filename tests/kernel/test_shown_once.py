"""A secret carried across the redirect after a form's POST is given once, to the person who
made it, for a few minutes."""

from __future__ import annotations

from campus.kernel import shown_once
from campus.kernel.runtime import Runtime


async def test_a_kept_secret_is_taken_once_and_only_by_its_person(db: Runtime) -> None:
    token = await shown_once.keep(db, 7, {"key": "gwk_secret"})
    assert await shown_once.take(db, 8, token) is None  # another person: nothing, and it stays
    assert await shown_once.take(db, 7, "not-a-token") is None
    assert await shown_once.take(db, 7, token) == {"key": "gwk_secret"}
    assert await shown_once.take(db, 7, token) is None  # once
    raw = await db.cache.get(f"once:{await shown_once.keep(db, 7, {'key': 'gwk_x'})}")
    assert raw is not None and b"gwk_x" not in raw  # sealed in the cache
