"""Statements that differ by database: an INSERT that leaves an existing row alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def insert_ignore(
    session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert the rows whose ``keys`` are not taken yet; returns how many went in. Two
    transactions inserting the same row at once both succeed, one of them inserting nothing."""
    if not rows:
        return 0
    module: Any = postgresql if dialect_of(session) == "postgresql" else sqlite
    stmt = module.insert(model).values(list(rows)).on_conflict_do_nothing(index_elements=keys)
    result: Any = await session.execute(stmt)
    return int(result.rowcount or 0)
