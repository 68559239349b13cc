"""The engine's ``ExamProblem`` built from the database, and the stored timetable read back as
an engine ``Solution`` (so that the independent scorer can check what was stored).

Exams are the term's exams neither excluded nor manual that have students; their students are
the (active) students of the classes of their sections. Periods are the term's exam sessions in
time order, rooms the chosen rooms with exam seats (all active ones by default)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.exams.engine import problem as engine
from campus.domains.academic.exams.models import Exam, ExamRoom, ExamSection, ExamSession
from campus.domains.academic.offering.models import SectionClass, SectionTeacher
from campus.domains.academic.rooms.models import Room
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES

WEIGHTS = engine.Weightings(two_in_a_row=10, two_in_a_day=5, period_spread=2)


@dataclass(frozen=True)
class RoomInfo:
    id: int
    code: str
    name: str
    seats: int


@dataclass(frozen=True)
class Built:
    problem: engine.ExamProblem
    exam_ids: list[int]  # engine index → exam id
    session_ids: list[int]  # engine period index → session id
    rooms: list[RoomInfo]  # engine room index → room
    students: dict[int, list[int]]  # exam id → person ids
    teachers: dict[int, list[int]]  # exam id → the teachers of its sections
    owners: dict[int, int]  # exam id → the course's owning unit


def minutes(starts: object, ends: object) -> int:
    a, b = starts, ends
    return (b.hour * 60 + b.minute) - (a.hour * 60 + a.minute)  # type: ignore[attr-defined]


async def sessions_of(session: AsyncSession, term_id: int) -> list[ExamSession]:
    return list(
        await session.scalars(
            select(ExamSession)
            .where(ExamSession.term_id == term_id)
            .order_by(ExamSession.day, ExamSession.starts, ExamSession.id)
        )
    )


async def exam_rooms(session: AsyncSession, room_ids: list[int]) -> list[RoomInfo]:
    stmt = select(Room).where(Room.active, Room.exam_capacity > 0).order_by(Room.code)
    if room_ids:
        stmt = select(Room).where(Room.id.in_(room_ids)).order_by(Room.code)
    return [RoomInfo(r.id, r.code, r.name, r.exam_capacity) for r in await session.scalars(stmt)]


async def students_of_exams(
    session: AsyncSession, exam_ids: list[int]
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Each exam's students (of its sections' classes) and teachers."""
    classes: dict[int, set[int]] = defaultdict(set)
    teachers: dict[int, list[int]] = defaultdict(list)
    if not exam_ids:
        return {}, {}
    for exam_id, class_id in await session.execute(
        select(ExamSection.exam_id, SectionClass.class_id)
        .join(SectionClass, SectionClass.section_id == ExamSection.section_id)
        .where(ExamSection.exam_id.in_(exam_ids))
    ):
        classes[exam_id].add(class_id)
    for exam_id, person_id in await session.execute(
        select(ExamSection.exam_id, SectionTeacher.person_id)
        .join(SectionTeacher, SectionTeacher.section_id == ExamSection.section_id)
        .where(ExamSection.exam_id.in_(exam_ids))
        .order_by(SectionTeacher.id)
    ):
        if person_id not in teachers[exam_id]:
            teachers[exam_id].append(person_id)
    students: dict[int, list[int]] = {}
    for exam_id in exam_ids:
        ids = sorted(classes.get(exam_id, ()))
        students[exam_id] = (
            await users.people_in_groups(session, class_ids=ids, person_types=STUDENT_TYPES)
            if ids
            else []
        )
    return students, dict(teachers)


async def build_problem(session: AsyncSession, term: Term, room_ids: list[int]) -> Built:
    rows = list(
        await session.execute(
            select(Exam, Course.code, Course.org_unit_id)
            .join(Course, Course.id == Exam.course_id)
            .where(Exam.term_id == term.id, Exam.excluded.is_(False), Exam.manual.is_(False))
            .order_by(Course.code)
        )
    )
    students, teachers = await students_of_exams(session, [exam.id for exam, _c, _o in rows])
    periods = await sessions_of(session, term.id)
    rooms = await exam_rooms(session, room_ids)
    biggest = max((r.seats for r in rooms), default=1)
    exams: list[engine.Exam] = []
    exam_ids: list[int] = []
    owners: dict[int, int] = {}
    for exam, code, owner in rows:
        people = students.get(exam.id, [])
        if not people:
            continue
        need = math.ceil(len(people) / biggest)
        exams.append(
            engine.Exam(
                duration=exam.duration,
                students=tuple(people),
                id=code,
                max_rooms=max(1, min(len(rooms), need + 1)),
            )
        )
        exam_ids.append(exam.id)
        owners[exam.id] = owner
    problem = engine.ExamProblem(
        exams=tuple(exams),
        periods=tuple(
            engine.Period(
                date=p.day, start=p.starts, duration=minutes(p.starts, p.ends), id=str(p.id)
            )
            for p in periods
        ),
        rooms=tuple(engine.Room(capacity=r.seats, id=r.code) for r in rooms),
        weightings=WEIGHTS,
        name=term.code,
    )
    return Built(
        problem,
        exam_ids,
        [p.id for p in periods],
        rooms,
        {e: students.get(e, []) for e in exam_ids},
        {e: teachers.get(e, []) for e in exam_ids},
        owners,
    )


async def stored_solution(session: AsyncSession, built: Built) -> engine.Solution:
    """The stored timetable of the exams of ``built`` as an engine solution."""
    period_of = {sid: i for i, sid in enumerate(built.session_ids)}
    room_of = {r.id: i for i, r in enumerate(built.rooms)}
    placed: list[engine.Placement | None] = []
    for exam_id in built.exam_ids:
        exam = await session.get(Exam, exam_id)
        rooms = list(
            await session.execute(
                select(ExamRoom.room_id, ExamRoom.seats)
                .where(ExamRoom.exam_id == exam_id)
                .order_by(ExamRoom.position)
            )
        )
        if exam is None or exam.session_id not in period_of or not rooms:
            placed.append(None)
            continue
        placed.append(
            engine.Placement(
                period=period_of[exam.session_id],
                rooms=tuple(room_of[r] for r, _s in rooms),
                seats=tuple(s for _r, s in rooms),
            )
        )
    return engine.Solution(tuple(placed))
