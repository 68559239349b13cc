"""Reads of issued transcripts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.transcripts.models import Transcript
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _


async def by_code(session: AsyncSession, code: str) -> Transcript:
    found = await session.scalar(select(Transcript).where(Transcript.code == code.upper()))
    if found is None:
        raise NotFound(_("没有这份成绩单：请核对验证码"))
    return found


async def issued_to(session: AsyncSession, person_id: int, limit: int = 20) -> list[Transcript]:
    """The student's latest issued transcripts, newest first."""
    return list(
        await session.scalars(
            select(Transcript)
            .where(Transcript.person_id == person_id)
            .order_by(Transcript.issued_at.desc(), Transcript.id.desc())
            .limit(limit)
        )
    )
