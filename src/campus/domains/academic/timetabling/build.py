"""The engine's ``Problem`` built from the database: a term's open sections become courses
(with their teachers), each administrative class a curriculum of the sections it attends, the
active rooms with their closures, the term's teaching days × blocks (大节) the slots, and the
teachers' unavailable (hard) and avoided (soft) times.

Engine ids are strings: ``s<section id>``, ``r<room id>``, ``p<person id>``, ``c<class id>``,
``b<building id>``. A slot is ``day * blocks + block index``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Period, Term
from campus.domains.academic.offering.models import Section, SectionClass, SectionTeacher
from campus.domains.academic.rooms.models import Room
from campus.domains.academic.timetabling.engine import problem as engine
from campus.domains.academic.timetabling.models import (
    FixedSlot,
    Lecture,
    RoomClosure,
    TeacherTime,
)
from campus.platform.users import service as users

WEIGHTS = engine.Weights(teacher_preference=2, preferred_building=1, building_change=1)


@dataclass(frozen=True)
class Grid:
    """The term's week: ``days`` teaching days and the numbers of its blocks, in order."""

    days: int
    blocks: tuple[int, ...]

    def slot(self, day: int, block: int) -> int:
        return day * len(self.blocks) + self.blocks.index(block)

    def day_block(self, slot: int) -> tuple[int, int]:
        day, index = divmod(slot, len(self.blocks))
        return day, self.blocks[index]

    def has(self, day: int, block: int) -> bool:
        return 0 <= day < self.days and block in self.blocks


@dataclass
class SectionInfo:
    id: int
    code: str
    name: str
    lectures: int
    capacity: int
    room_type: str
    students: int
    teachers: list[int] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Built:
    problem: engine.Problem
    grid: Grid
    sections: dict[int, SectionInfo]


def section_key(section_id: int) -> str:
    return f"s{section_id}"


def room_key(room_id: int) -> str:
    return f"r{room_id}"


def teacher_key(person_id: int) -> str:
    return f"p{person_id}"


def id_of(key: str) -> int:
    return int(key[1:])


async def grid_of(session: AsyncSession, term: Term) -> Grid:
    blocks = sorted(
        set(await session.scalars(select(Period.block).where(Period.term_id == term.id)))
    )
    return Grid(days=term.days_per_week, blocks=tuple(blocks))


async def sections_of(session: AsyncSession, term_id: int) -> dict[int, SectionInfo]:
    """The term's open sections with their teachers and classes."""
    rows = await session.scalars(
        select(Section)
        .where(Section.term_id == term_id, Section.status == "open", Section.lectures_per_week > 0)
        .order_by(Section.id)
    )
    found = {
        s.id: SectionInfo(
            id=s.id,
            code=s.code,
            name=s.name,
            lectures=s.lectures_per_week,
            capacity=s.capacity,
            room_type=s.room_type,
            students=s.capacity,
        )
        for s in rows
    }
    if not found:
        return found
    ids = list(found)
    for section_id, person_id in await session.execute(
        select(SectionTeacher.section_id, SectionTeacher.person_id)
        .where(SectionTeacher.section_id.in_(ids))
        .order_by(SectionTeacher.id)
    ):
        found[section_id].teachers.append(person_id)
    for section_id, class_id in await session.execute(
        select(SectionClass.section_id, SectionClass.class_id)
        .where(SectionClass.section_id.in_(ids))
        .order_by(SectionClass.id)
    ):
        found[section_id].classes.append(class_id)
    return found


async def build_problem(
    session: AsyncSession, term: Term, *, with_pins: bool = True, name: str | None = None
) -> Built:
    grid = await grid_of(session, term)
    sections = await sections_of(session, term.id)
    sizes = {c.id: c.student_count for c in await users.list_classes(session)}
    extra = await session.execute(
        select(Section.id, Section.min_days, Section.building_id).where(
            Section.id.in_(list(sections) or [0])
        )
    )
    details = {sid: (min_days, building) for sid, min_days, building in extra}
    courses = []
    for info in sections.values():
        enrolled = sum(sizes.get(c, 0) for c in info.classes)
        info.students = enrolled if enrolled else info.capacity
        min_days, building = details[info.id]
        courses.append(
            engine.Course(
                id=section_key(info.id),
                teachers=tuple(teacher_key(p) for p in info.teachers),
                lectures=info.lectures,
                min_days=max(1, min(min_days, info.lectures)),
                students=info.students,
                room_type=info.room_type or None,
                building=f"b{building}" if building else None,
            )
        )
    closed: dict[int, set[int]] = defaultdict(set)
    for room_id, day, block in await session.execute(
        select(RoomClosure.room_id, RoomClosure.day, RoomClosure.block).where(
            RoomClosure.term_id == term.id
        )
    ):
        if grid.has(day, block):
            closed[room_id].add(grid.slot(day, block))
    rooms = tuple(
        engine.Room(
            id=room_key(r.id),
            capacity=r.capacity,
            room_type=r.room_type,
            building=f"b{r.building_id}",
            unavailable=frozenset(closed.get(r.id, ())),
        )
        for r in await session.scalars(select(Room).where(Room.active).order_by(Room.id))
    )
    by_class: dict[int, list[str]] = defaultdict(list)
    for info in sections.values():
        for class_id in info.classes:
            by_class[class_id].append(section_key(info.id))
    curricula = tuple(
        engine.Curriculum(id=f"c{class_id}", courses=tuple(keys))
        for class_id, keys in sorted(by_class.items())
    )
    unavailable: dict[str, set[int]] = defaultdict(set)
    avoided: dict[str, set[int]] = defaultdict(set)
    for person_id, day, block, kind in await session.execute(
        select(TeacherTime.person_id, TeacherTime.day, TeacherTime.block, TeacherTime.kind).where(
            TeacherTime.term_id == term.id
        )
    ):
        if grid.has(day, block):
            target = unavailable if kind == "unavailable" else avoided
            target[teacher_key(person_id)].add(grid.slot(day, block))
    fixed: dict[tuple[int, int], engine.Placement] = {}
    for section_id, number, day, block, room_id in await session.execute(
        select(
            FixedSlot.section_id,
            FixedSlot.number,
            FixedSlot.day,
            FixedSlot.block,
            FixedSlot.room_id,
        ).where(FixedSlot.term_id == term.id)
    ):
        if section_id in sections and grid.has(day, block):
            fixed[(section_id, number)] = engine.Placement(
                section_key(section_id), room_key(room_id), grid.slot(day, block)
            )
    if with_pins:
        for section_id, number, day, block, room_id in await session.execute(
            select(
                Lecture.section_id, Lecture.number, Lecture.day, Lecture.block, Lecture.room_id
            ).where(Lecture.term_id == term.id, Lecture.pinned)
        ):
            if section_id in sections and grid.has(day, block):
                fixed[(section_id, number)] = engine.Placement(
                    section_key(section_id), room_key(room_id), grid.slot(day, block)
                )
    problem = engine.Problem(
        name=name or term.code,
        days=grid.days,
        periods_per_day=len(grid.blocks),
        courses=tuple(courses),
        rooms=rooms,
        curricula=curricula,
        weights=WEIGHTS,
        fixed=tuple(fixed[k] for k in sorted(fixed)),
        teacher_unavailable={k: frozenset(v) for k, v in unavailable.items()},
        teacher_dispreferred={k: frozenset(v) for k, v in avoided.items()},
    )
    return Built(problem, grid, sections)


async def draft_placements(
    session: AsyncSession, term_id: int, grid: Grid
) -> list[engine.Placement]:
    """The term's draft timetable as engine placements (lectures outside the grid left out)."""
    rows = await session.execute(
        select(Lecture.section_id, Lecture.day, Lecture.block, Lecture.room_id)
        .where(Lecture.term_id == term_id)
        .order_by(Lecture.section_id, Lecture.number)
    )
    return [
        engine.Placement(section_key(s), room_key(r), grid.slot(d, b))
        for s, d, b, r in rows
        if grid.has(d, b)
    ]
