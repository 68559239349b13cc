"""What a selection request reads that does not change while a round runs, kept per process
for a short while so that the hot path does not read it again on every request: a section's
credits, majors and lecture slots, the sections assigned to a class in a round's term, and a
student's gender (read only when a section is restricted by gender).

Each entry is keyed by what would change with it, so an edit is seen at once where the key
moves, and within ``FACTS_SECONDS`` otherwise:

- a section's facts by its id and ``updated_at`` (an edit of the section moves the key); its
  lecture slots and majors also change without that (a timetable published, majors edited),
  which a request sees within ``FACTS_SECONDS``;
- a class's own sections by the class, the term and the round (its id and creation time): a
  new round reads them afresh;
- a student's gender by person, from the users module (a corrected record is seen within
  ``FACTS_SECONDS``);
- a programme's prerequisites by major, cohort and round (programmes are published before
  selection opens). What a student has passed is read on every request: grades are published
  while rounds run.

The database stays the record; nothing here decides a seat (the claim set does) or a place.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.grades.queries import passed_courses
from campus.domains.academic.offering.models import Section, SectionClass, SectionMajor
from campus.domains.academic.programmes.models import ProgrammePrerequisite
from campus.domains.academic.programmes.queries import effective_programme
from campus.domains.academic.selection.models import Round
from campus.domains.academic.selection.rules import (
    Holding,
    Meeting,
    Offer,
    Record,
    Student,
    weeks_of,
)
from campus.domains.academic.timetabling.models import PublishedLecture
from campus.platform.users import service as users

FACTS_SECONDS = 30.0
MAX_ENTRIES = 50_000  # a medium campus has a few thousand sections and classes

Slots = frozenset[tuple[int, int]]


class _Kept:
    """A small per-process store with a life per entry; cleared whole when it grows too big."""

    def __init__(self) -> None:
        self._items: dict[Hashable, tuple[float, object]] = {}

    def get(self, key: Hashable) -> object | None:
        item = self._items.get(key)
        if item is None or item[0] <= time.monotonic():
            return None
        return item[1]

    def put(self, key: Hashable, value: object) -> None:
        if len(self._items) >= MAX_ENTRIES:
            self._items.clear()
        self._items[key] = (time.monotonic() + FACTS_SECONDS, value)

    def clear(self) -> None:
        self._items.clear()


_kept = _Kept()


def forget() -> None:
    """Drops everything kept (tests; an operator after a bulk change mid-round)."""
    _kept.clear()


async def slots_of(
    session: AsyncSession, sections: Sequence[tuple[int, datetime]]
) -> dict[int, Slots]:
    """The (day, block) slots of each section, by (id, updated_at): kept ones, the rest read
    in one query."""
    found: dict[int, Slots] = {}
    missing: list[tuple[int, datetime]] = []
    for section_id, updated_at in sections:
        kept = _kept.get(("slots", section_id, updated_at))
        if isinstance(kept, frozenset):
            found[section_id] = kept
        else:
            missing.append((section_id, updated_at))
    if missing:
        read: dict[int, set[tuple[int, int]]] = defaultdict(set)
        for section_id, day, block in await session.execute(
            select(PublishedLecture.section_id, PublishedLecture.day, PublishedLecture.block).where(
                PublishedLecture.section_id.in_([s for s, _u in missing])
            )
        ):
            read[section_id].add((day, block))
        for section_id, updated_at in missing:
            slots = frozenset(read.get(section_id, ()))
            _kept.put(("slots", section_id, updated_at), slots)
            found[section_id] = slots
    return found


def _meeting(section: Section, slots: Slots) -> Meeting:
    return Meeting(weeks_of(section.week_from, section.week_to, section.week_parity), slots)


async def offer_of(session: AsyncSession, section: Section) -> Offer:
    """The section as selection sees it; its credits, majors and slots kept a while."""
    key = ("offer", section.id, section.updated_at)
    kept = _kept.get(key)
    if isinstance(kept, tuple):
        credits, majors = kept
    else:
        credits = await session.scalar(
            select(Course.credits).where(Course.id == section.course_id)
        ) or Decimal(0)
        majors = tuple(
            (major, grade)
            for major, grade in await session.execute(
                select(SectionMajor.org_unit_id, SectionMajor.grade).where(
                    SectionMajor.section_id == section.id
                )
            )
        )
        _kept.put(key, (credits, majors))
    slots = (await slots_of(session, [(section.id, section.updated_at)]))[section.id]
    return Offer(
        section_id=section.id,
        term_id=section.term_id,
        course_id=section.course_id,
        name=section.name,
        capacity=section.capacity,
        credits=credits,
        open=section.status == "open",
        meeting=_meeting(section, slots),
        majors=majors,
        gender=section.gender,
    )


async def with_gender(session: AsyncSession, student: Student) -> Student:
    """The student with their gender (as users records it), kept a while per person."""
    key = ("gender", student.person_id)
    kept = _kept.get(key)
    if not isinstance(kept, str):
        kept = (await users.genders_of(session, [student.person_id])).get(student.person_id, "")
        _kept.put(key, kept)
    return replace(student, gender=kept)


async def class_sections(session: AsyncSession, class_id: int, found: Round) -> list[Holding]:
    """The sections assigned to the class in the round's term (no credits counted against the
    round's limit), kept for the round."""
    key = ("class", class_id, found.term_id, found.id, found.created_at)
    kept = _kept.get(key)
    if isinstance(kept, list):
        return kept
    sections = list(
        await session.scalars(
            select(Section).where(
                Section.term_id == found.term_id,
                Section.id.in_(
                    select(SectionClass.section_id).where(SectionClass.class_id == class_id)
                ),
            )
        )
    )
    slots = await slots_of(session, [(s.id, s.updated_at) for s in sections])
    held = [
        Holding(s.id, s.course_id, s.name, Decimal(0), _meeting(s, slots[s.id])) for s in sections
    ]
    _kept.put(key, held)
    return held


async def record_of(session: AsyncSession, student: Student, found: Round) -> Record:
    """The courses the student has passed, and their programme's prerequisites."""
    passed = frozenset((await passed_courses(session, [student.person_id]))[student.person_id])
    key = ("prerequisites", student.major_id, student.grade, found.id, found.created_at)
    kept = _kept.get(key)
    if not isinstance(kept, dict):
        kept = await _prerequisites(session, student.major_id, student.grade)
        _kept.put(key, kept)
    return Record(passed, kept)


async def _prerequisites(
    session: AsyncSession, major_id: int, cohort: int
) -> dict[int, tuple[tuple[int, str], ...]]:
    programme = await effective_programme(session, major_id, cohort)
    if programme is None:
        return {}
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for course_id, prerequisite_id, name in await session.execute(
        select(ProgrammePrerequisite.course_id, ProgrammePrerequisite.prerequisite_id, Course.name)
        .join(Course, Course.id == ProgrammePrerequisite.prerequisite_id)
        .where(ProgrammePrerequisite.programme_id == programme.id)
        .order_by(Course.code)
    ):
        found[course_id].append((prerequisite_id, name))
    return {course: tuple(needed) for course, needed in found.items()}
