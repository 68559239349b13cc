"""Row writes that several academic topics make the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import Conflict
from campus.kernel.i18n import LazyText


async def delete_unless_used(session: AsyncSession, row: Any, refusal: LazyText) -> None:
    """Delete ``row``; when other rows still refer to it (the database refuses), a 409 saying
    ``refusal``. In a savepoint, so that the refusal leaves the transaction usable."""
    try:
        async with session.begin_nested():
            await session.delete(row)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(refusal) from exc
