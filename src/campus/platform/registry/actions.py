"""Writes of the service center: registrations, heartbeats, deregistrations, evictions, health
results and credentials. Ownership, audit and events are the database's; the instances
themselves are the store's (store.py: the database, or etcd), which gives every change of what
discovery answers its change index."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, Forbidden, NotFound, Unauthenticated
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.registry import events, queries
from campus.platform.registry.models import Credential, HealthCheck, Service
from campus.platform.registry.schemas import (
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    InstanceIn,
    InstanceOut,
    LeaseOut,
    Registered,
)
from campus.platform.registry.store import InstanceStore

PLATFORM_OWNER = "campus"  # Campus's own processes
TOKEN_PREFIX = "crg_"  # noqa: S105 (the prefix of every token, not a secret)
FAILURES_UNHEALTHY = 3  # consecutive failed probes that mark an instance unhealthy
HEALTH_HISTORY = 50  # probes kept per instance


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate(session: AsyncSession, authorization: str | None) -> Credential:
    """The credential of an ``Authorization: Bearer <registry token>`` header."""
    scheme, _sep, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.startswith(TOKEN_PREFIX):
        raise Unauthenticated(_("需要服务注册令牌（Authorization: Bearer crg_…）"))
    credential = await queries.credential_by_hash(session, hash_token(token.strip()))
    if credential is None:
        raise Unauthenticated(_("服务注册令牌无效或已吊销"))
    return credential


# ---------------------------------------------------------------- registration


async def check_register(
    session: AsyncSession, store: InstanceStore, owner: str, body: InstanceIn
) -> Service:
    """The service the instance joins, created for ``owner`` if new; refused when another owner
    holds the name or the instance id belongs to another service."""
    await insert_ignore(
        session,
        Service,
        [{"name": body.service, "owner": owner, "created_at": clock.now()}],
        keys=["name"],
    )
    service = await queries.find_service(session, body.service)
    assert service is not None
    if service.owner != owner:
        raise Conflict.on("service", _("服务名“{name}”已属于其他所有者", name=body.service))
    if body.instance_id:
        found = await store.find(session, body.instance_id)
        if found is not None and found.service != service.name:
            raise Conflict.on("instance_id", _("实例 id 已被其他服务使用"))
    return service


async def do_register(
    session: AsyncSession, store: InstanceStore, owner: str, body: InstanceIn
) -> Registered:
    """Register (or re-register) an instance with a fresh lease."""
    service = await check_register(session, store, owner, body)
    instance_id = body.instance_id or secrets.token_hex(8)
    instance, index = await store.put(session, instance_id, body, clock.now())
    subject = {"service": service.name, "address": body.address, "version": body.version}
    audit.record(
        session, "registry.instance.register", "registry_instance", instance_id, after=subject
    )
    await emit(
        session,
        events.INSTANCE_REGISTERED,
        events.InstanceChanged(service=service.name, instance_id=instance_id, index=index),
    )
    return Registered(instance=instance, index=index)


async def _owned_instance(
    session: AsyncSession, store: InstanceStore, owner: str, instance_id: str
) -> InstanceOut:
    instance = await store.find(session, instance_id)
    if instance is None:
        raise NotFound(_("实例“{id}”不存在或已下线，请重新注册", id=instance_id))
    service = await queries.find_service(session, instance.service)
    if service is None or service.owner != owner:
        raise Forbidden(_("该实例属于其他所有者的服务"))
    return instance


async def do_heartbeat(
    session: AsyncSession, store: InstanceStore, owner: str, instance_id: str
) -> LeaseOut:
    """Renew the lease; a lapsed lease is not renewed (the instance registers again)."""
    await _owned_instance(session, store, owner, instance_id)
    expires_at = await store.renew(session, instance_id, clock.now())
    if expires_at is None:
        raise NotFound(_("实例“{id}”的租约已过期，请重新注册", id=instance_id))
    return LeaseOut(id=instance_id, expires_at=expires_at)


async def do_deregister(
    session: AsyncSession, store: InstanceStore, owner: str, instance_id: str
) -> int:
    instance = await _owned_instance(session, store, owner, instance_id)
    index = await store.remove(session, instance)
    await _removed(session, instance.service, instance_id, index, "deregistered")
    return index


async def _removed(
    session: AsyncSession, service: str, instance_id: str, index: int, kind: str
) -> None:
    """What follows an instance's removal: its health history goes, audit and event."""
    await session.execute(delete(HealthCheck).where(HealthCheck.instance_id == instance_id))
    name = events.INSTANCE_DEREGISTERED if kind == "deregistered" else events.INSTANCE_EVICTED
    audit.record(session, f"registry.instance.{kind}", "registry_instance", instance_id)
    await emit(
        session, name, events.InstanceChanged(service=service, instance_id=instance_id, index=index)
    )


async def do_evict_expired(session: AsyncSession, store: InstanceStore) -> int:
    """Remove (or, on etcd, record) instances whose lease lapsed, a batch; returns how many."""
    removals = await store.evictions(session, clock.now())
    for removal in removals:
        await _removed(session, removal.service, removal.instance_id, removal.index, "evicted")
    return len(removals)


async def do_purge_changes(session: AsyncSession, store: InstanceStore) -> None:
    await store.purge(session)


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class ProbeResult:
    instance_id: str
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str = ""


async def do_record_probe(session: AsyncSession, store: InstanceStore, result: ProbeResult) -> None:
    """Keep the probe in the bounded history; flip health after FAILURES_UNHEALTHY failures in
    a row (counted in that history), or on the first success after that."""
    instance = await store.find(session, result.instance_id)
    if instance is None:
        return  # deregistered while being probed
    now = clock.now()
    session.add(
        HealthCheck(
            instance_id=instance.id,
            at=now,
            ok=result.ok,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error[:300],
        )
    )
    await session.flush()
    failures = await queries.failures_in_a_row(session, instance.id, FAILURES_UNHEALTHY)
    healthy = failures < FAILURES_UNHEALTHY
    index = await store.set_health(session, instance, healthy, failures, now)
    if index is not None:
        payload = events.InstanceChanged(
            service=instance.service, instance_id=instance.id, index=index, healthy=healthy
        )
        await emit(session, events.INSTANCE_HEALTH_CHANGED, payload)
    await _trim_history(session, instance.id)


async def _trim_history(session: AsyncSession, instance_id: str) -> None:
    kept = (
        select(HealthCheck.id)
        .where(HealthCheck.instance_id == instance_id)
        .order_by(HealthCheck.id.desc())
        .limit(HEALTH_HISTORY)
    )
    await session.execute(
        delete(HealthCheck).where(
            HealthCheck.instance_id == instance_id, HealthCheck.id.not_in(kept.scalar_subquery())
        )
    )


# ---------------------------------------------------------------- credentials


async def do_create_credential(session: AsyncSession, body: CredentialIn) -> CredentialIssued:
    active = select(Credential.id).where(
        Credential.owner == body.owner, Credential.revoked_at.is_(None)
    )
    if await session.scalar(active):
        raise Conflict.on("owner", _("所有者“{owner}”已有凭据，请先吊销", owner=body.owner))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    credential = Credential(
        owner=body.owner,
        description=body.description,
        token_hash=hash_token(token),
        token_hint=token[:10],
        created_by=context.actor_id(),
        created_at=clock.now(),
    )
    session.add(credential)
    await session.flush()
    audit.record(
        session,
        "registry.credential.create",
        "registry_credential",
        credential.id,
        after={"owner": body.owner},
    )
    await emit(
        session,
        events.CREDENTIAL_CREATED,
        events.CredentialChanged(credential_id=credential.id, owner=body.owner),
    )
    return CredentialIssued(**CredentialOut.model_validate(credential).model_dump(), token=token)


async def do_revoke_credential(session: AsyncSession, credential_id: int) -> CredentialOut:
    credential = await session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(_("凭据 {id} 不存在", id=credential_id))
    if credential.revoked_at is not None:
        raise Conflict(_("该凭据已吊销"))
    credential.revoked_at = clock.now()
    audit.record(
        session,
        "registry.credential.revoke",
        "registry_credential",
        credential.id,
        after={"owner": credential.owner},
    )
    await emit(
        session,
        events.CREDENTIAL_REVOKED,
        events.CredentialChanged(credential_id=credential.id, owner=credential.owner),
    )
    return CredentialOut.model_validate(credential)
