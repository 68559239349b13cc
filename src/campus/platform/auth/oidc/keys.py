"""RS256 signing keys: generated here, kept encrypted in ``auth_oidc_key``, rotated by an
administrator.

The private key is encrypted with AES-256-GCM under a key derived (HKDF-SHA256) from
CAMPUS_SECRET_KEY, its kid bound as associated data, so a copy of the table alone signs
nothing. One key is active and signs; a retired key stays in the JWKS until every token it
signed has expired, so relying parties that cache the JWKS keep verifying across a rotation.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from joserfc.jwk import Key, KeySet, RSAKey
from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock, sealing
from campus.platform.auth.oidc.models import SigningKey

ALGORITHM = "RS256"
KEY_BITS = 2048
ACTIVE = "active"
RETIRED = "retired"
_FORMAT = "v1"
_HKDF_INFO = b"campus.auth.oidc.signing-key"
log = structlog.get_logger(__name__)

# Parsed keys by kid, with the stored form they were parsed from: decrypting and importing a
# PEM costs more than signing, and the table stays the truth (a changed row is parsed again).
_private_cache: dict[str, tuple[str, RSAKey]] = {}
_public_cache: dict[str, RSAKey] = {}


class KeyUnavailable(RuntimeError):
    """The active key cannot be decrypted: CAMPUS_SECRET_KEY changed since it was made."""


@dataclass(frozen=True)
class KeyInfo:
    kid: str
    status: str
    created_at: datetime
    retired_at: datetime | None
    published_until: datetime | None


def encrypt_private_key(pem: bytes, kid: str, secret_key: str) -> str:
    key = sealing.derive_key(secret_key, _HKDF_INFO)
    return f"{_FORMAT}.{sealing.seal(key, pem, kid.encode())}"


def decrypt_private_key(stored: str, kid: str, secret_key: str) -> bytes:
    version, _, body = stored.partition(".")
    if version != _FORMAT:
        raise KeyUnavailable(f"unknown key format {version!r} for kid {kid}")
    try:
        return sealing.unseal(sealing.derive_key(secret_key, _HKDF_INFO), body, kid.encode())
    except sealing.SealBroken as exc:
        raise KeyUnavailable(f"signing key {kid} does not decrypt with this secret key") from exc


def _new_kid(now: datetime) -> str:
    return f"{now:%Y%m%d}-{secrets.token_hex(4)}"


async def create_key(session: AsyncSession, secret_key: str) -> SigningKey:
    """A new active key (the caller retires the previous one)."""
    now = clock.now()
    kid = _new_kid(now)
    params = {"kid": kid, "use": "sig", "alg": ALGORITHM}
    key = RSAKey.generate_key(KEY_BITS, parameters=params, private=True)  # type: ignore[arg-type]
    row = SigningKey(
        kid=kid,
        created_at=now,
        status=ACTIVE,
        retired_at=None,
        public_jwk=dict(key.as_dict(private=False)),
        private_key_encrypted=encrypt_private_key(key.as_pem(private=True), kid, secret_key),
    )
    session.add(row)
    await session.flush()
    return row


async def _active_row(session: AsyncSession) -> SigningKey | None:
    return await session.scalar(
        select(SigningKey)
        .where(SigningKey.status == ACTIVE)
        .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
        .limit(1)
    )


async def signing_key(session: AsyncSession, secret_key: str) -> RSAKey:
    """The active private key; the first use on an empty table creates it.

    An active key that no longer decrypts (CAMPUS_SECRET_KEY was changed) is retired, not
    used: its public half stays published, so what it signed still verifies, and a new key
    made under the current secret signs from now on.
    """
    row = await _active_row(session)
    if row is None:
        row = await create_key(session, secret_key)
    cached = _private_cache.get(row.kid)
    if cached is not None and cached[0] == row.private_key_encrypted:
        return cached[1]
    try:
        pem = decrypt_private_key(row.private_key_encrypted, row.kid, secret_key)
    except KeyUnavailable:
        log.warning("oidc_signing_key_undecryptable", kid=row.kid)
        row.status, row.retired_at = RETIRED, clock.now()
        row = await create_key(session, secret_key)
        pem = decrypt_private_key(row.private_key_encrypted, row.kid, secret_key)
    key = RSAKey.import_key(pem, parameters={"kid": row.kid, "use": "sig", "alg": ALGORITHM})
    _private_cache[row.kid] = (row.private_key_encrypted, key)
    return key


async def rotate(session: AsyncSession, secret_key: str) -> tuple[SigningKey, list[str]]:
    """Retire every active key and make a new one; returns the new key and the retired kids."""
    now = clock.now()
    retired = list(await session.scalars(select(SigningKey).where(SigningKey.status == ACTIVE)))
    for row in retired:
        row.status = RETIRED
        row.retired_at = now
    await session.flush()
    return await create_key(session, secret_key), [row.kid for row in retired]


def _published(keep_retired: timedelta, now: datetime) -> object:
    return or_(SigningKey.status == ACTIVE, SigningKey.retired_at > now - keep_retired)


async def published_rows(session: AsyncSession, keep_retired: timedelta) -> list[SigningKey]:
    """The keys a verifier needs: the active one and those retired less than
    ``keep_retired`` ago (the longest lifetime of a signed token)."""
    rows = await session.scalars(
        select(SigningKey)
        .where(_published(keep_retired, clock.now()))  # type: ignore[arg-type]
        .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
    )
    return list(rows)


async def jwks(session: AsyncSession, keep_retired: timedelta) -> dict[str, list[dict[str, str]]]:
    return {"keys": [dict(row.public_jwk) for row in await published_rows(session, keep_retired)]}


async def verification_keys(session: AsyncSession, keep_retired: timedelta) -> KeySet:
    found: list[Key] = []
    for row in await published_rows(session, keep_retired):
        key = _public_cache.get(row.kid)
        if key is None:
            key = RSAKey.import_key(dict(row.public_jwk))
            _public_cache[row.kid] = key
        found.append(key)
    return KeySet(found)


async def key_infos(session: AsyncSession, keep_retired: timedelta) -> list[KeyInfo]:
    rows = await session.scalars(
        select(SigningKey).order_by(SigningKey.created_at.desc(), SigningKey.kid.desc())
    )
    return [
        KeyInfo(
            kid=row.kid,
            status=row.status,
            created_at=row.created_at,
            retired_at=row.retired_at,
            published_until=row.retired_at + keep_retired if row.retired_at else None,
        )
        for row in rows
    ]


async def purge_retired(session: AsyncSession, keep_retired: timedelta) -> int:
    """Delete retired keys no live token can have been signed with."""
    cutoff = clock.now() - keep_retired
    result = await session.execute(
        delete(SigningKey).where(SigningKey.status == RETIRED, SigningKey.retired_at <= cutoff)
    )
    return int(getattr(result, "rowcount", 0) or 0)
