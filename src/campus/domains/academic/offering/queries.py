"""Reads of course offering: sections with their teachers, classes and majors; the largest room
of each type; the term's plan items a section can be made from."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, not_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering.models import (
    Section,
    SectionClass,
    SectionMajor,
    SectionTeacher,
)
from campus.domains.academic.offering.schemas import (
    ClassRef,
    MajorOut,
    SectionOut,
    TeacherOut,
)
from campus.domains.academic.programmes import orgs as org_tree
from campus.domains.academic.programmes.models import PlanItem
from campus.domains.academic.rooms.models import Room
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES, PersonRef


async def section_or_404(session: AsyncSession, section_id: int) -> Section:
    found = await session.get(Section, section_id)
    if found is None:
        raise NotFound(_("教学班 {id} 不存在", id=section_id))
    return found


async def largest_rooms(session: AsyncSession) -> dict[str, int]:
    """The seats of the largest active room of each type."""
    rows = await session.execute(
        select(Room.room_type, func.max(Room.capacity))
        .where(Room.active.is_(True))
        .group_by(Room.room_type)
    )
    return {room_type: int(seats) for room_type, seats in rows.all()}


@dataclass
class SectionFilter:
    college_id: int | None = None
    course_id: int | None = None
    teacher_id: int | None = None
    unassigned: bool = False
    class_id: int | None = None
    q: str | None = None


async def section_rows(
    session: AsyncSession,
    term_id: int,
    f: SectionFilter,
    within: ColumnElement[bool] | None = None,
) -> list[Section]:
    stmt = select(Section).where(Section.term_id == term_id)
    if within is not None:
        stmt = stmt.where(within)
    if f.college_id is not None:
        stmt = stmt.where(users.org_subtree_clause(Section.org_unit_id, [f.college_id]))
    if f.course_id is not None:
        stmt = stmt.where(Section.course_id == f.course_id)
    if f.teacher_id is not None:
        stmt = stmt.where(
            exists().where(
                SectionTeacher.section_id == Section.id, SectionTeacher.person_id == f.teacher_id
            )
        )
    if f.unassigned:
        stmt = stmt.where(not_(exists().where(SectionTeacher.section_id == Section.id)))
    if f.class_id is not None:
        stmt = stmt.where(
            exists().where(
                SectionClass.section_id == Section.id, SectionClass.class_id == f.class_id
            )
        )
    if f.q:
        stmt = stmt.where(Section.name.contains(f.q) | Section.code.contains(f.q))
    return list(await session.scalars(stmt.order_by(Section.code)))


async def sections_out(session: AsyncSession, sections: list[Section]) -> list[SectionOut]:
    if not sections:
        return []
    ids = [s.id for s in sections]
    teachers: dict[int, list[SectionTeacher]] = defaultdict(list)
    classes: dict[int, list[int]] = defaultdict(list)
    majors: dict[int, list[SectionMajor]] = defaultdict(list)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for t in await session.scalars(
            select(SectionTeacher)
            .where(SectionTeacher.section_id.in_(chunk))
            .order_by(SectionTeacher.main.desc(), SectionTeacher.id)
        ):
            teachers[t.section_id].append(t)
        for c in await session.scalars(
            select(SectionClass).where(SectionClass.section_id.in_(chunk)).order_by(SectionClass.id)
        ):
            classes[c.section_id].append(c.class_id)
        for m in await session.scalars(
            select(SectionMajor).where(SectionMajor.section_id.in_(chunk)).order_by(SectionMajor.id)
        ):
            majors[m.section_id].append(m)
    people = await users.get_people(
        session, sorted({t.person_id for rows in teachers.values() for t in rows})
    )
    all_classes = {c.id: c for c in await org_tree.classes(session)}
    tree = await users.org_directory(session)
    course_ids = sorted({s.course_id for s in sections})
    courses = {
        c.id: c for c in await session.scalars(select(Course).where(Course.id.in_(course_ids)))
    }
    out: list[SectionOut] = []
    for s in sections:
        course = courses[s.course_id]
        refs = [
            ClassRef(
                id=cid,
                name=all_classes[cid].name if cid in all_classes else str(cid),
                students=all_classes[cid].student_count if cid in all_classes else 0,
            )
            for cid in classes.get(s.id, [])
        ]
        out.append(
            SectionOut(
                id=s.id,
                term_id=s.term_id,
                course_id=s.course_id,
                course_code=course.code,
                course_name=course.name,
                credits=float(course.credits),
                code=s.code,
                name=s.name,
                org_unit_id=s.org_unit_id,
                org_unit_name=tree.name(s.org_unit_id),
                capacity=s.capacity,
                students=sum(r.students for r in refs),
                lectures_per_week=s.lectures_per_week,
                min_days=s.min_days,
                week_from=s.week_from,
                week_to=s.week_to,
                week_parity=s.week_parity,
                room_type=s.room_type,
                building_id=s.building_id,
                status=s.status,
                gender=s.gender,
                note=s.note,
                teachers=[
                    TeacherOut(
                        person_id=t.person_id,
                        name=people[t.person_id].name if t.person_id in people else "",
                        number=people[t.person_id].number if t.person_id in people else None,
                        main=t.main,
                    )
                    for t in teachers.get(s.id, [])
                ],
                classes=refs,
                majors=[
                    MajorOut(
                        org_unit_id=m.org_unit_id, name=tree.name(m.org_unit_id), grade=m.grade
                    )
                    for m in majors.get(s.id, [])
                ],
            )
        )
    return out


async def section_out(session: AsyncSession, section: Section) -> SectionOut:
    return (await sections_out(session, [section]))[0]


async def teacher_choices(
    session: AsyncSession, section: Section, q: str, limit: int
) -> list[PersonRef]:
    """The people a section may be given as teachers (``check_section`` refuses others):
    active staff of its owning college (or office), whose name holds ``q`` or whose staff
    number starts with it, by number."""
    q = q.strip()
    tree = await users.org_directory(session)
    college = tree.nearest(section.org_unit_id, "college")
    found = [
        p
        for kind in STAFF_TYPES
        for p in await users.members_of_org(session, college, subtree=True, person_type=kind)
        if q in p.name or (p.number or "").startswith(q)
    ]
    return sorted(found, key=lambda p: p.number or "")[:limit]


async def class_ids_of(session: AsyncSession, section_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(SectionClass.class_id)
            .where(SectionClass.section_id == section_id)
            .order_by(SectionClass.id)
        )
    )


async def covered(session: AsyncSession, term_id: int) -> set[tuple[int, int]]:
    """(course, class) pairs some open section of the term already teaches."""
    rows = await session.execute(
        select(Section.course_id, SectionClass.class_id)
        .join(SectionClass, SectionClass.section_id == Section.id)
        .where(Section.term_id == term_id, Section.status == "open")
    )
    return {(a, b) for a, b in rows.all()}


async def covered_majors(session: AsyncSession, term_id: int) -> set[tuple[int, int, int | None]]:
    """(course, major, grade) triples some open section of the term is open to."""
    rows = await session.execute(
        select(Section.course_id, SectionMajor.org_unit_id, SectionMajor.grade)
        .join(SectionMajor, SectionMajor.section_id == Section.id)
        .where(Section.term_id == term_id, Section.status == "open")
    )
    return {(a, b, c) for a, b, c in rows.all()}


async def plan_of_term(session: AsyncSession, term_id: int) -> list[PlanItem]:
    return list(
        await session.scalars(
            select(PlanItem)
            .where(PlanItem.term_id == term_id)
            .order_by(PlanItem.course_id, PlanItem.major_id, PlanItem.class_id)
        )
    )


async def next_numbers(session: AsyncSession, term_id: int) -> dict[int, int]:
    """The number of sections of each course in the term (the next code number is one more)."""
    rows = await session.execute(
        select(Section.course_id, func.count())
        .where(Section.term_id == term_id)
        .group_by(Section.course_id)
    )
    return {a: int(b) for a, b in rows.all()}
