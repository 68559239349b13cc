"""The registry's instances in etcd (``CAMPUS_REGISTRY_ETCD_URL``), for the scale-out case.

Keys under the prefix (``/campus/registry/`` by default):

- ``instances/<service>/<id>``: the instance (JSON), attached to an etcd lease of its TTL, so
  that etcd itself deletes an instance whose heartbeats stopped; a heartbeat is a keep-alive
  of that lease and writes nothing;
- ``ids/<id>``: the service of an instance id (on the same lease), so that an id belongs to
  one service, checked in the registering transaction;
- ``removed/<id>``: written in the deregistering transaction, on a short lease of its own,
  so that a watcher tells a deregistration (this key put in the same revision as the
  deletion) from an eviction (a deletion alone);
- ``evictions``: the revision up to which deletions were recorded as evictions.

The change index is etcd's revision. Only what discovery answers is written: a registration,
a deregistration, a health flip; probe results and their history stay in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import aetcd
import structlog
from aetcd.exceptions import ClientError, RevisionCompactedError
from aetcd.rpc import AioRpcError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.db import after_rollback
from campus.kernel.errors import Conflict, NotFound, Problem
from campus.kernel.i18n import _
from campus.platform.registry.schemas import (
    KEEPALIVE_SECONDS,
    ChangeKind,
    ChangeOut,
    InstanceIn,
    InstanceOut,
    Removal,
    Reset,
)

log = structlog.get_logger(__name__)

RPC_TIMEOUT_SECONDS = 5
MARKER_TTL_SECONDS = 60  # a deregistration marker outlives the eviction job's window


class RegistryUnavailable(Problem):
    status = 503
    slug = "registry-unavailable"
    title = _("服务注册中心暂不可用")


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """etcd not answering is a 503 problem, never a 500."""
    try:
        yield
    except (ClientError, AioRpcError, TimeoutError) as exc:
        if isinstance(exc, RevisionCompactedError):
            raise
        log.warning("registry_etcd_unavailable", error=str(exc))
        raise RegistryUnavailable(_("服务注册中心的 etcd 无法访问，请稍后重试")) from exc


# One client per etcd URL and event loop (a gRPC channel belongs to the loop that opened it).
_clients: dict[tuple[str, int], aetcd.Client] = {}


def _client(url: str) -> aetcd.Client:
    key = (url, id(asyncio.get_running_loop()))
    client = _clients.get(key)
    if client is None:
        parts = urlsplit(url)
        client = aetcd.Client(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 2379,
            timeout=RPC_TIMEOUT_SECONDS,
        )
        _clients[key] = client
    return client


async def close_clients() -> None:
    """Close this event loop's etcd clients (a process ending: the registry's on_shutdown)."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[1] == loop]:
        await _clients.pop(key).close()


def _revision_of(response: Any) -> int:
    """The revision a transaction's first write made."""
    return int(
        response.response_put.header.revision or response.response_delete_range.header.revision
    )


class EtcdStore:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self.instances_prefix = f"{prefix}instances/".encode()

    @property
    def etcd(self) -> aetcd.Client:
        return _client(self.url)

    def _instance_key(self, service: str, instance_id: str) -> bytes:
        return f"{self.prefix}instances/{service}/{instance_id}".encode()

    def _id_key(self, instance_id: str) -> bytes:
        return f"{self.prefix}ids/{instance_id}".encode()

    def _marker_key(self, instance_id: str) -> bytes:
        return f"{self.prefix}removed/{instance_id}".encode()

    @property
    def _cursor_key(self) -> bytes:
        return f"{self.prefix}evictions".encode()

    # ------------------------------------------------------------ reads

    async def _revision(self) -> int:
        with _reachable():
            found = await self.etcd.get_prefix(self._cursor_key, keys_only=True)
        return int(found.header.revision)

    async def change_index(self, session: AsyncSession) -> int:
        return await self._revision()

    async def _out(self, record: dict[str, Any], lease: int, now: datetime) -> InstanceOut:
        """The instance, its expiry read from its lease (second precision)."""
        with _reachable():
            info = await self.etcd.get_lease_info(lease, keys=False)
        remaining, granted = int(info.TTL), int(info.grantedTTL or record["ttl_seconds"])
        expires_at = now + timedelta(seconds=max(remaining, 0))
        return InstanceOut(
            id=record["id"],
            service=record["service"],
            version=record["version"],
            address=record["address"],
            namespace=record["namespace"],
            weight=record["weight"],
            modules=record["modules"],
            metadata=record["metadata"],
            health_url=record["health_url"],
            ttl_seconds=record["ttl_seconds"],
            registered_at=datetime.fromisoformat(record["registered_at"]),
            last_heartbeat_at=expires_at - timedelta(seconds=granted),
            expires_at=expires_at,
            healthy=record["healthy"],
            alive=remaining >= 0,  # etcd answers -1 for a lease gone; 0 for under a second left
        )

    async def _record(self, instance_id: str) -> tuple[dict[str, Any], Any] | None:
        """The instance's record and its key-value (lease, mod revision)."""
        with _reachable():
            owner = await self.etcd.get(self._id_key(instance_id))
            if owner is None:
                return None
            found = await self.etcd.get(self._instance_key(owner.value.decode(), instance_id))
        if found is None:
            return None
        return json.loads(found.value), found

    async def find(self, session: AsyncSession, instance_id: str) -> InstanceOut | None:
        found = await self._record(instance_id)
        if found is None:
            return None
        return await self._out(found[0], found[1].lease, clock.now())

    async def instances(
        self, session: AsyncSession, service: str | None, *, only_available: bool
    ) -> list[InstanceOut]:
        prefix = self.instances_prefix + (f"{service}/".encode() if service is not None else b"")
        with _reachable():
            found = await self.etcd.get_prefix(prefix)
        now = clock.now()
        records = [(json.loads(kv.value), kv.lease) for kv in found]
        if only_available:
            records = [(record, lease) for record, lease in records if record["healthy"]]
        out = await asyncio.gather(*(self._out(record, lease, now) for record, lease in records))
        chosen = [i for i in out if i.alive or not only_available]
        return sorted(chosen, key=lambda i: (i.service, i.namespace, i.id))

    # ------------------------------------------------------------ writes

    async def put(
        self, session: AsyncSession, instance_id: str, body: InstanceIn, now: datetime
    ) -> tuple[InstanceOut, int]:
        etcd, id_key = self.etcd, self._id_key(instance_id)
        key = self._instance_key(body.service, instance_id)
        with _reachable():
            owner = await etcd.get(id_key)
            previous = await etcd.get(key) if owner is not None else None
            if owner is not None and owner.value.decode() != body.service:
                raise Conflict.on("instance_id", _("实例 id 已被其他服务使用"))
            registered_at = json.loads(previous.value)["registered_at"] if previous else None
            record = {
                **body.model_dump(exclude={"instance_id"}),
                "id": instance_id,
                "registered_at": registered_at or now.isoformat(),
                "healthy": True,
                "change": "registered",
                "changed_at": now.isoformat(),
            }
            lease = await etcd.lease(body.ttl_seconds)
            unchanged = (
                etcd.transactions.version(id_key) == 0
                if owner is None
                else etcd.transactions.mod(id_key) == owner.mod_revision
            )
            ok, responses = await etcd.transaction(
                compare=[unchanged],
                success=[
                    etcd.transactions.put(key, json.dumps(record).encode(), lease=lease.id),
                    etcd.transactions.put(id_key, body.service.encode(), lease=lease.id),
                ],
                failure=[],
            )
            if not ok:
                await etcd.revoke_lease(lease.id)
                raise Conflict.on("instance_id", _("该实例正在被同时注册或注销，请重试"))
            if owner is not None and owner.lease != lease.id:
                await self._revoke(owner.lease)  # its keys moved to the new lease

        async def undo() -> None:  # the registration's transaction rolled back
            await self._revoke(lease.id)

        after_rollback(session, undo)
        out = await self._out(record, lease.id, now)
        return out, _revision_of(responses[0])

    async def _revoke(self, lease: int) -> None:
        """Revoke a lease, if etcd still has it."""
        with contextlib.suppress(ClientError, AioRpcError):
            await self.etcd.revoke_lease(lease)

    async def renew(
        self, session: AsyncSession, instance_id: str, now: datetime
    ) -> datetime | None:
        with _reachable():
            owner = await self.etcd.get(self._id_key(instance_id))
            if owner is None:
                return None
            reply = await self.etcd.refresh_lease(owner.lease)
        if reply is None or int(reply.TTL) <= 0:
            return None
        return now + timedelta(seconds=int(reply.TTL))

    async def remove(self, session: AsyncSession, instance: InstanceOut) -> int:
        etcd, id_key = self.etcd, self._id_key(instance.id)
        marker = {"service": instance.service, "at": clock.now().isoformat()}
        with _reachable():
            owner = await etcd.get(id_key)
            if owner is None:
                raise NotFound(_("实例“{id}”不存在或已下线，请重新注册", id=instance.id))
            found = await etcd.get(self._instance_key(instance.service, instance.id))
            marker_lease = await etcd.lease(MARKER_TTL_SECONDS)
            ok, responses = await etcd.transaction(
                compare=[etcd.transactions.mod(id_key) == owner.mod_revision],
                success=[
                    # First, so that a watcher reads it before the deletion of the same revision.
                    etcd.transactions.put(
                        self._marker_key(instance.id),
                        json.dumps(marker).encode(),
                        lease=marker_lease.id,
                    ),
                    etcd.transactions.delete(self._instance_key(instance.service, instance.id)),
                    etcd.transactions.delete(id_key),
                ],
                failure=[],
            )
            if not ok:
                await self._revoke(marker_lease.id)
                raise Conflict(_("该实例正在被同时注册或注销，请重试"))
            await self._revoke(owner.lease)
        if found is not None:
            after_rollback(session, self._restoring(instance, found.value))
        return _revision_of(responses[0])

    def _restoring(self, instance: InstanceOut, value: bytes) -> Callable[[], Awaitable[None]]:
        """Puts a removed instance back, on a fresh lease of its TTL, when the removal's
        transaction (its audit entry and event) rolls back: etcd is not in that transaction.
        Not if it registered again meanwhile."""

        async def restore() -> None:
            etcd, id_key = self.etcd, self._id_key(instance.id)
            lease = await etcd.lease(instance.ttl_seconds)
            ok, _responses = await etcd.transaction(
                compare=[etcd.transactions.version(id_key) == 0],
                success=[
                    etcd.transactions.put(
                        self._instance_key(instance.service, instance.id), value, lease=lease.id
                    ),
                    etcd.transactions.put(id_key, instance.service.encode(), lease=lease.id),
                    etcd.transactions.delete(self._marker_key(instance.id)),
                ],
                failure=[],
            )
            if not ok:
                await self._revoke(lease.id)

        return restore

    async def set_health(
        self,
        session: AsyncSession,
        instance: InstanceOut,
        healthy: bool,
        failures: int,
        now: datetime,
    ) -> int | None:
        found = await self._record(instance.id)
        if found is None or found[0]["healthy"] == healthy:
            return None
        record, kv = found
        kind: ChangeKind = "healthy" if healthy else "unhealthy"
        record.update(healthy=healthy, change=kind, changed_at=now.isoformat())
        etcd = self.etcd
        with _reachable():
            ok, responses = await etcd.transaction(
                compare=[etcd.transactions.mod(kv.key) == kv.mod_revision],
                success=[
                    etcd.transactions.put(kv.key, json.dumps(record).encode(), lease=kv.lease)
                ],
                failure=[],
            )
        return _revision_of(responses[0]) if ok else None

    async def purge(self, session: AsyncSession) -> None:
        """etcd keeps its own history; compacting it is etcd's configuration."""

    # ------------------------------------------------------------ evictions

    async def evictions(self, session: AsyncSession, now: datetime) -> list[Removal]:
        """The instances etcd deleted when their lease lapsed, since the last call.

        The cursor key holds the revision up to which deletions were read. It is first put
        again unchanged: that put's revision ends the range read, and the watch from the
        cursor stops at it. Then the cursor moves there, on condition that no other process
        moved it meanwhile (that one reports the same evictions)."""
        etcd, cursor = self.etcd, self._cursor_key
        with _reachable():
            found = await etcd.get(cursor)
            if found is None:
                await etcd.put(cursor, str(await self._revision()).encode())
                return []
            if found.mod_revision == found.header.revision:
                return []  # nothing written since the cursor last moved
            start = int(found.value)
            end = int((await etcd.put(cursor, found.value)).header.revision)
            try:
                removals = await self._deletions(start, end)
            except RevisionCompactedError as exc:
                log.warning(
                    "registry_evictions_compacted", since=start, compacted=exc.compacted_revision
                )
                removals = []
            ok, _responses = await etcd.transaction(
                compare=[etcd.transactions.mod(cursor) == end],
                success=[etcd.transactions.put(cursor, str(end).encode())],
                failure=[],
            )
        return removals if ok else []

    async def _deletions(self, start: int, end: int) -> list[Removal]:
        removals: list[Removal] = []
        async for change in self._changes(start, end):
            if change is not None and change.kind == "evicted":
                removals.append(
                    Removal(
                        service=change.service, instance_id=change.instance_id, index=change.index
                    )
                )
        return removals

    # ------------------------------------------------------------ watching

    async def wait_past(self, index: int, seconds: float) -> int:
        etcd = self.etcd
        try:
            with _reachable():
                watch = await etcd.watch_prefix(self.instances_prefix, start_revision=index + 1)
        except RevisionCompactedError:
            return await self._revision()  # whatever changed, the watcher reads afresh
        try:
            async with asyncio.timeout(seconds):
                async for event in watch:
                    return int(event.kv.mod_revision)
        except (TimeoutError, RevisionCompactedError):
            pass
        finally:
            with contextlib.suppress(ClientError, AioRpcError):
                await watch.cancel()
        return await self._revision()

    async def _changes(self, after: int, until: int | None) -> AsyncIterator[ChangeOut | None]:
        """Changes of instances after revision ``after`` (up to the put of the cursor at
        ``until``, or for ever); None after KEEPALIVE_SECONDS without any."""
        etcd = self.etcd
        with _reachable():
            watch = await etcd.watch_prefix(self.prefix.encode(), start_revision=after + 1)
        events = aiter(watch)
        markers: dict[str, dict[str, str]] = {}
        marked_at = 0
        following: asyncio.Future[Any] | None = None
        try:
            while True:
                following = following or asyncio.ensure_future(anext(events))
                done, _pending = await asyncio.wait({following}, timeout=KEEPALIVE_SECONDS)
                if not done:
                    yield None
                    continue
                with _reachable():
                    event = following.result()
                following = None
                key, revision = event.kv.key.decode(), int(event.kv.mod_revision)
                if revision != marked_at:
                    markers, marked_at = {}, revision
                if until is not None and event.kv.key == self._cursor_key and revision >= until:
                    return
                name = key.removeprefix(self.prefix)
                if name.startswith("removed/") and event.kind == "PUT":
                    markers[name.removeprefix("removed/")] = json.loads(event.kv.value)
                elif name.startswith("instances/"):
                    yield self._change(name, event, revision, markers)
        finally:
            if following is not None:
                following.cancel()
            with contextlib.suppress(ClientError, AioRpcError):
                await watch.cancel()

    def _change(
        self, name: str, event: Any, revision: int, markers: dict[str, dict[str, str]]
    ) -> ChangeOut:
        service, _slash, instance_id = name.removeprefix("instances/").partition("/")
        if event.kind == "PUT":
            record = json.loads(event.kv.value)
            kind, at = record["change"], record["changed_at"]
        elif instance_id in markers:
            kind, at = "deregistered", markers[instance_id]["at"]
        else:
            kind, at = "evicted", clock.now().isoformat()
        return ChangeOut.model_validate(
            {
                "change_index": revision,
                "at": at,
                "service": service,
                "instance_id": instance_id,
                "kind": kind,
            }
        )

    async def follow(
        self, after: int, service: str | None
    ) -> AsyncIterator[ChangeOut | Reset | None]:
        while True:
            try:
                async for change in self._changes(after, None):
                    if change is None or service is None or change.service == service:
                        yield change
                    if change is not None:
                        after = change.index
            except RevisionCompactedError as exc:
                after = await self._revision()
                yield Reset(index=after, compacted=exc.compacted_revision)
