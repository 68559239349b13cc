"""Prometheus metrics: RED per route and module, requests in flight, the outbox backlog and the
dead letters waiting for a replay.

Several server processes behind one port (``campus serve --workers N``) share their figures
through files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, which the
serve command sets up): a scrape answered by any of them reports the sum of all, not its own.

Labels carry route templates (``/api/v1/users/people/{person_id}``), never raw paths, ids or
query strings, so the number of series stays bounded whatever clients send.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import tempfile
from pathlib import Path

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from campus.kernel.errors import Forbidden
from campus.kernel.events import DeadLetter, OutboxRow
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

UNMATCHED_ROUTE = "<unmatched>"
KERNEL_MODULE = "kernel"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BACKLOG_QUERY_TIMEOUT = 2.0

# The *_created series double the output and no dashboard or alert here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "campus_http_requests",
    "HTTP requests answered, by route template, status class and owning module",
    ["method", "route", "status", "module"],
)
LATENCY = Histogram(
    "campus_http_request_duration_seconds",
    "Time from receiving a request to the end of its handling",
    ["method", "route", "module"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
# With several processes: in flight, the sum over the live ones; the backlog, as the latest
# scrape read it from the database (whichever process answered it).
IN_FLIGHT = Gauge(
    "campus_http_requests_in_flight",
    "HTTP requests being handled right now",
    multiprocess_mode="livesum",
)
OUTBOX_BACKLOG = Gauge(
    "campus_outbox_unsent_events",
    "Events committed to the outbox and not yet published (NaN when it could not be read)",
    multiprocess_mode="mostrecent",
)
DEAD_LETTERS = Gauge(
    "campus_event_dead_letters_pending",
    "Dead-lettered events not yet replayed (NaN when they could not be read)",
    multiprocess_mode="mostrecent",
)


def method_label(method: str) -> str:
    """Arbitrary methods would mint new series; everything unusual counts as OTHER."""
    return method if method in KNOWN_METHODS else "OTHER"


def status_label(status: int) -> str:
    return f"{status // 100}xx"


async def refresh_outbox_backlog(runtime: Runtime) -> None:
    """The outbox backlog and the pending dead letters, read at each scrape from the database
    (so every web process reports them, whichever process relays and handles events)."""
    try:
        async with asyncio.timeout(BACKLOG_QUERY_TIMEOUT), runtime.db.read() as session:
            unsent = await session.scalar(
                select(func.count()).select_from(OutboxRow).where(OutboxRow.sent_at.is_(None))
            )
            pending = await session.scalar(
                select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
            )
        OUTBOX_BACKLOG.set(unsent or 0)
        DEAD_LETTERS.set(pending or 0)
    except Exception:
        log.warning("outbox_backlog_unreadable", exc_info=True)
        OUTBOX_BACKLOG.set(float("nan"))
        DEAD_LETTERS.set(float("nan"))


def scrape_allowed(request: Request, token: str | None) -> bool:
    """From this machine, or with the configured bearer token.

    A request that came through a proxy is not treated as local even when the proxy runs on
    this machine: its forwarding header shows the real client is elsewhere.
    """
    if token:
        scheme, _sep, supplied = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(supplied.encode(), token.encode()):
            return True
    if "x-forwarded-for" in request.headers or "forwarded" in request.headers:
        return False
    return request.client is not None and _is_loopback(request.client.host)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not scrape_allowed(request, runtime.settings.metrics_token):
        raise Forbidden(_("监控指标只对本机或持有采集令牌的请求开放"))
    await refresh_outbox_backlog(runtime)
    return Response(
        generate_latest(_scraped_registry()),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def _scraped_registry() -> CollectorRegistry:
    """This process's registry, or with several processes one that reads all of theirs."""
    if not os.environ.get(MULTIPROCESS_DIR_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


def prepare_multiprocess_dir() -> None:
    """Called by the serve command before it starts several processes: the directory they share
    their figures in (``PROMETHEUS_MULTIPROC_DIR`` if set, else a new temporary one), emptied of
    an earlier run's files, and exported to the processes it starts."""
    folder = os.environ.get(MULTIPROCESS_DIR_ENV) or tempfile.mkdtemp(prefix="campus-metrics-")
    for stale in Path(folder).glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR_ENV] = folder


def leave_multiprocess_figures() -> None:
    """At a process's end: its share of the live gauges (requests in flight) stops counting."""
    if os.environ.get(MULTIPROCESS_DIR_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
