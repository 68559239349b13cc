"""Web Push (RFC 8030, payloads encrypted per RFC 8291 as aes128gcm, VAPID per RFC 8292) to the
browsers that installed the PWA and granted permission.

- The server's VAPID key pair is generated once and kept in ``msg_push_key``; its public half is
  the ``applicationServerKey`` browsers subscribe with (replacing it orphans every subscription).
- A device registers its ``PushSubscription`` (endpoint + keys); endpoints must belong to a known
  push service (or, outside production, to this machine), so the server never posts to an
  address a user chose.
- Sending happens after commit, in batches of concurrent requests; a push service answering
  404 or 410 means the subscription is gone, and it is removed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import structlog
from cryptography.hazmat.primitives import serialization
from prometheus_client import Counter
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import InvalidInput
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts.models import PushKey, PushSubscription
from campus.platform.messaging.accounts.schemas import PushSubscriptionIn

log = structlog.get_logger(__name__)

KEY_ID = 1
# The push services of the browsers in use (Chrome/Edge/Opera/Samsung: FCM; Firefox: Mozilla;
# Edge legacy: WNS; Safari: Apple). An endpoint elsewhere is refused.
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "push.services.mozilla.com",
    "notify.windows.com",
    "push.apple.com",
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
GONE = (404, 410)
DEVICES_PER_PERSON = 10
BATCH = 500  # devices whose requests are in flight together (bounded further by CONCURRENCY)
CONCURRENCY = 50
TIMEOUT_SECONDS = 10.0
TTL_SECONDS = 24 * 3600  # a phone offline for a day still gets the post

SENT = Counter("campus_webpush_sent", "Web Push requests, by outcome", ["outcome"])


# ---------------------------------------------------------------- the VAPID key


@dataclass(frozen=True)
class VapidKey:
    private_pem: str
    public_key: str  # base64url of the uncompressed P-256 point


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _generate() -> VapidKey:
    vapid = Vapid()
    vapid.generate_keys()
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return VapidKey(vapid.private_pem().decode("ascii"), _b64url(public))


async def ensure_key(session: AsyncSession) -> VapidKey:
    """The server's key pair, generated and stored on first use (two processes racing store
    one of theirs; both then use the stored one)."""
    row = await session.get(PushKey, KEY_ID)
    if row is None:
        made = _generate()
        values = {
            "id": KEY_ID,
            "private_pem": made.private_pem,
            "public_key": made.public_key,
            "created_at": clock.now(),
        }
        await insert_ignore(session, PushKey, [values], ["id"])
        row = await session.get(PushKey, KEY_ID, populate_existing=True)
        assert row is not None
    return VapidKey(row.private_pem, row.public_key)


# ---------------------------------------------------------------- devices


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def check_endpoint(endpoint: str, environment: str) -> None:
    """A push service's HTTPS address; outside production also this machine (tests, demos)."""
    url = urlsplit(endpoint)
    host = (url.hostname or "").lower()
    known = any(host == h or host.endswith("." + h) for h in PUSH_SERVICE_HOSTS)
    if url.scheme == "https" and known:
        return
    if environment != "production" and url.scheme in ("http", "https") and host in LOOPBACK_HOSTS:
        return
    raise InvalidInput.on("endpoint", _("不支持的推送服务地址，请使用浏览器提供的订阅信息"))


async def check_register(
    session: AsyncSession,
    principal: Principal,
    body: PushSubscriptionIn,
    environment: str,
    user_agent: str,
) -> int:
    check_endpoint(body.endpoint, environment)
    return await do_register(session, principal.person_id, body, user_agent)


async def do_register(
    session: AsyncSession, person_id: int, body: PushSubscriptionIn, user_agent: str
) -> int:
    """Store the device's subscription; a browser re-registering (new keys, or another person
    signing in on it) replaces its row. A person keeps their DEVICES_PER_PERSON latest."""
    digest = endpoint_hash(body.endpoint)
    await session.execute(delete(PushSubscription).where(PushSubscription.endpoint_hash == digest))
    device = PushSubscription(
        person_id=person_id,
        endpoint_hash=digest,
        endpoint=body.endpoint,
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=user_agent[:200],
        created_at=clock.now(),
    )
    session.add(device)
    await session.flush()
    stale = list(
        await session.scalars(
            select(PushSubscription.id)
            .where(PushSubscription.person_id == person_id)
            .order_by(PushSubscription.created_at.desc(), PushSubscription.id.desc())
            .offset(DEVICES_PER_PERSON)
        )
    )
    if stale:
        await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(stale)))
    audit.record(session, "messaging.push.register", "msg_push_subscription", device.id)
    return device.id


async def do_unregister(session: AsyncSession, person_id: int, endpoint: str) -> bool:
    result: Any = await session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint_hash == endpoint_hash(endpoint),
            PushSubscription.person_id == person_id,
        )
    )
    removed = int(result.rowcount or 0) > 0
    if removed:
        audit.record(session, "messaging.push.unregister", "msg_push_subscription", person_id)
    return removed


async def devices_of(session: AsyncSession, person_id: int) -> list[PushSubscription]:
    return list(
        await session.scalars(
            select(PushSubscription)
            .where(PushSubscription.person_id == person_id)
            .order_by(PushSubscription.created_at.desc())
        )
    )


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class Device:
    id: int
    endpoint: str
    p256dh: str
    auth: str


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    failed: int = 0


async def devices_for(session: AsyncSession, person_ids: Sequence[int]) -> list[Device]:
    found: list[Device] = []
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), 900):
        rows = await session.scalars(
            select(PushSubscription)
            .where(PushSubscription.person_id.in_(ids[start : start + 900]))
            .order_by(PushSubscription.id)
        )
        found += [Device(r.id, r.endpoint, r.p256dh, r.auth) for r in rows]
    return found


async def holders(session: AsyncSession) -> list[int]:
    """Everyone with at least one device (far fewer than the campus)."""
    return list(await session.scalars(select(PushSubscription.person_id).distinct()))


async def _send_one(
    http: aiohttp.ClientSession, vapid: Vapid, subject: str, device: Device, data: str
) -> int | None:
    """The push service's answer: None when accepted, else its status (0: no answer)."""
    try:
        await webpush_async(
            subscription_info={
                "endpoint": device.endpoint,
                "keys": {"p256dh": device.p256dh, "auth": device.auth},
            },
            data=data,
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            content_encoding="aes128gcm",
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
            headers={"Urgency": "normal"},
            aiohttp_session=http,
        )
    except WebPushException as exc:
        return exc.status_code or 0
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("webpush_unreachable", device_id=device.id, error=repr(exc))
        return 0
    return None


async def send(
    devices: Sequence[Device], payload: dict[str, Any], key: VapidKey, subject: str
) -> SendReport:
    """Encrypt and post the payload to every device, BATCH at a time, CONCURRENCY in flight."""
    report = SendReport()
    if not devices:
        return report
    vapid = Vapid.from_pem(key.private_pem.encode("ascii"))
    data = json.dumps(payload, ensure_ascii=False)
    limit = asyncio.Semaphore(CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)

    async def one(http: aiohttp.ClientSession, device: Device) -> None:
        async with limit:
            status = await _send_one(http, vapid, subject, device, data)
        if status is None:
            report.sent.append(device.id)
            SENT.labels("sent").inc()
        elif status in GONE:
            report.expired.append(device.id)
            SENT.labels("expired").inc()
        else:
            report.failed += 1
            SENT.labels("failed").inc()
            log.warning("webpush_refused", device_id=device.id, status=status)

    async with aiohttp.ClientSession(timeout=timeout) as http:
        for start in range(0, len(devices), BATCH):
            await asyncio.gather(*(one(http, d) for d in devices[start : start + BATCH]))
    return report


async def record(runtime: Runtime, report: SendReport) -> None:
    """Forget the expired subscriptions, note when the others last received a push."""
    if not report.expired and not report.sent:
        return
    async with runtime.db.transaction() as session:
        for start in range(0, len(report.expired), 900):
            chunk = report.expired[start : start + 900]
            await session.execute(delete(PushSubscription).where(PushSubscription.id.in_(chunk)))
        now = clock.now()
        for start in range(0, len(report.sent), 900):
            chunk = report.sent[start : start + 900]
            await session.execute(
                update(PushSubscription)
                .where(PushSubscription.id.in_(chunk))
                .values(last_sent_at=now)
                .execution_options(synchronize_session=False)
            )


def subject_of(runtime: Runtime) -> str:
    """The VAPID ``sub`` claim: whom a push service may contact about our traffic."""
    return f"mailto:{runtime.settings.smtp_from}"


async def deliver(
    runtime: Runtime, devices: Sequence[Device], payload: dict[str, Any], key: VapidKey
) -> SendReport:
    report = await send(devices, payload, key, subject_of(runtime))
    await record(runtime, report)
    log.info(
        "webpush_delivered",
        sent=len(report.sent),
        expired=len(report.expired),
        failed=report.failed,
    )
    return report
