"""The request log, aggregated per minute, route, consumer and status class (so it stays
bounded whatever the traffic), and the Prometheus series of the gateway.

Requests are counted in memory and written by the next response's background task once
FLUSH_SECONDS have passed: one transaction per process every few seconds, not one per request.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite

from campus.kernel import clock
from campus.kernel.metrics import status_label
from campus.kernel.runtime import Runtime
from campus.platform.gateway.models import GatewayMinute

log = structlog.get_logger(__name__)

KEEP_DAYS = 7
FLUSH_SECONDS = 5.0  # a process writes its pending counts at most this often
NO_ROUTE = "<none>"
ANONYMOUS = "<anonymous>"

REQUESTS = Counter(
    "campus_gateway_requests",
    "Requests answered by the gateway, by route, consumer and status class",
    ["route", "consumer", "status"],
)
LATENCY = Histogram(
    "campus_gateway_request_duration_seconds",
    "Time from a gateway request to the upstream's response headers (or the refusal)",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# The series' children by their labels: looking them up in the metric takes its lock each time.
_counters: dict[tuple[str, str, int], Any] = {}
_timers: dict[str, Any] = {}


def observe(route: str, consumer: str, status: int, seconds: float) -> None:
    key = (route, consumer, status)
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = REQUESTS.labels(route, consumer, status_label(status))
    counter.inc()
    timer = _timers.get(route)
    if timer is None:
        timer = _timers[route] = LATENCY.labels(route)
    timer.observe(seconds)


Key = tuple[datetime, str, str, str]  # minute, route, consumer, status class
_pending: dict[Key, list[int]] = {}  # requests, total ms, longest ms
_state = {"flushed_at": 0.0, "flushing": False}


def count(route: str, consumer: str, status: int, seconds: float) -> None:
    """Add the request to this process's pending counts (no I/O)."""
    ms = round(seconds * 1000)
    key = (clock.now().replace(second=0, microsecond=0), route, consumer, status_label(status))
    found = _pending.get(key)
    if found is None:
        _pending[key] = [1, ms, ms]
    else:
        found[0] += 1
        found[1] += ms
        found[2] = max(found[2], ms)


def flush_due() -> bool:
    """Whether FLUSH_SECONDS have passed since the last write (a response then takes
    ``flush_soon`` as its background task; others need none)."""
    return time.monotonic() - float(_state["flushed_at"]) >= FLUSH_SECONDS


async def flush_soon(rt: Runtime) -> None:
    """Write the pending counts if FLUSH_SECONDS have passed since the last write (after a
    response has gone: its background task)."""
    if flush_due():
        await flush(rt)


async def flush(rt: Runtime) -> None:
    """Add this process's pending counts to their minutes' rows, one upsert each, in one
    transaction; one flush at a time. Counts that could not be written are kept for the next."""
    global _pending
    if _state["flushing"] or not _pending:
        return
    _state["flushing"], _state["flushed_at"] = True, time.monotonic()
    taken, _pending = _pending, {}
    try:
        async with rt.db.transaction() as session:
            for key, figures in taken.items():
                await session.execute(_upsert(rt, key, figures))
    except Exception:
        log.warning("gateway_log_failed", exc_info=True)
        for key, (n, total, longest) in taken.items():
            count_back = _pending.setdefault(key, [0, 0, 0])
            count_back[0] += n
            count_back[1] += total
            count_back[2] = max(count_back[2], longest)
    finally:
        _state["flushing"] = False


def _upsert(rt: Runtime, key: Key, figures: list[int]) -> Any:
    minute, route, consumer, status_class = key
    requests, total_ms, max_ms = figures
    dialect: Any = postgresql if rt.db.dialect == "postgresql" else sqlite
    stmt = dialect.insert(GatewayMinute).values(
        minute=minute,
        route=route,
        consumer=consumer,
        status_class=status_class,
        requests=requests,
        total_ms=total_ms,
        max_ms=max_ms,
    )
    table = GatewayMinute.__table__.c
    return stmt.on_conflict_do_update(
        index_elements=["minute", "route", "consumer", "status_class"],
        set_={
            "requests": table.requests + requests,
            "total_ms": table.total_ms + total_ms,
            "max_ms": case((table.max_ms < max_ms, max_ms), else_=table.max_ms),
        },
    )


def reset() -> None:
    """Forget the pending counts (tests)."""
    _pending.clear()
    _state["flushed_at"] = 0.0


async def purge(rt: Runtime) -> None:
    cutoff = clock.now() - timedelta(days=KEEP_DAYS)
    async with rt.db.transaction() as session:
        await session.execute(delete(GatewayMinute).where(GatewayMinute.minute < cutoff))
