"""QR-login challenges, kept in the cache so that every process sees the same state.

The challenge is the random string in the QR code's URL; only its digest names cache keys. Each
step writes a key of its own with ``set_if_absent``, so the first phone to scan, the one decision
and the one exchange win atomically, in memory and on Redis alike:

    auth:qr:<digest>            who asked (IP, user agent), when, and the browser it is bound to
    auth:qr:<digest>:scan       the person whose phone opened it
    auth:qr:<digest>:decision   confirmed or denied, by whom, and the nonce of the exchange token
    auth:qr:<digest>:used       the exchange for a session has happened
    auth:qr:<digest>:streams    how many event streams have been opened for it

State changes are announced on the channel ``auth:qr:events:<digest>``; the messages carry the
state only, never a secret, and listeners re-read the keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from enum import StrEnum

from campus.kernel import clock
from campus.kernel.cache import Cache, Subscription

CHALLENGE_TTL_SECONDS = 120.0
# After a confirmation the desktop has this long to exchange its token for a session.
EXCHANGE_WINDOW_SECONDS = 60.0
_PREFIX = "auth:qr:"
_CHANNEL_PREFIX = "auth:qr:events:"


class QrState(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    CONFIRMED = "confirmed"
    DENIED = "denied"
    EXPIRED = "expired"


FINAL_STATES = frozenset({QrState.CONFIRMED, QrState.DENIED, QrState.EXPIRED})


@dataclass(frozen=True)
class Challenge:
    digest: str
    created_at: float
    expires_at: float
    ip: str | None
    user_agent: str
    browser: str  # digest of the binding cookie of the browser that asked
    next: str

    @property
    def ends_at(self) -> float:
        """When every key of this challenge is gone from the cache."""
        return self.expires_at + EXCHANGE_WINDOW_SECONDS


@dataclass(frozen=True)
class Scan:
    person_id: int
    at: float


@dataclass(frozen=True)
class Decision:
    confirmed: bool
    person_id: int
    at: float
    nonce: str


@dataclass(frozen=True)
class Snapshot:
    """A challenge with everything that has happened to it so far."""

    challenge: Challenge
    scan: Scan | None
    decision: Decision | None
    used: bool

    def state(self, now: float) -> QrState:
        if self.decision is not None:
            return QrState.CONFIRMED if self.decision.confirmed else QrState.DENIED
        if now >= self.challenge.expires_at:
            return QrState.EXPIRED
        return QrState.SCANNED if self.scan is not None else QrState.PENDING

    def exchange_open(self, now: float) -> bool:
        decision = self.decision
        return (
            decision is not None
            and decision.confirmed
            and now < decision.at + EXCHANGE_WINDOW_SECONDS
        )


def now() -> float:
    return clock.now().timestamp()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest_of(secret: str) -> str:
    """Secrets (challenges, binding cookies) are stored only as digests: a cache dump is inert."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(digest: str, part: str = "") -> str:
    return f"{_PREFIX}{digest}{':' + part if part else ''}"


def _ttl(challenge: Challenge) -> float:
    return max(1.0, challenge.ends_at - now())


async def create(
    cache: Cache, *, ip: str | None, user_agent: str, browser_secret: str, next_path: str
) -> tuple[str, Challenge]:
    """A new pending challenge bound to the browser holding ``browser_secret``."""
    secret = new_secret()
    created = now()
    challenge = Challenge(
        digest=digest_of(secret),
        created_at=created,
        expires_at=created + CHALLENGE_TTL_SECONDS,
        ip=ip,
        user_agent=user_agent,
        browser=digest_of(browser_secret),
        next=next_path,
    )
    await cache.set(_key(challenge.digest), _dump(challenge), ttl=_ttl(challenge))
    return secret, challenge


async def load(cache: Cache, secret: str) -> Snapshot | None:
    """The challenge named by ``secret`` and its progress; None once it is unknown or gone."""
    digest = digest_of(secret)
    raw = await cache.get(_key(digest))
    if raw is None:
        return None
    scan = await cache.get(_key(digest, "scan"))
    decision = await cache.get(_key(digest, "decision"))
    used = await cache.get(_key(digest, "used"))
    return Snapshot(
        challenge=Challenge(**json.loads(raw)),
        scan=Scan(**json.loads(scan)) if scan else None,
        decision=Decision(**json.loads(decision)) if decision else None,
        used=used is not None,
    )


async def claim_scan(cache: Cache, challenge: Challenge, person_id: int) -> Scan:
    """Record that ``person_id`` opened the challenge; the first person to do so keeps it."""
    mine = Scan(person_id=person_id, at=now())
    if await cache.set_if_absent(_key(challenge.digest, "scan"), _dump(mine), _ttl(challenge)):
        return mine
    raw = await cache.get(_key(challenge.digest, "scan"))
    return Scan(**json.loads(raw)) if raw else mine


async def decide(cache: Cache, challenge: Challenge, person_id: int, confirmed: bool) -> bool:
    """Store the one decision on the challenge; False when another decision came first."""
    decision = Decision(
        confirmed=confirmed, person_id=person_id, at=now(), nonce=secrets.token_urlsafe(16)
    )
    return await cache.set_if_absent(
        _key(challenge.digest, "decision"), _dump(decision), _ttl(challenge)
    )


async def consume(cache: Cache, challenge: Challenge) -> bool:
    """Mark the exchange as done; True only for the first caller."""
    return await cache.set_if_absent(_key(challenge.digest, "used"), b"1", _ttl(challenge))


async def count_stream(cache: Cache, challenge: Challenge) -> int:
    """Count one more event stream opened for the challenge; returns how many so far."""
    return await cache.incr(_key(challenge.digest, "streams"), 1, ttl=_ttl(challenge))


def exchange_token(secret_key: str, digest: str, nonce: str) -> str:
    """The one-time token the bound desktop trades for a session.

    Derived rather than stored, so the cache never holds it and every process computes the same.
    """
    mac = hmac.new(secret_key.encode(), f"qr-exchange|{digest}|{nonce}".encode(), "sha256")
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


async def announce(cache: Cache, digest: str, state: QrState) -> None:
    await cache.publish(_CHANNEL_PREFIX + digest, state.value.encode())


def listen(cache: Cache, digest: str) -> Subscription:
    return cache.subscribe(_CHANNEL_PREFIX + digest)


def _dump(value: Challenge | Scan | Decision) -> bytes:
    return json.dumps(asdict(value)).encode()
