"""A split deployment on loopback ports: two Campus processes serving different modules (A:
monitoring, B: the app center), each registered in the service registry with a 5 s lease, and a
gateway process in front, all on a database of their own. Requests reach each module's process
through the gateway; when A is killed, idempotent requests keep succeeding (retried on B), A is
evicted within two leases, and the gateway stops routing to it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from campus.entrypoints.http import build_runtime
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.platform.gateway import actions
from campus.platform.gateway.schemas import RouteIn, ServiceIn
from campus.platform.registry import service as registry
from tests.own_database import migrated_database
from tests.serving import free_port, server_environment

LEASE = 5
COMMON = "access,users,auth,registry"


@dataclass
class Process:
    name: str
    url: str
    popen: subprocess.Popen[bytes]
    log: Path


@contextmanager
def _serving(name: str, database_url: str, tmp: Path, env: dict[str, str]) -> Iterator[Process]:
    """A Campus server on a free loopback port (registered at that address when ``address``
    is in ``env`` as True)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp / f"{name}.log"
    environment = server_environment(
        database_url,
        tmp,
        "two-processes-" + "x" * 40,
        CAMPUS_REGISTRY_TTL_SECONDS=str(LEASE),
        **env,
    )
    if environment.pop("REGISTER_ADDRESS", ""):
        environment["CAMPUS_INSTANCE_ADDRESS"] = url
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "campus.entrypoints.http:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        popen = subprocess.Popen(command, env=environment, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield Process(name, url, popen, log)
    finally:
        if popen.poll() is None:
            popen.send_signal(signal.SIGTERM)
            try:
                popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                popen.kill()


@dataclass
class Deployment:
    gateway: Process
    a: Process
    b: Process
    runtime: Runtime

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.log.read_text()[-3000:]}" for p in (self.gateway, self.a, self.b)
        )

    async def until(self, what: str, check: Callable[[], Awaitable[bool]], within: float) -> float:
        """Seconds until ``check`` holds, polled every 0.2 s."""
        began = time.monotonic()
        while time.monotonic() - began < within:
            if await check():
                return time.monotonic() - began
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")

    async def registered(self) -> set[str]:
        """The addresses of the healthy, unexpired Campus instances in the registry."""
        found = await registry.discover(self.runtime, registry.SERVICE)
        return {str(i.address) for i in found if i.address}


@pytest.fixture
async def deployment(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Deployment]:
    tmp = tmp_path_factory.mktemp("two-processes")
    url = await migrated_database("gateway_split", tmp)
    own = build_runtime(settings.model_copy(update={"database_url": url}))
    split = {"CAMPUS_RELAY_IN_PROCESS": "false", "REGISTER_ADDRESS": "yes"}
    try:
        with (
            _serving("gateway", url, tmp, {"CAMPUS_MODULES": "*"}) as gateway,
            _serving("a", url, tmp, split | {"CAMPUS_MODULES": f"{COMMON},monitor"}) as a,
            _serving("b", url, tmp, split | {"CAMPUS_MODULES": f"{COMMON},appcenter"}) as b,
        ):
            yield Deployment(gateway, a, b, own)
    finally:
        await own.close()
        runtime_module.set_current(runtime)


async def _configure(rt: Runtime) -> None:
    """Three gateway services over the registry's Campus instances: the monitoring module's,
    the app center's, and every instance's; one public route each."""
    async with rt.db.transaction() as session:
        for name, module in (("mon", "monitor"), ("apps", "appcenter"), ("all", None)):
            body = ServiceIn(name=name, registry_service=registry.SERVICE, registry_module=module)
            await actions.do_create_service(session, rt.cache, body)
            route = RouteIn(name=f"{name}-all", service=name, public=True)
            await actions.do_create_route(session, rt.cache, route)


async def test_requests_reach_both_and_a_dead_instance_is_evicted(
    deployment: Deployment,
) -> None:
    d = deployment
    both = {d.a.url, d.b.url}

    async def all_registered() -> bool:
        return both <= await d.registered()

    await d.until("A and B registered", all_registered, 60)
    await _configure(d.runtime)
    async with httpx.AsyncClient(base_url=d.gateway.url, timeout=10) as http:

        async def all_up() -> bool:
            # A process registers itself while it starts, before its server accepts
            # connections (uvicorn runs the lifespan first): wait until A and B answer too.
            try:
                for base in ("", d.a.url, d.b.url):
                    if (await http.get(base + "/healthz")).status_code != 200:
                        return False
            except httpx.TransportError:
                return False
            return True

        await d.until("the gateway, A and B answering", all_up, 60)
        # Each module's route exists only on its own process: 401 (sign in first) there, 404
        # on the other; through the gateway each reaches the one that serves it.
        monitor, apps = "/api/v1/monitor/dead-letters", "/api/v1/appcenter/my-apps"
        assert (await http.get(f"/gw/mon{monitor}")).status_code == 401
        assert (await http.get(f"/gw/apps{apps}")).status_code == 401
        assert (await http.get(d.b.url + monitor)).status_code == 404
        assert (await http.get(d.a.url + apps)).status_code == 404

        d.a.popen.send_signal(signal.SIGKILL)
        d.a.popen.wait(timeout=10)
        killed = time.monotonic()
        statuses: list[int] = []

        async def evicted() -> bool:
            statuses.append((await http.get("/gw/all/healthz")).status_code)
            return d.a.url not in await d.registered()

        await d.until("A evicted", evicted, 4 * LEASE + 10)
        gone_after = time.monotonic() - killed
        assert gone_after <= 2 * LEASE + 6, gone_after  # two leases and the job's period
        assert statuses and set(statuses) == {200}, statuses  # retried on B, never failed
        for _ in range(10):
            assert (await http.get("/gw/all/healthz")).status_code == 200
        gone = await http.get(f"/gw/mon{monitor}")
        assert gone.status_code == 503  # no instance serves monitoring any more
        assert gone.headers["content-type"].startswith("application/problem+json")


async def test_two_gateway_processes_sharing_redis_keep_a_limit_exact(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Two gateway processes on one Redis: a burst split between them never passes a route's
    limit (each would allow it all on a cache of its own)."""
    if not settings.redis_url.startswith("redis"):
        pytest.skip("needs CAMPUS_REDIS_URL=redis://… (two processes share the count there)")
    tmp = tmp_path_factory.mktemp("two-gateways")
    url = await migrated_database("gateway_pair", tmp)
    own = build_runtime(settings.model_copy(update={"database_url": url}))
    shared = {"CAMPUS_REDIS_URL": settings.redis_url, "CAMPUS_RELAY_IN_PROCESS": "false"}
    try:
        with (
            _serving("first", url, tmp, shared) as first,
            _serving("second", url, tmp, shared) as second,
        ):
            deployment = Deployment(first, second, second, own)
            async with httpx.AsyncClient(timeout=10) as http:

                async def both_up() -> bool:
                    try:
                        answers = [await http.get(p.url + "/healthz") for p in (first, second)]
                    except httpx.TransportError:
                        return False
                    return all(a.status_code == 200 for a in answers)

                await deployment.until("both gateways", both_up, 60)
                name = f"limited-{int(time.time())}"
                async with own.db.transaction() as session:
                    body = ServiceIn(name=name, url=first.url)
                    await actions.do_create_service(session, own.cache, body)
                    route = RouteIn(name=name, service=name, public=True, rate_limit_per_minute=40)
                    await actions.do_create_route(session, own.cache, route)
                into_minute = time.time() % 60
                if into_minute > 40:  # one fixed window for the whole burst: wait for the next
                    await asyncio.sleep(60.5 - into_minute)
                responses = await asyncio.gather(
                    *(
                        http.get(f"{gateway.url}/gw/{name}/healthz")
                        for _ in range(60)
                        for gateway in (first, second)
                    )
                )
    finally:
        await own.close()
        runtime_module.set_current(runtime)
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 40, sorted(statuses)
    assert statuses.count(429) == 80
