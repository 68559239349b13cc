"""The hourly sweep: uploads no form took within a day are deleted, deleted files leave the
table an hour later, and their blobs go when nothing else has the same content."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.kernel.storage import key_of
from campus.platform.files import service
from campus.platform.files.handlers import SWEEP, SweepReport, sweep_files
from campus.platform.files.manifest import MODULE
from campus.platform.files.models import File
from tests.platform.files.conftest import FILES, User, audit_count, pdf_bytes, store_of

SignIn = Callable[[str], Coroutine[Any, Any, User]]


async def backdate(db: Runtime, file_id: str, hours: float) -> None:
    """Make the upload (and its blob) look ``hours`` old."""
    async with db.db.transaction() as session:
        await session.execute(
            update(File)
            .where(File.id == file_id)
            .values(created_at=clock.now() - timedelta(hours=hours))
        )
        sha256 = (await service.open_file(db, session, file_id)).meta.sha256
    then = time.time() - hours * 3600
    os.utime(store_of(db).path_of(key_of(sha256)), (then, then))


async def sha_of(user: User, file_id: str) -> str:
    return str((await user.client.get(f"{FILES}/{file_id}/meta")).json()["sha256"])


def later(monkeypatch: pytest.MonkeyPatch, hours: float) -> None:
    moment: datetime = clock.now() + timedelta(hours=hours)
    monkeypatch.setattr(clock, "now", lambda: moment)


async def sweep(db: Runtime) -> SweepReport:
    return await sweep_files(db.db, db.storage)


def test_the_sweep_is_a_scheduled_job_of_the_module() -> None:
    assert SWEEP in MODULE.jobs
    assert SWEEP.every_seconds == 3600


async def test_abandoned_uploads_are_swept_with_their_blobs(
    sign_in: SignIn, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await sign_in("student")
    abandoned, fresh, attached = await me.uploaded(), await me.uploaded(), await me.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [attached], "workflow", "11")
    for file_id in (abandoned, attached):
        await backdate(db, file_id, hours=25)
    abandoned_key = key_of(await sha_of(me, abandoned))

    assert await sweep(db) == SweepReport(expired=1, purged=0, blobs_removed=0)
    assert (await me.client.get(f"{FILES}/{abandoned}")).status_code == 404
    assert await audit_count(db, "files.file.expire", abandoned) == 1
    assert await db.storage.exists(abandoned_key), "kept an hour, like any deleted file"

    later(monkeypatch, hours=2)
    assert await sweep(db) == SweepReport(expired=0, purged=1, blobs_removed=1)
    assert not await db.storage.exists(abandoned_key)
    assert (await me.client.get(f"{FILES}/{attached}")).status_code == 200
    assert (await me.client.get(f"{FILES}/{fresh}")).status_code == 200


async def test_a_deleted_file_leaves_after_an_hour(
    sign_in: SignIn, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await sign_in("student")
    file_id = await me.uploaded()
    key = key_of(await sha_of(me, file_id))
    await backdate(db, file_id, hours=3)
    assert (await me.client.delete(f"{FILES}/{file_id}")).status_code == 204
    assert await sweep(db) == SweepReport(0, 0, 0)
    later(monkeypatch, hours=1.5)
    assert await sweep(db) == SweepReport(0, 1, 1)
    assert not await db.storage.exists(key)


async def test_a_blob_shared_with_a_live_file_stays(
    sign_in: SignIn, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    me, other = await sign_in("student"), await sign_in("teacher")
    content = pdf_bytes(500)
    mine = await me.uploaded("同一份.pdf", content)
    theirs = await other.uploaded("同一份.pdf", content)
    async with db.db.transaction() as session:
        await service.bind(session, [theirs], "workflow", "12")
    await backdate(db, mine, hours=30)
    assert await sweep(db) == SweepReport(1, 0, 0)
    later(monkeypatch, hours=2)
    assert await sweep(db) == SweepReport(0, 1, 0)
    response = await other.client.get(f"{FILES}/{theirs}")
    assert response.status_code == 200
    assert response.content == content


async def test_a_blob_written_again_within_the_hour_stays(
    sign_in: SignIn, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload of the same bytes whose record is not committed yet must not lose its
    content: the upload marks the blob as just written, and the sweep spares it."""
    me = await sign_in("student")
    content = pdf_bytes(400)
    file_id = await me.uploaded("旧.pdf", content)
    key = key_of(await sha_of(me, file_id))
    await backdate(db, file_id, hours=30)
    assert (await me.client.delete(f"{FILES}/{file_id}")).status_code == 204
    await db.storage.put(content)  # the other upload, its record still to come
    later(monkeypatch, hours=2)
    assert await sweep(db) == SweepReport(0, 1, 0)
    assert await db.storage.exists(key)
