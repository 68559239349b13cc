"""Every Campus process registers the modules it serves, as service ``campus``.

In process when this process serves the registry module, over HTTP to ``CAMPUS_REGISTRY_URL``
(with ``CAMPUS_REGISTRY_TOKEN``, and ``CAMPUS_INSTANCE_ADDRESS`` as the address others reach it
by) when it does not; renewed by a background task every third of
the lease, registered again if the lease was lost, deregistered at shutdown.

A server runs its start-up (where registration begins) before it listens, so a process with an
address registers only once that address accepts connections: until then a gateway would route
to it and fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol
from urllib.parse import urlsplit

import httpx
import structlog

import campus
from campus.kernel.errors import NotFound
from campus.kernel.runtime import Runtime
from campus.platform.registry import actions, store
from campus.platform.registry.schemas import InstanceIn

log = structlog.get_logger(__name__)

SERVICE = "campus"
OPENAPI_PATH = "/api/openapi.json"  # where a Campus process serves its OpenAPI document
MODULE_NAME = "registry"
HTTP_TIMEOUT_SECONDS = 5.0
# How long registration waits for this process's own address to accept connections; past it,
# the process registers anyway (an address it cannot reach itself by, say) and says so.
LISTENING_WAIT_SECONDS = 30.0
_LISTENING_POLL_SECONDS = 0.05


class SelfInstanceIn(InstanceIn):
    """A process may not know the address others reach it by."""

    address: str | None = None  # type: ignore[assignment]


def describe(rt: Runtime, instance_id: str) -> SelfInstanceIn:
    address = rt.settings.instance_address
    return SelfInstanceIn(
        service=SERVICE,
        instance_id=instance_id,
        version=campus.__version__,
        address=address,
        namespace=rt.settings.registry_namespace,
        modules=[module.name for module in rt.modules],
        metadata={
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
            "openapi": OPENAPI_PATH,
        },
        ttl_seconds=rt.settings.registry_ttl_seconds,
        health_url=f"{address.rstrip('/')}/healthz" if address else None,
    )


class Registrar(Protocol):
    async def register(self, body: InstanceIn) -> None: ...
    async def renew(self, instance_id: str) -> bool: ...
    async def deregister(self, instance_id: str) -> None: ...


class InProcess:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    async def register(self, body: InstanceIn) -> None:
        async with self.rt.db.transaction() as session:
            await actions.do_register(session, store.of(self.rt), actions.PLATFORM_OWNER, body)

    async def renew(self, instance_id: str) -> bool:
        try:
            async with self.rt.db.transaction() as session:
                await actions.do_heartbeat(
                    session, store.of(self.rt), actions.PLATFORM_OWNER, instance_id
                )
        except NotFound:
            return False
        return True

    async def deregister(self, instance_id: str) -> None:
        with contextlib.suppress(NotFound):
            async with self.rt.db.transaction() as session:
                await actions.do_deregister(
                    session, store.of(self.rt), actions.PLATFORM_OWNER, instance_id
                )


class OverHttp:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def register(self, body: InstanceIn) -> None:
        response = await self.client.post("/api/v1/registry/instances", json=body.model_dump())
        response.raise_for_status()

    async def renew(self, instance_id: str) -> bool:
        response = await self.client.put(f"/api/v1/registry/instances/{instance_id}/heartbeat")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    async def deregister(self, instance_id: str) -> None:
        response = await self.client.delete(f"/api/v1/registry/instances/{instance_id}")
        if response.status_code != 404:
            response.raise_for_status()


async def _until_listening(address: str, wait_seconds: float) -> bool:
    """Whether ``address`` accepts a connection within ``wait_seconds``."""
    parts = urlsplit(address)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_seconds
    while loop.time() < deadline:
        try:
            _reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port), max(deadline - loop.time(), 0.01)
            )
        except (OSError, TimeoutError):
            await asyncio.sleep(_LISTENING_POLL_SECONDS)
            continue
        writer.close()
        return True
    return False


async def _register(registrar: Registrar, body: InstanceIn, instance_id: str) -> None:
    try:
        await registrar.register(body)
    except Exception:  # start anyway; the renewal registers once the registry answers
        log.exception("registry_registration_failed", instance_id=instance_id)


async def _register_when_listening(
    registrar: Registrar, body: InstanceIn, instance_id: str, address: str, wait_seconds: float
) -> None:
    if not await _until_listening(address, wait_seconds):
        log.warning("registry_address_not_listening", address=address, seconds=wait_seconds)
    await _register(registrar, body, instance_id)
    await _keep_alive(registrar, body, instance_id)


async def _keep_alive(registrar: Registrar, body: InstanceIn, instance_id: str) -> None:
    while True:
        await asyncio.sleep(body.ttl_seconds / 3)
        try:
            if not await registrar.renew(instance_id):
                await registrar.register(body)
        except Exception:  # the registry is away: try again at the next beat
            log.exception("registry_renewal_failed", instance_id=instance_id)


@asynccontextmanager
async def _registrar(rt: Runtime) -> AsyncIterator[Registrar | None]:
    if any(module.name == MODULE_NAME for module in rt.modules):
        yield InProcess(rt)
        return
    url, token = rt.settings.registry_url, rt.settings.registry_token
    if not url or not token:
        yield None
        return
    if not rt.settings.instance_address:
        # Over HTTP the instance is there to be reached: without an address it is not registered.
        log.warning("registry_registration_skipped", reason="CAMPUS_INSTANCE_ADDRESS unset")
        yield None
        return
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, headers=headers, timeout=HTTP_TIMEOUT_SECONDS
    ) as client:
        yield OverHttp(client)


@asynccontextmanager
async def self_registered(
    rt: Runtime,
    registrar: Registrar | None = None,
    *,
    listening_wait_seconds: float = LISTENING_WAIT_SECONDS,
) -> AsyncIterator[str | None]:
    """Registered for as long as the block runs; yields the instance id (None: no registry).

    With an address, registration happens in the background once the address accepts
    connections (at most ``listening_wait_seconds`` later; 0: at once, before the block)."""
    async with contextlib.AsyncExitStack() as stack:
        chosen = registrar or await stack.enter_async_context(_registrar(rt))
        if chosen is None:
            yield None
            return
        instance_id = f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"
        body = describe(rt, instance_id)
        if body.address is not None and listening_wait_seconds > 0:
            registration = _register_when_listening(
                chosen, body, instance_id, body.address, listening_wait_seconds
            )
        else:
            await _register(chosen, body, instance_id)
            registration = _keep_alive(chosen, body, instance_id)
        renewal = asyncio.create_task(registration, name="registry-renew")
        try:
            yield instance_id
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            try:
                await chosen.deregister(instance_id)
            except Exception:
                log.exception("registry_deregistration_failed", instance_id=instance_id)
