"""Reads of the authentication center."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.platform.auth import devices, sessions
from campus.platform.auth.models import AuthSession, Credential, RecoveryCode, Totp
from campus.platform.auth.schemas import SessionOut


def session_out(row: AuthSession, current_sid: str | None = None) -> SessionOut:
    return SessionOut(
        session_id=row.sid,
        person_id=row.person_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        auth_time=row.auth_time,
        amr=list(row.amr),
        remember=row.remember,
        pending=row.pending,
        user_agent=row.user_agent,
        device=devices.describe(row.user_agent),
        ip=row.ip,
        current=row.sid == current_sid,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


async def live_sessions(
    session: AsyncSession, person_id: int, current_sid: str | None = None
) -> list[SessionOut]:
    """A person's live sessions, the current one first, then the most recently used."""
    rows = await sessions.active_of(session, person_id)
    out = [session_out(row, current_sid) for row in rows]
    return sorted(out, key=lambda s: not s.current)


async def totp_enabled(session: AsyncSession, person_id: int) -> bool:
    row = await session.get(Totp, person_id)
    return row is not None and row.confirmed_at is not None


async def recovery_codes_left(session: AsyncSession, person_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.person_id == person_id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


async def credential(session: AsyncSession, person_id: int) -> Credential | None:
    return await session.get(Credential, person_id)


def locked_until(row: Credential | None) -> datetime | None:
    if row is None or row.locked_until is None or row.locked_until <= clock.now():
        return None
    return row.locked_until
