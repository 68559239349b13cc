"""The service center's public interface.

- ``discover(rt, service, namespace=, module=)``: the healthy, unexpired instances of a service
  (what the gateway routes to).
- ``all_instances(rt)``: every instance of every service, healthy or not, lease lapsed or not
  (what the monitoring center shows).
- ``change_index(rt)`` and ``wait_for_change(rt, index, timeout)``: follow the registry.
- ``self_registered(rt)``: the app factory's context manager that keeps this process registered.
"""

from __future__ import annotations

from campus.kernel.runtime import Runtime
from campus.platform.registry import queries, store
from campus.platform.registry.schemas import InstanceOut
from campus.platform.registry.selfreg import SERVICE, self_registered

__all__ = [
    "SERVICE",
    "all_instances",
    "change_index",
    "discover",
    "self_registered",
    "wait_for_change",
]


async def discover(
    rt: Runtime, service: str, *, namespace: str | None = None, module: str | None = None
) -> list[InstanceOut]:
    async with rt.db.read() as session:
        return await queries.instances_of(
            session, store.of(rt), service, only_available=True, namespace=namespace, module=module
        )


async def all_instances(rt: Runtime) -> list[InstanceOut]:
    async with rt.db.read() as session:
        return await store.of(rt).instances(session, None, only_available=False)


async def change_index(rt: Runtime) -> int:
    async with rt.db.read() as session:
        return await store.of(rt).change_index(session)


async def wait_for_change(rt: Runtime, index: int, seconds: float) -> int:
    """The registry's change index once it passes ``index``, or after ``seconds``."""
    return await store.of(rt).wait_past(index, seconds)
