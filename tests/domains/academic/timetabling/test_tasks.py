"""The kernel's background tasks (campus.kernel.tasks) on a database of their own: a queued
task is claimed once however many runners race for it, cancelling stops it (also in a spawned
process), a task whose process died is marked failed by the next poll and can run again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from campus.kernel import clock, tasks
from campus.kernel.db import Database
from campus.kernel.tasks import TaskContext, TaskKind, TaskRow, TaskRunner


@pytest.fixture
async def own_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/tasks.db")
    async with database.engine.begin() as connection:
        await connection.run_sync(TaskRow.__table__.create)  # type: ignore[attr-defined]
    yield database
    await database.dispose()


async def submit(db: Database, kind: str, **params: Any) -> int:
    async with db.transaction() as session:
        return await tasks.submit(session, kind, params, created_by=7)


async def status_of(db: Database, task_id: int) -> tasks.TaskOut:
    async with db.read() as session:
        found = await tasks.get(session, task_id)
    assert found is not None
    return found


async def until(check: Callable[[], Any], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def quick(ctx: TaskContext) -> dict[str, Any]:
    await ctx.progress(0.5, "一半", {"n": ctx.params["n"]}, force=True)
    return {"double": ctx.params["n"] * 2}


async def endless(ctx: TaskContext) -> dict[str, Any]:
    steps = 0
    while not ctx.cancelled:
        steps += 1
        await ctx.progress(0.1, "运行中", {"steps": steps})
        await asyncio.sleep(0.02)
    return {"steps": steps}


def count_until_stopped(payload: Any, report: Any, should_stop: Any) -> dict[str, Any]:
    """Runs in the spawned process."""
    n = 0
    while not should_stop():
        n += 1
        if n % 5 == 0:
            report({"n": n})
        time.sleep(0.01)
    return {"n": n, "payload": payload}


def crash(payload: Any, report: Any, should_stop: Any) -> None:
    raise ValueError("坏数据")


async def in_process(ctx: TaskContext) -> dict[str, Any]:
    seen: list[int] = []

    async def on_report(data: dict[str, Any]) -> None:
        seen.append(data["n"])
        await ctx.progress(0.5, "子进程", data)

    target = crash if ctx.params.get("crash") else count_until_stopped
    result = await ctx.run_in_process(target, "载荷", on_report)
    return {**result, "reports": len(seen)}


KINDS = [TaskKind("t.quick", quick), TaskKind("t.endless", endless), TaskKind("t.proc", in_process)]


async def test_a_task_is_claimed_once(own_db: Database) -> None:
    task_id = await submit(own_db, "t.quick", n=21)
    claims = await asyncio.gather(*(tasks.claim(own_db, f"w{i}", ["t.quick"]) for i in range(8)))
    assert [c for c in claims if c is not None] == [task_id]
    row = await status_of(own_db, task_id)
    assert row.status == "running" and row.attempts == 1


async def test_runners_run_a_task_once(own_db: Database) -> None:
    task_id = await submit(own_db, "t.quick", n=21)
    runners = [TaskRunner(own_db, KINDS, worker=f"r{i}") for i in range(3)]
    started = await asyncio.gather(*(r.poll_once() for r in runners))
    assert sorted(t for batch in started for t in batch) == [task_id]
    for r in runners:
        await r.wait(10)
    row = await status_of(own_db, task_id)
    assert row.status == "succeeded" and row.result == {"double": 42}
    assert row.progress == 1.0 and row.figures == {"n": 21} and row.attempts == 1
    # Nothing queued any more: the next polls start nothing.
    assert await runners[0].poll_once() == []


async def test_cancel_a_queued_task(own_db: Database) -> None:
    task_id = await submit(own_db, "t.quick", n=1)
    async with own_db.transaction() as session:
        assert await tasks.cancel(session, task_id) == "cancelled"
    runner = TaskRunner(own_db, KINDS)
    assert await runner.poll_once() == []
    row = await status_of(own_db, task_id)
    assert row.status == "cancelled" and row.result is None and row.finished_at is not None


async def test_cancel_a_running_task(own_db: Database) -> None:
    task_id = await submit(own_db, "t.endless")
    runner = TaskRunner(own_db, KINDS, progress_every=0.1)
    await runner.poll_once()

    async def reported() -> bool:
        return "steps" in (await status_of(own_db, task_id)).figures

    await until(reported)
    async with own_db.transaction() as session:
        assert await tasks.cancel(session, task_id) == "running"
    await runner.wait(10)
    row = await status_of(own_db, task_id)
    assert row.status == "cancelled" and row.result is not None and row.result["steps"] > 0


async def test_progress_is_written_at_most_every_interval(own_db: Database) -> None:
    task_id = await submit(own_db, "t.endless")
    runner = TaskRunner(own_db, KINDS, progress_every=3600, heartbeat_every=0.3)
    await runner.poll_once()
    await asyncio.sleep(0.2)  # several progress calls: only the first was written
    assert (await status_of(own_db, task_id)).figures == {"steps": 1}
    async with own_db.transaction() as session:
        await tasks.cancel(session, task_id)
    # The heartbeat reads the cancel flag too.
    await runner.wait(10)
    row = await status_of(own_db, task_id)
    assert row.status == "cancelled" and row.result is not None and row.result["steps"] > 3
    assert row.heartbeat_at is not None


async def test_cancel_stops_the_spawned_process(own_db: Database) -> None:
    task_id = await submit(own_db, "t.proc")
    runner = TaskRunner(own_db, KINDS, progress_every=0.1)
    await runner.poll_once()

    async def reporting() -> bool:
        return "n" in (await status_of(own_db, task_id)).figures

    await until(reporting, 60)
    async with own_db.transaction() as session:
        await tasks.cancel(session, task_id)
    await runner.wait(30)
    row = await status_of(own_db, task_id)
    assert row.status == "cancelled", row
    assert row.result is not None and row.result["payload"] == "载荷" and row.result["reports"] > 0


async def test_a_crash_in_the_process_fails_the_task(own_db: Database) -> None:
    task_id = await submit(own_db, "t.proc", crash=True)
    runner = TaskRunner(own_db, KINDS)
    await runner.poll_once()
    await runner.wait(60)
    row = await status_of(own_db, task_id)
    assert row.status == "failed" and "坏数据" in (row.error or "")


async def test_a_stale_task_is_failed_and_can_run_again(own_db: Database) -> None:
    task_id = await submit(own_db, "t.quick", n=5)
    assert await tasks.claim(own_db, "dead-worker", ["t.quick"]) == task_id
    # Its process died: no heartbeat for a minute.
    async with own_db.transaction() as session:
        await session.execute(
            update(TaskRow)
            .where(TaskRow.id == task_id)
            .values(heartbeat_at=clock.now() - timedelta(seconds=60))
        )
    runner = TaskRunner(own_db, KINDS, stale_after=30)
    assert await runner.poll_once() == []
    row = await status_of(own_db, task_id)
    assert row.status == "failed" and "心跳" in (row.error or "")
    # A fresh heartbeat is not stale.
    other = await submit(own_db, "t.endless")
    assert await tasks.claim(own_db, "alive", ["t.endless"]) == other
    assert await tasks.recover_stale(own_db, 30) == []
    async with own_db.transaction() as session:
        assert await tasks.resubmit(session, task_id)
        assert not await tasks.resubmit(session, other)  # running: not resubmitted
    assert await runner.poll_once() == [task_id]
    await runner.wait(10)
    row = await status_of(own_db, task_id)
    assert row.status == "succeeded" and row.attempts == 2 and row.result == {"double": 10}


async def test_a_stopping_process_fails_its_tasks(own_db: Database) -> None:
    task_id = await submit(own_db, "t.endless")
    runner = TaskRunner(own_db, KINDS, progress_every=0.1)
    await runner.poll_once()

    async def running() -> bool:
        return "steps" in (await status_of(own_db, task_id)).figures

    await until(running)
    await runner.stop()
    row = await status_of(own_db, task_id)
    assert row.status == "failed" and "服务停止" in (row.error or "")
    async with own_db.transaction() as session:
        assert await tasks.resubmit(session, task_id)
    assert (await status_of(own_db, task_id)).status == "queued"
