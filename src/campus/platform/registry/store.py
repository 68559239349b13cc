"""Where the registry's instances, their leases and its change index live: the database and the
cache (``SqlStore``, the default) or etcd (``EtcdStore``, when ``CAMPUS_REGISTRY_ETCD_URL`` is
set). Service names, their owners, credentials and health check history are always in the
database; actions, queries, routes and pages reach instances only through ``InstanceStore``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.deps import RuntimeDep
from campus.kernel.runtime import Runtime
from campus.platform.registry.etcd_store import EtcdStore
from campus.platform.registry.schemas import ChangeOut, InstanceIn, InstanceOut, Removal, Reset
from campus.platform.registry.sql_store import SqlStore

# What a stream of changes yields: a change, a reset, or None after KEEPALIVE_SECONDS of quiet.
Followed = ChangeOut | Reset | None


class InstanceStore(Protocol):
    async def find(self, session: AsyncSession, instance_id: str) -> InstanceOut | None:
        """An instance by id, lease lapsed or not (while the store still holds it)."""

    async def instances(
        self, session: AsyncSession, service: str | None, *, only_available: bool
    ) -> list[InstanceOut]:
        """A service's instances (every service's for None), by namespace then id;
        ``only_available``: the healthy ones whose lease has not lapsed."""

    async def put(
        self, session: AsyncSession, instance_id: str, body: InstanceIn, now: datetime
    ) -> tuple[InstanceOut, int]:
        """Register or re-register with a fresh lease, healthy; the change index it made."""

    async def renew(
        self, session: AsyncSession, instance_id: str, now: datetime
    ) -> datetime | None:
        """Renew the lease; its new expiry, or None when unknown or already lapsed."""

    async def remove(self, session: AsyncSession, instance: InstanceOut) -> int:
        """Deregister; the change index it made."""

    async def set_health(
        self,
        session: AsyncSession,
        instance: InstanceOut,
        healthy: bool,
        failures: int,
        now: datetime,
    ) -> int | None:
        """Record a probe's outcome; the change index when ``healthy`` flipped, else None."""

    async def evictions(self, session: AsyncSession, now: datetime) -> list[Removal]:
        """Instances whose lease lapsed since the last call, removed (at most EVICT_BATCH)."""

    async def purge(self, session: AsyncSession) -> None:
        """Forget changes older than the store keeps."""

    async def change_index(self, session: AsyncSession) -> int: ...

    async def wait_past(self, index: int, seconds: float) -> int:
        """The change index once instances changed after ``index``, or after ``seconds``."""

    def follow(self, after: int, service: str | None) -> AsyncIterator[Followed]:
        """The changes after ``after``, then each change as it comes, for as long as read."""


# One store per runtime and backend, the runtime held so its id is not reused meanwhile.
_stores: dict[tuple[int, str, str], tuple[Runtime, InstanceStore]] = {}


def of(rt: Runtime) -> InstanceStore:
    """The store this runtime's settings choose."""
    url = rt.settings.registry_etcd_url or ""
    prefix = rt.settings.registry_etcd_prefix
    key = (id(rt), url, prefix if url else "")
    found = _stores.get(key)
    if found is None:
        if url:
            chosen: InstanceStore = EtcdStore(url, prefix)
        else:
            chosen = SqlStore(rt.db, rt.cache)
        found = _stores[key] = (rt, chosen)
    return found[1]


def _of_request(rt: RuntimeDep) -> InstanceStore:
    return of(rt)


StoreDep = Annotated[InstanceStore, Depends(_of_request)]
