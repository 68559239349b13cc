"""Server-side sessions kept in the cache (memory or Redis); the cookie holds only a random id."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass

from campus.kernel.cache import Cache

SESSION_COOKIE = "campus_session"


@dataclass(frozen=True)
class SessionData:
    person_id: int
    name: str
    login: str
    created_at: float


def _key(token: str) -> str:
    # Only a digest of the token is stored, so a cache dump does not yield live cookies.
    return "auth:session:" + hashlib.sha256(token.encode()).hexdigest()


async def create_session(cache: Cache, data: SessionData, max_age: float) -> str:
    token = secrets.token_urlsafe(32)
    await cache.set(_key(token), json.dumps(asdict(data)).encode(), ttl=max_age)
    return token


async def load_session(cache: Cache, token: str) -> SessionData | None:
    raw = await cache.get(_key(token))
    if raw is None:
        return None
    return SessionData(**json.loads(raw))


async def end_session(cache: Cache, token: str) -> None:
    await cache.delete(_key(token))


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def new_session_data(person_id: int, name: str, login: str) -> SessionData:
    return SessionData(person_id=person_id, name=name, login=login, created_at=time.time())
