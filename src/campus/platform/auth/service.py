"""The authentication center's public interface.

Sessions: every protocol (password, OpenID Connect, CAS, QR-code login) shares the one SSO
session behind the ``campus_session`` cookie. Other modules open, read, list and end sessions
through these functions, never through the cache or the table. Ending a session announces
``auth.session.ended`` (see events.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection
from starlette.responses import Response

from campus.kernel import clock, runtime
from campus.kernel.cache import Cache
from campus.kernel.config import Settings
from campus.kernel.context import Principal
from campus.kernel.runtime import Runtime
from campus.platform.access import service as access
from campus.platform.auth import actions, queries, sessions
from campus.platform.auth.models import Credential
from campus.platform.auth.passwords import hash_password
from campus.platform.auth.schemas import OpenedSession, SessionOut
from campus.platform.auth.sessions import SESSION_COOKIE, LiveSession

__all__ = [
    "SESSION_COOKIE",
    "LiveSession",
    "OpenedSession",
    "SessionOut",
    "current_session",
    "end_session",
    "end_sessions_of",
    "get_session",
    "has_credential",
    "list_sessions",
    "load_principal",
    "open_session",
    "set_password",
    "set_password_hash",
    "set_session_cookie",
]


# ---------------------------------------------------------------- the request's principal


async def current_session(connection: HTTPConnection) -> LiveSession | None:
    """The live session of this connection's cookie (cached lookup), or None."""
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await sessions.lookup(runtime.current(), token)


async def load_principal(connection: HTTPConnection) -> Principal | None:
    """The person signed in on this connection's session cookie, with their permissions.

    A session with a pending step (an initial password to change, a required second factor
    to enrol) carries no permission codes until the step is done.
    """
    live = await current_session(connection)
    if live is None:
        return None
    permissions: frozenset[str] = frozenset()
    if live.pending is None:
        rt = runtime.current()
        async with rt.db.read() as session:
            permissions = await access.permissions_of(session, rt.cache, live.person_id)
    return Principal(
        person_id=live.person_id,
        name=live.name,
        login=live.login,
        permissions=permissions,
        session_id=live.sid,
        audience=live.audience,
    )


# ---------------------------------------------------------------- sessions


async def open_session(
    session: AsyncSession,
    rt: Runtime,
    person_id: int,
    *,
    amr: Sequence[str],
    remember: bool = False,
    user_agent: str | None = None,
    ip: str | None = None,
) -> OpenedSession:
    """Open an SSO session for a person already authenticated by the caller (e.g. a QR-code
    confirmation: amr ["qr"]); audited as a login. Set the cookie with ``set_session_cookie``.

    The session carries no permissions while the person still has to change an initial
    password or enrol a required second factor (``OpenedSession.pending`` says which)."""
    device = actions.Device(user_agent=user_agent, ip=ip)
    credential = await session.get(Credential, person_id)
    pending = await actions.pending_step(session, rt, person_id, credential, amr)
    return await actions.do_open_session(
        session, rt, person_id, amr=amr, remember=remember, device=device, pending=pending
    )


def set_session_cookie(response: Response, opened: OpenedSession, settings: Settings) -> None:
    sessions.set_cookie(
        response,
        opened.token,
        max_age=opened.max_age,
        secure=settings.environment == "production",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    sessions.clear_cookie(response, secure=settings.environment == "production")


async def get_session(session: AsyncSession, session_id: str) -> SessionOut | None:
    """A session by its id, live or ended (``ended_at`` tells), or None if there is none."""
    row = await sessions.get(session, session_id)
    return None if row is None else queries.session_out(row)


async def is_session_live(session: AsyncSession, session_id: str) -> bool:
    row = await sessions.get(session, session_id)
    return row is not None and row.ended_at is None and row.expires_at > clock.now()


async def list_sessions(
    session: AsyncSession, person_id: int, current_session_id: str | None = None
) -> list[SessionOut]:
    """A person's live sessions (the current one flagged and first)."""
    return await queries.live_sessions(session, person_id, current_session_id)


async def end_session(
    session: AsyncSession, cache: Cache, session_id: str, reason: str = "logout"
) -> bool:
    """End one session; False when it does not exist or has already ended."""
    row = await sessions.get(session, session_id)
    if row is None:
        return False
    return await actions.do_end_session(session, cache, row, reason)


async def end_sessions_of(
    session: AsyncSession, cache: Cache, person_id: int, reason: str = "admin"
) -> int:
    """End every live session of a person; returns how many ended."""
    return await actions.do_end_sessions_of(session, cache, person_id, reason)


# ---------------------------------------------------------------- credentials


async def set_password(
    session: AsyncSession, person_id: int, password: str, *, must_change: bool = False
) -> None:
    """Set a password without the policy (seeding, tests, imports of existing hashes)."""
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
                failed_logins=0,
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


async def sso_clients(session: AsyncSession) -> dict[str, str]:
    """The applications that sign their users in through Campus, as ``oidc:<client_id>`` and
    ``cas:<service id>`` keys with their names (active OIDC clients, enabled CAS services)."""
    from campus.platform.auth.cas import queries as cas_queries
    from campus.platform.auth.oidc import queries as oidc_queries

    found = {f"oidc:{c.client_id}": c.name for c in await oidc_queries.clients(session) if c.active}
    for service in await cas_queries.enabled_services(session):
        found[f"cas:{service.id}"] = service.name
    return found
