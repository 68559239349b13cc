"""Where the bus runs: the ``campus worker`` process (relay, consumers, scheduled jobs, clean
stop on SIGTERM/SIGINT) and the web app's lifespan in embedded mode."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from campus.entrypoints.http import create_app
from campus.entrypoints.worker import run_worker
from campus.kernel import runtime as runtime_module
from campus.kernel.bus import Bus, RabbitBus
from campus.kernel.cache import MemoryCache
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.i18n import _
from campus.kernel.jobs import JobRunner, run_job_once, window_of
from campus.kernel.manifest import EventHandler, Module, ScheduledJob
from campus.kernel.runtime import Runtime
from tests.kernel.eventing import (
    ON_RABBITMQ,
    Effects,
    commit_event,
    delete_rabbit_topology,
    new_bus,
    outbox_rows,
    runtime_on,
    unique,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]


def events_module(handler: EventHandler, *jobs: ScheduledJob) -> Module:
    return Module(
        name="probe_events",
        title=_("事件探针"),
        package="tests.kernel",
        handlers=(handler,),
        jobs=tuple(jobs),
    )


def queue_names(bus: Bus, handler: EventHandler) -> set[str]:
    return {bus.queue_name(handler)} if isinstance(bus, RabbitBus) else set()


@pytest.fixture
async def bus_tag(runtime: Runtime) -> AsyncIterator[tuple[str, set[str]]]:
    """A fresh exchange/queue tag; afterwards the RabbitMQ topology goes and the process's
    current runtime (which the worker and the app factory replace) comes back."""
    tag = uuid.uuid4().hex[:10]
    queues: set[str] = set()
    yield tag, queues
    runtime_module.set_current(runtime)
    if ON_RABBITMQ:
        await delete_rabbit_topology(tag, queues)


async def test_the_worker_relays_handles_and_runs_jobs_until_told_to_stop(
    fresh_db: Database, effects: Effects, settings: Settings, bus_tag: tuple[str, set[str]]
) -> None:
    tag, queues = bus_tag
    handler = effects.handler(unique("worker"), "dorm.#")
    runs: list[float] = []

    async def tick() -> None:
        runs.append(time.monotonic())

    bus = new_bus(tag)
    queues.update(queue_names(bus, handler))
    module = events_module(handler, ScheduledJob(unique("tick"), 0.1, tick))
    worker_runtime = runtime_on(settings, fresh_db, bus, [module])
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(settings, runtime=worker_runtime, stop=stop, handle_signals=False)
    )
    checked_in = await commit_event(fresh_db, "dorm.student.checked_in", {"n": 1})

    async def handled() -> bool:
        return await effects.count(handler.name, checked_in.id) == 1

    await wait_until(handled, what="the worker to relay and handle the event")
    await wait_until(_at_least(runs, 2), what="the scheduled job to run twice")
    stop.set()
    await asyncio.wait_for(worker, 10)

    assert (await outbox_rows(fresh_db))[0].sent_at is not None
    assert bus.dispatcher is None, "the consumers were stopped"
    assert worker.exception() is None


def _at_least(items: list[float], count: int):  # type: ignore[no-untyped-def]
    async def check() -> bool:
        return len(items) >= count

    return check


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_campus_worker_stops_cleanly_on_a_signal(
    signum: signal.Signals, fresh_db: Database, events_database_url: str
) -> None:
    await commit_event(fresh_db, "nobody.listens.here", {"n": 1})
    env = {
        **os.environ,
        "CAMPUS_DATABASE_URL": events_database_url,
        "CAMPUS_BROKER_URL": "memory://",
        "CAMPUS_REDIS_URL": "memory://",
        "CAMPUS_ENVIRONMENT": "production",
        "CAMPUS_LOG_LEVEL": "INFO",
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "campus.entrypoints.cli",
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:

        async def relayed() -> bool:
            return (await outbox_rows(fresh_db))[0].sent_at is not None

        await wait_until(relayed, seconds=30, what="the worker process to relay the event")
        worker.send_signal(signum)
        output, _ = await asyncio.wait_for(worker.communicate(), 15)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()

    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    events = [line.get("event") for line in lines]
    assert worker.returncode == 0, output.decode()
    assert "worker_started" in events
    assert events.index("worker_stopping") < events.index("worker_stopped")


async def test_the_embedded_app_relays_and_handles_events_in_its_lifespan(
    fresh_db: Database, effects: Effects, settings: Settings, bus_tag: tuple[str, set[str]]
) -> None:
    tag, queues = bus_tag
    handler = effects.handler(unique("embedded"), "portal.#")
    embedded = settings.model_copy(update={"relay_in_process": True})
    bus = new_bus(tag)
    queues.update(queue_names(bus, handler))
    app_runtime = runtime_on(embedded, fresh_db, bus, [events_module(handler)])
    app = create_app(embedded, app_runtime)

    async with LifespanManager(app):
        viewed = await commit_event(fresh_db, "portal.notice.viewed", {"n": 2})

        async def handled() -> bool:
            return await effects.count(handler.name, viewed.id) == 1

        await wait_until(handled, what="the app's own relay and consumer")
    assert app_runtime.bus.dispatcher is None, "the lifespan stopped its consumers"


async def test_the_embedded_app_runs_the_scheduled_jobs_and_a_split_one_does_not(
    fresh_db: Database, effects: Effects, settings: Settings, bus_tag: tuple[str, set[str]]
) -> None:
    tag, queues = bus_tag
    ran: list[str] = []

    async def tick() -> None:
        ran.append("tick")

    handler = effects.handler(unique("jobs"), "portal.#")
    job = ScheduledJob(unique("tick"), 0.2, tick)
    for relay_in_process, expected in ((False, False), (True, True)):
        ran.clear()
        mode = settings.model_copy(update={"relay_in_process": relay_in_process})
        bus = new_bus(tag)
        queues.update(queue_names(bus, handler))
        app = create_app(mode, runtime_on(mode, fresh_db, bus, [events_module(handler, job)]))
        async with LifespanManager(app):
            await asyncio.sleep(0.5)
        assert bool(ran) is expected, f"relay_in_process={relay_in_process}: {ran}"


async def test_a_web_process_without_the_relay_leaves_events_to_the_worker(
    fresh_db: Database, effects: Effects, settings: Settings, bus_tag: tuple[str, set[str]]
) -> None:
    tag, _queues = bus_tag
    handler = effects.handler(unique("not_here"), "portal.#")
    app_runtime = runtime_on(settings, fresh_db, new_bus(tag), [events_module(handler)])
    app = create_app(settings, app_runtime)
    assert settings.relay_in_process is False

    async with LifespanManager(app):
        await commit_event(fresh_db, "portal.notice.viewed", {"n": 3})
        await asyncio.sleep(0.5)
        assert app_runtime.bus.handler(handler.name) is handler, "known, for replays"
        assert (await outbox_rows(fresh_db))[0].sent_at is None
    assert effects.calls == []


async def test_a_job_runs_once_per_window_however_many_runners() -> None:
    windows: list[int] = []
    job = ScheduledJob(unique("report"), 0.25, lambda: _record_window(windows, job))
    shared = MemoryCache()
    runners = [JobRunner([job], shared), JobRunner([job], shared)]
    for runner in runners:
        runner.start()
    await asyncio.sleep(1.1)
    for runner in runners:
        await runner.stop()

    assert len(windows) >= 4
    assert len(windows) == len(set(windows)), "no window ran twice"


async def _record_window(windows: list[int], job: ScheduledJob) -> None:
    windows.append(window_of(job, time.time()))


async def test_a_claimed_window_is_not_run_again() -> None:
    calls: list[int] = []

    async def count() -> None:
        calls.append(1)

    job = ScheduledJob(unique("hourly"), 3600, count)
    cache = MemoryCache()
    assert await run_job_once(job, cache) is True
    assert await run_job_once(job, cache) is False
    assert calls == [1]


async def test_a_failing_job_is_tried_again_and_does_not_stop_the_others() -> None:
    failures: list[int] = []
    successes: list[int] = []

    async def broken() -> None:
        failures.append(1)
        raise RuntimeError("job failed")

    async def fine() -> None:
        successes.append(1)

    runner = JobRunner(
        [ScheduledJob(unique("broken"), 0.1, broken), ScheduledJob(unique("fine"), 0.1, fine)],
        MemoryCache(),
    )
    runner.start()
    await asyncio.sleep(0.45)
    await runner.stop()
    assert len(failures) >= 3
    assert len(successes) >= 3


async def test_stopping_lets_a_running_job_finish() -> None:
    started = asyncio.Event()
    finished: list[bool] = []

    async def slow() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(True)

    runner = JobRunner([ScheduledJob(unique("slow"), 60, slow)], MemoryCache(), grace=5)
    runner.start()
    await asyncio.wait_for(started.wait(), 5)
    await runner.stop()
    assert finished == [True]


def test_jobs_need_unique_names_and_a_positive_interval() -> None:
    async def nothing() -> None:
        return None

    with pytest.raises(ValueError, match="unique"):
        JobRunner([ScheduledJob("a", 1, nothing), ScheduledJob("a", 2, nothing)], MemoryCache())
    with pytest.raises(ValueError, match="every_seconds"):
        JobRunner([ScheduledJob("b", 0, nothing)], MemoryCache())


async def test_the_worker_serves_its_metrics_when_asked(
    fresh_db: Database, effects: Effects, settings: Settings, bus_tag: tuple[str, set[str]]
) -> None:
    tag, queues = bus_tag
    handler = effects.handler(unique("metrics"), "dorm.#")
    bus = new_bus(tag)
    queues.update(queue_names(bus, handler))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    own = settings.model_copy(update={"worker_metrics_port": port})
    worker_runtime = runtime_on(own, fresh_db, bus, [events_module(handler)])
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(own, runtime=worker_runtime, stop=stop, handle_signals=False)
    )
    await commit_event(fresh_db, "dorm.student.checked_in", {"n": 1})
    url = f"http://127.0.0.1:{port}/metrics"

    async def published() -> bool:
        try:
            async with httpx.AsyncClient() as http:
                text = (await http.get(url)).text
        except httpx.TransportError:
            return False
        return any(
            line.startswith("campus_outbox_published_total ") and float(line.split()[1]) >= 1
            for line in text.splitlines()
        )

    await wait_until(published, what="the worker's /metrics to count the relayed event")
    stop.set()
    await asyncio.wait_for(worker, 10)
    with pytest.raises(httpx.TransportError):  # closed with the worker
        async with httpx.AsyncClient() as http:
            await http.get(url)


async def test_modules_let_go_at_shutdown(settings: Settings, runtime: Runtime) -> None:
    from campus.platform.gateway import proxy, upstream

    app = create_app(settings)
    async with LifespanManager(app):
        proxy.client()  # the gateway's shared client, made on first use
        upstream.transport()  # and its upstream transport
        assert proxy._client is not None
        assert upstream._transport is not None
    assert proxy._client is None  # closed by the gateway's shutdown hooks
    assert upstream._transport is None
    runtime_module.set_current(runtime)
