"""Writes of training programmes and teaching plans: ``check_*`` validates everything (input,
state, the editor's reach), then ``do_*`` writes and audits. A refusal changes nothing.

Credit rules (documented in docs/modules/academic-programmes.md):
- a group's courses must offer at least its minimum credits (available ≥ minimum);
- a group's required courses must not exceed its minimum (required ≤ minimum);
- the group minimums add up exactly to the programme's total minimum credits.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.permissions import PROGRAMME_MANAGE
from campus.domains.academic.programmes import orgs as org_tree
from campus.domains.academic.programmes import queries
from campus.domains.academic.programmes.models import (
    PlanItem,
    Programme,
    ProgrammeCourse,
    ProgrammeGroup,
    ProgrammePrerequisite,
)
from campus.domains.academic.programmes.schemas import (
    GroupIn,
    PlanReport,
    PrerequisiteIn,
    ProgrammeContent,
    ProgrammeCourseIn,
    ProgrammeCreate,
)
from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory


@dataclass(frozen=True)
class CheckedCourse:
    course_id: int
    term: int
    required: bool
    hours: int


@dataclass(frozen=True)
class CheckedGroup:
    name: str
    min_credits: Decimal
    courses: list[CheckedCourse]


@dataclass(frozen=True)
class CheckedContent:
    name: str
    total_credits: Decimal
    years: int
    note: str
    groups: list[CheckedGroup]
    prerequisites: list[tuple[int, int]]  # (course, prerequisite)


def _label(course: Course) -> str:
    return f"{course.name}（{course.code}）"


def find_cycle(edges: dict[int, list[int]]) -> list[int] | None:
    """A cycle of the graph ``course -> its prerequisites`` as [a, b, …, a], or None."""
    white, grey, black = 0, 1, 2
    colour: dict[int, int] = defaultdict(int)
    stack: list[int] = []

    def visit(node: int) -> list[int] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in edges.get(node, []):
            if colour[nxt] == grey:
                return [*stack[stack.index(nxt) :], nxt]
            if colour[nxt] == white:
                found = visit(nxt)
                if found is not None:
                    return found
        stack.pop()
        colour[node] = black
        return None

    for node in sorted(edges):
        if colour[node] == white:
            found = visit(node)
            if found is not None:
                return found
    return None


async def check_content(session: AsyncSession, body: ProgrammeContent) -> CheckedContent:
    """Every rule of a programme's content; a 422 naming the fields at fault."""
    ids = {c.course_id for g in body.groups for c in g.courses}
    ids |= {p.course_id for p in body.prerequisites} | {
        p.prerequisite_id for p in body.prerequisites
    }
    catalogue = await queries.courses_by_id(session, ids)
    errors: list[FieldError] = []
    seen_groups: dict[str, int] = {}
    seen_courses: dict[int, str] = {}
    groups: list[CheckedGroup] = []
    terms: dict[int, int] = {}
    for gi, group in enumerate(body.groups):
        if group.name in seen_groups:
            errors.append(FieldError(f"groups.{gi}.name", _("课程组“{name}”重复", name=group.name)))
        seen_groups[group.name] = gi
        checked: list[CheckedCourse] = []
        available = required = Decimal(0)
        for ci, item in enumerate(group.courses):
            field = f"groups.{gi}.courses.{ci}.course_id"
            course = catalogue.get(item.course_id)
            if course is None:
                errors.append(FieldError(field, _("课程 {id} 不在课程库中", id=item.course_id)))
                continue
            if item.course_id in seen_courses:
                errors.append(
                    FieldError(
                        field,
                        _(
                            "课程{course}在方案中出现了两次（“{first}”与“{second}”）",
                            course=_label(course),
                            first=seen_courses[item.course_id],
                            second=group.name,
                        ),
                    )
                )
                continue
            seen_courses[item.course_id] = group.name
            hours = (
                item.hours if item.hours is not None else course.lecture_hours + course.lab_hours
            )
            checked.append(CheckedCourse(item.course_id, item.term, item.required, hours))
            terms[item.course_id] = item.term
            available += course.credits
            if item.required:
                required += course.credits
        field = f"groups.{gi}.min_credits"
        if available < group.min_credits:
            errors.append(
                FieldError(
                    field,
                    _(
                        "课程组“{name}”的课程共 {available} 学分，达不到最低要求 {minimum} 学分",
                        name=group.name,
                        available=available,
                        minimum=group.min_credits,
                    ),
                )
            )
        if required > group.min_credits:
            errors.append(
                FieldError(
                    field,
                    _(
                        "课程组“{name}”的必修课程共 {required} 学分，超过了最低学分 {minimum}",
                        name=group.name,
                        required=required,
                        minimum=group.min_credits,
                    ),
                )
            )
        groups.append(CheckedGroup(group.name, group.min_credits, checked))
    minimums = sum((g.min_credits for g in body.groups), Decimal(0))
    if minimums != body.total_credits:
        errors.append(
            FieldError(
                "total_credits",
                _(
                    "各课程组最低学分之和为 {sum}，与毕业最低学分 {total} 不相等",
                    sum=minimums,
                    total=body.total_credits,
                ),
            )
        )
    prerequisites, prereq_errors = _check_prerequisites(body.prerequisites, catalogue, terms)
    errors += prereq_errors
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return CheckedContent(
        name=body.name or "",
        total_credits=body.total_credits,
        years=body.years,
        note=body.note,
        groups=groups,
        prerequisites=prerequisites,
    )


def _check_prerequisites(
    items: list[PrerequisiteIn], catalogue: dict[int, Course], terms: dict[int, int]
) -> tuple[list[tuple[int, int]], list[FieldError]]:
    errors: list[FieldError] = []
    pairs: list[tuple[int, int]] = []
    edges: dict[int, list[int]] = defaultdict(list)
    for pi, item in enumerate(items):
        bad = False
        for key in ("course_id", "prerequisite_id"):
            value = getattr(item, key)
            if value not in terms:
                name = _label(catalogue[value]) if value in catalogue else str(value)
                errors.append(
                    FieldError(
                        f"prerequisites.{pi}.{key}",
                        _("课程{course}不在本方案中", course=name),
                    )
                )
                bad = True
        if bad or (item.course_id, item.prerequisite_id) in pairs:
            continue
        course, before = catalogue[item.course_id], catalogue[item.prerequisite_id]
        if terms[item.prerequisite_id] > terms[item.course_id]:
            errors.append(
                FieldError(
                    f"prerequisites.{pi}.prerequisite_id",
                    _(
                        "先修课程{before}建议在第 {t1} 学期修读，晚于课程{course}的第 {t2} 学期",
                        before=_label(before),
                        t1=terms[item.prerequisite_id],
                        course=_label(course),
                        t2=terms[item.course_id],
                    ),
                )
            )
        pairs.append((item.course_id, item.prerequisite_id))
        edges[item.course_id].append(item.prerequisite_id)
    cycle = find_cycle(edges)
    if cycle is not None:
        names = " → ".join(catalogue[c].name for c in cycle)
        errors.append(FieldError("prerequisites", _("先修关系成环：{cycle}", cycle=names)))
    return pairs, errors


# ---------------------------------------------------------------- scope


async def check_reach(principal: Principal, major_id: int, tree: OrgDirectory) -> None:
    if not access.allows(principal, PROGRAMME_MANAGE, tree.path(major_id)):
        raise await access.denied(
            principal,
            PROGRAMME_MANAGE,
            _("“{name}”不在您维护培养方案的范围内", name=tree.name(major_id)),
            target_type="org_unit",
            target_id=major_id,
        )


async def _editable(
    session: AsyncSession, principal: Principal, programme_id: int
) -> tuple[Programme, OrgDirectory]:
    programme = await queries.programme_or_404(session, programme_id)
    tree = await users.org_directory(session)
    await check_reach(principal, programme.major_id, tree)
    return programme, tree


def _state(p: Programme) -> dict[str, Any]:
    return {
        "major_id": p.major_id,
        "cohort": p.cohort,
        "version": p.version,
        "status": p.status,
        "total_credits": str(p.total_credits),
    }


# ---------------------------------------------------------------- programmes


async def check_create(session: AsyncSession, principal: Principal, body: ProgrammeCreate) -> int:
    tree = await users.org_directory(session)
    if tree.kinds.get(body.major_id) != "major":
        raise InvalidInput.on("major_id", _("单位 {id} 不是专业", id=body.major_id))
    await check_reach(principal, body.major_id, tree)
    content = await check_content(session, body)
    if await queries.versions_of(session, body.major_id, body.cohort):
        raise Conflict.on(
            "cohort",
            _(
                "{major}{cohort}级已有培养方案，请在其上建立新版本",
                major=tree.name(body.major_id),
                cohort=body.cohort,
            ),
        )
    return await do_create(session, principal, body.major_id, body.cohort, 1, content, tree)


async def do_create(
    session: AsyncSession,
    principal: Principal | None,
    major_id: int,
    cohort: int,
    version: int,
    content: CheckedContent,
    tree: OrgDirectory,
    based_on_id: int | None = None,
) -> int:
    now = clock.now()
    programme = Programme(
        major_id=major_id,
        college_id=tree.nearest(major_id, "college"),
        cohort=cohort,
        version=version,
        name=content.name or f"{tree.name(major_id)}专业{cohort}级培养方案",
        total_credits=content.total_credits,
        years=content.years,
        status="draft",
        note=content.note,
        based_on_id=based_on_id,
        created_by=principal.person_id if principal else None,
        created_at=now,
        updated_at=now,
    )
    session.add(programme)
    await session.flush()
    await _write_content(session, programme.id, content)
    audit.record(
        session, "academic.programme.create", "programme", programme.id, after=_state(programme)
    )
    return programme.id


async def _write_content(session: AsyncSession, programme_id: int, content: CheckedContent) -> None:
    for order, group in enumerate(content.groups):
        row = ProgrammeGroup(
            programme_id=programme_id,
            name=group.name,
            min_credits=group.min_credits,
            sort_order=order,
        )
        session.add(row)
        await session.flush()
        if group.courses:
            await session.execute(
                insert(ProgrammeCourse),
                [
                    {
                        "programme_id": programme_id,
                        "group_id": row.id,
                        "course_id": c.course_id,
                        "term": c.term,
                        "required": c.required,
                        "hours": c.hours,
                    }
                    for c in group.courses
                ],
            )
    if content.prerequisites:
        await session.execute(
            insert(ProgrammePrerequisite),
            [
                {"programme_id": programme_id, "course_id": c, "prerequisite_id": p}
                for c, p in content.prerequisites
            ],
        )


async def check_replace(
    session: AsyncSession, principal: Principal, programme_id: int, body: ProgrammeContent
) -> None:
    programme, _tree = await _editable(session, principal, programme_id)
    if programme.status != "draft":
        raise Conflict(_("已发布的培养方案不能修改；请建立新版本"))
    content = await check_content(session, body)
    await do_replace(session, programme, content)


async def do_replace(session: AsyncSession, programme: Programme, content: CheckedContent) -> None:
    before = _state(programme)
    await session.execute(
        delete(ProgrammePrerequisite).where(ProgrammePrerequisite.programme_id == programme.id)
    )
    await session.execute(
        delete(ProgrammeCourse).where(ProgrammeCourse.programme_id == programme.id)
    )
    await session.execute(delete(ProgrammeGroup).where(ProgrammeGroup.programme_id == programme.id))
    if content.name:
        programme.name = content.name
    programme.total_credits = content.total_credits
    programme.years = content.years
    programme.note = content.note
    programme.updated_at = clock.now()
    await _write_content(session, programme.id, content)
    audit.record(
        session,
        "academic.programme.update",
        "programme",
        programme.id,
        before=before,
        after=_state(programme),
    )


async def check_delete(session: AsyncSession, principal: Principal, programme_id: int) -> None:
    programme, _tree = await _editable(session, principal, programme_id)
    if programme.status != "draft":
        raise Conflict(_("已发布的培养方案不能删除"))
    audit.record(
        session, "academic.programme.delete", "programme", programme.id, before=_state(programme)
    )
    await session.delete(programme)
    await session.flush()


async def content_in(session: AsyncSession, programme: Programme) -> ProgrammeContent:
    """The stored content as the input it would be saved from (to re-check or copy it)."""
    content = await queries.content_of(session, programme.id)
    by_group: dict[int, list[ProgrammeCourseIn]] = defaultdict(list)
    for c in content.courses:
        by_group[c.group_id].append(
            ProgrammeCourseIn(
                course_id=c.course_id, term=c.term, required=c.required, hours=c.hours
            )
        )
    return ProgrammeContent(
        name=programme.name,
        total_credits=programme.total_credits,
        years=programme.years,
        note=programme.note,
        groups=[
            GroupIn(name=g.name, min_credits=g.min_credits, courses=by_group.get(g.id, []))
            for g in content.groups
        ],
        prerequisites=[
            PrerequisiteIn(course_id=p.course_id, prerequisite_id=p.prerequisite_id)
            for p in content.prerequisites
        ],
    )


async def check_publish(session: AsyncSession, principal: Principal, programme_id: int) -> None:
    programme, _tree = await _editable(session, principal, programme_id)
    if programme.status != "draft":
        raise Conflict(_("培养方案已发布"))
    await check_content(session, await content_in(session, programme))
    await do_publish(session, programme)


async def do_publish(session: AsyncSession, programme: Programme) -> None:
    before = _state(programme)
    programme.status = "published"
    programme.published_at = programme.updated_at = clock.now()
    audit.record(
        session,
        "academic.programme.publish",
        "programme",
        programme.id,
        before=before,
        after=_state(programme),
    )
    payload = events.ProgrammePublished(
        programme_id=programme.id,
        major_id=programme.major_id,
        cohort=programme.cohort,
        version=programme.version,
    )
    await emit(session, events.PROGRAMME_PUBLISHED, payload)


async def check_new_version(session: AsyncSession, principal: Principal, programme_id: int) -> int:
    programme, tree = await _editable(session, principal, programme_id)
    versions = await queries.versions_of(session, programme.major_id, programme.cohort)
    draft = next((v for v in versions if v.status == "draft"), None)
    if draft is not None:
        raise Conflict(_("已有草稿版本 V{version}，请先修改或发布它", version=draft.version))
    body = await content_in(session, programme)
    content = await check_content(session, body)
    return await do_create(
        session,
        principal,
        programme.major_id,
        programme.cohort,
        max(v.version for v in versions) + 1,
        content,
        tree,
        based_on_id=programme.id,
    )


async def check_copy(
    session: AsyncSession, principal: Principal, programme_id: int, cohort: int
) -> int:
    programme, tree = await _editable(session, principal, programme_id)
    if await queries.versions_of(session, programme.major_id, cohort):
        raise Conflict.on(
            "cohort",
            _("{major}{cohort}级已有培养方案", major=tree.name(programme.major_id), cohort=cohort),
        )
    body = await content_in(session, programme)
    body.name = f"{tree.name(programme.major_id)}专业{cohort}级培养方案"
    content = await check_content(session, body)
    return await do_create(
        session, principal, programme.major_id, cohort, 1, content, tree, based_on_id=programme.id
    )


# ---------------------------------------------------------------- teaching plans


async def check_generate_plan(
    session: AsyncSession, principal: Principal | None, term_id: int
) -> PlanReport:
    """The teaching plan of the term for every class the principal's reach covers (all classes
    without a principal, for the seed)."""
    term = await queries.term_or_404(session, term_id, "term_id")
    tree = await users.org_directory(session)
    classes = [
        c
        for c in await org_tree.classes(session)
        if org_tree.undergraduate(c)
        and (
            principal is None
            or access.allows(principal, PROGRAMME_MANAGE, tree.path(c.org_unit_id))
        )
    ]
    return await do_generate_plan(session, term, classes, tree)


async def do_generate_plan(
    session: AsyncSession, term: Term, classes: list[Any], tree: OrgDirectory
) -> PlanReport:
    """Idempotent: rows already right stay, missing ones are added, stale ones removed."""
    wanted: dict[tuple[int, int], dict[str, Any]] = {}
    without: list[str] = []
    planned = 0
    cache: dict[tuple[int, int], tuple[int, list[tuple[ProgrammeCourse, str]]] | None] = {}
    for c in classes:
        number = queries.term_number(term, c.grade)
        if number is None:
            continue
        key = (c.org_unit_id, c.grade)
        if key not in cache:
            programme = await queries.effective_programme(session, *key)
            if programme is None:
                cache[key] = None
            else:
                content = await queries.content_of(session, programme.id)
                names = {g.id: g.name for g in content.groups}
                cache[key] = (programme.id, [(pc, names[pc.group_id]) for pc in content.courses])
        found = cache[key]
        if found is None:
            without.append(c.name)
            continue
        planned += 1
        programme_id, courses = found
        for pc, group_name in courses:
            if pc.term != number:
                continue
            wanted[(c.id, pc.course_id)] = {
                "term_id": term.id,
                "class_id": c.id,
                "major_id": c.org_unit_id,
                "college_id": tree.nearest(c.org_unit_id, "college"),
                "grade": c.grade,
                "term_number": number,
                "programme_id": programme_id,
                "course_id": pc.course_id,
                "group_name": group_name,
                "required": pc.required,
                "hours": pc.hours,
            }
    class_ids = [c.id for c in classes]
    existing: dict[tuple[int, int], PlanItem] = {}
    for start in range(0, len(class_ids), 500):
        chunk = class_ids[start : start + 500]
        for item in await session.scalars(
            select(PlanItem).where(PlanItem.term_id == term.id, PlanItem.class_id.in_(chunk))
        ):
            existing[(item.class_id, item.course_id)] = item
    stale = [item.id for key, item in existing.items() if key not in wanted]
    updated = 0
    for key, item in existing.items():
        row = wanted.get(key)
        if row is None:
            continue
        changes = {k: v for k, v in row.items() if getattr(item, k) != v}
        if changes:
            updated += 1
            await session.execute(update(PlanItem).where(PlanItem.id == item.id).values(**changes))
    for start in range(0, len(stale), 500):
        await session.execute(delete(PlanItem).where(PlanItem.id.in_(stale[start : start + 500])))
    fresh = [row for key, row in wanted.items() if key not in existing]
    for start in range(0, len(fresh), 1000):
        await session.execute(insert(PlanItem), fresh[start : start + 1000])
    report = PlanReport(
        term_id=term.id,
        classes=planned,
        items=len(wanted),
        added=len(fresh),
        removed=len(stale),
        updated=updated,
        without_programme=without,
    )
    if fresh or stale or updated:
        audit.record(session, "academic.plan.generate", "term", term.id, after=report.model_dump())
    return report


async def programme_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Programme)) or 0)
