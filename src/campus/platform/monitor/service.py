"""The monitoring center's public interface."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.monitor import queries


async def pending_dead_letters(session: AsyncSession) -> int:
    """How many dead-lettered events wait for a replay (for dashboards and health pages)."""
    return await queries.pending_dead_letters(session)
