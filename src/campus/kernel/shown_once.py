"""A secret shown once after a form's POST (a new API key, a client secret), carried across the
redirect that follows it: the POST keeps it in the cache for a few minutes, sealed for the person
who made it, and answers 303 to a page whose ``?shown=<token>`` takes it out again. Reloading
that page shows the secret no more and re-posts nothing (post/redirect/get)."""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from campus.kernel import context, sealing
from campus.kernel.runtime import Runtime
from campus.kernel.templating import go_to

KEEP_SECONDS = 300
_PURPOSE = b"campus.kernel.shown-once"
QUERY = "shown"


def _key(token: str) -> str:
    return f"once:{token}"


async def keep(rt: Runtime, person_id: int, payload: dict[str, Any]) -> str:
    """The token under which ``payload`` waits for ``take``, for KEEP_SECONDS at most."""
    token = secrets.token_urlsafe(16)
    key = sealing.derive_key(rt.settings.secret_key, _PURPOSE)
    sealed = sealing.seal(key, json.dumps(payload).encode(), f"{person_id}:{token}".encode())
    await rt.cache.set(_key(token), sealed.encode(), ttl=KEEP_SECONDS)
    return token


async def take(rt: Runtime, person_id: int, token: str) -> dict[str, Any] | None:
    """The payload kept under ``token`` for this person, once; None for anyone else, later, or
    again."""
    raw = await rt.cache.get(_key(token))
    if raw is None:
        return None
    key = sealing.derive_key(rt.settings.secret_key, _PURPOSE)
    try:
        plain = sealing.unseal(key, raw.decode(), f"{person_id}:{token}".encode())
    except sealing.SealBroken:
        return None  # another person's token: theirs stays for them
    if not await rt.cache.delete_if_equal(_key(token), raw):
        return None  # taken by a concurrent request
    payload: dict[str, Any] = json.loads(plain)
    return payload


def _signed_in() -> int:
    person_id = context.actor_id()
    assert person_id is not None, "a secret is shown only to someone signed in"
    return person_id


async def go_to_showing(
    request: Request, rt: Runtime, url: str, payload: dict[str, Any]
) -> Response:
    """After the POST that made a secret: on to ``url``, where ``shown(rt, token)`` gives it."""
    token = await keep(rt, _signed_in(), payload)
    return go_to(request, f"{url}?{QUERY}={token}")


async def shown(rt: Runtime, token: str) -> dict[str, Any]:
    """What the POST before kept for the signed-in person under ``token`` (empty: nothing)."""
    if not token:
        return {}
    return await take(rt, _signed_in(), token) or {}
