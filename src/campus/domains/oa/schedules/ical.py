"""A person's schedule as iCalendar (RFC 5545), for any calendar application."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event

from campus.domains.oa.schemas import CalendarItem
from campus.kernel import clock
from campus.kernel.clock import local

PRODUCT_ID = "-//Campus//OA Schedule//ZH"


def export(items: list[CalendarItem], name: str, host: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    stamp = clock.now()
    for item in items:
        calendar.add_component(_event(item, host, stamp))
    return bytes(calendar.to_ical())


def _event(item: CalendarItem, host: str, stamp: object) -> Event:
    event = Event()
    event.add("uid", f"oa-event-{item.id}@{host}")
    event.add("dtstamp", stamp)
    event.add("summary", item.title)
    if item.all_day:
        # All-day events are dates: the first day and the day after the last (exclusive).
        first = local(item.starts_at).date()
        event.add("dtstart", first)
        event.add("dtend", max(local(item.ends_at).date(), first + timedelta(days=1)))
    else:
        event.add("dtstart", item.starts_at)
        event.add("dtend", item.ends_at)
    if item.place:
        event.add("location", item.place)
    if item.cancelled:
        event.add("status", "CANCELLED")
    elif item.response == "tentative":
        event.add("status", "TENTATIVE")
    else:
        event.add("status", "CONFIRMED")
    return event
