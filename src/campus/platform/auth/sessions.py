"""Storage of sign-in sessions: durable rows in ``auth_session``, a cache in front of them.

The cookie holds a random token; the table and the cache hold only its SHA-256 digest, so a
dump of either yields no live cookie. Every request looks its session up in the cache
(memory or Redis) and falls back to the table on a miss; ending a session marks the row and
deletes the cache entry, so the cookie stops working at once on every process sharing the
cache. Ending and opening sessions (with their events and audit) are actions: see actions.py.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from campus.kernel import clock
from campus.kernel.cache import Cache
from campus.kernel.runtime import Runtime
from campus.platform.auth.models import AuthSession
from campus.platform.auth.passwords import token_digest
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

SESSION_COOKIE = "campus_session"
# A cached session is re-read from the table at least this often (picks up a renamed person).
CACHE_TTL_SECONDS = 300.0
# last_seen_at is written at most this often per session, not on every request.
TOUCH_EVERY_SECONDS = 60.0
# ... and the sessions seen are written together, at most this often per process: at a peak
# (course selection) every student's first request would otherwise open a write transaction
# of its own. A process that stops loses at most this much of "last seen", nothing else.
TOUCH_FLUSH_SECONDS = 10.0
TOUCH_CHUNK = 500
# A cookie naming no live session is remembered as such for a while: no table read per request.
UNKNOWN_TTL_SECONDS = 30.0
_UNKNOWN = b"-"
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class LiveSession:
    """What a request needs to know about its session (the cached form)."""

    sid: str
    person_id: int
    name: str
    login: str
    auth_time: float
    expires_at: float
    amr: tuple[str, ...]
    remember: bool
    pending: str | None
    audience: str | None = None  # "student" or "staff" (absent from sessions cached before)

    def to_json(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> LiveSession:
        data = json.loads(raw)
        data["amr"] = tuple(data["amr"])
        return cls(**data)


def cache_key(token_hash: str) -> str:
    return "auth:session:" + token_hash


def new_sid() -> str:
    return secrets.token_hex(16)


async def insert(
    session: AsyncSession,
    *,
    person_id: int,
    amr: Sequence[str],
    lifetime_seconds: int,
    remember: bool,
    pending: str | None,
    user_agent: str | None,
    ip: str | None,
) -> tuple[str, AuthSession]:
    """A new session row; returns the cookie token (never stored) and the row."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = AuthSession(
        sid=new_sid(),
        token_hash=token_digest(token),
        person_id=person_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=lifetime_seconds),
        auth_time=now,
        amr=list(amr),
        remember=remember,
        pending=pending,
        user_agent=(user_agent or "")[:USER_AGENT_MAX] or None,
        ip=ip,
    )
    session.add(row)
    await session.flush()
    return token, row


async def lookup(rt: Runtime, token: str) -> LiveSession | None:
    """The live session of a cookie token, or None (unknown, ended, expired, person gone)."""
    if not token or len(token) > 100:
        return None
    digest = token_digest(token)
    key = cache_key(digest)
    raw = await rt.cache.get(key)
    if raw == _UNKNOWN:
        return None
    live = LiveSession.from_json(raw) if raw is not None else await _fill(rt, digest)
    if live is None or live.expires_at <= time.time():
        return None
    await _touch(rt, live.sid)
    return live


async def _fill(rt: Runtime, digest: str) -> LiveSession | None:
    now = clock.now()
    async with rt.db.read() as session:
        row = await session.scalar(
            select(AuthSession).where(
                AuthSession.token_hash == digest,
                AuthSession.ended_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
        person = await users.get_person_ref(session, row.person_id) if row else None
        # Read before the session ends: its rollback expires the row's attributes.
        live = (
            live_of(row, person)
            if row is not None and person is not None and users.may_sign_in(person)
            else None
        )
    if live is None:
        await rt.cache.set(cache_key(digest), _UNKNOWN, UNKNOWN_TTL_SECONDS)
        return None
    ttl = min(CACHE_TTL_SECONDS, live.expires_at - now.timestamp())
    if not await rt.cache.set_if_absent(cache_key(digest), live.to_json(), ttl):
        # The session changed or ended while it was read: what the cache holds now wins.
        raw = await rt.cache.get(cache_key(digest))
        return None if raw is None or raw == _UNKNOWN else LiveSession.from_json(raw)
    return live


def live_of(row: AuthSession, person: PersonRef) -> LiveSession:
    return LiveSession(
        sid=row.sid,
        person_id=row.person_id,
        name=person.name,
        login=person.number or str(person.id),
        auth_time=row.auth_time.timestamp(),
        expires_at=row.expires_at.timestamp(),
        amr=tuple(row.amr),
        remember=row.remember,
        pending=row.pending,
        audience=users.audience_of(person.person_type),
    )


@dataclass
class _Seen:
    """Sessions seen by this process since their last_seen_at was last written."""

    sids: set[str]
    flushed_at: float = 0.0


_seen: dict[int, _Seen] = {}  # by the database (one per runtime)


async def _touch(rt: Runtime, sid: str) -> None:
    if not await rt.cache.set_if_absent(f"auth:seen:{sid}", b"1", TOUCH_EVERY_SECONDS):
        return
    seen = _seen.setdefault(id(rt.db), _Seen(set()))
    seen.sids.add(sid)
    if time.monotonic() - seen.flushed_at >= TOUCH_FLUSH_SECONDS:
        await flush_touches(rt)


async def flush_touches(rt: Runtime) -> None:
    """Write last_seen_at of the sessions this process has seen, in one transaction."""
    seen = _seen.setdefault(id(rt.db), _Seen(set()))
    sids, seen.sids, seen.flushed_at = sorted(seen.sids), set(), time.monotonic()
    if not sids:
        return
    async with rt.db.transaction() as session:
        for start in range(0, len(sids), TOUCH_CHUNK):
            await session.execute(
                update(AuthSession)
                .where(
                    AuthSession.sid.in_(sids[start : start + TOUCH_CHUNK]),
                    AuthSession.ended_at.is_(None),
                )
                .values(last_seen_at=clock.now())
            )


async def forget(cache: Cache, row: AuthSession) -> None:
    """Mark an ended session's cookie unknown in the cache at once. A marker rather than a
    deletion: a request that read the row just before it ended cannot cache it back as live
    (filling only ever adds a missing entry)."""
    await cache.set(cache_key(row.token_hash), _UNKNOWN, CACHE_TTL_SECONDS)
    await cache.delete(f"auth:seen:{row.sid}")


async def invalidate(cache: Cache, row: AuthSession) -> None:
    """Drop the cached copy of a live session that changed: the next request re-reads it."""
    await cache.delete(cache_key(row.token_hash))


async def get(session: AsyncSession, sid: str) -> AuthSession | None:
    return await session.get(AuthSession, sid)


async def active_of(session: AsyncSession, person_id: int) -> list[AuthSession]:
    """A person's live sessions, the most recently used first."""
    rows = await session.scalars(
        select(AuthSession)
        .where(
            AuthSession.person_id == person_id,
            AuthSession.ended_at.is_(None),
            AuthSession.expires_at > clock.now(),
        )
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.sid)
    )
    return list(rows)


async def expired(session: AsyncSession, now: datetime, limit: int) -> list[AuthSession]:
    rows = await session.scalars(
        select(AuthSession)
        .where(AuthSession.ended_at.is_(None), AuthSession.expires_at <= now)
        .order_by(AuthSession.expires_at)
        .limit(limit)
    )
    return list(rows)


# ---------------------------------------------------------------- the cookie


def set_cookie(response: Response, token: str, *, max_age: int | None, secure: bool) -> None:
    """HttpOnly and SameSite=Lax always, Secure in production. Without remember-me the cookie
    has no max-age and ends with the browser (the server-side session ends on its own)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
