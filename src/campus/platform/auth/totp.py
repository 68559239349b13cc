"""TOTP (RFC 6238) second factor: seeds, codes, the enrolment QR code and recovery codes.

The seed must be read back to check codes, so it is stored encrypted (AES-GCM) under a key
derived from the site's secret key; changing ``CAMPUS_SECRET_KEY`` therefore voids every
enrolment. The QR code is drawn here (segno) as an SVG data URL: no outside service sees it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

import pyotp
import segno

from campus.kernel import sealing

CODE_DIGITS = 6
STEP_SECONDS = 30
# A code from the step before or after the current one is accepted (clock drift of phones).
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i look-alikes


def _key(secret_key: str) -> bytes:
    return hashlib.sha256(f"campus.auth.totp:{secret_key}".encode()).digest()


def new_seed() -> str:
    return pyotp.random_base32()


def encrypt_seed(secret_key: str, seed: str) -> str:
    return sealing.seal(_key(secret_key), seed.encode(), b"totp")


def decrypt_seed(secret_key: str, stored: str) -> str | None:
    """The seed, or None when it was sealed under another secret key (or tampered with)."""
    try:
        return sealing.unseal(_key(secret_key), stored, b"totp").decode()
    except sealing.SealBroken:
        return None


def provisioning_uri(seed: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(seed, digits=CODE_DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def qr_data_uri(uri: str) -> str:
    """The otpauth:// URI as a QR code, an SVG data URL for an <img> (CSP allows data: images)."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def matching_step(
    seed: str, code: str, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step whose code ``code`` is, if it is within the drift window and newer than
    ``last_step`` (a code is accepted once only); otherwise None."""
    code = code.strip().replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(seed, digits=CODE_DIGITS, interval=STEP_SECONDS)
    current = totp.timecode(time.time() if now is None else now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate is compared, so timing does not tell which step matched.
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def code_at(seed: str, when: float) -> str:
    """The code an authenticator shows at ``when`` (used by tests and the benchmark)."""
    return pyotp.TOTP(seed, digits=CODE_DIGITS, interval=STEP_SECONDS).at(when)


def new_recovery_codes() -> list[str]:
    """Ten codes like ``k7qm-x3dp-9tha``: 60 bits each, easy to read out and type."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalise_recovery_code(code: str) -> str:
    compact = "".join(c for c in code.lower() if c.isalnum())
    if len(compact) != 12:
        return ""
    return "-".join(compact[i : i + 4] for i in range(0, 12, 4))


def looks_like_recovery_code(code: str) -> bool:
    return bool(normalise_recovery_code(code)) and not code.strip().isdigit()
