"""Reads of the service center."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.registry.models import (
    Change,
    Credential,
    HealthCheck,
    Instance,
    Service,
    State,
)
from campus.platform.registry.schemas import (
    ChangeOut,
    CredentialOut,
    HealthCheckOut,
    InstanceOut,
    ServiceSummary,
)


async def change_index(session: AsyncSession) -> int:
    index = await session.scalar(select(State.change_index).where(State.id == 1))
    return int(index or 0)


async def find_service(session: AsyncSession, name: str) -> Service | None:
    return await session.scalar(select(Service).where(Service.name == name))


async def find_instance(session: AsyncSession, instance_id: str) -> tuple[Instance, Service] | None:
    row = (
        await session.execute(
            select(Instance, Service)
            .join(Service, Service.id == Instance.service_id)
            .where(Instance.id == instance_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def credential_by_hash(session: AsyncSession, token_hash: str) -> Credential | None:
    return await session.scalar(
        select(Credential).where(
            Credential.token_hash == token_hash, Credential.revoked_at.is_(None)
        )
    )


def to_out(instance: Instance, service: str, now: datetime | None = None) -> InstanceOut:
    return InstanceOut(
        id=instance.id,
        service=service,
        version=instance.version,
        address=instance.address,
        namespace=instance.namespace,
        weight=instance.weight,
        modules=list(instance.modules),
        metadata=dict(instance.meta),
        health_url=instance.health_url,
        ttl_seconds=instance.ttl_seconds,
        registered_at=instance.registered_at,
        last_heartbeat_at=instance.last_heartbeat_at,
        expires_at=instance.expires_at,
        healthy=instance.healthy,
        alive=instance.expires_at > (now or clock.now()),
    )


async def instances_of(
    session: AsyncSession,
    name: str,
    *,
    only_available: bool,
    namespace: str | None = None,
    module: str | None = None,
) -> list[InstanceOut]:
    """A service's instances; ``only_available``: the healthy ones whose lease has not lapsed
    (what discovery answers)."""
    now = clock.now()
    query = (
        select(Instance)
        .join(Service, Service.id == Instance.service_id)
        .where(Service.name == name)
        .order_by(Instance.namespace, Instance.id)
    )
    if only_available:
        query = query.where(Instance.healthy.is_(True), Instance.expires_at > now)
    if namespace:
        query = query.where(Instance.namespace == namespace)
    found = [to_out(i, name, now) for i in (await session.scalars(query)).all()]
    return [i for i in found if module is None or module in i.modules]


async def get_service_instances(session: AsyncSession, name: str) -> list[InstanceOut]:
    if await find_service(session, name) is None:
        raise NotFound(_("服务“{name}”不存在", name=name))
    return await instances_of(session, name, only_available=False)


async def list_services(session: AsyncSession) -> list[ServiceSummary]:
    now = clock.now()
    available = Instance.healthy.is_(True) & (Instance.expires_at > now)
    rows = await session.execute(
        select(
            Service.name,
            Service.owner,
            func.count(Instance.id),
            func.count(Instance.id).filter(available),
        )
        .outerjoin(Instance, Instance.service_id == Service.id)
        .group_by(Service.id, Service.name, Service.owner)
        .order_by(Service.name)
    )
    namespaces = await _namespaces(session)
    return [
        ServiceSummary(
            name=name,
            owner=owner,
            instances=total,
            healthy=healthy,
            namespaces=namespaces.get(name, []),
        )
        for name, owner, total, healthy in rows.all()
    ]


async def _namespaces(session: AsyncSession) -> dict[str, list[str]]:
    rows = await session.execute(
        select(Service.name, Instance.namespace)
        .join(Instance, Instance.service_id == Service.id)
        .distinct()
        .order_by(Service.name, Instance.namespace)
    )
    found: dict[str, list[str]] = {}
    for name, namespace in rows.all():
        found.setdefault(name, []).append(namespace)
    return found


async def get_instance(session: AsyncSession, instance_id: str) -> InstanceOut:
    found = await find_instance(session, instance_id)
    if found is None:
        raise NotFound(_("实例“{id}”不存在或已下线", id=instance_id))
    return to_out(found[0], found[1].name)


async def health_history(
    session: AsyncSession, instance_id: str, limit: int = 100
) -> list[HealthCheckOut]:
    rows = await session.scalars(
        select(HealthCheck)
        .where(HealthCheck.instance_id == instance_id)
        .order_by(HealthCheck.id.desc())
        .limit(limit)
    )
    return [HealthCheckOut.model_validate(row) for row in rows.all()]


CHANGES_PAGE = 100


async def changes_after(
    session: AsyncSession, index: int, service: str | None = None, limit: int = CHANGES_PAGE
) -> list[ChangeOut]:
    query = select(Change).where(Change.change_index > index)
    if service:
        query = query.where(Change.service == service)
    rows = await session.scalars(query.order_by(Change.change_index).limit(limit))
    return [ChangeOut.model_validate(row) for row in rows.all()]


async def expired_instances(session: AsyncSession, now: datetime, limit: int) -> Sequence[str]:
    """Instances whose lease lapsed, locked (PostgreSQL re-checks the lapse on a row a
    concurrent re-registration renewed, and skips rows being renewed right now)."""
    rows = await session.scalars(
        select(Instance.id)
        .where(Instance.expires_at <= now)
        .order_by(Instance.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return rows.all()


async def probe_targets(session: AsyncSession) -> list[tuple[str, str]]:
    """(instance id, health URL) of the live instances that declared a health URL."""
    rows = await session.execute(
        select(Instance.id, Instance.health_url).where(
            Instance.health_url.is_not(None), Instance.expires_at > clock.now()
        )
    )
    return [(i, url) for i, url in rows.all() if url]


async def list_credentials(session: AsyncSession) -> list[CredentialOut]:
    rows = await session.scalars(select(Credential).order_by(Credential.owner))
    return [CredentialOut.model_validate(row) for row in rows.all()]
