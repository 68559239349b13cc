"""Invariants of the small pure parts: quiet hours, template filling, the reads-over-time
buckets."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from campus.kernel import clock
from campus.platform.messaging import actions, queries
from campus.platform.messaging.models import QuietHours
from campus.platform.messaging.schemas import placeholders

MINUTES = st.integers(min_value=0, max_value=24 * 60 - 1)
INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)


def inside(quiet: QuietHours, instant: datetime) -> bool:
    local = instant.astimezone(clock.CHINA)
    minute = local.hour * 60 + local.minute
    start, end = quiet.start_minute, quiet.end_minute
    return start <= minute < end if start < end else minute >= start or minute < end


@given(MINUTES, MINUTES, INSTANTS)
def test_quiet_hours_hold_exactly_inside_the_period_until_its_end(
    start: int, end: int, now: datetime
) -> None:
    quiet = QuietHours(person_id=1, enabled=True, start_minute=start, end_minute=end)
    until = actions.quiet_until(quiet, now)
    if start == end or not inside(quiet, now):
        assert until is None
        return
    assert until is not None
    assert now < until <= now + timedelta(days=1)
    local = until.astimezone(clock.CHINA)
    assert local.hour * 60 + local.minute == end
    assert not inside(quiet, until)  # the period is over when the held sends go out


NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
VALUES = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)


@given(st.dictionaries(NAMES, VALUES, max_size=5), st.text(max_size=30))
def test_filling_replaces_every_given_variable_and_nothing_else(
    variables: dict[str, str], filler: str
) -> None:
    text = filler + "".join(f"[{{{name}}}]" for name in variables) + "{unknown_name}"
    filled = actions.fill(text, variables)
    assert placeholders(filled) - placeholders(filler) <= {"unknown_name"}
    for value in variables.values():
        assert f"[{value}]" in filled


@given(st.lists(st.integers(min_value=0, max_value=72 * 60), max_size=60))
def test_read_buckets_count_every_read_once(offsets: list[int]) -> None:
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    times = sorted(start + timedelta(minutes=m) for m in offsets)
    now = start + timedelta(hours=80)
    buckets = queries.read_buckets(start, times, now)
    assert sum(b.read for b in buckets) == len(times)
    assert buckets[-1].cumulative == len(times)
    assert all(a.at < b.at for a, b in itertools.pairwise(buckets))
