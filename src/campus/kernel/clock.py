"""The one clock of the platform, so that tests can move time; and campus time.

Campus time is China Standard Time (UTC+8, no daylight saving). Instants are stored in UTC;
what people type and read (a meeting at 09:00, a notice expiring on a day, the year of a
文号) is China time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

# A fixed offset needs no time-zone database.
CHINA = timezone(timedelta(hours=8), "CST")


def now() -> datetime:
    return datetime.now(UTC)


def local(instant: datetime) -> datetime:
    """An instant in China time."""
    return instant.astimezone(CHINA)


def today() -> date:
    """Today's date on campus."""
    return local(now()).date()


def aware(value: datetime) -> datetime:
    """A datetime typed without a zone means China time; one with a zone is kept."""
    return value.replace(tzinfo=CHINA) if value.tzinfo is None else value


def start_of_day(day: date) -> datetime:
    """Midnight China time at the start of ``day``, in UTC."""
    return datetime.combine(day, time(), CHINA).astimezone(UTC)


def fmt(instant: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """An instant as people read it, in China time ("" for none)."""
    return "" if instant is None else local(instant).strftime(pattern)
