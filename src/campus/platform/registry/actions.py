"""Writes of the service center: registrations, heartbeats, deregistrations, evictions, health
results and credentials. Every change of what discovery answers bumps the change index in the
same transaction and is announced to watchers once committed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.cache import Cache
from campus.kernel.db import after_commit, insert_ignore
from campus.kernel.errors import Conflict, Forbidden, NotFound, Unauthenticated
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.registry import events, queries, watch
from campus.platform.registry.models import (
    Change,
    Credential,
    HealthCheck,
    Instance,
    Service,
    State,
)
from campus.platform.registry.schemas import (
    ChangeKind,
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    InstanceIn,
    LeaseOut,
    Registered,
)

PLATFORM_OWNER = "campus"  # Campus's own processes
TOKEN_PREFIX = "crg_"  # noqa: S105 (the prefix of every token, not a secret)
FAILURES_UNHEALTHY = 3  # consecutive failed probes that mark an instance unhealthy
HEALTH_HISTORY = 50  # probes kept per instance
CHANGES_KEPT = 10_000  # changes kept for SSE streams to replay from an index
EVICT_BATCH = 200


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


# ---------------------------------------------------------------- the change index


async def _next_index(session: AsyncSession) -> int:
    bump = (
        update(State)
        .where(State.id == 1)
        .values(change_index=State.change_index + 1)
        .returning(State.change_index)
    )
    index = (await session.execute(bump)).scalar_one_or_none()
    if index is None:
        await insert_ignore(session, State, [{"id": 1, "change_index": 0}], keys=["id"])
        index = (await session.execute(bump)).scalar_one()
    return int(index)


async def record_change(
    session: AsyncSession, cache: Cache, service: str, instance_id: str, kind: ChangeKind
) -> int:
    """Bump the change index for this change; watchers are woken once it is committed."""
    index = await _next_index(session)
    session.add(
        Change(
            change_index=index,
            at=clock.now(),
            service=service,
            instance_id=instance_id,
            kind=kind,
        )
    )

    async def wake() -> None:
        await watch.announce(cache, index)

    after_commit(session, wake)
    return index


# ---------------------------------------------------------------- registration


async def check_register(session: AsyncSession, owner: str, body: InstanceIn) -> Service:
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
        found = await queries.find_instance(session, body.instance_id)
        if found is not None and found[1].id != service.id:
            raise Conflict.on("instance_id", _("实例 id 已被其他服务使用"))
    return service


async def do_register(
    session: AsyncSession, cache: Cache, owner: str, body: InstanceIn
) -> Registered:
    """Register (or re-register) an instance with a fresh lease, in one transaction."""
    service = await check_register(session, owner, body)
    now = clock.now()
    instance_id = body.instance_id or secrets.token_hex(8)
    instance = await session.get(Instance, instance_id)
    if instance is None:
        instance = Instance(id=instance_id, registered_at=now)
        session.add(instance)
    _fill(instance, service.id, body, now)
    index = await record_change(session, cache, service.name, instance_id, "registered")
    subject = {"service": service.name, "address": body.address, "version": body.version}
    audit.record(
        session, "registry.instance.register", "registry_instance", instance_id, after=subject
    )
    await emit(
        session,
        events.INSTANCE_REGISTERED,
        events.InstanceChanged(service=service.name, instance_id=instance_id, index=index),
    )
    await session.flush()
    return Registered(instance=queries.to_out(instance, service.name, now), index=index)


def _fill(instance: Instance, service_id: int, body: InstanceIn, now: datetime) -> None:
    instance.service_id = service_id
    instance.version = body.version
    instance.address = body.address
    instance.namespace = body.namespace
    instance.weight = body.weight
    instance.modules = body.modules
    instance.meta = body.metadata
    instance.health_url = body.health_url
    instance.ttl_seconds = body.ttl_seconds
    instance.last_heartbeat_at = now
    instance.expires_at = now + timedelta(seconds=body.ttl_seconds)
    instance.healthy = True
    instance.failures = 0


async def _owned_instance(
    session: AsyncSession, owner: str, instance_id: str
) -> tuple[Instance, Service]:
    found = await queries.find_instance(session, instance_id)
    if found is None:
        raise NotFound(_("实例“{id}”不存在或已下线，请重新注册", id=instance_id))
    if found[1].owner != owner:
        raise Forbidden(_("该实例属于其他所有者的服务"))
    return found


async def do_heartbeat(session: AsyncSession, owner: str, instance_id: str) -> LeaseOut:
    """Renew the lease; a lapsed lease is not renewed (the instance registers again)."""
    instance, _service = await _owned_instance(session, owner, instance_id)
    now = clock.now()
    if instance.expires_at <= now:
        raise NotFound(_("实例“{id}”的租约已过期，请重新注册", id=instance_id))
    instance.last_heartbeat_at = now
    instance.expires_at = now + timedelta(seconds=instance.ttl_seconds)
    return LeaseOut(id=instance.id, expires_at=instance.expires_at)


async def do_deregister(session: AsyncSession, cache: Cache, owner: str, instance_id: str) -> int:
    instance, service = await _owned_instance(session, owner, instance_id)
    return await _remove(session, cache, instance, service.name, "deregistered")


async def _remove(
    session: AsyncSession,
    cache: Cache,
    instance: Instance,
    service: str,
    kind: ChangeKind,
) -> int:
    await session.execute(delete(HealthCheck).where(HealthCheck.instance_id == instance.id))
    await session.delete(instance)
    index = await record_change(session, cache, service, instance.id, kind)
    name = events.INSTANCE_DEREGISTERED if kind == "deregistered" else events.INSTANCE_EVICTED
    audit.record(session, f"registry.instance.{kind}", "registry_instance", instance.id)
    await emit(
        session, name, events.InstanceChanged(service=service, instance_id=instance.id, index=index)
    )
    return index


async def do_evict_expired(session: AsyncSession, cache: Cache, now: datetime) -> int:
    """Remove up to EVICT_BATCH instances whose lease lapsed; returns how many."""
    ids = await queries.expired_instances(session, now, EVICT_BATCH)
    for instance_id in ids:
        found = await queries.find_instance(session, instance_id)
        if found is not None:
            await _remove(session, cache, found[0], found[1].name, "evicted")
    return len(ids)


async def do_purge_changes(session: AsyncSession) -> None:
    """Keep the last CHANGES_KEPT changes."""
    newest = await queries.change_index(session)
    await session.execute(delete(Change).where(Change.change_index <= newest - CHANGES_KEPT))


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class ProbeResult:
    instance_id: str
    ok: bool
    status_code: int | None
    latency_ms: int
    error: str = ""


async def do_record_probe(session: AsyncSession, cache: Cache, result: ProbeResult) -> None:
    """Keep the probe in the bounded history; flip health after FAILURES_UNHEALTHY failures in
    a row, or on the first success after that."""
    found = await queries.find_instance(session, result.instance_id)
    if found is None:
        return  # deregistered while being probed
    instance, service = found
    session.add(
        HealthCheck(
            instance_id=instance.id,
            at=clock.now(),
            ok=result.ok,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error[:300],
        )
    )
    instance.last_checked_at = clock.now()
    instance.failures = 0 if result.ok else instance.failures + 1
    healthy = instance.failures < FAILURES_UNHEALTHY
    if healthy != instance.healthy:
        instance.healthy = healthy
        kind: ChangeKind = "healthy" if healthy else "unhealthy"
        index = await record_change(session, cache, service.name, instance.id, kind)
        payload = events.InstanceChanged(
            service=service.name, instance_id=instance.id, index=index, healthy=healthy
        )
        await emit(session, events.INSTANCE_HEALTH_CHANGED, payload)
    await session.flush()
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
