"""The server killed in the middle of a selection rush (SIGKILL: no rollback, no after-commit
callbacks) and started again on the same database and cache: every selection it had accepted is
in the database as it was answered, nothing is oversold, the requests cut off are answered when
sent again with the same key, and the seats fill exactly once the sweeper has run."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from campus.domains.academic.selection import actions
from campus.domains.academic.selection.actions import seats_key
from campus.domains.academic.selection.models import Enrollment
from campus.entrypoints.http import build_runtime
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.platform.auth import service as auth_service
from campus.platform.users import service as users
from tests.domains.academic.selection.conftest import API, few_seats
from tests.serving import free_port

SEATS = 4
STUDENTS = 48  # enough that a fast server is still answering when the kill lands
PASSWORD = "Crash@2026pw"
KILL_AFTER = 2  # answers received before the server is killed


@dataclass
class Scene:
    settings: Settings
    runtime: Runtime  # the test's own view of the server's database and cache
    workdir: Path
    section_id: int
    logins: dict[int, str]  # student id → number


@pytest.fixture(scope="module")
async def scene(
    seeded_settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Scene]:
    workdir = tmp_path_factory.mktemp("acad_sel_crash")
    own = seeded_settings
    own_runtime = build_runtime(own)
    async with own_runtime.db.transaction() as session:
        section_id, students = await few_seats(session, SEATS, STUDENTS)
        logins = {}
        for person_id in students:
            await auth_service.set_password(session, person_id, PASSWORD)
            person = await users.get_person_ref(session, person_id)
            assert person is not None and person.number
            logins[person_id] = person.number
    await own_runtime.cache.cool(seats_key(section_id))
    yield Scene(own, own_runtime, workdir, section_id, logins)
    await own_runtime.cache.cool(seats_key(section_id))
    await own_runtime.close()
    runtime_module.set_current(runtime)


@contextmanager
def serving(scene: Scene, port: int, secret: str) -> Iterator[subprocess.Popen[bytes]]:
    """``campus`` under uvicorn on the scene's database and cache (the in-process cache when
    the run has no Redis: a restart then starts it cold, as a real one would)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    env.update(
        CAMPUS_DATABASE_URL=scene.settings.database_url,
        CAMPUS_REDIS_URL=scene.settings.redis_url,
        CAMPUS_BROKER_URL="memory://",
        CAMPUS_STORAGE_URL=f"file://{scene.workdir}/files",
        CAMPUS_ENVIRONMENT="test",
        CAMPUS_SECRET_KEY=secret,
        CAMPUS_LOGIN_ATTEMPTS_PER_ACCOUNT="1000",
        CAMPUS_LOGIN_ATTEMPTS_PER_IP="100000",
    )
    log = (scene.workdir / f"server-{port}-{time.monotonic_ns()}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "campus.entrypoints.http:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the server exited while starting"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        log.close()


async def _signed_in(base: str, scene: Scene) -> dict[int, httpx.AsyncClient]:
    clients = {}
    for person_id, login in scene.logins.items():
        client = httpx.AsyncClient(base_url=base, timeout=30)
        await client.get("/login")
        client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
        signed = await client.post(
            "/api/v1/auth/login", json={"login": login, "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        clients[person_id] = client
    return clients


async def _places(scene: Scene) -> dict[int, str]:
    async with scene.runtime.db.read() as session:
        rows = await session.execute(
            select(Enrollment.person_id, Enrollment.status).where(
                Enrollment.section_id == scene.section_id
            )
        )
        return {person_id: status for person_id, status in rows}


async def test_killing_the_server_mid_rush_loses_nothing_it_accepted(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, secret = free_port(), secrets.token_urlsafe(32)
    keys = {p: f"crash-{p}-{uuid.uuid4().hex}" for p in scene.logins}
    url = f"{API}/sections/{scene.section_id}/select"
    answered: dict[int, str] = {}
    with serving(scene, port, secret) as server:
        clients = await _signed_in(f"http://127.0.0.1:{port}", scene)
        pending = {
            asyncio.ensure_future(c.post(url, headers={"Idempotency-Key": keys[p]})): p
            for p, c in clients.items()
        }
        while pending and len(answered) < KILL_AFTER:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                person_id = pending.pop(task)
                if not task.exception() and task.result().status_code == 200:
                    answered[person_id] = task.result().json()["status"]
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        for task, person_id in pending.items():
            try:
                response = await task
            except httpx.HTTPError:
                continue  # cut off by the kill
            if response.status_code == 200:
                answered[person_id] = response.json()["status"]
        for client in clients.values():
            await client.aclose()

    assert KILL_AFTER <= len(answered) < STUDENTS, "the kill did not fall in the rush"
    places = await _places(scene)
    for person_id, status in answered.items():
        assert places.get(person_id) == status, "an accepted selection was lost"
    assert sum(s == "selected" for s in places.values()) <= SEATS

    # What the sweeper does a minute later: claims whose write died with the server go back.
    monkeypatch.setattr(actions, "STALE_CLAIM_SECONDS", 0.0)
    async with scene.runtime.db.read() as session:
        await actions.sweep(session, scene.runtime.cache, [scene.section_id])

    with serving(scene, port, secret):
        clients = await _signed_in(f"http://127.0.0.1:{port}", scene)
        try:
            again = await asyncio.gather(
                *(c.post(url, headers={"Idempotency-Key": keys[p]}) for p, c in clients.items())
            )
        finally:
            for client in clients.values():
                await client.aclose()
    assert all(a.status_code == 200 for a in again), [a.text for a in again if a.status_code != 200]
    for person_id, response in zip(clients, again, strict=True):
        if person_id in answered:
            assert response.json() == {
                "section_id": scene.section_id,
                "status": answered[person_id],
                "waitlist_position": response.json()["waitlist_position"],
                "replayed": True,
            }
    places = await _places(scene)
    seated = {p for p, s in places.items() if s == "selected"}
    assert len(seated) == SEATS, "a seat was oversold or lost to a dead claim"
    assert set(places) == set(scene.logins) and set(places.values()) == {"selected", "waitlisted"}
    if scene.settings.redis_url.startswith("redis"):
        claimed = await scene.runtime.cache.claimed(seats_key(scene.section_id))
        assert claimed == {str(p) for p in seated}
