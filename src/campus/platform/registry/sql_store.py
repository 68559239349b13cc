"""The registry's instances in the database: instances in ``registry_instance``; the change index
in ``registry_state``, bumped in the transaction of each change, every change kept in
``registry_change``; the cache's pub/sub wakes watchers once a change is committed (watch.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.cache import Cache
from campus.kernel.db import Database, after_commit, insert_ignore
from campus.platform.registry import watch
from campus.platform.registry.models import Change, Instance, Service, State
from campus.platform.registry.schemas import (
    KEEPALIVE_SECONDS,
    ChangeKind,
    ChangeOut,
    InstanceIn,
    InstanceOut,
    Removal,
    Reset,
)

CHANGES_KEPT = 10_000  # changes kept for SSE streams to replay from an index
CHANGES_PAGE = 100
EVICT_BATCH = 200


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


class SqlStore:
    """The default store: the database and the cache."""

    def __init__(self, db: Database, cache: Cache) -> None:
        self.db = db
        self.cache = cache

    # ------------------------------------------------------------ the change index

    async def change_index(self, session: AsyncSession) -> int:
        index = await session.scalar(select(State.change_index).where(State.id == 1))
        return int(index or 0)

    async def _current(self) -> int:
        async with self.db.read() as session:
            return await self.change_index(session)

    async def _next_index(self, session: AsyncSession) -> int:
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

    async def _record_change(
        self, session: AsyncSession, service: str, instance_id: str, kind: ChangeKind
    ) -> int:
        """Bump the change index for this change; watchers are woken once it is committed."""
        index = await self._next_index(session)
        session.add(
            Change(
                change_index=index,
                at=clock.now(),
                service=service,
                instance_id=instance_id,
                kind=kind,
            )
        )
        cache = self.cache

        async def wake() -> None:
            await watch.announce(cache, index)

        after_commit(session, wake)
        return index

    # ------------------------------------------------------------ reads

    async def _find(self, session: AsyncSession, instance_id: str) -> tuple[Instance, str] | None:
        row = (
            await session.execute(
                select(Instance, Service.name)
                .join(Service, Service.id == Instance.service_id)
                .where(Instance.id == instance_id)
            )
        ).first()
        return None if row is None else (row[0], row[1])

    async def find(self, session: AsyncSession, instance_id: str) -> InstanceOut | None:
        found = await self._find(session, instance_id)
        return None if found is None else to_out(*found)

    async def instances(
        self, session: AsyncSession, service: str | None, *, only_available: bool
    ) -> list[InstanceOut]:
        now = clock.now()
        query = (
            select(Instance, Service.name)
            .join(Service, Service.id == Instance.service_id)
            .order_by(Service.name, Instance.namespace, Instance.id)
        )
        if service is not None:
            query = query.where(Service.name == service)
        if only_available:
            query = query.where(Instance.healthy.is_(True), Instance.expires_at > now)
        return [to_out(i, name, now) for i, name in (await session.execute(query)).all()]

    # ------------------------------------------------------------ writes

    async def put(
        self, session: AsyncSession, instance_id: str, body: InstanceIn, now: datetime
    ) -> tuple[InstanceOut, int]:
        service_id = await session.scalar(select(Service.id).where(Service.name == body.service))
        assert service_id is not None, "the action created the service first"
        instance = await session.get(Instance, instance_id)
        if instance is None:
            instance = Instance(id=instance_id, registered_at=now)
            session.add(instance)
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
        index = await self._record_change(session, body.service, instance_id, "registered")
        await session.flush()
        return to_out(instance, body.service, now), index

    async def renew(
        self, session: AsyncSession, instance_id: str, now: datetime
    ) -> datetime | None:
        instance = await session.get(Instance, instance_id)
        if instance is None or instance.expires_at <= now:
            return None
        instance.last_heartbeat_at = now
        instance.expires_at = now + timedelta(seconds=instance.ttl_seconds)
        return instance.expires_at

    async def _delete(
        self, session: AsyncSession, instance_id: str, service: str, kind: ChangeKind
    ) -> int:
        await session.execute(delete(Instance).where(Instance.id == instance_id))
        return await self._record_change(session, service, instance_id, kind)

    async def remove(self, session: AsyncSession, instance: InstanceOut) -> int:
        return await self._delete(session, instance.id, instance.service, "deregistered")

    async def set_health(
        self,
        session: AsyncSession,
        instance: InstanceOut,
        healthy: bool,
        failures: int,
        now: datetime,
    ) -> int | None:
        row = await session.get(Instance, instance.id)
        if row is None:
            return None
        row.last_checked_at = now
        row.failures = failures
        if row.healthy == healthy:
            return None
        row.healthy = healthy
        kind: ChangeKind = "healthy" if healthy else "unhealthy"
        return await self._record_change(session, instance.service, instance.id, kind)

    async def evictions(self, session: AsyncSession, now: datetime) -> list[Removal]:
        # Locked: PostgreSQL re-checks the lapse on a row a concurrent re-registration renewed,
        # and skips rows being renewed right now.
        rows = await session.execute(
            select(Instance.id, Service.name)
            .join(Service, Service.id == Instance.service_id)
            .where(Instance.expires_at <= now)
            .order_by(Instance.id)
            .limit(EVICT_BATCH)
            .with_for_update(skip_locked=True, of=Instance)
        )
        return [
            Removal(
                service=name,
                instance_id=instance_id,
                index=await self._delete(session, instance_id, name, "evicted"),
            )
            for instance_id, name in rows.all()
        ]

    async def purge(self, session: AsyncSession) -> None:
        newest = await self.change_index(session)
        await session.execute(delete(Change).where(Change.change_index <= newest - CHANGES_KEPT))

    # ------------------------------------------------------------ watching

    async def wait_past(self, index: int, seconds: float) -> int:
        return await watch.waker(self.cache).wait_past(index, seconds, self._current)

    async def _changes_after(self, index: int, service: str | None) -> tuple[int, list[ChangeOut]]:
        async with self.db.read() as session:
            now = await self.change_index(session)
            query = select(Change).where(Change.change_index > index)
            if service:
                query = query.where(Change.service == service)
            rows = await session.scalars(query.order_by(Change.change_index).limit(CHANGES_PAGE))
            return now, [ChangeOut.model_validate(row) for row in rows.all()]

    async def follow(
        self, after: int, service: str | None
    ) -> AsyncIterator[ChangeOut | Reset | None]:
        while True:
            now, changes = await self._changes_after(after, service)
            for change in changes:
                yield change
            if len(changes) == CHANGES_PAGE:
                after = changes[-1].index
                continue
            after = max([after, now, *(change.index for change in changes)])
            if await self.wait_past(after, KEEPALIVE_SECONDS) <= after:
                yield None
