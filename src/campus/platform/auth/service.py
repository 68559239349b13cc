"""The authentication center's public interface."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from campus.kernel import clock, runtime
from campus.kernel.context import Principal
from campus.platform.access import service as access
from campus.platform.auth.models import Credential
from campus.platform.auth.passwords import hash_password
from campus.platform.auth.sessions import SESSION_COOKIE, load_session, session_id_of


async def load_principal(connection: HTTPConnection) -> Principal | None:
    """The person signed in on this connection's session cookie, with their permissions."""
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    rt = runtime.current()
    data = await load_session(rt.cache, token)
    if data is None:
        return None
    async with rt.db.read() as session:
        permissions = await access.permissions_of(session, rt.cache, data.person_id)
    return Principal(
        person_id=data.person_id,
        name=data.name,
        login=data.login,
        permissions=permissions,
        session_id=session_id_of(token),
    )


async def set_password(
    session: AsyncSession, person_id: int, password: str, *, must_change: bool = False
) -> None:
    await set_password_hash(session, person_id, hash_password(password), must_change=must_change)


async def set_password_hash(
    session: AsyncSession, person_id: int, password_hash: str, *, must_change: bool = False
) -> None:
    credential = await session.get(Credential, person_id)
    if credential is None:
        session.add(
            Credential(
                person_id=person_id,
                password_hash=password_hash,
                must_change=must_change,
                updated_at=clock.now(),
            )
        )
    else:
        credential.password_hash = password_hash
        credential.must_change = must_change
        credential.updated_at = clock.now()


async def has_credential(session: AsyncSession, person_id: int) -> bool:
    return (
        await session.scalar(select(Credential.person_id).where(Credential.person_id == person_id))
        is not None
    )
