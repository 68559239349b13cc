"""Reads of timetabling: terms and their week grid, lectures (draft or published) with their
names, runs with their task, free rooms, and the hard clashes of putting a lecture somewhere."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import runs
from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering.models import Section, SectionClass, SectionTeacher
from campus.domains.academic.rooms.models import Building, Room
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.domains.academic.timetabling import build
from campus.domains.academic.timetabling.models import (
    Lecture,
    PublishedLecture,
    RoomClosure,
    Run,
    TeacherTime,
    Timetable,
)
from campus.domains.academic.timetabling.schemas import FreeRoomOut, LectureOut, RunOut, SlotOption
from campus.kernel import tasks
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


async def current_term(session: AsyncSession) -> Term | None:
    term = await session.scalar(select(Term).where(Term.current).order_by(Term.id.desc()))
    if term is None:
        term = await session.scalar(select(Term).order_by(Term.start_date.desc()))
    return term


async def term_or_404(session: AsyncSession, term_id: int | None) -> Term:
    term = await (current_term(session) if term_id is None else session.get(Term, term_id))
    if term is None:
        raise NotFound(_("学期不存在"))
    return term


async def terms(session: AsyncSession) -> list[Term]:
    return list(await session.scalars(select(Term).order_by(Term.start_date.desc())))


async def block_times(session: AsyncSession, term_id: int) -> dict[int, tuple[time, time]]:
    """Each block's start and end (its first period's start, its last period's end)."""
    spans: dict[int, tuple[time, time]] = {}
    for block, starts, ends in await session.execute(
        select(Period.block, Period.starts, Period.ends).where(Period.term_id == term_id)
    ):
        if block in spans:
            spans[block] = (min(spans[block][0], starts), max(spans[block][1], ends))
        else:
            spans[block] = (starts, ends)
    return dict(sorted(spans.items()))


async def timetable_of(session: AsyncSession, term_id: int) -> Timetable | None:
    return await session.scalar(select(Timetable).where(Timetable.term_id == term_id))


# ---------------------------------------------------------------- lectures


def weeks_label(week_from: int, week_to: int, parity: str) -> str:
    suffix = {"odd": "单周", "even": "双周"}.get(parity, "")
    return f"{week_from}-{week_to}周{suffix}"


async def lectures(
    session: AsyncSession,
    term_id: int,
    *,
    published: bool,
    class_ids: list[int] | None = None,
    teacher_id: int | None = None,
    room_id: int | None = None,
    lecture_id: int | None = None,
) -> list[LectureOut]:
    """Lectures of the draft or of the published timetable, with names, filtered."""
    model: Any = PublishedLecture if published else Lecture
    stmt = (
        select(model, Section, Course.code, Room.code, Building.name)
        .join(Section, Section.id == model.section_id)
        .join(Course, Course.id == Section.course_id)
        .join(Room, Room.id == model.room_id)
        .join(Building, Building.id == Room.building_id)
        .where(model.term_id == term_id)
        .order_by(model.day, model.block, Section.code)
    )
    if class_ids is not None:
        stmt = stmt.where(
            model.section_id.in_(
                select(SectionClass.section_id).where(SectionClass.class_id.in_(class_ids))
            )
        )
    if teacher_id is not None:
        stmt = stmt.where(
            model.section_id.in_(
                select(SectionTeacher.section_id).where(SectionTeacher.person_id == teacher_id)
            )
        )
    if room_id is not None:
        stmt = stmt.where(model.room_id == room_id)
    if lecture_id is not None:
        stmt = stmt.where(model.id == lecture_id)
    rows = list(await session.execute(stmt))
    section_ids = sorted({row[1].id for row in rows})
    teachers, classes = await _section_people(session, section_ids)
    return [
        LectureOut(
            id=lec.id,
            section_id=sec.id,
            section=sec.name,
            course_code=course_code,
            number=lec.number,
            day=lec.day,
            block=lec.block,
            room_id=lec.room_id,
            room=room_code,
            building=building,
            teachers=teachers.get(sec.id, []),
            classes=classes.get(sec.id, []),
            weeks=weeks_label(sec.week_from, sec.week_to, sec.week_parity),
            pinned=bool(getattr(lec, "pinned", False)),
        )
        for lec, sec, course_code, room_code, building in rows
    ]


async def lectures_of_person(
    session: AsyncSession, term_id: int, person_id: int, class_ids: list[int]
) -> list[LectureOut]:
    """Published lectures a person teaches or their classes attend, by time."""
    found = {
        lec.id: lec
        for lec in await lectures(session, term_id, published=True, teacher_id=person_id)
    }
    if class_ids:
        for lec in await lectures(session, term_id, published=True, class_ids=class_ids):
            found[lec.id] = lec
    return sorted(found.values(), key=lambda x: (x.day, x.block, x.section))


async def _section_people(
    session: AsyncSession, section_ids: list[int]
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    teachers: dict[int, list[str]] = defaultdict(list)
    classes: dict[int, list[str]] = defaultdict(list)
    if not section_ids:
        return teachers, classes
    pairs = list(
        await session.execute(
            select(SectionTeacher.section_id, SectionTeacher.person_id)
            .where(SectionTeacher.section_id.in_(section_ids))
            .order_by(SectionTeacher.id)
        )
    )
    names = await users.get_people(session, sorted({p for _s, p in pairs}))
    for section_id, person_id in pairs:
        if person_id in names:
            teachers[section_id].append(names[person_id].name)
    class_pairs = list(
        await session.execute(
            select(SectionClass.section_id, SectionClass.class_id).where(
                SectionClass.section_id.in_(section_ids)
            )
        )
    )
    if class_pairs:
        class_names = {c.id: c.name for c in await users.list_classes(session)}
        for section_id, class_id in class_pairs:
            classes[section_id].append(class_names.get(class_id, str(class_id)))
    return teachers, classes


# ---------------------------------------------------------------- runs


async def run_out(session: AsyncSession, run: Run) -> RunOut:
    fields = await runs.out_fields(session, run)
    # A benchmark's placements (its solution, downloaded apart) are too long for a progress poll.
    fields["report"] = {k: v for k, v in run.report.items() if k != "placements"}
    return RunOut(**fields, mode=run.mode, name=run.name, hard=run.hard, moved=run.moved)


async def run_or_404(session: AsyncSession, run_id: int) -> Run:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFound(_("排课运行不存在"))
    return run


async def runs_of(session: AsyncSession, term_id: int | None, limit: int = 20) -> list[RunOut]:
    stmt = select(Run).order_by(Run.id.desc()).limit(limit)
    stmt = stmt.where(Run.mode == "benchmark" if term_id is None else Run.term_id == term_id)
    return [await run_out(session, run) for run in await session.scalars(stmt)]


async def active_run(session: AsyncSession, term_id: int) -> Run | None:
    """The term's run still queued or running, if any."""
    return await session.scalar(
        select(Run)
        .join(tasks.TaskRow, tasks.TaskRow.id == Run.task_id)
        .where(Run.term_id == term_id, tasks.TaskRow.status.in_((tasks.QUEUED, tasks.RUNNING)))
        .limit(1)
    )


# ---------------------------------------------------------------- clashes


@dataclass
class Occupancy:
    """Who and what is busy at each slot of a term's draft, to tell why a lecture may not go
    somewhere. Built once per request from the whole draft."""

    grid: build.Grid
    sections: dict[int, build.SectionInfo]
    lectures: dict[int, tuple[int, int, int, int, int]]  # id -> section, number, day, block, room
    rooms: dict[int, Room]
    closures: dict[tuple[int, int, int], str]  # room, day, block -> reason
    teacher_times: dict[tuple[int, int, int], tuple[str, str]]  # person, day, block -> kind, why
    people: dict[int, str] = field(default_factory=dict)
    class_names: dict[int, str] = field(default_factory=dict)
    at: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # slot -> lecture ids

    def __post_init__(self) -> None:
        at: dict[tuple[int, int], list[int]] = defaultdict(list)
        for lecture_id, (_s, _n, day, block, _r) in self.lectures.items():
            at[(day, block)].append(lecture_id)
        self.at = dict(at)

    def check(
        self, lecture_id: int, day: int, block: int, room_id: int
    ) -> tuple[list[str], list[str]]:
        """The hard reasons against the move, and the soft warnings."""
        section_id = self.lectures[lecture_id][0]
        info = self.sections.get(section_id)
        reasons: list[str] = []
        warnings: list[str] = []
        if not self.grid.has(day, block):
            return [_text("{day}第{block}大节不是本学期的上课时间", day, block)], []
        room = self.rooms.get(room_id)
        if room is None or not room.active:
            return ["教室不存在或已停用"], []
        if info is None:
            return ["教学班不在本学期的排课范围内"], []
        if info.room_type and room.room_type != info.room_type:
            reasons.append(f"教室 {room.code} 的类型不符合教学班要求")
        if (room_id, day, block) in self.closures:
            why = self.closures[(room_id, day, block)]
            reasons.append(f"教室 {room.code} 在该时段关闭" + (f"：{why}" if why else ""))
        for other_id in self.at.get((day, block), []):
            if other_id == lecture_id:
                continue
            other_section, _n, _d, _b, other_room = self.lectures[other_id]
            other = self.sections.get(other_section)
            other_name = other.name if other else str(other_section)
            if other_section == section_id:
                reasons.append("本教学班已在该时段上课")
                continue
            if other_room == room_id:
                reasons.append(f"教室 {room.code} 已有课：{other_name}")
            if other is not None:
                for person in set(info.teachers) & set(other.teachers):
                    reasons.append(f"教师 {self.people.get(person, person)} 已有课：{other_name}")
                for class_id in set(info.classes) & set(other.classes):
                    name = self.class_names.get(class_id, class_id)
                    reasons.append(f"班级 {name} 已有课：{other_name}")
        for person in info.teachers:
            mark = self.teacher_times.get((person, day, block))
            if mark is None:
                continue
            name = self.people.get(person, person)
            kind, why = mark
            text = f"教师 {name} " + (
                "该时段不能上课" if kind == "unavailable" else "希望避开该时段"
            )
            text += f"：{why}" if why else ""
            (reasons if kind == "unavailable" else warnings).append(text)
        if room.capacity < info.students:
            warnings.append(f"教室 {room.code} 座位 {room.capacity} 少于学生数 {info.students}")
        return reasons, warnings

    def free_room(self, lecture_id: int, day: int, block: int) -> int | None:
        """A room where the lecture could go at that slot: its own if possible, else the
        smallest suitable one."""
        own = self.lectures[lecture_id][4]
        if not self.check(lecture_id, day, block, own)[0]:
            return own
        info = self.sections.get(self.lectures[lecture_id][0])
        if info is None:
            return None
        candidates = sorted(
            (r for r in self.rooms.values() if r.active and r.room_type == info.room_type),
            key=lambda r: (r.capacity < info.students, r.capacity),
        )
        for room in candidates:
            if not self.check(lecture_id, day, block, room.id)[0]:
                return room.id
        return None


def _text(pattern: str, day: int, block: int) -> str:
    weekday = WEEKDAYS[day] if 0 <= day < len(WEEKDAYS) else f"第{day + 1}天"
    return pattern.format(day=weekday, block=block)


async def occupancy(session: AsyncSession, term: Term) -> Occupancy:
    grid = await build.grid_of(session, term)
    sections = await build.sections_of(session, term.id)
    sizes = {c.id: c for c in await users.list_classes(session)}
    for info in sections.values():
        enrolled = sum(sizes[c].student_count for c in info.classes if c in sizes)
        info.students = enrolled or info.capacity
    rows = await session.execute(
        select(
            Lecture.id,
            Lecture.section_id,
            Lecture.number,
            Lecture.day,
            Lecture.block,
            Lecture.room_id,
        ).where(Lecture.term_id == term.id)
    )
    lecture_map = {row[0]: (row[1], row[2], row[3], row[4], row[5]) for row in rows}
    rooms = {r.id: r for r in await session.scalars(select(Room))}
    closures = {
        (c.room_id, c.day, c.block): c.reason
        for c in await session.scalars(select(RoomClosure).where(RoomClosure.term_id == term.id))
    }
    times = {
        (t.person_id, t.day, t.block): (t.kind, t.reason)
        for t in await session.scalars(select(TeacherTime).where(TeacherTime.term_id == term.id))
    }
    people_ids = sorted({p for s in sections.values() for p in s.teachers})
    people = {pid: ref.name for pid, ref in (await users.get_people(session, people_ids)).items()}
    return Occupancy(
        grid=grid,
        sections=sections,
        lectures=lecture_map,
        rooms=rooms,
        closures=closures,
        teacher_times=times,
        people=people,
        class_names={cid: c.name for cid, c in sizes.items()},
    )


# ---------------------------------------------------------------- dates and free rooms


async def term_days(session: AsyncSession, term_id: int) -> dict[date, TermDay]:
    rows = await session.scalars(select(TermDay).where(TermDay.term_id == term_id))
    return {row.day: row for row in rows}


def week_of(term: Term, day: date) -> int:
    return (day - term.start_date).days // 7 + 1


def teaches_in(section: Section, week: int) -> bool:
    if not section.week_from <= week <= section.week_to:
        return False
    if section.week_parity == "odd":
        return week % 2 == 1
    if section.week_parity == "even":
        return week % 2 == 0
    return True


def date_of(term: Term, week: int, day: int) -> date:
    return term.start_date + timedelta(days=7 * (week - 1) + day)


async def free_rooms(
    session: AsyncSession,
    term: Term,
    *,
    week: int,
    day: int,
    block: int,
    building_id: int | None = None,
    room_type: str | None = None,
    min_capacity: int | None = None,
) -> list[FreeRoomOut]:
    """Active rooms with no published lecture at that week, day and block, nor closed then.
    On a holiday nothing is taught; on a make-up day the weekday it stands for is."""
    on = date_of(term, week, day)
    marked = (await term_days(session, term.id)).get(on)
    weekday: int | None = day
    if marked is not None:
        weekday = marked.as_weekday if marked.kind == "makeup" else None
    busy: set[int] = set()
    if weekday is not None:
        rows = await session.execute(
            select(PublishedLecture.room_id, Section)
            .join(Section, Section.id == PublishedLecture.section_id)
            .where(
                PublishedLecture.term_id == term.id,
                PublishedLecture.day == weekday,
                PublishedLecture.block == block,
            )
        )
        busy = {room_id for room_id, section in rows if teaches_in(section, week)}
        busy |= set(
            await session.scalars(
                select(RoomClosure.room_id).where(
                    RoomClosure.term_id == term.id,
                    RoomClosure.day == weekday,
                    RoomClosure.block == block,
                )
            )
        )
    stmt = (
        select(Room, Building.name)
        .join(Building, Building.id == Room.building_id)
        .where(Room.active)
        .order_by(Building.sort_order, Room.code)
    )
    if building_id is not None:
        stmt = stmt.where(Room.building_id == building_id)
    if room_type:
        stmt = stmt.where(Room.room_type == room_type)
    if min_capacity:
        stmt = stmt.where(Room.capacity >= min_capacity)
    return [
        FreeRoomOut(
            id=room.id,
            code=room.code,
            name=room.name,
            building=building,
            room_type=room.room_type,
            capacity=room.capacity,
        )
        for room, building in await session.execute(stmt)
        if room.id not in busy
    ]


async def buildings(session: AsyncSession) -> list[Building]:
    return list(
        await session.scalars(select(Building).order_by(Building.sort_order, Building.code))
    )


async def sections_by_id(session: AsyncSession, ids: list[int]) -> dict[int, Section]:
    if not ids:
        return {}
    return {s.id: s for s in await session.scalars(select(Section).where(Section.id.in_(ids)))}


# ---------------------------------------------------------------- explanations (engine)


async def engine_names(session: AsyncSession, built: build.Built) -> dict[str, str]:
    """Readable names of the engine's ids (sections, rooms, teachers, classes, buildings)."""
    names: dict[str, str] = {build.section_key(s.id): s.name for s in built.sections.values()}
    for room_id, code in await session.execute(select(Room.id, Room.code)):
        names[build.room_key(room_id)] = code
    for building_id, name in await session.execute(select(Building.id, Building.name)):
        names[f"b{building_id}"] = name
    people = sorted({p for s in built.sections.values() for p in s.teachers})
    for pid, ref in (await users.get_people(session, people)).items():
        names[build.teacher_key(pid)] = ref.name
    wanted = {c for s in built.sections.values() for c in s.classes}
    for c in await users.list_classes(session):
        if c.id in wanted:
            names[f"c{c.id}"] = c.name
    names.update(ROOM_TYPE_LABELS)
    return names


def readable(text: str, names: dict[str, str]) -> str:
    """The engine's ids in a message replaced by names (课程组 is a class on campus)."""
    text = re.sub(
        r"(?<![A-Za-z0-9])([srpcb]\d+|[a-z]+)(?![A-Za-z0-9])",
        lambda m: names.get(m.group(1), m.group(1)),
        text,
    )
    return text.replace("课程组", "班级")


async def slot_options(
    session: AsyncSession, term: Term, section_id: int, lecture: Lecture | None
) -> list[SlotOption]:
    """For every slot of the week, whether a lecture of the section may go there and why not
    (the engine's ``explain`` on the draft without that lecture), with the room it would take:
    its own when free, else the best free one."""
    from campus.domains.academic.timetabling.engine.explain import explain
    from campus.domains.academic.timetabling.engine.problem import Placement

    built = await build.build_problem(session, term, with_pins=False)
    course = build.section_key(section_id)
    if course not in {c.id for c in built.problem.courses}:
        raise NotFound(_("教学班不在本学期的排课范围内"))
    placements = await build.draft_placements(session, term.id, built.grid)
    moving = None
    if lecture is not None and built.grid.has(lecture.day, lecture.block):
        moving = Placement(
            course, build.room_key(lecture.room_id), built.grid.slot(lecture.day, lecture.block)
        )
    names = await engine_names(session, built)
    options: list[SlotOption] = []
    for info in explain(built.problem, placements, course, moving=moving):
        day, block = built.grid.day_block(info.slot)
        own = build.room_key(lecture.room_id) if lecture is not None else None
        room = own if own in info.rooms else (info.rooms[0] if info.rooms else None)
        notes = [readable(n, names) for n in info.notes]
        if room is not None and own is not None and room != own:
            notes.insert(0, f"原教室不可用，将换到 {names.get(room, room)}")
        options.append(
            SlotOption(
                day=day,
                block=block,
                ok=info.free,
                room_id=build.id_of(room) if room is not None and info.free else None,
                reasons=[readable(r, names) for r in info.reasons],
                warnings=notes,
            )
        )
    return options


@dataclass(frozen=True)
class Constraints:
    """A term's constraints for the desk, with names: teacher times, room closures, fixed
    slots, and the choices of teachers and rooms for new ones."""

    teacher_times: list[tuple[TeacherTime, str]]
    room_closures: list[tuple[RoomClosure, str]]
    teachers: list[tuple[int, str]]
    rooms: list[tuple[int, str]]


async def constraints_of(session: AsyncSession, term_id: int) -> Constraints:
    times = list(
        await session.scalars(
            select(TeacherTime).where(TeacherTime.term_id == term_id).order_by(TeacherTime.id)
        )
    )
    closures = list(
        await session.scalars(
            select(RoomClosure).where(RoomClosure.term_id == term_id).order_by(RoomClosure.id)
        )
    )
    sections = await build.sections_of(session, term_id)
    teacher_ids = sorted(
        {p for s in sections.values() for p in s.teachers} | {t.person_id for t in times}
    )
    people = await users.get_people(session, teacher_ids)
    rooms = {
        room_id: code
        for room_id, code in await session.execute(
            select(Room.id, Room.code).where(Room.active).order_by(Room.code)
        )
    }
    return Constraints(
        teacher_times=[
            (t, people[t.person_id].name if t.person_id in people else "") for t in times
        ],
        room_closures=[(c, rooms.get(c.room_id, str(c.room_id))) for c in closures],
        teachers=sorted(((p.id, p.name) for p in people.values()), key=lambda x: x[1]),
        rooms=list(rooms.items()),
    )
