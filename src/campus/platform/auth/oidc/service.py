"""The OpenID Connect provider's public interface, for modules that accept its access tokens
(an API gateway, a resource server inside Campus) and for the authentication center's
manifest, which mounts what this sub-package contributes."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from joserfc.jwk import KeySet, RSAKey
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.config import Settings
from campus.kernel.errors import InvalidInput, validation_field_errors
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import actions, grants, handlers, keys, pages, routes, tokens
from campus.platform.auth.oidc.protocol import Provider
from campus.platform.auth.oidc.schemas import ClientCreate

TOKEN_PATH = routes.TOKEN_PATH  # where a client exchanges its credentials for tokens
ROUTER = routes.router
PAGES = pages.router
HANDLERS = handlers.HANDLERS
JOBS = (handlers.PURGE,)
CSRF_EXEMPT = routes.CSRF_EXEMPT


async def verify_access_token(
    session: AsyncSession, settings: Settings, issuer: str, token: str
) -> dict[str, Any] | None:
    """The claims of a live access token (signature, expiry, not revoked, session not ended),
    or None."""
    live = await grants.live_access_token(session, Provider.from_settings(settings, issuer), token)
    return None if live is None else live.claims


async def register_machine_client(
    session: AsyncSession, client_id: str, name: str, description: str = ""
) -> str:
    """Register a confidential client that may only use the client-credentials grant (an
    application calling APIs as itself, e.g. through the gateway); returns its secret, shown
    once. Raises ``Conflict`` (409 on ``client_id``) when the id is taken, ``InvalidInput``
    (422) when the id or name breaks the identity center's rules."""
    try:
        data = ClientCreate(
            client_id=client_id,
            name=name,
            description=description,
            client_type="confidential",
            allowed_scopes=[],
            grant_types=["client_credentials"],
        )
    except ValidationError as invalid:
        raise InvalidInput(
            _("输入不合法，请检查标出的字段"),
            errors=validation_field_errors([dict(e) for e in invalid.errors()]),
        ) from None
    _client, secret = await actions.do_create_client(session, data)
    assert secret is not None  # a confidential client always has one
    return secret


async def signing_public_key(rt: Runtime) -> tuple[str, str] | None:
    """The algorithm and PEM public key of the active signing key, for a verifier configured
    ahead of time (Kong's jwt plugin); None before the first token was ever signed."""
    async with rt.db.read() as session:
        active = await keys.published_rows(session, keep_retired=timedelta(0))
        public_jwk = dict(active[0].public_jwk) if active else None
    if public_jwk is None:
        return None
    pem = RSAKey.import_key(public_jwk).as_pem(private=False)
    return keys.ALGORITHM, pem.decode()


KEYS_MAX_AGE = 60.0  # seconds a process trusts its copy of the published keys
KEYS_MIN_AGE = 5.0  # a failed check reads them again only if older (garbage costs no reads)
_keys: dict[str, tuple[float, KeySet]] = {}


async def token_claims(
    rt: Runtime, issuer: str, token: str, *, introspect: bool = False
) -> dict[str, Any] | None:
    """The claims of an access token we issued, or None. Locally (the default): its signature
    against the published keys (kept per process for KEYS_MAX_AGE seconds, and read again
    when a token fails against a copy older than KEYS_MIN_AGE: a rotated key), issuer, type
    and expiry; a revoked token stays valid until it expires. With ``introspect``: the
    database's word as well, so revocation counts at once."""
    provider = Provider.from_settings(rt.settings, issuer)
    if introspect:
        async with rt.db.read() as session:
            live = await grants.live_access_token(session, provider, token)
        return None if live is None else live.claims
    for max_age in (KEYS_MAX_AGE, KEYS_MIN_AGE):
        keyset = await _published_keys(rt, provider, max_age)
        try:
            return tokens.verify(
                token, keyset, issuer=provider.issuer, typ=tokens.ACCESS_TOKEN_TYPE
            )
        except tokens.TokenInvalid:
            continue
    return None


async def _published_keys(rt: Runtime, provider: Provider, max_age: float) -> KeySet:
    held = _keys.get("keys")
    if held is not None and time.monotonic() - held[0] < max_age:
        return held[1]
    async with rt.db.read() as session:
        keyset = await keys.verification_keys(session, provider.keep_retired_keys)
    _keys["keys"] = (time.monotonic(), keyset)
    return keyset
