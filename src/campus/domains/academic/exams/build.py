"""The engine's ``ExamProblem`` built from the database, and the stored timetable read back as
an engine ``Solution`` (so that the independent scorer can check what was stored).

Exams are the term's exams not excluded that have students; their students are the (active)
students of the classes of their sections. Manual exams given a session by hand are fixed there
(with their rooms, if they have any), so that the solver plans the others around them; manual
exams without a session stay out. Periods are the term's exam sessions in time order, rooms the
chosen rooms with exam seats (all active ones by default) and the rooms of the fixed exams.
Students' unavailable sessions (``ExamUnavailability``) close those periods to their exams."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.exams.engine import problem as engine
from campus.domains.academic.exams.models import (
    Exam,
    ExamRoom,
    ExamSection,
    ExamSession,
    ExamUnavailability,
)
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
    names: dict[int, str]  # exam id → the course's name
    fixed: frozenset[int]  # the exam ids fixed by hand (manual exams with a session)
    term_id: int

    def index(self, exam_id: int) -> int | None:
        """The engine index of an exam (None when it is not in the problem)."""
        return self.exam_ids.index(exam_id) if exam_id in self.exam_ids else None


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


async def unavailable_of(session: AsyncSession, term_id: int) -> dict[int, set[int]]:
    """Each person's unavailable sessions in the term (person id → session ids)."""
    found: dict[int, set[int]] = defaultdict(set)
    for person_id, session_id in await session.execute(
        select(ExamUnavailability.person_id, ExamUnavailability.session_id).where(
            ExamUnavailability.term_id == term_id
        )
    ):
        found[person_id].add(session_id)
    return dict(found)


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


async def build_problem(
    session: AsyncSession,
    term: Term,
    room_ids: list[int],
    *,
    moving: int | None = None,
    rooms_in_use: bool = False,
) -> Built:
    """The term's problem. ``moving``: an exam to include although manual without a session
    (a manual move places it); ``rooms_in_use``: add every room an exam of the term sits in
    (to read the stored timetable back)."""
    rows = list(
        await session.execute(
            select(Exam, Course.code, Course.name, Course.org_unit_id)
            .join(Course, Course.id == Exam.course_id)
            .where(
                Exam.term_id == term.id,
                Exam.excluded.is_(False),
                or_(Exam.manual.is_(False), Exam.session_id.is_not(None), Exam.id == moving),
            )
            .order_by(Course.code)
        )
    )
    students, teachers = await students_of_exams(session, [row[0].id for row in rows])
    periods = await sessions_of(session, term.id)
    period_of = {p.id: i for i, p in enumerate(periods)}
    pinned = {
        exam.id: exam.session_id
        for exam, *_rest in rows
        if exam.manual and exam.session_id in period_of and students.get(exam.id)
    }
    placed_rooms: dict[int, list[tuple[int, int]]] = defaultdict(list)
    in_use = select(ExamRoom.exam_id, ExamRoom.room_id, ExamRoom.seats).order_by(
        ExamRoom.exam_id, ExamRoom.position
    )
    if rooms_in_use:
        in_use = in_use.join(Exam, Exam.id == ExamRoom.exam_id).where(Exam.term_id == term.id)
    else:
        in_use = in_use.where(ExamRoom.exam_id.in_(list(pinned) or [0]))
    for exam_id, room_id, seats in await session.execute(in_use):
        placed_rooms[exam_id].append((room_id, seats))
    rooms = await exam_rooms(session, room_ids)
    extra = sorted({r for held in placed_rooms.values() for r, _s in held} - {r.id for r in rooms})
    if extra:
        rooms = sorted([*rooms, *await exam_rooms(session, extra)], key=lambda r: r.code)
    room_of = {r.id: i for i, r in enumerate(rooms)}
    biggest = max((r.seats for r in rooms), default=1)
    away = await unavailable_of(session, term.id)
    exams: list[engine.Exam] = []
    exam_ids: list[int] = []
    owners: dict[int, int] = {}
    names: dict[int, str] = {}
    fixed: dict[int, engine.Placement] = {}
    unavailable: dict[engine.StudentId, frozenset[int]] = {}
    for exam, code, name, owner in rows:
        people = students.get(exam.id, [])
        if not people:
            continue
        need = math.ceil(len(people) / biggest)
        if exam.id in pinned:
            held = placed_rooms.get(exam.id, [])
            fixed[len(exams)] = engine.Placement(
                period=period_of[pinned[exam.id]],
                rooms=tuple(room_of[r] for r, _s in held),
                seats=tuple(s for _r, s in held) if len(held) > 1 else (),
            )
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
        names[exam.id] = name
        for person in people:
            if person in away and person not in unavailable:
                unavailable[person] = frozenset(period_of[s] for s in away[person])
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
        unavailable=unavailable,
        fixed=fixed,
    )
    return Built(
        problem,
        exam_ids,
        [p.id for p in periods],
        rooms,
        {e: students.get(e, []) for e in exam_ids},
        {e: teachers.get(e, []) for e in exam_ids},
        owners,
        names,
        frozenset(e for e in exam_ids if e in pinned),
        term.id,
    )


async def stored_solution(session: AsyncSession, built: Built) -> engine.Solution:
    """The stored timetable of the exams of ``built`` as an engine solution."""
    period_of = {sid: i for i, sid in enumerate(built.session_ids)}
    room_of = {r.id: i for i, r in enumerate(built.rooms)}
    placed: list[engine.Placement | None] = []
    for index, exam_id in enumerate(built.exam_ids):
        if index in built.problem.fixed:
            placed.append(built.problem.fixed[index])
            continue
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
