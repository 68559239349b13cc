"""Writes of course offering: ``check_*`` validates everything (input, the term, teachers,
classes, rooms, the editor's reach), then ``do_*`` writes and audits. A refusal changes nothing.

Lectures per week (documented in docs/modules/academic-programmes.md): a lecture is one block
(大节) of two periods. periods = ceil(hours / teaching weeks); lectures = ceil(periods / 2);
the section then meets in weeks 1..ceil(hours / (2 × lectures)) (e.g. 48 hours over 16 weeks:
3 periods → 2 lectures a week in weeks 1–12; 32 hours: 1 lecture in weeks 1–16)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering import queries
from campus.domains.academic.offering.excel import SheetRow
from campus.domains.academic.offering.models import (
    Section,
    SectionClass,
    SectionMajor,
    SectionTeacher,
)
from campus.domains.academic.offering.schemas import (
    MajorIn,
    OfferingGenerate,
    OfferingReport,
    SectionCreate,
    SectionFields,
    SectionUpdate,
    SplitIn,
    TeacherIn,
)
from campus.domains.academic.permissions import OFFERING_MANAGE
from campus.domains.academic.programmes import orgs as org_tree
from campus.domains.academic.programmes.queries import term_number
from campus.domains.academic.rooms.models import Building
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import FieldError, InvalidInput
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.schemas import STAFF_TYPES, ClassOut

PRACTICE_MARK = "实践"  # plan items of groups named so (实践环节) are not timetabled


def lecture_plan(hours: int, teaching_weeks: int) -> tuple[int, int]:
    """(lectures per week, weeks taught) for ``hours`` over a term of ``teaching_weeks``."""
    if hours <= 0 or teaching_weeks <= 0:
        return 0, 0
    periods = math.ceil(hours / teaching_weeks)
    lectures = math.ceil(periods / 2)
    weeks = min(teaching_weeks, math.ceil(hours / (2 * lectures)))
    return lectures, weeks


@dataclass
class CheckedSection:
    term: Term
    course: Course
    org_unit_id: int
    capacity: int
    lectures_per_week: int
    min_days: int
    week_from: int
    week_to: int
    week_parity: str
    room_type: str
    building_id: int | None
    note: str
    gender: str = ""  # "" anyone, else the one gender (GB/T 2261.1) it is open to
    teachers: list[TeacherIn] = field(default_factory=list)
    class_ids: list[int] = field(default_factory=list)
    majors: list[MajorIn] = field(default_factory=list)


@dataclass
class Context:
    """What the checks read once per request."""

    tree: OrgDirectory
    classes: dict[int, ClassOut]
    largest: dict[str, int]


async def load_context(session: AsyncSession) -> Context:
    return Context(
        tree=await users.org_directory(session),
        classes={c.id: c for c in await org_tree.classes(session)},
        largest=await queries.largest_rooms(session),
    )


async def check_reach(principal: Principal, org_unit_id: int, tree: OrgDirectory) -> None:
    if not access.allows(principal, OFFERING_MANAGE, tree.path(org_unit_id)):
        raise await access.denied(
            principal,
            OFFERING_MANAGE,
            _("开课单位“{name}”不在您的开课范围内", name=tree.name(org_unit_id)),
            target_type="org_unit",
            target_id=org_unit_id,
        )


async def check_section(session: AsyncSession, s: CheckedSection, ctx: Context) -> None:
    """Every rule of one section as it would be saved; a 422 naming the fields at fault."""
    errors: list[FieldError] = []
    term = s.term
    if s.week_to > term.teaching_weeks or s.week_from > s.week_to:
        errors.append(
            FieldError(
                "week_to" if s.week_to > term.teaching_weeks else "week_from",
                _(
                    "上课周 {a}–{b} 不在本学期的教学周 1–{n} 之内",
                    a=s.week_from,
                    b=s.week_to,
                    n=term.teaching_weeks,
                ),
            )
        )
    if s.min_days > s.lectures_per_week or s.min_days > term.days_per_week:
        errors.append(FieldError("min_days", _("至少分布天数不能多于每周上课次数与每周教学天数")))
    college = ctx.tree.nearest(s.org_unit_id, "college")
    mains = 0
    if s.teachers:
        people = await users.get_people(session, [t.person_id for t in s.teachers])
        seen: set[int] = set()
        for i, t in enumerate(s.teachers):
            person = people.get(t.person_id)
            name = f"teachers.{i}.person_id"
            if t.person_id in seen:
                errors.append(FieldError(name, _("教师重复")))
            seen.add(t.person_id)
            if person is None:
                errors.append(FieldError(name, _("人员 {id} 不存在", id=t.person_id)))
            elif person.person_type not in STAFF_TYPES or person.status != "active":
                errors.append(FieldError(name, _("{name}不是在职教职工", name=person.name)))
            elif not ctx.tree.within(person.org_unit_id, college):
                errors.append(
                    FieldError(
                        name,
                        _(
                            "{name}不是开课单位“{unit}”的教师",
                            name=person.name,
                            unit=ctx.tree.name(college),
                        ),
                    )
                )
            mains += t.main
        if mains == 0:
            errors.append(FieldError("teachers", _("请指定至少一位主讲教师")))
    students = 0
    majors = {(m.org_unit_id) for m in s.majors}
    for i, m in enumerate(s.majors):
        if ctx.tree.kinds.get(m.org_unit_id) != "major":
            errors.append(
                FieldError(f"majors.{i}.org_unit_id", _("单位 {id} 不是专业", id=m.org_unit_id))
            )
    for i, class_id in enumerate(s.class_ids):
        name = f"class_ids.{i}"
        found = ctx.classes.get(class_id)
        if found is None:
            errors.append(FieldError(name, _("班级 {id} 不存在", id=class_id)))
            continue
        students += found.student_count
        number = term_number(term, found.grade)
        if number is None or number > 12:
            errors.append(
                FieldError(name, _("班级“{name}”在{term}不在读", name=found.name, term=term.name))
            )
        if majors and found.org_unit_id not in majors:
            errors.append(
                FieldError(
                    name,
                    _("班级“{name}”的专业不在本教学班面向的专业中", name=found.name),
                )
            )
    if len(set(s.class_ids)) != len(s.class_ids):
        errors.append(FieldError("class_ids", _("班级重复")))
    if s.capacity < students:
        errors.append(
            FieldError(
                "capacity",
                _("容量 {cap} 少于所含班级的 {n} 名学生", cap=s.capacity, n=students),
            )
        )
    largest = ctx.largest.get(s.room_type)
    type_name = ROOM_TYPE_LABELS.get(s.room_type, s.room_type)
    if largest is None:
        errors.append(FieldError("room_type", _("没有可用的{kind}", kind=type_name)))
    elif s.capacity > largest:
        errors.append(
            FieldError(
                "capacity",
                _(
                    "容量 {cap} 超过了最大的{kind}（{seats} 座），没有教室能容纳",
                    cap=s.capacity,
                    kind=type_name,
                    seats=largest,
                ),
            )
        )
    if s.building_id is not None and await session.get(Building, s.building_id) is None:
        errors.append(FieldError("building_id", _("教学楼 {id} 不存在", id=s.building_id)))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)


def _merge_fields(s: CheckedSection, body: SectionFields) -> None:
    values = body.model_dump(exclude_unset=True, exclude={"clear_building"})
    for key in (
        "capacity",
        "room_type",
        "building_id",
        "lectures_per_week",
        "min_days",
        "week_from",
        "week_to",
        "week_parity",
        "gender",
        "note",
    ):
        if values.get(key) is not None:
            setattr(s, key, values[key])
    if body.teachers is not None:
        s.teachers = list(body.teachers)
    if body.class_ids is not None:
        s.class_ids = list(body.class_ids)
    if body.majors is not None:
        s.majors = list(body.majors)


def _state(s: Section) -> dict[str, Any]:
    return {
        "code": s.code,
        "capacity": s.capacity,
        "lectures_per_week": s.lectures_per_week,
        "weeks": [s.week_from, s.week_to, s.week_parity],
        "room_type": s.room_type,
        "gender": s.gender,
        "status": s.status,
    }


def section_code(term: Term, course: Course, number: int) -> tuple[str, str]:
    return f"{term.code}-{course.code}-{number:02d}", f"{course.name}（{number:02d}班）"


async def _next_number(session: AsyncSession, term_id: int, course_id: int) -> int:
    codes = await session.scalars(
        select(Section.code).where(Section.term_id == term_id, Section.course_id == course_id)
    )
    numbers = [int(c.rsplit("-", 1)[-1]) for c in codes if c.rsplit("-", 1)[-1].isdigit()]
    return max(numbers, default=0) + 1


async def _students(ctx: Context, class_ids: list[int]) -> int:
    return sum(ctx.classes[c].student_count for c in class_ids if c in ctx.classes)


# ---------------------------------------------------------------- one section


async def check_create(session: AsyncSession, principal: Principal, body: SectionCreate) -> int:
    term = await session.get(Term, body.term_id)
    if term is None:
        raise InvalidInput.on("term_id", _("学期 {id} 不存在", id=body.term_id))
    course = await session.get(Course, body.course_id)
    if course is None:
        raise InvalidInput.on("course_id", _("课程 {id} 不在课程库中", id=body.course_id))
    ctx = await load_context(session)
    await check_reach(principal, course.org_unit_id, ctx.tree)
    lectures, weeks = lecture_plan(course.lecture_hours + course.lab_hours, term.teaching_weeks)
    checked = CheckedSection(
        term=term,
        course=course,
        org_unit_id=course.org_unit_id,
        capacity=0,
        lectures_per_week=max(1, lectures),
        min_days=max(1, min(lectures, 2)),
        week_from=1,
        week_to=max(1, weeks),
        week_parity="all",
        room_type=course.room_type,
        building_id=None,
        note="",
    )
    _merge_fields(checked, body)
    if body.capacity is None:
        checked.capacity = max(1, await _students(ctx, checked.class_ids))
    await check_section(session, checked, ctx)
    return await do_create(session, checked)


async def do_create(session: AsyncSession, s: CheckedSection, number: int | None = None) -> int:
    now = clock.now()
    number = number or await _next_number(session, s.term.id, s.course.id)
    code, name = section_code(s.term, s.course, number)
    section = Section(
        term_id=s.term.id,
        course_id=s.course.id,
        code=code,
        name=name,
        org_unit_id=s.org_unit_id,
        capacity=s.capacity,
        lectures_per_week=s.lectures_per_week,
        min_days=s.min_days,
        week_from=s.week_from,
        week_to=s.week_to,
        week_parity=s.week_parity,
        room_type=s.room_type,
        building_id=s.building_id,
        status="open",
        gender=s.gender,
        note=s.note,
        created_at=now,
        updated_at=now,
    )
    session.add(section)
    await session.flush()
    await _write_links(session, section.id, s)
    audit.record(session, "academic.section.create", "section", section.id, after=_state(section))
    return section.id


async def _write_links(session: AsyncSession, section_id: int, s: CheckedSection) -> None:
    for model in (SectionTeacher, SectionClass, SectionMajor):
        await session.execute(delete(model).where(model.section_id == section_id))
    if s.teachers:
        await session.execute(
            insert(SectionTeacher),
            [
                {"section_id": section_id, "person_id": t.person_id, "main": t.main}
                for t in s.teachers
            ],
        )
    if s.class_ids:
        await session.execute(
            insert(SectionClass), [{"section_id": section_id, "class_id": c} for c in s.class_ids]
        )
    if s.majors:
        await session.execute(
            insert(SectionMajor),
            [
                {"section_id": section_id, "org_unit_id": m.org_unit_id, "grade": m.grade}
                for m in s.majors
            ],
        )


async def checked_of(session: AsyncSession, section: Section) -> CheckedSection:
    """The stored section as checked fields (to change some and check again)."""
    term = await session.get(Term, section.term_id)
    course = await session.get(Course, section.course_id)
    assert term is not None and course is not None
    teachers = await session.scalars(
        select(SectionTeacher)
        .where(SectionTeacher.section_id == section.id)
        .order_by(SectionTeacher.id)
    )
    majors = await session.scalars(
        select(SectionMajor).where(SectionMajor.section_id == section.id).order_by(SectionMajor.id)
    )
    return CheckedSection(
        term=term,
        course=course,
        org_unit_id=section.org_unit_id,
        capacity=section.capacity,
        lectures_per_week=section.lectures_per_week,
        min_days=section.min_days,
        week_from=section.week_from,
        week_to=section.week_to,
        week_parity=section.week_parity,
        room_type=section.room_type,
        building_id=section.building_id,
        note=section.note,
        gender=section.gender,
        teachers=[TeacherIn(person_id=t.person_id, main=t.main) for t in teachers],
        class_ids=await queries.class_ids_of(session, section.id),
        majors=[MajorIn(org_unit_id=m.org_unit_id, grade=m.grade) for m in majors],
    )


async def _editable(
    session: AsyncSession, principal: Principal, section_id: int, ctx: Context
) -> Section:
    section = await queries.section_or_404(session, section_id)
    await check_reach(principal, section.org_unit_id, ctx.tree)
    return section


async def check_update(
    session: AsyncSession, principal: Principal, section_id: int, body: SectionUpdate
) -> None:
    ctx = await load_context(session)
    section = await _editable(session, principal, section_id, ctx)
    checked = await checked_of(session, section)
    _merge_fields(checked, body)
    if body.clear_building:
        checked.building_id = None
    await check_section(session, checked, ctx)
    await do_update(session, section, checked)


async def do_update(session: AsyncSession, section: Section, s: CheckedSection) -> None:
    before = _state(section)
    for key in (
        "capacity",
        "lectures_per_week",
        "min_days",
        "week_from",
        "week_to",
        "week_parity",
        "room_type",
        "building_id",
        "gender",
        "note",
    ):
        setattr(section, key, getattr(s, key))
    section.updated_at = clock.now()
    await _write_links(session, section.id, s)
    audit.record(
        session,
        "academic.section.update",
        "section",
        section.id,
        before=before,
        after=_state(section),
    )


async def check_delete(session: AsyncSession, principal: Principal, section_id: int) -> None:
    ctx = await load_context(session)
    section = await _editable(session, principal, section_id, ctx)
    audit.record(session, "academic.section.delete", "section", section.id, before=_state(section))
    await session.delete(section)
    await session.flush()


# ---------------------------------------------------------------- merge and split


async def check_merge(session: AsyncSession, principal: Principal, section_ids: list[int]) -> int:
    """合班: the first section takes the classes, majors and teachers of the others, which go."""
    if len(set(section_ids)) != len(section_ids):
        raise InvalidInput.on("section_ids", _("教学班重复"))
    ctx = await load_context(session)
    sections = [await _editable(session, principal, sid, ctx) for sid in section_ids]
    first = sections[0]
    for s in sections[1:]:
        if s.course_id != first.course_id or s.term_id != first.term_id:
            raise InvalidInput.on(
                "section_ids",
                _("不能合并不同课程或不同学期的教学班（{a} 与 {b}）", a=first.code, b=s.code),
            )
    checked = await checked_of(session, first)
    for s in sections[1:]:
        other = await checked_of(session, s)
        checked.class_ids += [c for c in other.class_ids if c not in checked.class_ids]
        known = {t.person_id for t in checked.teachers}
        checked.teachers += [
            TeacherIn(person_id=t.person_id, main=False)
            for t in other.teachers
            if t.person_id not in known
        ]
        majors = {(m.org_unit_id, m.grade) for m in checked.majors}
        checked.majors += [m for m in other.majors if (m.org_unit_id, m.grade) not in majors]
    checked.capacity = max(
        max(s.capacity for s in sections), await _students(ctx, checked.class_ids)
    )
    await check_section(session, checked, ctx)
    for s in sections[1:]:
        audit.record(session, "academic.section.delete", "section", s.id, before=_state(s))
        await session.delete(s)
    await session.flush()
    await do_update(session, first, checked)
    return first.id


async def check_split(
    session: AsyncSession, principal: Principal, section_id: int, body: SplitIn
) -> list[int]:
    """拆班: by groups of the section's classes (each group a section), or, for a section of
    no classes, into ``count`` equal sections."""
    ctx = await load_context(session)
    section = await _editable(session, principal, section_id, ctx)
    checked = await checked_of(session, section)
    parts: list[CheckedSection] = []
    if body.groups is not None:
        flat = [c for g in body.groups for c in g]
        if any(not g for g in body.groups):
            raise InvalidInput.on("groups", _("每一组至少要有一个班级"))
        if sorted(flat) != sorted(checked.class_ids):
            raise InvalidInput.on("groups", _("各组班级须恰好是本教学班的全部班级，且不重复"))
        for group in body.groups:
            students = await _students(ctx, group)
            parts.append(
                CheckedSection(
                    **{**checked.__dict__, "class_ids": list(group), "capacity": max(1, students)}
                )
            )
    elif body.count is not None:
        if checked.class_ids:
            raise InvalidInput.on("count", _("有行政班的教学班请按班级分组拆分"))
        size = math.ceil(checked.capacity / body.count)
        parts = [
            CheckedSection(**{**checked.__dict__, "capacity": size}) for _i in range(body.count)
        ]
    else:
        raise InvalidInput.on("groups", _("请给出班级分组或拆分数"))
    for part in parts:
        part.teachers = list(checked.teachers)
        await check_section(session, part, ctx)
    await do_update(session, section, parts[0])
    ids = [section.id]
    number = await _next_number(session, section.term_id, section.course_id)
    for offset, part in enumerate(parts[1:]):
        ids.append(await do_create(session, part, number + offset))
    return ids


# ---------------------------------------------------------------- from the teaching plan


async def check_generate(
    session: AsyncSession, principal: Principal | None, body: OfferingGenerate
) -> OfferingReport:
    term = await session.get(Term, body.term_id)
    if term is None:
        raise InvalidInput.on("term_id", _("学期 {id} 不存在", id=body.term_id))
    ctx = await load_context(session)
    return await do_generate(session, principal, term, ctx, body)


@dataclass
class PlannedSection:
    course: Course
    class_ids: list[int]
    students: int
    major_ids: list[tuple[int, int]]
    elective: bool = False


async def plan_sections(
    session: AsyncSession,
    principal: Principal | None,
    term: Term,
    ctx: Context,
    body: OfferingGenerate,
) -> tuple[list[PlannedSection], int, int]:
    """The sections the plan still lacks: for a required course one per class, or classes
    merged up to ``merge_capacity`` for the groups named (never above the largest room of the
    type); for an elective one per major and grade, open to them (no classes: students choose
    it in course selection), as large as their classes."""
    covered = await queries.covered(session, term.id)
    covered_majors = await queries.covered_majors(session, term.id)
    items = await queries.plan_of_term(session, term.id)
    courses = {
        c.id: c
        for c in await session.scalars(
            select(Course).where(Course.id.in_(sorted({i.course_id for i in items})))
        )
    }
    pending: dict[int, list[Any]] = defaultdict(list)
    practice = out_of_reach = 0
    for item in items:
        course = courses.get(item.course_id)
        if course is None or (item.course_id, item.class_id) in covered:
            continue
        if not item.required and (item.course_id, item.major_id, item.grade) in covered_majors:
            continue
        if PRACTICE_MARK in item.group_name or course.lecture_hours + course.lab_hours == 0:
            practice += 1
            continue
        if principal is not None and not access.allows(
            principal, OFFERING_MANAGE, ctx.tree.path(course.org_unit_id)
        ):
            out_of_reach += 1
            continue
        pending[course.id].append(item)
    planned: list[PlannedSection] = []
    electives: dict[tuple[int, int, int], PlannedSection] = {}
    for course_id, rows in pending.items():
        course = courses[course_id]
        limit = 0
        if body.merge_capacity and any(g in rows[0].group_name for g in body.merge_groups):
            limit = min(body.merge_capacity, ctx.largest.get(course.room_type, 0))
        current: PlannedSection | None = None
        for item in rows:
            size = ctx.classes[item.class_id].student_count if item.class_id in ctx.classes else 0
            if not item.required:
                key = (course_id, item.major_id, item.grade)
                if key not in electives:
                    electives[key] = PlannedSection(
                        course, [], 0, [(item.major_id, item.grade)], elective=True
                    )
                    planned.append(electives[key])
                electives[key].students += size
                continue
            if current is None or not limit or current.students + size > limit:
                current = PlannedSection(course, [], 0, [])
                planned.append(current)
            current.class_ids.append(item.class_id)
            current.students += size
            if (item.major_id, item.grade) not in current.major_ids:
                current.major_ids.append((item.major_id, item.grade))
    return planned, practice, out_of_reach


async def do_generate(
    session: AsyncSession,
    principal: Principal | None,
    term: Term,
    ctx: Context,
    body: OfferingGenerate,
    assign: Callable[[PlannedSection, int], list[int]] | None = None,
    room_of: Callable[[PlannedSection, int], str] | None = None,
) -> OfferingReport:
    """Bulk insert of the missing sections; ``assign(section, lectures)`` may name their
    teachers (main first: the seed does). Sections too large for every room of their type are
    left to the offering office (not created)."""
    planned, practice, out_of_reach = await plan_sections(session, principal, term, ctx, body)
    numbers: dict[str, int] = defaultdict(int)
    for code in await session.scalars(select(Section.code).where(Section.term_id == term.id)):
        prefix, _sep, number = code.rpartition("-")
        if number.isdigit():
            numbers[prefix] = max(numbers[prefix], int(number))
    now = clock.now()
    rows: list[dict[str, Any]] = []
    links: list[tuple[PlannedSection, str]] = []
    lectures_of: dict[str, int] = {}
    for p in planned:
        lectures, weeks = lecture_plan(
            p.course.lecture_hours + p.course.lab_hours, term.teaching_weeks
        )
        room_type = room_of(p, lectures) if room_of is not None else p.course.room_type
        largest = ctx.largest.get(room_type)
        if largest is None or p.students > largest:
            continue
        prefix = f"{term.code}-{p.course.code}"
        numbers[prefix] += 1
        code, name = section_code(term, p.course, numbers[prefix])
        rows.append(
            {
                "term_id": term.id,
                "course_id": p.course.id,
                "code": code,
                "name": name,
                "org_unit_id": p.course.org_unit_id,
                "capacity": max(1, p.students),
                "lectures_per_week": lectures,
                "min_days": min(lectures, 2),
                "week_from": 1,
                "week_to": weeks,
                "week_parity": "all",
                "room_type": room_type,
                "building_id": None,
                "status": "open",
                "gender": "",
                "note": "",
                "created_at": now,
                "updated_at": now,
            }
        )
        links.append((p, code))
        lectures_of[code] = lectures
    for start in range(0, len(rows), 500):
        await session.execute(insert(Section), rows[start : start + 500])
    if rows:
        found = await session.execute(
            select(Section.code, Section.id).where(Section.term_id == term.id)
        )
        ids = {code: section_id for code, section_id in found.all()}
        class_rows, major_rows, teacher_rows = [], [], []
        for p, code in links:
            sid = ids[code]
            class_rows += [{"section_id": sid, "class_id": c} for c in p.class_ids]
            major_rows += [
                {"section_id": sid, "org_unit_id": m, "grade": g} for m, g in p.major_ids
            ]
            chosen = assign(p, lectures_of[code]) if assign is not None else []
            for n, person_id in enumerate(chosen):
                teacher_rows.append({"section_id": sid, "person_id": person_id, "main": n == 0})
        for model, batch in (
            (SectionClass, class_rows),
            (SectionMajor, major_rows),
            (SectionTeacher, teacher_rows),
        ):
            for start in range(0, len(batch), 1000):
                await session.execute(insert(model), batch[start : start + 1000])
        audit.record(
            session, "academic.section.generate", "term", term.id, after={"created": len(rows)}
        )
    return OfferingReport(
        term_id=term.id,
        created=len(rows),
        classes_covered=len({c for p, _code in links for c in p.class_ids}),
        skipped_practice=practice,
        out_of_reach=out_of_reach,
    )


# ---------------------------------------------------------------- teacher assignments from Excel


async def check_assign_teachers(
    session: AsyncSession, principal: Principal, term_id: int, rows: list[SheetRow]
) -> int:
    """The sheet's rows (section code, staff numbers main first, the gender restriction when
    the sheet has the column); all rows are checked before any is written. Returns how many
    sections changed."""
    ctx = await load_context(session)
    errors: list[FieldError] = []
    changes: list[tuple[Section, CheckedSection]] = []
    for index, row in enumerate(rows, start=2):
        code, numbers = row.code, row.numbers
        section = await session.scalar(
            select(Section).where(Section.term_id == term_id, Section.code == code)
        )
        if section is None:
            errors.append(
                FieldError(
                    f"rows.{index}", _("第 {n} 行：教学班 {code} 不存在", n=index, code=code)
                )
            )
            continue
        if not access.allows(principal, OFFERING_MANAGE, ctx.tree.path(section.org_unit_id)):
            errors.append(
                FieldError(
                    f"rows.{index}", _("第 {n} 行：{code} 不在您的开课范围内", n=index, code=code)
                )
            )
            continue
        teachers: list[TeacherIn] = []
        for n, number in enumerate(numbers):
            person = await users.find_person_by_login(session, number)
            if person is None:
                errors.append(
                    FieldError(
                        f"rows.{index}", _("第 {n} 行：工号 {no} 不存在", n=index, no=number)
                    )
                )
                continue
            teachers.append(TeacherIn(person_id=person.id, main=n == 0))
        checked = await checked_of(session, section)
        checked.teachers = teachers
        if row.gender is not None:
            checked.gender = row.gender
        try:
            await check_section(session, checked, ctx)
        except InvalidInput as exc:
            errors += [
                FieldError(f"rows.{index}", f"第 {index} 行：{e.reason}") for e in exc.errors
            ]
            continue
        changes.append((section, checked))
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    for section, checked in changes:
        await do_update(session, section, checked)
    return len(changes)
