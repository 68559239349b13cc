"""Reads of course selection: rounds, what the rules need about a student and a section, and
the students' places."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Float, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.catalog.queries import course_matches
from campus.domains.academic.offering import queries as offering_queries
from campus.domains.academic.offering.models import Section, SectionClass, SectionMajor
from campus.domains.academic.rooms.models import Room
from campus.domains.academic.selection.models import Enrollment, Round
from campus.domains.academic.selection.rules import (
    Holding,
    Meeting,
    Offer,
    Student,
    Window,
    in_population,
    weeks_of,
)
from campus.domains.academic.selection.schemas import HELD, OfferOut, PlaceOut
from campus.domains.academic.status.models import StudentStatus
from campus.domains.academic.timetabling.models import PublishedLecture
from campus.domains.academic.timetabling.queries import weeks_label
from campus.kernel.cache import Cache
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _


async def round_or_404(session: AsyncSession, round_id: int) -> Round:
    found = await session.get(Round, round_id)
    if found is None:
        raise NotFound(_("选课轮次不存在"))
    return found


async def rounds_of(session: AsyncSession, term_id: int | None = None) -> list[Round]:
    stmt = select(Round).order_by(Round.opens_at.desc(), Round.id.desc())
    if term_id is not None:
        stmt = stmt.where(Round.term_id == term_id)
    return list(await session.scalars(stmt))


async def open_round(session: AsyncSession, student: Student | None, now: datetime) -> Round | None:
    """The round open now for the student: one whose population includes them (the latest
    opened first), else any open round (whose rules then say why they may not select). For
    someone who is no student, the latest opened."""
    rounds = list(
        await session.scalars(
            select(Round)
            .where(Round.opens_at <= now, Round.closes_at > now)
            .order_by(Round.opens_at.desc(), Round.id.desc())
        )
    )
    ours = (r for r in rounds if student is not None and in_population(window_of(r), student))
    return next(ours, None) or next(iter(rounds), None)


async def sections_in_open_rounds(session: AsyncSession, now: datetime) -> list[int]:
    """The sections of every term with a round open now."""
    terms = select(Round.term_id).where(Round.opens_at <= now, Round.closes_at > now)
    return list(
        await session.scalars(
            select(Section.id).where(Section.term_id.in_(terms), Section.status == "open")
        )
    )


def window_of(found: Round) -> Window:
    return Window(
        term_id=found.term_id,
        opens_at=found.opens_at,
        closes_at=found.closes_at,
        grades=tuple(found.grades),
        major_ids=tuple(found.major_ids),
        max_credits=found.max_credits,
    )


async def student_of(session: AsyncSession, person_id: int) -> tuple[Student, int | None] | None:
    """The student as the rules see them, and their administrative class."""
    row = (
        await session.execute(
            select(
                StudentStatus.major_id,
                StudentStatus.grade,
                StudentStatus.in_school,
                StudentStatus.class_id,
            ).where(StudentStatus.person_id == person_id)
        )
    ).first()
    if row is None:
        return None
    major_id, grade, in_school, class_id = row
    return Student(person_id, major_id, grade, in_school), class_id


async def students_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Student]:
    rows = await session.execute(
        select(
            StudentStatus.person_id,
            StudentStatus.major_id,
            StudentStatus.grade,
            StudentStatus.in_school,
        ).where(StudentStatus.person_id.in_(person_ids))
    )
    return {row[0]: Student(*row) for row in rows}


async def meetings(session: AsyncSession, sections: Sequence[Section]) -> dict[int, Meeting]:
    """When each section meets, from the published timetable (no slots before it is out)."""
    slots: dict[int, set[tuple[int, int]]] = defaultdict(set)
    ids = [s.id for s in sections]
    if ids:
        for section_id, day, block in await session.execute(
            select(PublishedLecture.section_id, PublishedLecture.day, PublishedLecture.block).where(
                PublishedLecture.section_id.in_(ids)
            )
        ):
            slots[section_id].add((day, block))
    return {
        s.id: Meeting(weeks_of(s.week_from, s.week_to, s.week_parity), frozenset(slots[s.id]))
        for s in sections
    }


async def offer_of(session: AsyncSession, section: Section) -> Offer:
    credits = await session.scalar(select(Course.credits).where(Course.id == section.course_id))
    majors = tuple(
        (major, grade)
        for major, grade in await session.execute(
            select(SectionMajor.org_unit_id, SectionMajor.grade).where(
                SectionMajor.section_id == section.id
            )
        )
    )
    return Offer(
        section_id=section.id,
        term_id=section.term_id,
        course_id=section.course_id,
        name=section.name,
        capacity=section.capacity,
        credits=credits or Decimal(0),
        open=section.status == "open",
        meeting=(await meetings(session, [section]))[section.id],
        majors=majors,
        gender=section.gender,
    )


async def holdings(
    session: AsyncSession, person_id: int, class_id: int | None, term_id: int
) -> list[Holding]:
    """The sections on the student's timetable in the term: their class's (no credits
    counted) and those they hold in selection."""
    places = {
        e.section_id: e
        for e in await session.scalars(
            select(Enrollment).where(
                Enrollment.person_id == person_id,
                Enrollment.term_id == term_id,
                Enrollment.status.in_(HELD),
            )
        )
    }
    where: list[ColumnElement[bool]] = [Section.id.in_(places)] if places else []
    if class_id is not None:
        own = select(SectionClass.section_id).where(SectionClass.class_id == class_id)
        where.append(Section.id.in_(own) & (Section.term_id == term_id))
    if not where:
        return []
    sections = list(await session.scalars(select(Section).where(or_(*where))))
    when = await meetings(session, sections)
    return [
        Holding(
            section_id=s.id,
            course_id=s.course_id,
            name=s.name,
            credits=places[s.id].credits if s.id in places else Decimal(0),
            meeting=when[s.id],
        )
        for s in sections
    ]


@dataclass(frozen=True)
class MyPlace:
    """One of the student's rows in the term, as a selection request needs it."""

    id: int
    section_id: int
    course_id: int
    status: str
    credits: Decimal
    name: str
    week_from: int
    week_to: int
    week_parity: str
    updated_at: datetime  # the section's


async def my_places(session: AsyncSession, person_id: int, term_id: int) -> dict[int, MyPlace]:
    """The student's rows in the term (any status), with their sections' facts, by section:
    one query for the rules' holdings and for the row a selection writes."""
    rows = await session.execute(
        select(
            Enrollment.id,
            Enrollment.section_id,
            Enrollment.course_id,
            Enrollment.status,
            Enrollment.credits,
            Section.name,
            Section.week_from,
            Section.week_to,
            Section.week_parity,
            Section.updated_at,
        )
        .join(Section, Section.id == Enrollment.section_id)
        .where(Enrollment.person_id == person_id, Enrollment.term_id == term_id)
    )
    return {row.section_id: MyPlace(**row._mapping) for row in rows}


async def place_of(
    session: AsyncSession, person_id: int, section_id: int, *, lock: bool = False
) -> Enrollment | None:
    """The student's place in the section; ``lock``: its row locked (PostgreSQL), so that a
    drop waits for a promotion of the same place and then sees it."""
    stmt = select(Enrollment).where(
        Enrollment.person_id == person_id, Enrollment.section_id == section_id
    )
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found: Enrollment | None = await session.scalar(stmt)
    return found


async def selected_ids(session: AsyncSession, section_id: int) -> list[int]:
    """Who holds a seat of the section, by the database."""
    return list(
        await session.scalars(
            select(Enrollment.person_id).where(
                Enrollment.section_id == section_id, Enrollment.status == "selected"
            )
        )
    )


async def seats_taken(session: AsyncSession, section_id: int) -> int:
    """The section's seats held by the database, counted with the section's row locked
    (PostgreSQL; SQLite has one writer anyway) until the transaction ends: two transactions
    counting for the same section count one after the other, each seeing the other's seat."""
    await session.execute(select(Section.id).where(Section.id == section_id).with_for_update())
    found = await session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.section_id == section_id, Enrollment.status == "selected")
    )
    return int(found or 0)


async def holders(session: AsyncSession, section_ids: Sequence[int]) -> dict[int, list[int]]:
    """Who holds a seat of each section, by the database."""
    found: dict[int, list[int]] = defaultdict(list)
    if section_ids:
        for section_id, person_id in await session.execute(
            select(Enrollment.section_id, Enrollment.person_id).where(
                Enrollment.section_id.in_(section_ids), Enrollment.status == "selected"
            )
        ):
            found[section_id].append(person_id)
    return found


async def waitlist_head(session: AsyncSession, section_id: int) -> Enrollment | None:
    """The first in the section's waitlist, locked; two drops at once promote two different
    students (each skips the row the other holds)."""
    found: Enrollment | None = await session.scalar(
        select(Enrollment)
        .where(Enrollment.section_id == section_id, Enrollment.status == "waitlisted")
        .order_by(Enrollment.queued_at, Enrollment.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return found


async def waitlist_position(session: AsyncSession, place: Enrollment) -> int:
    return await position_in(session, place.section_id, place.queued_at, place.id)


async def position_in(
    session: AsyncSession, section_id: int, queued_at: datetime, place_id: int
) -> int:
    """A waitlisted place's position in its section's waitlist (1 for the head)."""
    ahead = await session.scalar(
        select(func.count()).where(
            Enrollment.section_id == section_id,
            Enrollment.status == "waitlisted",
            (Enrollment.queued_at < queued_at)
            | ((Enrollment.queued_at == queued_at) & (Enrollment.id < place_id)),
        )
    )
    return int(ahead or 0) + 1


async def places_of(session: AsyncSession, person_id: int, term_id: int) -> list[PlaceOut]:
    rows = list(
        await session.execute(
            select(Enrollment, Section.code, Section.name)
            .join(Section, Section.id == Enrollment.section_id)
            .where(Enrollment.person_id == person_id, Enrollment.term_id == term_id)
            .order_by(Enrollment.queued_at, Enrollment.id)
        )
    )
    out = []
    for place, code, name in rows:
        position = await waitlist_position(session, place) if place.status == "waitlisted" else None
        out.append(
            PlaceOut(
                section_id=place.section_id,
                section_code=code,
                section_name=name,
                course_id=place.course_id,
                credits=place.credits,
                status=place.status,
                source=place.source,
                queued_at=place.queued_at,
                waitlist_position=position,
            )
        )
    return out


async def seat_counts(
    session: AsyncSession, section_ids: Sequence[int]
) -> dict[int, dict[str, int]]:
    """Places per section and status, by the database."""
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if section_ids:
        for section_id, status, n in await session.execute(
            select(Enrollment.section_id, Enrollment.status, func.count())
            .where(Enrollment.section_id.in_(section_ids))
            .group_by(Enrollment.section_id, Enrollment.status)
        ):
            counts[section_id][status] = n
    return counts


async def offers(
    session: AsyncSession,
    term_id: int,
    *,
    q: str | None = None,
    college_id: int | None = None,
    limit: int = 100,
) -> list[OfferOut]:
    """The term's open sections offered to majors for selection (those with majors set),
    matching the course code or name, with their places."""
    stmt = (
        select(Section)
        .join(Course, Course.id == Section.course_id)
        .where(
            Section.term_id == term_id,
            Section.status == "open",
            Section.id.in_(select(SectionMajor.section_id)),
        )
        .order_by(Course.code, Section.code)
        .limit(limit)
    )
    if q:
        stmt = stmt.where(course_matches(q))
    if college_id is not None:
        stmt = stmt.where(Section.org_unit_id == college_id)
    return await offers_out(session, list(await session.scalars(stmt)))


async def offers_out(session: AsyncSession, sections: list[Section]) -> list[OfferOut]:
    """The sections with their places as the database has them."""
    outs = await offering_queries.sections_out(session, sections)
    counts = await seat_counts(session, [s.id for s in sections])
    return [
        OfferOut(
            section=out,
            selected=counts[out.id].get("selected", 0),
            waitlisted=counts[out.id].get("waitlisted", 0),
            preferred=counts[out.id].get("preferred", 0),
        )
        for out in outs
    ]


@dataclass(frozen=True)
class Lecture:
    """A published lecture as a student reads it in selection: when, where, which weeks."""

    section_id: int
    day: int
    block: int
    room: str
    weeks: str


async def lectures_of(
    session: AsyncSession, section_ids: Sequence[int]
) -> dict[int, list[Lecture]]:
    """The published lectures of the sections, by section, in the order of the week."""
    found: dict[int, list[Lecture]] = defaultdict(list)
    if section_ids:
        for section_id, day, block, room, week_from, week_to, parity in await session.execute(
            select(
                PublishedLecture.section_id,
                PublishedLecture.day,
                PublishedLecture.block,
                Room.code,
                Section.week_from,
                Section.week_to,
                Section.week_parity,
            )
            .join(Section, Section.id == PublishedLecture.section_id)
            .join(Room, Room.id == PublishedLecture.room_id)
            .where(PublishedLecture.section_id.in_(section_ids))
            .order_by(PublishedLecture.day, PublishedLecture.block)
        ):
            weeks = weeks_label(week_from, week_to, parity)
            found[section_id].append(Lecture(section_id, day, block, room, weeks))
    return found


# ---------------------------------------------------------------- the registrar's dashboard


@dataclass(frozen=True)
class Fill:
    """How full a section is: seats taken (or wished for, in a lottery round) of its capacity."""

    section_id: int
    name: str
    capacity: int
    taken: int
    waitlisted: int

    @property
    def ratio(self) -> float:
        return self.taken / self.capacity if self.capacity else 0.0


async def round_counts(session: AsyncSession, round_id: int) -> dict[str, int]:
    """The places made in the round, by status."""
    return {
        status: n
        for status, n in await session.execute(
            select(Enrollment.status, func.count())
            .where(Enrollment.round_id == round_id)
            .group_by(Enrollment.status)
        )
    }


async def hot_sections(session: AsyncSession, term_id: int, limit: int = 10) -> list[Fill]:
    """The term's fullest sections: seats taken and wished for of the capacity, the longer
    waitlist first among equals."""
    counted = (
        select(
            Enrollment.section_id,
            func.sum(case((Enrollment.status.in_(("selected", "preferred")), 1), else_=0)).label(
                "taken"
            ),
            func.sum(case((Enrollment.status == "waitlisted", 1), else_=0)).label("waitlisted"),
        )
        .where(Enrollment.term_id == term_id, Enrollment.status.in_(HELD))
        .group_by(Enrollment.section_id)
        .subquery()
    )
    rows = await session.execute(
        select(Section.id, Section.name, Section.capacity, counted.c.taken, counted.c.waitlisted)
        .join(counted, counted.c.section_id == Section.id)
        .where(Section.capacity > 0)
        .order_by(
            (cast(counted.c.taken, Float) / Section.capacity).desc(),
            counted.c.waitlisted.desc(),
            Section.id,
        )
        .limit(limit)
    )
    return [Fill(*row) for row in rows]


def refusal_key(round_id: int, reason: str) -> str:
    """The cache counter of a round's refusals for one reason (refusals write nothing to the
    database, so they are counted here)."""
    return f"acad:sel:refused:{round_id}:{reason}"


async def refusal_counts(cache: Cache, round_id: int, reasons: Iterable[str]) -> dict[str, int]:
    """How often each reason refused a selection in the round (while its counters live)."""
    return {r: int(await cache.get(refusal_key(round_id, r)) or 0) for r in reasons}
