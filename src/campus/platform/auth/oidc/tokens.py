"""Signed tokens (JWT, RS256) and the digests under which opaque secrets are stored.

Access tokens follow RFC 9068 (``typ: at+jwt``) so a resource server verifies them locally
against the JWKS; ID tokens follow OpenID Connect Core; logout tokens follow OpenID Connect
Back-Channel Logout 1.0 (``typ: logout+jwt``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry

from campus.platform.auth.oidc.keys import ALGORITHM

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a name, not a secret)
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 (a name, not a secret)
BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_SECONDS = 120
# Clock skew tolerated between Campus processes when checking exp and iat.
LEEWAY_SECONDS = 30


class TokenInvalid(Exception):
    """A JWT that is malformed, tampered with, expired, or not one of ours."""


def new_secret() -> str:
    """An unguessable opaque value (codes, refresh tokens, client secrets): 256 bits."""
    return secrets.token_urlsafe(32)


def new_id() -> str:
    return uuid.uuid4().hex


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret: what the tables keep instead of the secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def digests_match(stored: str | None, presented: str) -> bool:
    """Constant-time comparison of a stored digest with the digest of a presented secret."""
    if not stored:
        # Compare anyway, so a missing secret takes as long as a wrong one.
        hmac.compare_digest(digest(presented), digest(""))
        return False
    return hmac.compare_digest(stored.encode(), digest(presented).encode())


def public_sid(secret_key: str, session_id: str) -> str:
    """The ``sid`` relying parties see: derived from the SSO session id, which stays internal."""
    mac = hmac.new(secret_key.encode(), f"oidc-sid:{session_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def _sign(key: RSAKey, claims: Mapping[str, Any], typ: str) -> str:
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": typ}
    return jwt.encode(header, dict(claims), key, algorithms=[ALGORITHM])


def access_token(key: RSAKey, claims: Mapping[str, Any]) -> str:
    return _sign(key, claims, ACCESS_TOKEN_TYPE)


def id_token(key: RSAKey, claims: Mapping[str, Any], access_token_value: str | None) -> str:
    full = dict(claims)
    if access_token_value is not None:
        full["at_hash"] = create_half_hash(access_token_value, ALGORITHM).decode()
    return _sign(key, full, "JWT")


def logout_token(
    key: RSAKey, *, issuer: str, client_id: str, subject: str | None, sid: str | None
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECONDS,
        "jti": new_id(),
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    }
    if subject is not None:
        claims["sub"] = subject
    if sid is not None:
        claims["sid"] = sid
    return _sign(key, claims, LOGOUT_TOKEN_TYPE)


class _LenientExpiry(JWTClaimsRegistry):
    """An ID token given back as a logout hint may have expired (RP-Initiated Logout §2)."""

    def validate_exp(self, value: object) -> None:
        return None


def verify(
    value: str,
    keys: KeySet,
    *,
    issuer: str,
    typ: str | None,
    check_expiry: bool = True,
) -> dict[str, Any]:
    """The claims of a JWT we signed, or ``TokenInvalid``."""
    if not value or value.count(".") != 2 or len(value) > 8192:
        raise TokenInvalid("not a compact JWS")
    try:
        token = jwt.decode(value, keys, algorithms=[ALGORITHM])
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenInvalid(str(exc)) from exc
    if typ is not None and str(token.header.get("typ", "")).lower() != typ:
        raise TokenInvalid("wrong token type")
    registry_cls = JWTClaimsRegistry if check_expiry else _LenientExpiry
    registry = registry_cls(
        leeway=LEEWAY_SECONDS, iss={"essential": True, "value": issuer}, exp={"essential": True}
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise TokenInvalid(str(exc)) from exc
    return dict(token.claims)
