"""The calendar page's grids: the weeks of a month, the days of a week, each day with the
events that touch it (China time)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from campus.domains.oa.schemas import CalendarItem
from campus.kernel.clock import local

View = Literal["month", "week"]
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")


@dataclass
class Day:
    day: date
    in_range: bool  # in the month shown (always, for a week)
    is_today: bool
    items: list[CalendarItem] = field(default_factory=list)


def bounds(view: View, anchor: date) -> tuple[date, date]:
    """The first day shown and the day after the last: whole weeks, Monday first."""
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=7)
    month_start = anchor.replace(day=1)
    first = month_start - timedelta(days=month_start.weekday())
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    last = next_month + timedelta(days=(7 - next_month.weekday()) % 7)
    return first, last


def days_of(item: CalendarItem) -> list[date]:
    """The days (China time) an event touches; one ending at midnight does not touch the next."""
    first = local(item.starts_at).date()
    end = local(item.ends_at)
    last = (
        end.date()
        if (end.hour, end.minute, end.second) != (0, 0, 0)
        else end.date() - timedelta(days=1)
    )
    last = max(first, last)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def grid(view: View, anchor: date, today: date, items: list[CalendarItem]) -> list[list[Day]]:
    """Weeks of days (one week for the week view), the events placed on their days."""
    first, end = bounds(view, anchor)
    days: dict[date, Day] = {}
    n = 0
    while first + timedelta(days=n) < end:
        day = first + timedelta(days=n)
        in_range = view == "week" or day.month == anchor.month
        days[day] = Day(day, in_range, day == today)
        n += 1
    for item in items:
        for day in days_of(item):
            if day in days:
                days[day].items.append(item)
    ordered = list(days.values())
    return [ordered[i : i + 7] for i in range(0, len(ordered), 7)]


def step(view: View, anchor: date, forward: bool) -> date:
    """The anchor of the previous or next month or week."""
    if view == "week":
        return anchor + timedelta(days=7 if forward else -7)
    month_start = anchor.replace(day=1)
    if forward:
        return (month_start + timedelta(days=32)).replace(day=1)
    return (month_start - timedelta(days=1)).replace(day=1)
