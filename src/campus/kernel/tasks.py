"""Background tasks: long work (a timetabling run, a big import) started by a request and run
by the worker, or by the web process in embedded mode, with progress that outlives any process.

A task is a row of ``kernel_task``. A request ``submit``s it in its own transaction, so the task
exists only if the request committed. A ``TaskRunner`` polls for queued tasks and claims one
with a conditional ``UPDATE`` (status queued → running): however many processes poll, one wins
and the task runs once. While it runs, the runner beats its heartbeat; a running task whose
heartbeat stopped (its process died) is marked failed by whichever runner notices, and may be
resubmitted. Progress (a fraction, a message and free figures) is written at most every
``PROGRESS_EVERY`` seconds. Cancelling a queued task ends it at once; a running one is asked to
stop and ends ``cancelled`` when its function returns.

CPU-heavy work goes to a separate process (``TaskContext.run_in_process``, spawned), so the
event loop, and the web pages it serves, stay responsive.

Modules declare their kinds in their manifest: ``extra={"tasks": (TaskKind(...), ...)}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue as queue_module
import socket
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, Boolean, Float, Index, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from campus.kernel import clock
from campus.kernel.db import Base, Database, UTCDateTime
from campus.kernel.events import BigId
from campus.kernel.manifest import ScheduledJob

if TYPE_CHECKING:
    from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)

PROGRESS_EVERY = 1.0  # seconds between two progress writes at most
HEARTBEAT_EVERY = 5.0
STALE_AFTER = 45.0  # a running task silent for this long is taken for dead
POLL_EVERY = 1.0


class TaskRow(Base):
    __tablename__ = "kernel_task"
    __table_args__ = (Index("ix_kernel_task_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(80), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(String(200), default="")
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    created_by: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    params: dict[str, Any]
    status: str
    progress: float
    message: str
    figures: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    cancel_requested: bool
    attempts: int
    created_by: int | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED


TaskFunc = Callable[["TaskContext"], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class TaskKind:
    """A kind of task: ``func`` does the work and returns the result (JSON-ready)."""

    name: str
    func: TaskFunc


class TaskFailed(Exception):
    """Raised by a task function to fail with a message meant for the user."""


# ---------------------------------------------------------------- the request side


async def submit(
    session: AsyncSession,
    kind: str,
    params: dict[str, Any],
    *,
    created_by: int | None = None,
) -> int:
    """Queue a task in the caller's transaction; it runs once that transaction commits."""
    row = TaskRow(
        kind=kind,
        params=params,
        status=QUEUED,
        progress=0.0,
        message="",
        figures={},
        cancel_requested=False,
        attempts=0,
        created_by=created_by,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    return row.id


async def get(session: AsyncSession, task_id: int) -> TaskOut | None:
    row = await session.get(TaskRow, task_id, populate_existing=True)
    return None if row is None else TaskOut.model_validate(row)


async def get_many(session: AsyncSession, task_ids: Sequence[int]) -> dict[int, TaskOut]:
    if not task_ids:
        return {}
    rows = await session.scalars(select(TaskRow).where(TaskRow.id.in_(list(task_ids))))
    return {row.id: TaskOut.model_validate(row) for row in rows}


async def cancel(session: AsyncSession, task_id: int) -> str | None:
    """Cancel a queued task now, or ask a running one to stop; returns the status after, or
    ``None`` when there is no such task. A finished task is left as it is."""
    row = await session.get(TaskRow, task_id, with_for_update=True)
    if row is None:
        return None
    if row.status == QUEUED:
        row.status = CANCELLED
        row.finished_at = clock.now()
        row.message = "已取消"
    elif row.status == RUNNING:
        row.cancel_requested = True
    await session.flush()
    return row.status


async def resubmit(session: AsyncSession, task_id: int) -> bool:
    """Queue a failed or cancelled task again (same kind and params); False if it is not one."""
    result: Any = await session.execute(
        update(TaskRow)
        .where(TaskRow.id == task_id, TaskRow.status.in_((FAILED, CANCELLED)))
        .values(
            status=QUEUED,
            progress=0.0,
            message="",
            figures={},
            result=None,
            error=None,
            cancel_requested=False,
            claimed_by=None,
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
    )
    return bool(result.rowcount)


# ---------------------------------------------------------------- the runner side


async def claim(db: Database, worker: str, kinds: Iterable[str]) -> int | None:
    """Take the oldest queued task of the given kinds, or None. The status check in the
    ``UPDATE`` makes the claim atomic: of several runners racing for a task, one gets it."""
    kinds = list(kinds)
    if not kinds:
        return None
    async with db.transaction() as session:
        candidates = list(
            await session.scalars(
                select(TaskRow.id)
                .where(TaskRow.status == QUEUED, TaskRow.kind.in_(kinds))
                .order_by(TaskRow.id)
                .limit(5)
            )
        )
        now = clock.now()
        for task_id in candidates:
            result: Any = await session.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status == QUEUED)
                .values(
                    status=RUNNING,
                    claimed_by=worker,
                    started_at=now,
                    heartbeat_at=now,
                    attempts=TaskRow.attempts + 1,
                )
            )
            if result.rowcount == 1:
                return task_id
    return None


async def recover_stale(db: Database, stale_after: float = STALE_AFTER) -> list[int]:
    """Mark failed the running tasks whose heartbeat is older than ``stale_after`` seconds:
    the process that ran them is gone. They may be resubmitted."""
    limit = clock.now() - timedelta(seconds=stale_after)
    async with db.transaction() as session:
        stale = list(
            await session.scalars(
                select(TaskRow.id).where(TaskRow.status == RUNNING, TaskRow.heartbeat_at < limit)
            )
        )
        if stale:
            await session.execute(
                update(TaskRow)
                .where(TaskRow.id.in_(stale), TaskRow.status == RUNNING)
                .values(
                    status=FAILED,
                    finished_at=clock.now(),
                    error="运行任务的进程已中断（心跳超时），可重新提交",
                    message="已中断",
                )
            )
    for task_id in stale:
        log.warning("task_stale", task_id=task_id)
    return stale


class TaskContext:
    """What a task function gets: its params, progress reporting and the cancel flag."""

    def __init__(self, db: Database, task: TaskOut, *, progress_every: float = PROGRESS_EVERY):
        self.db = db
        self.task_id = task.id
        self.kind = task.kind
        self.params = task.params
        self.created_by = task.created_by
        self.progress_every = progress_every
        self._cancel = asyncio.Event()
        self._last_write: float | None = None
        self._pending: tuple[float, str, dict[str, Any]] | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def request_cancel(self) -> None:
        self._cancel.set()

    async def progress(
        self,
        fraction: float,
        message: str = "",
        figures: dict[str, Any] | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Report progress; written at most every ``progress_every`` seconds (the latest wins;
        ``force`` writes now)."""
        self._pending = (max(0.0, min(1.0, fraction)), message[:200], figures or {})
        due = self._last_write is None or time.monotonic() - self._last_write >= self.progress_every
        if force or due:
            await self.flush()

    async def flush(self) -> None:
        if self._pending is None:
            return
        fraction, message, figures = self._pending
        self._pending = None
        self._last_write = time.monotonic()
        async with self.db.transaction() as session:
            await session.execute(
                update(TaskRow)
                .where(TaskRow.id == self.task_id, TaskRow.status == RUNNING)
                .values(
                    progress=fraction,
                    message=message,
                    figures=figures,
                    heartbeat_at=clock.now(),
                )
            )
            wanted = await session.scalar(
                select(TaskRow.cancel_requested).where(TaskRow.id == self.task_id)
            )
        if wanted:
            self._cancel.set()

    async def run_in_process(
        self,
        target: Callable[[Any, Callable[[dict[str, Any]], None], Callable[[], bool]], Any],
        payload: Any,
        on_report: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
        *,
        grace: float = 10.0,
    ) -> Any:
        """Run ``target(payload, report, should_stop)`` in a spawned process and return what it
        returns. ``target`` must be a module-level function and ``payload`` picklable. Each
        ``report(dict)`` reaches ``on_report`` here; cancelling the task makes ``should_stop``
        true in the child, which is killed if it has not returned ``grace`` seconds later."""
        spawn = multiprocessing.get_context("spawn")
        channel: Any = spawn.Queue()
        stop = spawn.Event()
        process = spawn.Process(
            target=_child_main, args=(target, payload, channel, stop), daemon=True
        )
        process.start()
        stop_asked_at: float | None = None
        try:
            while True:
                if self.cancelled and stop_asked_at is None:
                    stop.set()
                    stop_asked_at = time.monotonic()
                if stop_asked_at is not None and time.monotonic() - stop_asked_at > grace:
                    process.kill()
                    raise TaskFailed("计算进程未能及时停止，已终止")
                message = await asyncio.to_thread(_receive, channel, 0.25)
                if message is None:
                    if not process.is_alive():
                        # It may have put its last message just before exiting.
                        message = await asyncio.to_thread(_receive, channel, 0.5)
                        if message is None:
                            raise TaskFailed(f"计算进程意外退出（退出码 {process.exitcode}）")
                    else:
                        continue
                tag, body = message
                if tag == "progress":
                    if on_report is not None:
                        await on_report(body)
                elif tag == "result":
                    return body
                else:
                    raise TaskFailed(str(body))
        finally:
            if process.is_alive():
                process.join(timeout=2)
            if process.is_alive():
                process.kill()
                process.join(timeout=2)
            channel.close()


def _receive(channel: Any, timeout: float) -> Any:
    try:
        return channel.get(timeout=timeout)
    except queue_module.Empty:
        return None


def _child_main(target: Any, payload: Any, channel: Any, stop: Any) -> None:
    """The spawned process: run the target, send its reports and its outcome."""

    def report(figures: dict[str, Any]) -> None:
        channel.put(("progress", figures))

    try:
        result = target(payload, report, stop.is_set)
    except TaskFailed as exc:
        channel.put(("error", str(exc)))
    except BaseException:
        channel.put(("error", "计算出错：" + traceback.format_exc(limit=5)[-1500:]))
    else:
        channel.put(("result", result))
    channel.close()
    channel.join_thread()


class TaskRunner:
    """Claims queued tasks and runs up to ``concurrency`` of them at once in this process."""

    def __init__(
        self,
        db: Database,
        kinds: Sequence[TaskKind],
        *,
        concurrency: int = 1,
        heartbeat_every: float = HEARTBEAT_EVERY,
        stale_after: float = STALE_AFTER,
        progress_every: float = PROGRESS_EVERY,
        worker: str | None = None,
    ) -> None:
        self.db = db
        self.kinds = {kind.name: kind for kind in kinds}
        self.concurrency = concurrency
        self.heartbeat_every = heartbeat_every
        self.stale_after = stale_after
        self.progress_every = progress_every
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.running: dict[int, asyncio.Task[None]] = {}

    async def poll_once(self) -> list[int]:
        """Recover stale tasks, then claim and start what fits; returns the started ids."""
        await recover_stale(self.db, self.stale_after)
        started: list[int] = []
        while len(self.running) < self.concurrency:
            task_id = await claim(self.db, self.worker, self.kinds)
            if task_id is None:
                break
            self.running[task_id] = asyncio.create_task(self._run(task_id), name=f"task:{task_id}")
            started.append(task_id)
        return started

    async def wait(self, limit: float | None = None) -> None:
        """Wait for the tasks running now to finish (tests, shutdown), ``limit`` seconds at most."""
        tasks = list(self.running.values())
        if tasks:
            await asyncio.wait(tasks, timeout=limit)

    async def stop(self, grace: float = 5.0) -> None:
        for task in self.running.values():
            task.cancel()
        await self.wait(grace)

    async def _run(self, task_id: int) -> None:
        try:
            async with self.db.read() as session:
                task = await get(session, task_id)
            assert task is not None
            ctx = TaskContext(self.db, task, progress_every=self.progress_every)
            beat = asyncio.create_task(self._heartbeat(ctx))
            try:
                outcome = await self._call(ctx)
            finally:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
            await self._finish(task_id, *outcome)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await self._finish(task_id, FAILED, None, "服务停止，任务中断，可重新提交")
            raise
        except Exception:
            log.exception("task_runner_failed", task_id=task_id)
        finally:
            self.running.pop(task_id, None)

    async def _call(self, ctx: TaskContext) -> tuple[str, dict[str, Any] | None, str | None]:
        kind = self.kinds[ctx.kind]
        try:
            result = await kind.func(ctx)
        except TaskFailed as exc:
            return FAILED, None, str(exc)
        except Exception as exc:
            log.exception("task_failed", task_id=ctx.task_id, kind=ctx.kind)
            return FAILED, None, f"任务出错：{type(exc).__name__}: {exc}"[:2000]
        with contextlib.suppress(Exception):
            await ctx.flush()
        return (CANCELLED if ctx.cancelled else SUCCEEDED), result, None

    async def _heartbeat(self, ctx: TaskContext) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_every)
            try:
                async with self.db.transaction() as session:
                    await session.execute(
                        update(TaskRow)
                        .where(TaskRow.id == ctx.task_id, TaskRow.status == RUNNING)
                        .values(heartbeat_at=clock.now())
                    )
                    wanted = await session.scalar(
                        select(TaskRow.cancel_requested).where(TaskRow.id == ctx.task_id)
                    )
                if wanted:
                    ctx.request_cancel()
            except Exception:
                log.exception("task_heartbeat_failed", task_id=ctx.task_id)

    async def _finish(
        self, task_id: int, status: str, result: dict[str, Any] | None, error: str | None
    ) -> None:
        values: dict[str, Any] = {"status": status, "finished_at": clock.now(), "error": error}
        if result is not None:
            values["result"] = result
        if status == SUCCEEDED:
            values["progress"] = 1.0
        async with self.db.transaction() as session:
            # Only the runner that holds it finishes it (a stale recovery may have taken it).
            await session.execute(
                update(TaskRow)
                .where(
                    TaskRow.id == task_id,
                    TaskRow.status == RUNNING,
                    TaskRow.claimed_by == self.worker,
                )
                .values(**values)
            )


def kinds_of(runtime: Runtime) -> list[TaskKind]:
    """The task kinds the enabled modules declare (``extra["tasks"]``)."""
    return [kind for module in runtime.modules for kind in module.extra.get("tasks", ())]


_runners: dict[int, TaskRunner] = {}


def runner_of(runtime: Runtime) -> TaskRunner:
    """The process's runner for this runtime (made on first use)."""
    runner = _runners.get(id(runtime))
    if runner is None:
        runner = _runners[id(runtime)] = TaskRunner(runtime.db, kinds_of(runtime))
    return runner


async def stop_runners() -> None:
    """Stop this process's runners (its shutdown): their running tasks end failed, with a
    message saying they may be resubmitted, instead of waiting to be found stale."""
    runners = list(_runners.values())
    _runners.clear()
    for runner in runners:
        await runner.stop()


def task_jobs(runtime: Runtime) -> list[ScheduledJob]:
    """The scheduled job that polls for tasks, wherever scheduled jobs run (the worker, and
    the web process in embedded mode); none when no module declares a task kind."""
    if not kinds_of(runtime):
        return []

    async def poll() -> None:
        await runner_of(runtime).poll_once()

    return [ScheduledJob("kernel.tasks", POLL_EVERY, poll)]
