"""An HMAC credential's secret, stored sealed (``campus.kernel.sealing``): the gateway must read
it back to check signatures, so it cannot be hashed like an API key; sealed, a copy of the
database alone does not let anyone sign requests."""

from __future__ import annotations

import structlog

from campus.kernel import sealing

PREFIX = "s1."  # a sealed secret; a value without it was stored before secrets were sealed
_PURPOSE = b"campus.gateway.hmac-secret"
log = structlog.get_logger(__name__)


def seal_secret(secret_key: str, key_id: str, secret: str) -> str:
    key = sealing.derive_key(secret_key, _PURPOSE)
    return PREFIX + sealing.seal(key, secret.encode(), key_id.encode())


def open_secret(secret_key: str, key_id: str, stored: str) -> str | None:
    """The secret, or None when it does not open (the site's secret key changed): the
    credential then signs nothing until a new one is issued."""
    if not stored.startswith(PREFIX):
        return stored
    key = sealing.derive_key(secret_key, _PURPOSE)
    try:
        return sealing.unseal(key, stored.removeprefix(PREFIX), key_id.encode()).decode()
    except sealing.SealBroken:
        log.warning("gateway_hmac_secret_unreadable", key_id=key_id)
        return None
