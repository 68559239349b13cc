"""This process's recent requests: per-minute figures per route and the last server errors.

Fed by the kernel's metrics middleware (``RequestSample``), held in memory and bounded: the
last ``KEEP_MINUTES`` minutes of aggregates and the last ``KEEP_ERRORS`` errors. Latencies are
counted in logarithmic buckets (four per doubling), so a percentile is exact to within about
10 % whatever the traffic, in a few dozen counters per route and minute. The cluster-wide view
is Prometheus and Grafana (``deploy/``); this is what one process saw.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from campus.kernel.observability import RequestSample

KEEP_MINUTES = 15
KEEP_ERRORS = 100
ERROR_TEXT_LIMIT = 300
STEPS_PER_DOUBLING = 4

RouteKey = tuple[str, str, str]  # method, route template, module


def bucket_of(seconds: float) -> int:
    """The logarithmic bucket of a duration (microsecond resolution at the bottom)."""
    micros = max(seconds * 1_000_000, 1.0)
    return math.floor(math.log2(micros) * STEPS_PER_DOUBLING)


def bucket_seconds(bucket: int) -> float:
    """The geometric middle of a bucket, in seconds."""
    return float(2 ** ((bucket + 0.5) / STEPS_PER_DOUBLING) / 1_000_000)


def percentile(buckets: Counter[int], q: float) -> float | None:
    """The ``q`` quantile (0–1) of the durations counted in ``buckets``, in seconds."""
    total = sum(buckets.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket_seconds(bucket)
    return None  # unreachable: the ranks add up to total


@dataclass
class Tally:
    """Requests, server errors and their durations, of one route in one minute (or merged)."""

    requests: int = 0
    errors: int = 0
    buckets: Counter[int] = field(default_factory=Counter)

    def add(self, status: int, seconds: float) -> None:
        self.requests += 1
        self.errors += status >= 500
        self.buckets[bucket_of(seconds)] += 1

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.buckets.update(other.buckets)


@dataclass(frozen=True)
class RecentError:
    at: datetime
    request_id: str
    method: str
    route: str
    module: str
    path: str
    status: int
    error: str | None


def error_text(error: BaseException | None) -> str | None:
    if error is None:
        return None
    text = f"{type(error).__name__}: {error}".splitlines()[0]
    return text[:ERROR_TEXT_LIMIT]


class Traffic:
    """The ring of per-minute tallies per route, and of the last server errors."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.minutes: dict[int, dict[RouteKey, Tally]] = {}
        self.errors: deque[RecentError] = deque(maxlen=KEEP_ERRORS)

    def now_minute(self) -> int:
        return int(self.clock() // 60)

    def observe(self, sample: RequestSample) -> None:
        minute = self.now_minute()
        tallies = self.minutes.get(minute)
        if tallies is None:
            tallies = self.minutes[minute] = {}
            self._forget_before(minute - KEEP_MINUTES + 1)
        key = (sample.method, sample.route, sample.module)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        tally.add(sample.status, sample.seconds)
        if sample.status >= 500:
            self.errors.append(self._error(sample))

    def _error(self, sample: RequestSample) -> RecentError:
        return RecentError(
            at=datetime.fromtimestamp(self.clock(), UTC),
            request_id=sample.request_id,
            method=sample.method,
            route=sample.route,
            module=sample.module,
            path=sample.path,
            status=sample.status,
            error=error_text(sample.error),
        )

    def _forget_before(self, oldest: int) -> None:
        for minute in [m for m in self.minutes if m < oldest]:
            del self.minutes[minute]

    def window(self, minutes: int) -> range:
        """The last ``minutes`` minutes, the current (partial) one included."""
        last = self.now_minute()
        return range(last - minutes + 1, last + 1)

    def per_route(self, minutes: int) -> dict[RouteKey, Tally]:
        merged: dict[RouteKey, Tally] = {}
        for minute in self.window(minutes):
            for key, tally in self.minutes.get(minute, {}).items():
                merged.setdefault(key, Tally()).merge(tally)
        return merged

    def per_minute(self, minutes: int, route: str | None = None) -> list[tuple[int, Tally]]:
        """One tally per minute of the window (empty minutes too), of one route template or
        of all."""
        return [
            (minute, _merged(t for k, t in self.minutes.get(minute, {}).items() if _on(k, route)))
            for minute in self.window(minutes)
        ]

    def recent_errors(self, limit: int) -> list[RecentError]:
        """The last server errors, newest first."""
        return list(reversed(self.errors))[:limit]


def _on(key: RouteKey, route: str | None) -> bool:
    return route is None or key[1] == route


def _merged(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    return total


# The process's one ring, fed by every app this process builds with the monitor module.
TRAFFIC = Traffic()
