"""Reads of the OpenID Connect provider."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.auth.oidc.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    Consent,
    Grant,
    RefreshToken,
)
from campus.platform.auth.oidc.tokens import digest


async def client(session: AsyncSession, client_id: str) -> Client | None:
    if not client_id or len(client_id) > 64:
        return None
    return await session.scalar(select(Client).where(Client.client_id == client_id))


async def active_client(session: AsyncSession, client_id: str) -> Client | None:
    found = await client(session, client_id)
    return found if found is not None and found.active else None


async def clients(session: AsyncSession) -> list[Client]:
    return list(await session.scalars(select(Client).order_by(Client.name, Client.client_id)))


async def clients_by_ids(session: AsyncSession, client_ids: set[str]) -> list[Client]:
    if not client_ids:
        return []
    rows = await session.scalars(select(Client).where(Client.client_id.in_(sorted(client_ids))))
    return list(rows)


async def consented_scopes(session: AsyncSession, person_id: int, client_id: str) -> set[str]:
    row = await session.get(Consent, (person_id, client_id))
    return set(row.scopes) if row else set()


async def code_by_value(session: AsyncSession, code: str) -> AuthorizationCode | None:
    if not code or len(code) > 200:
        return None
    return await session.get(AuthorizationCode, digest(code))


async def refresh_token_by_value(session: AsyncSession, token: str) -> RefreshToken | None:
    if not token or len(token) > 200:
        return None
    return await session.get(RefreshToken, digest(token))


async def grant(session: AsyncSession, grant_id: str) -> Grant | None:
    return await session.get(Grant, grant_id)


async def access_token(session: AsyncSession, jti: str) -> AccessToken | None:
    if not jti or len(jti) > 32:
        return None
    return await session.get(AccessToken, jti)


async def live_grants_of_session(session: AsyncSession, session_id: str) -> list[Grant]:
    rows = await session.scalars(
        select(Grant).where(Grant.session_id == session_id, Grant.revoked_at.is_(None))
    )
    return list(rows)
