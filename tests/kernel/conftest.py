"""Fixtures for the kernel's observability, error and cache tests: an app built on the test
runtime's database with a "probe" module mounted, clients with a chosen address and language,
a closed port for parts that must be unreachable, and a Redis database of the tests' own."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy.exc
from fastapi import APIRouter, FastAPI, Request

from campus.entrypoints.http import create_app
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.i18n import _
from campus.kernel.logging import configure_logging
from campus.kernel.manifest import Module
from campus.kernel.runtime import Runtime
from campus.platform.access.service import public

# The event tests' fixtures (their own database, buses, handler effects) live in eventing.py.
from tests.kernel.eventing import (  # noqa: F401
    effects,
    events_database_url,
    fresh_db,
    make_bus,
)

LOOPBACK_CLIENT = ("127.0.0.1", 50000)
REDIS_TEST_DB = 14

# A module of the tests' own, mounted beside the real ones, with routes for the failure modes
# (an unexpected exception, a request that waits, a path id) that no real route offers on purpose.
probe_router = APIRouter(prefix="/api/v1/probe", dependencies=[public()])
# The /wait route sets the first and waits for the second.
entered_waiting = asyncio.Event()
release_waiting = asyncio.Event()


@probe_router.get("/things/{thing_id}")
async def read_thing(thing_id: int) -> dict[str, int]:
    return {"id": thing_id}


@probe_router.get("/boom")
async def boom() -> None:
    raise RuntimeError("connection to postgresql://campus:hunter2@db failed")


@probe_router.get("/locked")
async def locked() -> None:
    """What a write gets when SQLite's writer lock stayed taken past the wait."""
    raise sqlalchemy.exc.OperationalError(
        "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
    )


@probe_router.get("/wait")
async def wait() -> dict[str, bool]:
    entered_waiting.set()
    await release_waiting.wait()
    return {"released": True}


@probe_router.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"bytes": len(await request.body())}


PROBE_MODULE = Module(
    name="probe", title=_("探针"), package="tests.kernel", routers=(probe_router,)
)

AppFactory = Callable[..., FastAPI]


@pytest.fixture
def make_app(settings: Settings, runtime: Runtime) -> Iterator[AppFactory]:
    """``make_app(overrides, cache=…, bus=…)``: the real app on the test database with the probe
    module, other settings or other parts; the process's runtime and logging are restored
    afterwards."""

    def make(overrides: dict[str, Any] | None = None, **parts: Any) -> FastAPI:
        changed = settings.model_copy(update=overrides or {})
        variant = dataclasses.replace(
            runtime, settings=changed, modules=[*runtime.modules, PROBE_MODULE], **parts
        )
        return create_app(changed, variant)

    yield make
    runtime_module.set_current(runtime)
    configure_logging(settings.log_level)


async def client_for(
    app: FastAPI,
    *,
    client: tuple[str, int] = LOOPBACK_CLIENT,
    raise_app_exceptions: bool = True,
    language: str = "zh-CN",
    base_url: str = "http://testserver",
) -> httpx.AsyncClient:
    """A client of ``app`` from address ``client``, holding the CSRF cookie and header as a
    browser page would."""
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(
            app=app, client=client, raise_app_exceptions=raise_app_exceptions
        ),
        base_url=base_url,
        headers={"Accept-Language": language},
    )
    await http.get("/healthz")
    token = http.cookies.get("campus_csrf")
    assert token, "the kernel sets a CSRF cookie on the first response"
    http.headers["X-CSRF-Token"] = token
    return http


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_test_url() -> str | None:
    """A Redis database of its own for the cache contract tests, or None when no Redis answers."""
    configured = os.environ.get("CAMPUS_REDIS_URL", "")
    if configured.startswith(("redis://", "rediss://")):
        parts = urlsplit(configured)
        return urlunsplit(parts._replace(path=f"/{REDIS_TEST_DB}"))
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3):
            return f"redis://127.0.0.1:6379/{REDIS_TEST_DB}"
    except OSError:
        return None
