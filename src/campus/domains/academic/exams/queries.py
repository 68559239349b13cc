"""Reads of exam scheduling: a term's sessions, exams and runs, the registrar's overview per
session and room, seat plans, people's unavailable sessions, what a manual move would do, a
student's own exam timetable, a teacher's duties and the exams of their courses, and the rows
of the Excel export."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import runs
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.exams.adjust import MovePlan
from campus.domains.academic.exams.models import (
    Exam,
    ExamPlan,
    ExamRoom,
    ExamRun,
    ExamSeat,
    ExamSection,
    ExamSession,
    ExamUnavailability,
    Invigilation,
)
from campus.domains.academic.exams.schemas import (
    DutyOut,
    ExamOut,
    ExamRoomOut,
    FieldProblemOut,
    MoveCheckOut,
    MoveDutyOut,
    MoveRoomOut,
    MyExamOut,
    PlanOut,
    RoomSittingOut,
    RunOut,
    SeatOut,
    SessionOut,
    UnavailabilityOut,
)
from campus.domains.academic.offering.models import Section, SectionTeacher
from campus.domains.academic.rooms.models import Room
from campus.kernel import tasks
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES


async def term_or_404(session: AsyncSession, term_id: int | None) -> Term:
    term: Term | None
    if term_id is None:
        term = await session.scalar(select(Term).where(Term.current).limit(1))
        if term is None:
            term = await session.scalar(select(Term).order_by(Term.start_date.desc()).limit(1))
    else:
        term = await session.get(Term, term_id)
    if term is None:
        raise NotFound(_("学期不存在"))
    return term


async def terms(session: AsyncSession) -> list[Term]:
    return list(await session.scalars(select(Term).order_by(Term.start_date.desc())))


def exam_days(term: Term) -> tuple[date, date]:
    """The first and last day of the term's exam weeks."""
    first = term.start_date + timedelta(days=7 * (term.exam_week_from - 1))
    last = term.start_date + timedelta(days=7 * term.exam_week_to - 1)
    return first, last


async def plan_of(session: AsyncSession, term_id: int) -> PlanOut:
    plan = await session.scalar(select(ExamPlan).where(ExamPlan.term_id == term_id))
    if plan is None:
        return PlanOut(term_id=term_id, scheduled=False, published=False, version=0, run_id=None)
    return PlanOut(
        term_id=term_id,
        scheduled=plan.scheduled_at is not None,
        published=plan.published,
        version=plan.version,
        run_id=plan.run_id,
    )


async def is_published(session: AsyncSession, term_id: int) -> bool:
    return bool(
        await session.scalar(
            select(ExamPlan.published).where(ExamPlan.term_id == term_id, ExamPlan.published)
        )
    )


async def sessions_out(session: AsyncSession, term_id: int) -> list[SessionOut]:
    rows = await session.scalars(
        select(ExamSession)
        .where(ExamSession.term_id == term_id)
        .order_by(ExamSession.day, ExamSession.starts)
    )
    return [SessionOut.model_validate(r) for r in rows]


async def exams_out(
    session: AsyncSession, term_id: int, exam_ids: list[int] | None = None
) -> list[ExamOut]:
    stmt = (
        select(Exam, Course.code, Course.name)
        .join(Course, Course.id == Exam.course_id)
        .where(Exam.term_id == term_id)
        .order_by(Course.code)
    )
    if exam_ids is not None:
        stmt = stmt.where(Exam.id.in_(exam_ids or [0]))
    rows = list(await session.execute(stmt))
    ids = [exam.id for exam, _c, _n in rows]
    sections: dict[int, list[tuple[int, str]]] = defaultdict(list)
    rooms: dict[int, list[ExamRoomOut]] = defaultdict(list)
    if ids:
        for exam_id, section_id, name in await session.execute(
            select(ExamSection.exam_id, Section.id, Section.name)
            .join(Section, Section.id == ExamSection.section_id)
            .where(ExamSection.exam_id.in_(ids))
            .order_by(Section.code)
        ):
            sections[exam_id].append((section_id, name))
        for exam_id, room_id, code, name, seats in await session.execute(
            select(ExamRoom.exam_id, Room.id, Room.code, Room.name, ExamRoom.seats)
            .join(Room, Room.id == ExamRoom.room_id)
            .where(ExamRoom.exam_id.in_(ids))
            .order_by(ExamRoom.position)
        ):
            rooms[exam_id].append(ExamRoomOut(room_id=room_id, code=code, name=name, seats=seats))
    by_session = {s.id: s for s in await sessions_out(session, term_id)}
    return [
        ExamOut(
            id=exam.id,
            term_id=exam.term_id,
            course_id=exam.course_id,
            course_code=code,
            course_name=name,
            duration=exam.duration,
            excluded=exam.excluded,
            manual=exam.manual,
            section_ids=[s for s, _n in sections[exam.id]],
            sections=[n for _s, n in sections[exam.id]],
            students=exam.students,
            session=by_session.get(exam.session_id) if exam.session_id else None,
            rooms=rooms[exam.id],
        )
        for exam, code, name in rows
    ]


async def run_out(session: AsyncSession, run: ExamRun) -> RunOut:
    return RunOut(**await runs.out_fields(session, run))


async def run_or_404(session: AsyncSession, run_id: int) -> ExamRun:
    run = await session.get(ExamRun, run_id)
    if run is None:
        raise NotFound(_("考试安排运行不存在"))
    return run


async def runs_of(session: AsyncSession, term_id: int, limit: int = 10) -> list[RunOut]:
    stmt = (
        select(ExamRun).where(ExamRun.term_id == term_id).order_by(ExamRun.id.desc()).limit(limit)
    )
    return [await run_out(session, run) for run in await session.scalars(stmt)]


async def active_run(session: AsyncSession, term_id: int) -> ExamRun | None:
    return await session.scalar(
        select(ExamRun)
        .join(tasks.TaskRow, tasks.TaskRow.id == ExamRun.task_id)
        .where(ExamRun.term_id == term_id, tasks.TaskRow.status.in_((tasks.QUEUED, tasks.RUNNING)))
        .limit(1)
    )


# ---------------------------------------------------------------- overview and seat plans


async def overview(session: AsyncSession, term_id: int) -> list[RoomSittingOut]:
    """Every room in use in every session: its exams, students and invigilators."""
    found: dict[tuple[int, int], RoomSittingOut] = {}
    order: dict[int, tuple[date, object]] = {}
    for s in await sessions_out(session, term_id):
        order[s.id] = (s.day, s.starts)
    rows = await session.execute(
        select(Exam.session_id, Room.id, Room.code, Room.exam_capacity, Course.name, ExamRoom.seats)
        .join(ExamRoom, ExamRoom.exam_id == Exam.id)
        .join(Room, Room.id == ExamRoom.room_id)
        .join(Course, Course.id == Exam.course_id)
        .where(Exam.term_id == term_id, Exam.session_id.is_not(None))
    )
    for when, room_id, code, capacity, course, seats in rows:
        session_id = int(when or 0)
        key = (session_id, room_id)
        if key not in found:
            found[key] = RoomSittingOut(
                session_id=session_id,
                room_id=room_id,
                room=code,
                capacity=capacity,
                exams=[],
                students=0,
                invigilators=[],
            )
        found[key].exams.append(course)
        found[key].students += seats
    duty_rows = list(
        await session.execute(
            select(Invigilation.session_id, Invigilation.room_id, Invigilation.person_id)
            .where(Invigilation.term_id == term_id)
            .order_by(Invigilation.id)
        )
    )
    people = await users.get_people(session, sorted({p for _s, _r, p in duty_rows}))
    for session_id, room_id, person_id in duty_rows:
        if (session_id, room_id) in found:
            person = people.get(person_id)
            found[session_id, room_id].invigilators.append(
                person.name if person else str(person_id)
            )
    return sorted(found.values(), key=lambda x: (order.get(x.session_id, (date.min,)), x.room))


async def seat_plan(session: AsyncSession, session_id: int, room_id: int) -> list[SeatOut]:
    rows = list(
        await session.execute(
            select(ExamSeat, Course.name)
            .join(Exam, Exam.id == ExamSeat.exam_id)
            .join(Course, Course.id == Exam.course_id)
            .where(Exam.session_id == session_id, ExamSeat.room_id == room_id)
            .order_by(ExamSeat.number)
        )
    )
    people = await users.get_people(session, [seat.person_id for seat, _n in rows])
    out = []
    for seat, course in rows:
        person = people.get(seat.person_id)
        out.append(
            SeatOut(
                number=seat.number,
                row=seat.row,
                column=seat.column,
                person_id=seat.person_id,
                name=person.name if person else str(seat.person_id),
                student_no=person.number if person else None,
                exam=course,
            )
        )
    return out


# ---------------------------------------------------------------- manual changes


async def unavailability_out(
    session: AsyncSession, term_id: int, ids: list[int] | None = None
) -> list[UnavailabilityOut]:
    """The term's unavailable sessions (or those of ``ids``), by session then name."""
    stmt = select(ExamUnavailability).where(ExamUnavailability.term_id == term_id)
    if ids is not None:
        stmt = stmt.where(ExamUnavailability.id.in_(ids or [0]))
    rows = list(await session.scalars(stmt))
    people = await users.get_people(session, sorted({r.person_id for r in rows}))
    by_session = {s.id: s for s in await sessions_out(session, term_id)}
    out = []
    for row in rows:
        person = people.get(row.person_id)
        out.append(
            UnavailabilityOut(
                id=row.id,
                person_id=row.person_id,
                name=person.name if person else str(row.person_id),
                number=person.number if person else None,
                role="student" if person and person.person_type in STUDENT_TYPES else "staff",
                session=by_session[row.session_id],
                reason=row.reason,
                created_at=row.created_at,
            )
        )
    return sorted(out, key=lambda u: (u.session.day, u.session.starts, u.name))


async def move_out(session: AsyncSession, plan: MovePlan) -> MoveCheckOut:
    """What a planned move would do, for the registrar to see before saving."""
    target = await session.get(ExamSession, plan.session_id) if plan.session_id else None
    return MoveCheckOut(
        exam_id=plan.exam.id,
        ok=plan.ok,
        problems=[FieldProblemOut(field=e.field, reason=str(e.reason)) for e in plan.problems],
        warnings=plan.warnings,
        session=SessionOut.model_validate(target) if target else None,
        rooms=[
            MoveRoomOut(
                room_id=use.room.id,
                code=use.room.code,
                name=use.room.name,
                capacity=use.room.seats,
                seats=use.seats,
                taken=use.taken,
                exams=use.exams,
            )
            for use in plan.rooms
        ],
        invigilators=[
            MoveDutyOut(
                room_id=use.room.id,
                room=use.room.code,
                invigilators=[
                    plan.names.get(p, str(p))
                    for p in plan.duties.get((plan.session_id or 0, use.room.id), ())
                ],
            )
            for use in plan.rooms
        ],
        soft_delta=plan.soft_delta,
    )


# ---------------------------------------------------------------- people's own views


async def student_exams(session: AsyncSession, term_id: int, person_id: int) -> list[MyExamOut]:
    """A student's exams with their seats (the published timetable only)."""
    if not await is_published(session, term_id):
        return []
    rows = await session.execute(
        select(ExamSeat, Exam, Course.code, Course.name, ExamSession, Room.code, Room.name)
        .join(Exam, Exam.id == ExamSeat.exam_id)
        .join(Course, Course.id == Exam.course_id)
        .join(ExamSession, ExamSession.id == Exam.session_id)
        .join(Room, Room.id == ExamSeat.room_id)
        .where(Exam.term_id == term_id, ExamSeat.person_id == person_id)
        .order_by(ExamSession.day, ExamSession.starts)
    )
    return [
        MyExamOut(
            exam_id=exam.id,
            course_code=code,
            course_name=name,
            day=when.day,
            starts=when.starts,
            ends=when.ends,
            room=f"{room_code} {room_name}",
            seat=seat.number,
            row=seat.row,
            column=seat.column,
        )
        for seat, exam, code, name, when, room_code, room_name in rows
    ]


async def teacher_exams(session: AsyncSession, term_id: int, person_id: int) -> list[ExamOut]:
    """The exams of the sections a teacher teaches (the published timetable only)."""
    if not await is_published(session, term_id):
        return []
    ids = list(
        await session.scalars(
            select(ExamSection.exam_id)
            .join(SectionTeacher, SectionTeacher.section_id == ExamSection.section_id)
            .join(Exam, Exam.id == ExamSection.exam_id)
            .where(SectionTeacher.person_id == person_id, Exam.term_id == term_id)
            .distinct()
        )
    )
    return [e for e in await exams_out(session, term_id, ids) if not e.excluded]


async def duties_of(session: AsyncSession, term_id: int, person_id: int) -> list[DutyOut]:
    """A person's invigilation duties (the published timetable only)."""
    if not await is_published(session, term_id):
        return []
    mine = list(
        await session.execute(
            select(Invigilation.session_id, Invigilation.room_id).where(
                Invigilation.term_id == term_id, Invigilation.person_id == person_id
            )
        )
    )
    if not mine:
        return []
    sittings = {(r.session_id, r.room_id): r for r in await overview(session, term_id)}
    me = await users.get_person_ref(session, person_id)
    by_session = {s.id: s for s in await sessions_out(session, term_id)}
    out = []
    for session_id, room_id in mine:
        sitting = sittings.get((session_id, room_id))
        when = by_session[session_id]
        out.append(
            DutyOut(
                session_id=session_id,
                day=when.day,
                starts=when.starts,
                ends=when.ends,
                room_id=room_id,
                room=sitting.room if sitting else str(room_id),
                exams=sitting.exams if sitting else [],
                students=sitting.students if sitting else 0,
                colleagues=[
                    n
                    for n in (sitting.invigilators if sitting else [])
                    if me is None or n != me.name
                ],
            )
        )
    return sorted(out, key=lambda d: (d.day, d.starts))


async def schedule_rows(session: AsyncSession, term_id: int) -> list[list[object]]:
    """The rows of the exam schedule export: one per exam and room."""
    rows: list[list[object]] = []
    for exam in await exams_out(session, term_id):
        if exam.excluded:
            continue
        when = exam.session
        base: list[object] = [
            exam.course_code,
            exam.course_name,
            "、".join(exam.sections),
            exam.duration,
            when.day.isoformat() if when else "",
            f"{when.starts:%H:%M}-{when.ends:%H:%M}" if when else "",
        ]
        if not exam.rooms:
            rows.append([*base, "手工安排" if exam.manual else "", exam.students])
        for room in exam.rooms:
            rows.append([*base, f"{room.code} {room.name}", room.seats])
    return rows
