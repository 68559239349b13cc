"""Test harness: one migrated, seeded database per run; each test inside a rolled-back
transaction; an HTTP client per role against the ASGI app.

The database comes from CAMPUS_DATABASE_URL (PostgreSQL in CI's second pass) or, by default,
a fresh SQLite file in a temporary folder. CAMPUS_REDIS_URL and CAMPUS_BROKER_URL choose the
cache and bus the same way.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from campus.entrypoints.http import build_runtime, create_app
from campus.kernel import migrate
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext, seed_all

ROOT = Path(__file__).resolve().parent.parent


def _database_url(tmp: Path) -> str:
    url = os.environ.get("CAMPUS_DATABASE_URL")
    return url or f"sqlite+aiosqlite:///{tmp}/campus-test.db"


async def _reset_postgres(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("campus")
    return Settings(
        database_url=_database_url(tmp),
        redis_url=os.environ.get("CAMPUS_REDIS_URL", "memory://"),
        broker_url=os.environ.get("CAMPUS_BROKER_URL", "memory://"),
        storage_url=f"file://{tmp}/files",
        environment="test",
        relay_in_process=False,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def seeded(settings: Settings) -> AsyncIterator[tuple[Runtime, SeedContext]]:
    if settings.database_url.startswith("postgresql"):
        await _reset_postgres(settings.database_url)
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    runtime = build_runtime(settings)
    ctx = await seed_all(runtime, "small", 2026)
    yield runtime, ctx
    await runtime.close()


@pytest.fixture(scope="session")
def runtime(seeded: tuple[Runtime, SeedContext]) -> Runtime:
    return seeded[0]


@pytest.fixture(scope="session")
def demo(seeded: tuple[Runtime, SeedContext]) -> SeedContext:
    return seeded[1]


@pytest.fixture(scope="session")
def app(settings: Settings, runtime: Runtime):  # type: ignore[no-untyped-def]
    return create_app(settings, runtime)


@pytest.fixture
async def db(runtime: Runtime) -> AsyncIterator[Runtime]:
    """Everything the test writes is rolled back at its end. The cache starts empty too: a test
    that ran a server of its own on the shared Redis (sign-in counters, seat counts) leaves no
    trace in the next one."""
    await clear_cache(runtime)
    async with runtime.db.engine.connect() as connection:
        transaction = await connection.begin()
        if connection.dialect.name == "sqlite":
            # The sqlite3 driver begins a transaction only before a write; without one, the
            # first savepoint a test opens would commit on release. Begin it now.
            await connection.exec_driver_sql("BEGIN")
        runtime.db.bind_to(connection)
        try:
            yield runtime
        finally:
            runtime.db.unbind()
            await transaction.rollback()
    await clear_cache(runtime)


async def clear_cache(runtime: Runtime) -> None:
    from campus.kernel.cache import MemoryCache

    if isinstance(runtime.cache, MemoryCache):
        runtime.cache._data.clear()
    else:
        await runtime.cache._redis.flushdb()  # type: ignore[attr-defined]


async def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Accept-Language": "zh-CN"},
    )
    response = await client.get("/login")
    token = response.cookies.get("campus_csrf") or client.cookies.get("campus_csrf")
    assert token, "the kernel sets a CSRF cookie on the first page"
    client.headers["X-CSRF-Token"] = token
    return client


LoginAs = Callable[[str], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def anon(app, db: Runtime) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    client = await _client(app)
    yield client
    await client.aclose()


@pytest.fixture
async def login_as(app, db: Runtime, demo: SeedContext) -> AsyncIterator[LoginAs]:  # type: ignore[no-untyped-def]
    """``await login_as("admin")`` gives a client signed in as that role's demo login."""
    clients: list[httpx.AsyncClient] = []

    async def make(role: str) -> httpx.AsyncClient:
        login = next(x for x in demo.logins if x.role == role)
        client = await _client(app)
        clients.append(client)
        response = await client.post(
            "/api/v1/auth/login", json={"login": login.login, "password": login.password}
        )
        assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()
