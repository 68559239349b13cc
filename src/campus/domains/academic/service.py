"""The public Python interface of academic affairs: what other modules (and the other topics of
this module) may call. Functions take a session and return schemas, never ORM objects."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar import queries as calendar
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog import queries as catalog
from campus.domains.academic.exams.schemas import DutyOut as InvigilationDuty
from campus.domains.academic.exams.schemas import MyExamOut as StudentExam
from campus.domains.academic.grades import results as grade_results
from campus.domains.academic.grades.schemas import GpaSummary
from campus.domains.academic.grades.schemas import ResultOut as CourseResult
from campus.domains.academic.offering import queries as offering_queries
from campus.domains.academic.offering.models import Section
from campus.domains.academic.offering.schemas import SectionOut
from campus.domains.academic.programmes import queries as programme_queries
from campus.domains.academic.programmes.schemas import ProgrammeOut
from campus.domains.academic.rooms import queries as rooms
from campus.domains.academic.schemas import (
    BuildingOut,
    CourseOut,
    PeriodGrid,
    RoomOut,
    TeachingDay,
    TermCalendar,
    TermOut,
)
from campus.domains.academic.selection import queries as selection
from campus.domains.academic.status import queries as status_queries
from campus.domains.academic.status.schemas import RecordOut as StudentStatusOut
from campus.domains.academic.timetabling.schemas import FreeRoomOut as FreeRoom
from campus.domains.academic.timetabling.schemas import LectureOut as TimetableLecture

# ---------------------------------------------------------------- calendar (校历)


async def current_term(session: AsyncSession) -> TermOut | None:
    """The term marked current (exactly one once the calendar has a term)."""
    term = await calendar.current_term(session)
    return None if term is None else calendar.term_out(term)


async def get_term(session: AsyncSession, term_id: int) -> TermOut | None:
    term = await session.get(Term, term_id)
    return None if term is None else calendar.term_out(term)


async def term_by_code(session: AsyncSession, code: str) -> TermOut | None:
    term = await calendar.term_by_code(session, code)
    return None if term is None else calendar.term_out(term)


async def list_terms(session: AsyncSession) -> list[TermOut]:
    """Every term, the latest first."""
    return [calendar.term_out(t) for t in await calendar.terms(session)]


async def term_of_date(session: AsyncSession, day: date) -> TermOut | None:
    term = await calendar.term_of_date(session, day)
    return None if term is None else calendar.term_out(term)


def week_of(term: TermOut, day: date) -> int | None:
    """The teaching week ``day`` falls in (1-based), None outside the term."""
    return calendar.week_of(term, day)


def date_of(term: TermOut, week: int, weekday: int) -> date:
    """The date of ``weekday`` (0 Monday … 6 Sunday) in ``week`` of the term."""
    return calendar.date_of(term, week, weekday)


def dates_of_week(term: TermOut, week: int) -> list[date]:
    """Monday to Sunday of ``week``."""
    return [calendar.date_of(term, week, d) for d in range(7)]


async def teaching_days(session: AsyncSession, term: TermOut) -> list[TeachingDay]:
    """The days taught in the teaching weeks, in order: holidays removed, make-up days (调休)
    added as the weekday they stand for."""
    days = await calendar.term_days(session, term.id)
    return calendar.teaching_days_of(term, days)


async def term_calendar(session: AsyncSession, term_id: int) -> TermCalendar | None:
    """The term's weeks as a grid, with holidays, make-up days and exam weeks."""
    term = await session.get(Term, term_id)
    return None if term is None else await calendar.calendar(session, term)


async def period_grid(session: AsyncSession, term_id: int) -> PeriodGrid:
    """The term's periods (节次) and blocks (大节); empty lists when none is set."""
    return calendar.grid_of(term_id, await calendar.periods(session, term_id))


async def block_times(session: AsyncSession, term_id: int, block: int) -> tuple[time, time] | None:
    """When block ``block`` of the term starts and ends."""
    found = (await period_grid(session, term_id)).block(block)
    return None if found is None else (found.starts, found.ends)


# ---------------------------------------------------------------- rooms (教学楼与教室)


async def list_buildings(session: AsyncSession) -> list[BuildingOut]:
    return await rooms.buildings_out(session)


async def get_room(session: AsyncSession, room_id: int) -> RoomOut | None:
    found = await rooms.rooms_out(session, [room_id])
    return found.get(room_id)


async def get_rooms(session: AsyncSession, room_ids: Sequence[int]) -> dict[int, RoomOut]:
    return await rooms.rooms_out(session, room_ids)


async def list_rooms(
    session: AsyncSession,
    *,
    room_type: str | None = None,
    min_capacity: int | None = None,
    building_id: int | None = None,
    active_only: bool = True,
) -> list[RoomOut]:
    """Rooms for timetabling and exams, by building and code."""
    f = rooms.RoomFilter(
        building_id=building_id,
        room_type=room_type,
        min_capacity=min_capacity,
        active=True if active_only else None,
    )
    return await rooms.all_rooms(session, f)


# ---------------------------------------------------------------- catalogue (课程库)


async def get_course(session: AsyncSession, course_id: int) -> CourseOut | None:
    return (await catalog.courses_out(session, [course_id])).get(course_id)


async def get_courses(session: AsyncSession, course_ids: Sequence[int]) -> dict[int, CourseOut]:
    return await catalog.courses_out(session, course_ids)


async def course_by_code(session: AsyncSession, code: str) -> CourseOut | None:
    course = await catalog.course_by_code(session, code)
    return None if course is None else (await catalog.courses_out(session, [course.id]))[course.id]


async def courses_of_units(
    session: AsyncSession, org_unit_ids: Sequence[int], active_only: bool = True
) -> list[CourseOut]:
    """The courses owned by these org units (开课单位), by code."""
    return await catalog.courses_of_units(session, org_unit_ids, active_only)


# ---------------------------------------------------------------- student status (学籍)


async def get_student_status(session: AsyncSession, person_id: int) -> StudentStatusOut | None:
    """A student's status record (学籍): major, class, cohort, status, whether in school."""
    record = await status_queries.record_of(session, person_id)
    if record is None:
        return None
    return (await status_queries.records_out(session, [record]))[0]


async def students_in_school(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    """Those of the people whose status keeps them in school (在读)."""
    return await status_queries.in_school_of(session, person_ids)


# ---------------------------------------------------------------- exams (考试安排)


async def published_exams_of(
    session: AsyncSession, person_id: int, term_id: int | None = None
) -> list[StudentExam]:
    """A student's published exams in the term (the current one by default): date, time,
    room and seat. Empty until the term's exam timetable is published."""
    from campus.domains.academic.exams import queries as exams

    term = await exams.term_or_404(session, term_id)
    return await exams.student_exams(session, term.id, person_id)


async def invigilation_duties_of(
    session: AsyncSession, person_id: int, term_id: int | None = None
) -> list[InvigilationDuty]:
    """A person's published invigilation duties (监考) in the term (the current by default)."""
    from campus.domains.academic.exams import queries as exams

    term = await exams.term_or_404(session, term_id)
    return await exams.duties_of(session, term.id, person_id)


# ---------------------------------------------------------------- timetabling (排课)


async def published_timetable_of(
    session: AsyncSession, person_id: int, term_id: int | None = None
) -> list[TimetableLecture]:
    """A person's published weekly lectures in the term (the current one by default): a
    student's class's, a teacher's own sections'."""
    from campus.domains.academic.timetabling import queries as timetabling
    from campus.platform.users import service as users

    term = await timetabling.term_or_404(session, term_id)
    person = await users.get_person_ref(session, person_id)
    classes = [person.class_id] if person is not None and person.class_id is not None else []
    return await timetabling.lectures_of_person(session, term.id, person_id, classes)


async def free_rooms(
    session: AsyncSession,
    term_id: int,
    *,
    week: int,
    day: int,
    block: int,
    building_id: int | None = None,
    room_type: str | None = None,
    min_capacity: int | None = None,
) -> list[FreeRoom]:
    """Rooms with no published lecture (nor closure) at that week, day (0 Monday) and block."""
    from campus.domains.academic.timetabling import queries as timetabling

    term = await timetabling.term_or_404(session, term_id)
    return await timetabling.free_rooms(
        session,
        term,
        week=week,
        day=day,
        block=block,
        building_id=building_id,
        room_type=room_type,
        min_capacity=min_capacity,
    )


# ---------------------------------------------------------- programmes, offering (培养方案, 开课)


async def programme_of(session: AsyncSession, major_id: int, cohort: int) -> ProgrammeOut | None:
    """The programme in force for a major and cohort: its latest published version."""
    found = await programme_queries.effective_programme(session, major_id, cohort)
    return None if found is None else await programme_queries.programme_out(session, found)


async def programme_of_class(session: AsyncSession, class_id: int) -> ProgrammeOut | None:
    """The programme in force for an administrative class (its major and grade)."""
    from campus.platform.users import service as users

    found = await users.get_class(session, class_id)
    return None if found is None else await programme_of(session, found.org_unit_id, found.grade)


async def get_section(session: AsyncSession, section_id: int) -> SectionOut | None:
    found = await session.get(Section, section_id)
    return None if found is None else await offering_queries.section_out(session, found)


async def sections_of_term(
    session: AsyncSession,
    term_id: int,
    *,
    teacher_id: int | None = None,
    class_id: int | None = None,
) -> list[SectionOut]:
    """The term's sections (教学班) with teachers, classes and majors; of one teacher or class."""
    f = offering_queries.SectionFilter(teacher_id=teacher_id, class_id=class_id)
    rows = await offering_queries.section_rows(session, term_id, f)
    return await offering_queries.sections_out(session, rows)


async def sections_taken(session: AsyncSession, person_id: int, term_id: int) -> list[int]:
    """The open sections a student takes in the term, by the rule of their timetable in course
    selection (``selection.queries.holdings``: their class's sections and those they hold a
    place in), less the places that are no seat yet (waitlisted, or a lottery wish)."""
    found = await selection.student_of(session, person_id)
    if found is None:
        return []
    held = await selection.holdings(session, person_id, found[1], term_id)
    waiting = {
        p.section_id
        for p in await selection.places_of(session, person_id, term_id)
        if p.status in ("waitlisted", "preferred")
    }
    ids = [h.section_id for h in held if h.section_id not in waiting]
    if not ids:
        return []
    return sorted(
        await session.scalars(
            select(Section.id).where(Section.id.in_(ids), Section.status == "open")
        )
    )


# ---------------------------------------------------------------- grades (成绩)


async def course_results_of(
    session: AsyncSession, person_id: int, gpa_scale: str = "4.0"
) -> list[CourseResult]:
    """A student's published course results (课程成绩), oldest term first: course, term,
    section, credits, score or level, grade point on ``gpa_scale`` ("4.0" or "5.0"), passed,
    attempt (normal, makeup 补考, retake 重修) and whether it is the result of its course that
    counts (for credits and GPA)."""
    return await grade_results.course_results_of(session, person_id, gpa_scale)


async def gpa_of(session: AsyncSession, person_id: int, gpa_scale: str = "4.0") -> GpaSummary:
    """A student's GPA weighted by credits over the counted results, with their graded,
    earned and failed credits (pass/fail courses count for credits, not for GPA)."""
    found = grade_results.gpa_of_results(
        await grade_results.course_results_of(session, person_id, gpa_scale),
        gpa_scale,
        await grade_results.current_policy(session),
    )
    return GpaSummary(
        gpa=found.gpa,
        graded_credits=found.graded_credits,
        earned_credits=found.earned_credits,
        failed_credits=found.failed_credits,
    )
