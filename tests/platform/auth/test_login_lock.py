"""A sign-in checks the password before its write transaction: on SQLite, where one writer
holds the database at a time, other requests write while argon2 runs. On a database of its
own, since the shared test database turns commits into savepoints (and takes no lock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from campus.entrypoints.http import build_runtime, create_app
from campus.kernel import audit
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext, seed_all
from campus.platform.auth import actions
from tests.own_database import migrated_database


@pytest.fixture(scope="module")
async def own(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Settings, Runtime, SeedContext]]:
    url = await migrated_database("auth_lock", tmp_path_factory.mktemp("auth_lock"))
    own_settings = settings.model_copy(update={"database_url": url})
    own_runtime = build_runtime(own_settings)
    demo = await seed_all(own_runtime, "small", 2026)
    yield own_settings, own_runtime, demo
    await own_runtime.close()
    runtime_module.set_current(runtime)  # the kernel serves one runtime per process


async def test_others_write_while_a_sign_in_checks_its_password(
    own: tuple[Settings, Runtime, SeedContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, runtime, demo = own
    checking, finish = asyncio.Event(), asyncio.Event()
    real_verify = actions.verify_password_off_loop

    async def slow_verify(password_hash: str | None, password: str) -> bool:
        checking.set()
        await finish.wait()  # argon2 "runs" until the test lets it finish
        return await real_verify(password_hash, password)

    monkeypatch.setattr(actions, "verify_password_off_loop", slow_verify)
    login = next(x for x in demo.logins if x.role == "student")
    app = create_app(settings, runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        await client.get("/login")
        client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
        signing_in = asyncio.create_task(
            client.post(
                "/api/v1/auth/login", json={"login": login.login, "password": login.password}
            )
        )
        await asyncio.wait_for(checking.wait(), 10)

        async def another_write() -> None:
            async with runtime.db.transaction(lock_early=True) as session:
                audit.record(session, "test.write_during_sign_in", "probe", 1)

        await asyncio.wait_for(another_write(), 2)  # would wait for the lock before the change
        finish.set()
        signed = await signing_in
    assert signed.status_code == 200, signed.text
    assert signed.json()["person_id"] > 0


async def test_a_password_changed_during_the_check_is_checked_again(
    own: tuple[Settings, Runtime, SeedContext],
) -> None:
    _settings, runtime, demo = own
    login = next(x for x in demo.logins if x.role == "teacher")
    device = actions.Device(ip="127.0.0.1", user_agent="test")
    checked = await actions.check_password(runtime, login.login, login.password, device)
    assert checked.matches
    stale = actions.PasswordCheck(seen_hash="an older hash", matches=True)
    async with runtime.db.transaction(lock_early=True) as session:
        outcome = await actions.do_login(
            session, runtime, login.login, "not the password", stale, remember=False, device=device
        )
    assert outcome.status == "failed", "a verdict on an older hash let a wrong password in"
