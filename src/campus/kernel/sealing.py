"""Secrets the software must read back (a signing key, a TOTP seed, an HMAC secret) are stored
sealed: AES-GCM under a key derived from the site's ``CAMPUS_SECRET_KEY``, bound to what they
belong to (the associated data), so a sealed value copied onto another row does not open.
Changing the secret key makes every sealed value unreadable, by design."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class SealBroken(ValueError):
    """The value was sealed under another key or for another owner, or was altered."""


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A 256-bit key of its own for each purpose (HKDF-SHA256 of the site's secret key)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode()
    )


def seal(key: bytes, plain: bytes, owner: bytes) -> str:
    """``plain`` sealed for ``owner``, as URL-safe base64 of the nonce and the ciphertext."""
    nonce = os.urandom(NONCE_BYTES)
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plain, owner)).decode()


def unseal(key: bytes, sealed: str, owner: bytes) -> bytes:
    """The plain value of ``seal(key, plain, owner)``; ``SealBroken`` otherwise."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], owner)
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise SealBroken(str(exc) or type(exc).__name__) from exc
