"""``campus worker``: the outbox relay, the event handlers' consumers and the scheduled jobs.

Any number of workers may run side by side. SIGTERM or SIGINT stops one cleanly: the relay
finishes its batch, the consumers stop taking messages and finish those they hold (unfinished
ones go back to the queue), running jobs finish, then the connections close.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from wsgiref.simple_server import WSGIServer

import structlog
from prometheus_client import start_http_server

from campus.entrypoints.http import build_runtime, shutdown_modules
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.jobs import JobRunner, scheduled_jobs
from campus.kernel.logging import configure_logging
from campus.kernel.relay import EventPipeline
from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)


async def run_worker(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Run until ``stop`` is set or, with ``handle_signals``, the process gets SIGTERM/SIGINT."""
    configure_logging(settings.log_level, json=settings.environment == "production")
    runtime = runtime or build_runtime(settings)
    runtime_module.set_current(runtime)
    stop = stop or asyncio.Event()
    restore_signals = _stop_on_signals(stop) if handle_signals else _nothing
    pipeline = EventPipeline(runtime, consume=True, relay=True)
    jobs = JobRunner(scheduled_jobs(runtime), runtime.cache)
    metrics = _serve_metrics(settings)
    try:
        await pipeline.start()
        jobs.start()
        log.info(
            "worker_started",
            handlers=[h.name for h in runtime.bus.handlers],
            jobs=[job.name for job in jobs.jobs],
        )
        await stop.wait()
        log.info("worker_stopping")
    finally:
        await jobs.stop()
        await pipeline.stop()
        await shutdown_modules(runtime)
        await runtime.close()
        if metrics is not None:
            metrics.shutdown()
            metrics.server_close()
        restore_signals()
        log.info("worker_stopped")


def _serve_metrics(settings: Settings) -> WSGIServer | None:
    """The worker's own /metrics (relay, handlers, jobs) on ``CAMPUS_WORKER_METRICS_PORT``:
    Prometheus scrapes each worker as it does each web process."""
    if settings.worker_metrics_port is None:
        return None
    server, _thread = start_http_server(
        settings.worker_metrics_port, addr=settings.worker_metrics_host
    )
    log.info("worker_metrics", port=settings.worker_metrics_port)
    return server


def _nothing() -> None:
    return None


def _stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Make SIGTERM and SIGINT set ``stop``; returns the function that undoes it."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        # Only the main thread may handle signals; elsewhere the caller stops us with ``stop``.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore
