"""Reads of training programmes and teaching plans (and of the catalogue and calendar tables
of the same module they refer to)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering.models import Section, SectionClass, SectionMajor
from campus.domains.academic.programmes import orgs as org_tree
from campus.domains.academic.programmes.models import (
    PlanItem,
    Programme,
    ProgrammeCourse,
    ProgrammeGroup,
    ProgrammePrerequisite,
)
from campus.domains.academic.programmes.schemas import (
    ChangedField,
    CourseChange,
    GroupChange,
    GroupOut,
    PlanItemOut,
    PrerequisiteOut,
    ProgrammeCourseOut,
    ProgrammeDiff,
    ProgrammeOut,
    ProgrammeSummary,
)
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory


async def courses_by_id(session: AsyncSession, ids: set[int] | list[int]) -> dict[int, Course]:
    found: dict[int, Course] = {}
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for course in await session.scalars(select(Course).where(Course.id.in_(chunk))):
            found[course.id] = course
    return found


async def active_courses(session: AsyncSession) -> list[Course]:
    return list(
        await session.scalars(select(Course).where(Course.active.is_(True)).order_by(Course.code))
    )


async def term_or_404(session: AsyncSession, term_id: int, field: str | None = None) -> Term:
    term = await session.get(Term, term_id)
    if term is None:
        from campus.kernel.errors import InvalidInput

        if field is not None:
            raise InvalidInput.on(field, _("学期 {id} 不存在", id=term_id))
        raise NotFound(_("学期 {id} 不存在", id=term_id))
    return term


async def terms(session: AsyncSession) -> list[Term]:
    return list(await session.scalars(select(Term).order_by(Term.start_date.desc())))


async def current_term(session: AsyncSession) -> Term | None:
    found = await session.scalar(select(Term).where(Term.current.is_(True)).limit(1))
    if found is None:
        found = await session.scalar(select(Term).order_by(Term.start_date.desc()).limit(1))
    return found


def term_number(term: Term, grade: int) -> int | None:
    """The class's term number in ``term``: autumn of the intake year is 1, the next spring 2…;
    a summer term (season 3) has no number of its own (no plan)."""
    if term.season not in (1, 2):
        return None
    number = (term.academic_year - grade) * 2 + term.season
    return number if number >= 1 else None


# ---------------------------------------------------------------- programmes


async def programme_or_404(session: AsyncSession, programme_id: int) -> Programme:
    found = await session.get(Programme, programme_id)
    if found is None:
        raise NotFound(_("培养方案 {id} 不存在", id=programme_id))
    return found


@dataclass
class ProgrammeFilter:
    college_id: int | None = None
    major_id: int | None = None
    cohort: int | None = None
    status: str | None = None


async def list_programmes(
    session: AsyncSession, f: ProgrammeFilter, within: ColumnElement[bool] | None = None
) -> list[ProgrammeSummary]:
    stmt = select(Programme).where(within if within is not None else true())
    if f.college_id is not None:
        stmt = stmt.where(Programme.college_id == f.college_id)
    if f.major_id is not None:
        stmt = stmt.where(Programme.major_id == f.major_id)
    if f.cohort is not None:
        stmt = stmt.where(Programme.cohort == f.cohort)
    if f.status is not None:
        stmt = stmt.where(Programme.status == f.status)
    rows = list(
        await session.scalars(
            stmt.order_by(
                Programme.college_id,
                Programme.major_id,
                Programme.cohort.desc(),
                Programme.version.desc(),
            )
        )
    )
    tree = await users.org_directory(session)
    return [summary(p, tree) for p in rows]


def summary(p: Programme, tree: OrgDirectory) -> ProgrammeSummary:
    return ProgrammeSummary(
        id=p.id,
        major_id=p.major_id,
        major_name=tree.name(p.major_id),
        college_id=p.college_id,
        college_name=tree.name(p.college_id),
        cohort=p.cohort,
        version=p.version,
        name=p.name,
        total_credits=float(p.total_credits),
        status=p.status,
        published_at=p.published_at,
        updated_at=p.updated_at,
    )


async def versions_of(session: AsyncSession, major_id: int, cohort: int) -> list[Programme]:
    return list(
        await session.scalars(
            select(Programme)
            .where(Programme.major_id == major_id, Programme.cohort == cohort)
            .order_by(Programme.version)
        )
    )


async def effective_programme(
    session: AsyncSession, major_id: int, cohort: int
) -> Programme | None:
    """The latest published version for the major and cohort."""
    return await session.scalar(
        select(Programme)
        .where(
            Programme.major_id == major_id,
            Programme.cohort == cohort,
            Programme.status == "published",
        )
        .order_by(Programme.version.desc())
        .limit(1)
    )


@dataclass
class Content:
    groups: list[ProgrammeGroup]
    courses: list[ProgrammeCourse]
    prerequisites: list[ProgrammePrerequisite]
    catalogue: dict[int, Course]


async def content_of(session: AsyncSession, programme_id: int) -> Content:
    groups = list(
        await session.scalars(
            select(ProgrammeGroup)
            .where(ProgrammeGroup.programme_id == programme_id)
            .order_by(ProgrammeGroup.sort_order, ProgrammeGroup.id)
        )
    )
    courses = list(
        await session.scalars(
            select(ProgrammeCourse)
            .where(ProgrammeCourse.programme_id == programme_id)
            .order_by(ProgrammeCourse.term, ProgrammeCourse.id)
        )
    )
    prerequisites = list(
        await session.scalars(
            select(ProgrammePrerequisite)
            .where(ProgrammePrerequisite.programme_id == programme_id)
            .order_by(ProgrammePrerequisite.id)
        )
    )
    ids = {c.course_id for c in courses}
    catalogue = await courses_by_id(session, ids)
    return Content(groups, courses, prerequisites, catalogue)


async def programme_out(session: AsyncSession, p: Programme) -> ProgrammeOut:
    tree = await users.org_directory(session)
    content = await content_of(session, p.id)
    cat = content.catalogue
    prereqs: dict[int, list[str]] = defaultdict(list)
    for pr in content.prerequisites:
        if pr.prerequisite_id in cat:
            prereqs[pr.course_id].append(cat[pr.prerequisite_id].code)
    by_group: dict[int, list[ProgrammeCourse]] = defaultdict(list)
    for c in content.courses:
        by_group[c.group_id].append(c)
    groups: list[GroupOut] = []
    per_term: dict[int, Decimal] = defaultdict(Decimal)
    for g in content.groups:
        rows = [
            ProgrammeCourseOut(
                id=c.id,
                course_id=c.course_id,
                code=cat[c.course_id].code,
                name=cat[c.course_id].name,
                credits=float(cat[c.course_id].credits),
                term=c.term,
                required=c.required,
                hours=c.hours,
                prerequisites=prereqs.get(c.course_id, []),
            )
            for c in by_group.get(g.id, [])
            if c.course_id in cat
        ]
        for c in by_group.get(g.id, []):
            if c.required and c.course_id in cat:
                per_term[c.term] += cat[c.course_id].credits
        groups.append(
            GroupOut(
                id=g.id,
                name=g.name,
                min_credits=float(g.min_credits),
                available_credits=sum(r.credits for r in rows),
                required_credits=sum(r.credits for r in rows if r.required),
                courses=rows,
            )
        )
    return ProgrammeOut(
        **summary(p, tree).model_dump(),
        years=p.years,
        note=p.note,
        based_on_id=p.based_on_id,
        groups=groups,
        prerequisites=[
            PrerequisiteOut(
                course_id=pr.course_id,
                course_code=cat[pr.course_id].code if pr.course_id in cat else "",
                prerequisite_id=pr.prerequisite_id,
                prerequisite_code=cat[pr.prerequisite_id].code if pr.prerequisite_id in cat else "",
            )
            for pr in content.prerequisites
        ],
        courses_by_term={t: float(v) for t, v in sorted(per_term.items())},
    )


# ---------------------------------------------------------------- comparing versions


def _changed(field: str, before: Any, after: Any) -> ChangedField | None:
    if before == after:
        return None
    return ChangedField(field=field, before=str(before), after=str(after))


def compare(left: ProgrammeOut, right: ProgrammeOut) -> ProgrammeDiff:
    """What changed from ``left`` to ``right``: groups and courses added, removed, changed."""
    fields = [
        c
        for c in (
            _changed("total_credits", left.total_credits, right.total_credits),
            _changed("years", left.years, right.years),
            _changed("name", left.name, right.name),
        )
        if c is not None
    ]
    lg = {g.name: g for g in left.groups}
    rg = {g.name: g for g in right.groups}
    groups_changed = []
    for name in lg.keys() & rg.keys():
        change = _changed("min_credits", lg[name].min_credits, rg[name].min_credits)
        if change is not None:
            groups_changed.append(GroupChange(name=name, changes=[change]))
    lc = {c.code: (g.name, c) for g in left.groups for c in g.courses}
    rc = {c.code: (g.name, c) for g in right.groups for c in g.courses}
    changed_courses = []
    for code in sorted(lc.keys() & rc.keys()):
        (lgn, a), (rgn, b) = lc[code], rc[code]
        changes = [
            x
            for x in (
                _changed("group", lgn, rgn),
                _changed("term", a.term, b.term),
                _changed("required", a.required, b.required),
                _changed("hours", a.hours, b.hours),
                _changed("credits", a.credits, b.credits),
            )
            if x is not None
        ]
        if changes:
            changed_courses.append(CourseChange(code=code, name=b.name, changes=changes))
    lp = {f"{p.course_code} ← {p.prerequisite_code}" for p in left.prerequisites}
    rp = {f"{p.course_code} ← {p.prerequisite_code}" for p in right.prerequisites}
    return ProgrammeDiff(
        left=ProgrammeSummary(**left.model_dump(include=set(ProgrammeSummary.model_fields))),
        right=ProgrammeSummary(**right.model_dump(include=set(ProgrammeSummary.model_fields))),
        fields=fields,
        groups_added=sorted(rg.keys() - lg.keys()),
        groups_removed=sorted(lg.keys() - rg.keys()),
        groups_changed=sorted(groups_changed, key=lambda g: g.name),
        courses_added=[
            CourseChange(code=code, name=rc[code][1].name) for code in sorted(rc.keys() - lc.keys())
        ],
        courses_removed=[
            CourseChange(code=code, name=lc[code][1].name) for code in sorted(lc.keys() - rc.keys())
        ],
        courses_changed=changed_courses,
        prerequisites_added=sorted(rp - lp),
        prerequisites_removed=sorted(lp - rp),
    )


# ---------------------------------------------------------------- teaching plans


@dataclass
class PlanFilter:
    college_id: int | None = None
    major_id: int | None = None
    class_id: int | None = None


async def plan_items(
    session: AsyncSession, term_id: int, f: PlanFilter, within: ColumnElement[bool] | None = None
) -> list[PlanItemOut]:
    stmt = select(PlanItem).where(PlanItem.term_id == term_id)
    if within is not None:
        stmt = stmt.where(within)
    if f.college_id is not None:
        stmt = stmt.where(PlanItem.college_id == f.college_id)
    if f.major_id is not None:
        stmt = stmt.where(PlanItem.major_id == f.major_id)
    if f.class_id is not None:
        stmt = stmt.where(PlanItem.class_id == f.class_id)
    items = list(await session.scalars(stmt.order_by(PlanItem.class_id, PlanItem.id)))
    if not items:
        return []
    tree = await users.org_directory(session)
    classes = {c.id: c for c in await org_tree.classes(session)}
    cat = await courses_by_id(session, {i.course_id for i in items})
    sections: dict[tuple[int, int], list[str]] = defaultdict(list)
    rows = await session.execute(
        select(Section.course_id, SectionClass.class_id, Section.code)
        .join(SectionClass, SectionClass.section_id == Section.id)
        .where(Section.term_id == term_id, Section.status == "open")
        .order_by(Section.code)
    )
    for course_id, class_id, code in rows.all():
        sections[(course_id, class_id)].append(code)
    open_to: dict[tuple[int, int, int | None], list[str]] = defaultdict(list)
    majors = await session.execute(
        select(Section.course_id, SectionMajor.org_unit_id, SectionMajor.grade, Section.code)
        .join(SectionMajor, SectionMajor.section_id == Section.id)
        .where(Section.term_id == term_id, Section.status == "open")
        .order_by(Section.code)
    )
    for course_id, major_id, grade, code in majors.all():
        open_to[(course_id, major_id, grade)].append(code)
    out = [
        PlanItemOut(
            id=i.id,
            term_id=i.term_id,
            class_id=i.class_id,
            class_name=classes[i.class_id].name if i.class_id in classes else str(i.class_id),
            major_id=i.major_id,
            major_name=tree.name(i.major_id),
            college_id=i.college_id,
            grade=i.grade,
            term_number=i.term_number,
            course_id=i.course_id,
            course_code=cat[i.course_id].code,
            course_name=cat[i.course_id].name,
            credits=float(cat[i.course_id].credits),
            group_name=i.group_name,
            required=i.required,
            hours=i.hours,
            section_codes=sections.get((i.course_id, i.class_id), [])
            or open_to.get((i.course_id, i.major_id, i.grade), []),
        )
        for i in items
        if i.course_id in cat
    ]
    out.sort(key=lambda r: (r.class_name, not r.required, r.course_code))
    return out


async def plan_count(session: AsyncSession, term_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(PlanItem).where(PlanItem.term_id == term_id)
        )
        or 0
    )
