"""Reads of the service center: services and credentials from the database, instances from the
store (store.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.registry.models import Credential, HealthCheck, Service
from campus.platform.registry.schemas import (
    CredentialOut,
    HealthCheckOut,
    InstanceOut,
    ServiceSummary,
)
from campus.platform.registry.store import InstanceStore


async def find_service(session: AsyncSession, name: str) -> Service | None:
    return await session.scalar(select(Service).where(Service.name == name))


async def credential_by_hash(session: AsyncSession, token_hash: str) -> Credential | None:
    return await session.scalar(
        select(Credential).where(
            Credential.token_hash == token_hash, Credential.revoked_at.is_(None)
        )
    )


async def instances_of(
    session: AsyncSession,
    store: InstanceStore,
    name: str,
    *,
    only_available: bool,
    namespace: str | None = None,
    module: str | None = None,
) -> list[InstanceOut]:
    """A service's instances; ``only_available``: the healthy ones whose lease has not lapsed
    (what discovery answers)."""
    found = await store.instances(session, name, only_available=only_available)
    return [
        i
        for i in found
        if (not namespace or i.namespace == namespace) and (module is None or module in i.modules)
    ]


async def get_service_instances(
    session: AsyncSession, store: InstanceStore, name: str
) -> list[InstanceOut]:
    if await find_service(session, name) is None:
        raise NotFound(_("服务“{name}”不存在", name=name))
    return await store.instances(session, name, only_available=False)


async def list_services(session: AsyncSession, store: InstanceStore) -> list[ServiceSummary]:
    services = (await session.execute(select(Service.name, Service.owner))).all()
    instances = await store.instances(session, None, only_available=False)
    summaries = []
    for name, owner in sorted(services):
        mine = [i for i in instances if i.service == name]
        summaries.append(
            ServiceSummary(
                name=name,
                owner=owner,
                instances=len(mine),
                healthy=sum(1 for i in mine if i.healthy and i.alive),
                namespaces=sorted({i.namespace for i in mine}),
            )
        )
    return summaries


async def get_instance(
    session: AsyncSession, store: InstanceStore, instance_id: str
) -> InstanceOut:
    found = await store.find(session, instance_id)
    if found is None:
        raise NotFound(_("实例“{id}”不存在或已下线", id=instance_id))
    return found


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


async def failures_in_a_row(session: AsyncSession, instance_id: str, enough: int) -> int:
    """Failed probes since the last success, counting up to ``enough``."""
    latest = await session.scalars(
        select(HealthCheck.ok)
        .where(HealthCheck.instance_id == instance_id)
        .order_by(HealthCheck.id.desc())
        .limit(enough)
    )
    failures = 0
    for ok in latest.all():
        if ok:
            break
        failures += 1
    return failures


async def probe_targets(store: InstanceStore, session: AsyncSession) -> list[tuple[str, str]]:
    """(instance id, health URL) of the live instances that declared a health URL."""
    found = await store.instances(session, None, only_available=False)
    return [(i.id, i.health_url) for i in found if i.alive and i.health_url]


async def list_credentials(session: AsyncSession) -> list[CredentialOut]:
    rows = await session.scalars(select(Credential).order_by(Credential.owner))
    return [CredentialOut.model_validate(row) for row in rows.all()]
