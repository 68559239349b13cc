"""The traffic ring the overview reads: per-minute tallies per route that forget what is older
than the window, percentiles within the promised accuracy, a bounded list of errors; and the
dead-letter gauge the alert rules read from /metrics."""

from __future__ import annotations

import random

import httpx
from prometheus_client.parser import text_string_to_metric_families

from campus.kernel.observability import RequestSample
from campus.kernel.runtime import Runtime
from campus.platform.monitor.traffic import (
    KEEP_ERRORS,
    KEEP_MINUTES,
    Tally,
    Traffic,
    percentile,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def sample(
    route: str = "/a", status: int = 200, seconds: float = 0.01, rid: str = "r"
) -> RequestSample:
    return RequestSample("GET", route, "m", status, seconds, route, rid)


def test_percentiles_are_within_ten_percent() -> None:
    rng = random.Random(7)
    durations = sorted(rng.lognormvariate(-3, 1) for _ in range(5000))
    tally = Tally()
    for seconds in durations:
        tally.add(200, seconds)

    for q in (0.5, 0.95, 0.99):
        exact = durations[int(q * len(durations)) - 1]
        estimate = percentile(tally.buckets, q)
        assert estimate is not None
        assert abs(estimate - exact) / exact < 0.1, (q, estimate, exact)
    assert percentile(Tally().buckets, 0.5) is None


def test_minutes_outside_the_window_are_forgotten() -> None:
    clock = Clock()
    ring = Traffic(clock)
    ring.observe(sample("/old"))
    clock.now += 60 * (KEEP_MINUTES - 1)
    ring.observe(sample("/new", status=503))

    assert set(k[1] for k in ring.per_route(KEEP_MINUTES)) == {"/old", "/new"}
    assert set(k[1] for k in ring.per_route(1)) == {"/new"}
    clock.now += 60
    ring.observe(sample("/new"))

    assert len(ring.minutes) == 2, "only minutes with requests are kept, the oldest dropped"
    assert set(k[1] for k in ring.per_route(KEEP_MINUTES)) == {"/new"}
    new = ring.per_route(KEEP_MINUTES)[("GET", "/new", "m")]
    assert (new.requests, new.errors) == (2, 1)
    per_minute = ring.per_minute(3, "/new")
    assert [t.requests for _m, t in per_minute] == [0, 1, 1]


def test_only_server_errors_are_kept_and_only_the_last_ones() -> None:
    ring = Traffic(Clock())
    ring.observe(sample(status=404, rid="not-found"))
    for n in range(KEEP_ERRORS + 5):
        ring.observe(sample(status=500, rid=f"e{n}"))

    errors = ring.recent_errors(KEEP_ERRORS + 10)
    assert len(errors) == KEEP_ERRORS
    assert errors[0].request_id == f"e{KEEP_ERRORS + 4}"
    assert errors[-1].request_id == "e5"
    assert "not-found" not in {e.request_id for e in errors}


def test_an_error_message_is_cut_to_one_short_line() -> None:
    ring = Traffic(Clock())
    long = ValueError("x" * 1000 + "\nsecond line")
    ring.observe(RequestSample("GET", "/a", "m", 500, 0.1, "/a", "r", long))

    (error,) = ring.recent_errors(1)
    assert error.error is not None
    assert error.error.startswith("ValueError: xxx")
    assert len(error.error) == 300 and "second line" not in error.error


async def test_metrics_export_the_dead_letters_waiting(
    anon: httpx.AsyncClient, db: Runtime, letter: int
) -> None:
    from campus.platform.monitor import service

    async with db.db.read() as session:
        pending = await service.pending_dead_letters(session)

    response = await anon.get("/metrics")

    assert response.status_code == 200
    values = {
        s.name: s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert pending >= 1
    assert values["campus_event_dead_letters_pending"] == pending
