"""A published timetable as iCalendar (RFC 5545): one event per lecture and teaching week, on
its real date (holidays skipped, make-up days 调休 taught as the weekday they stand for) at the
times of its block in the period grid."""

from __future__ import annotations

from datetime import date, datetime, time

from icalendar import Calendar, Event

from campus.domains.academic.calendar.models import Term, TermDay
from campus.domains.academic.offering.models import Section
from campus.domains.academic.timetabling.queries import date_of, teaches_in, week_of
from campus.domains.academic.timetabling.schemas import LectureOut
from campus.kernel import clock
from campus.kernel.clock import CHINA

PRODUCT_ID = "-//Campus//Academic Timetable//ZH"


def occurrences(
    term: Term,
    lecture: LectureOut,
    section: Section,
    marked: dict[date, TermDay],
) -> list[tuple[int, date]]:
    """(week, date) of every time the lecture is taught in the term."""
    found: list[tuple[int, date]] = []
    for week in range(1, term.teaching_weeks + 1):
        if not teaches_in(section, week):
            continue
        on = date_of(term, week, lecture.day)
        if on in marked and marked[on].kind == "holiday":
            continue
        found.append((week, on))
    for on, row in marked.items():
        if row.kind == "makeup" and row.as_weekday == lecture.day:
            week = week_of(term, on)
            if 1 <= week <= term.teaching_weeks and teaches_in(section, week):
                found.append((week, on))
    return sorted(found, key=lambda x: x[1])


def export(
    term: Term,
    lectures: list[LectureOut],
    sections: dict[int, Section],
    marked: dict[date, TermDay],
    times: dict[int, tuple[time, time]],
    name: str,
    host: str,
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    stamp = clock.now()
    for lecture in lectures:
        section = sections.get(lecture.section_id)
        if section is None or lecture.block not in times:
            continue
        starts, ends = times[lecture.block]
        for week, on in occurrences(term, lecture, section, marked):
            event = Event()
            event.add(
                "uid", f"acad-{term.id}-{lecture.section_id}-{lecture.number}-{on:%Y%m%d}@{host}"
            )
            event.add("dtstamp", stamp)
            event.add("summary", lecture.section)
            event.add("dtstart", datetime.combine(on, starts, CHINA))
            event.add("dtend", datetime.combine(on, ends, CHINA))
            event.add("location", lecture.room)
            teachers = "、".join(lecture.teachers)
            event.add("description", f"第{week}周 第{lecture.block}大节 {teachers}".strip())
            calendar.add_component(event)
    return bytes(calendar.to_ical())
