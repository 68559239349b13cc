"""Reads of grades: who belongs to a section (its classes' students and those holding a
place in it through course selection, the same rule as the student's timetable), a sheet with
its entries, lists of sheets, a section's statistics, and published results with GPA."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.grades import scales
from campus.domains.academic.grades.models import (
    CourseResult,
    GradeCorrection,
    GradeEntry,
    GradeSheet,
)
from campus.domains.academic.grades.schemas import (
    LEVEL_LABELS,
    ComponentOut,
    EntryOut,
    ResultOut,
    SheetOut,
    SheetRow,
    StatsOut,
)
from campus.domains.academic.offering.models import Section, SectionClass, SectionTeacher
from campus.domains.academic.permissions import GRADE_PUBLISH, GRADE_REVIEW
from campus.domains.academic.selection import queries as selection
from campus.kernel.context import Principal
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES

# ---------------------------------------------------------------- who belongs to a section


async def roster(session: AsyncSession, section_id: int) -> list[int]:
    """The section's students: those of its classes (合班 included) and those holding a
    seat in it through course selection; each once, in order of id."""
    class_ids = list(
        await session.scalars(
            select(SectionClass.class_id).where(SectionClass.section_id == section_id)
        )
    )
    members = (
        await users.people_in_groups(session, class_ids=class_ids, person_types=STUDENT_TYPES)
        if class_ids
        else []
    )
    chosen = await selection.selected_ids(session, section_id)
    return sorted(set(members) | set(chosen))


async def teacher_ids(session: AsyncSession, section_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(SectionTeacher.person_id).where(SectionTeacher.section_id == section_id)
        )
    )


def overseen(principal: Principal | None) -> ColumnElement[bool]:
    """Sections whose sheets the reader reviews or publishes (by the 开课单位)."""
    if principal is None:
        return false()
    return or_(
        access.scope_filter(principal, GRADE_REVIEW, Section.org_unit_id),
        access.scope_filter(principal, GRADE_PUBLISH, Section.org_unit_id),
    )


# ---------------------------------------------------------------- sheets


async def sheet_of(
    session: AsyncSession, section_id: int, *, lock: bool = False
) -> GradeSheet | None:
    stmt = select(GradeSheet).where(GradeSheet.section_id == section_id)
    if lock:
        stmt = stmt.with_for_update()
    found: GradeSheet | None = await session.scalar(stmt)
    return found


async def entries_of(session: AsyncSession, sheet_id: int) -> dict[int, GradeEntry]:
    return {
        e.person_id: e
        for e in await session.scalars(select(GradeEntry).where(GradeEntry.sheet_id == sheet_id))
    }


async def roster_of_sheet(session: AsyncSession, sheet_id: int) -> list[int]:
    return sorted(
        await session.scalars(select(GradeEntry.person_id).where(GradeEntry.sheet_id == sheet_id))
    )


def components_of(sheet: GradeSheet | None) -> list[ComponentOut]:
    if sheet is None:
        return []
    return [ComponentOut.model_validate(c) for c in sheet.components]


def is_complete(sheet: GradeSheet, entry: GradeEntry | None) -> bool:
    """Whether the entry is ready to submit: a special mark, else a total (percentage) or a
    level of the scale."""
    if entry is None:
        return False
    if entry.special:
        return True
    if sheet.scale == "percentage":
        return entry.total is not None
    return entry.level in scales.LEVELS_OF_SCALE[sheet.scale]


async def sheet_out(session: AsyncSession, section: Section) -> SheetOut:
    sheet = await sheet_of(session, section.id)
    course = await session.get(Course, section.course_id)
    term = await session.get(Term, section.term_id)
    assert course is not None and term is not None
    ids = await roster(session, section.id)
    entries = await entries_of(session, sheet.id) if sheet is not None else {}
    ids = sorted(set(ids) | set(entries))
    people = await users.get_people(session, ids)
    class_names = await _class_names(session, [p.class_id for p in people.values()])
    rows = []
    for pid in ids:
        person = people.get(pid)
        entry = entries.get(pid)
        rows.append(
            EntryOut(
                person_id=pid,
                name=person.name if person else str(pid),
                number=person.number if person else None,
                class_name=class_names.get(person.class_id) if person and person.class_id else None,
                marks={
                    k: Decimal(v) if v not in (None, "") else None
                    for k, v in (entry.marks if entry else {}).items()
                },
                level=entry.level if entry else "",
                special=entry.special if entry else "",
                attempt=entry.attempt if entry else "normal",
                total=entry.total if entry else None,
                complete=sheet is not None and is_complete(sheet, entry),
            )
        )
    rows.sort(key=lambda r: (r.number or "", r.person_id))
    return SheetOut(
        id=sheet.id if sheet else None,
        section_id=section.id,
        section_code=section.code,
        section_name=section.name,
        course_id=course.id,
        course_code=course.code,
        course_name=course.name,
        credits=course.credits,
        term_id=term.id,
        term_name=term.name,
        org_unit_id=section.org_unit_id,
        scale=sheet.scale if sheet else "percentage",
        components=components_of(sheet),
        state=sheet.state if sheet else "draft",
        return_reason=sheet.return_reason if sheet else "",
        submitted_at=sheet.submitted_at if sheet else None,
        reviewed_at=sheet.reviewed_at if sheet else None,
        published_at=sheet.published_at if sheet else None,
        entries=rows,
    )


async def _class_names(session: AsyncSession, class_ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {c for c in class_ids if c is not None}
    if not wanted:
        return {}
    found = {}
    for class_id in sorted(wanted):
        klass = await users.get_class(session, class_id)
        if klass is not None:
            found[class_id] = klass.name
    return found


async def sheet_rows(
    session: AsyncSession,
    term_id: int,
    *,
    teacher_id: int | None = None,
    principal: Principal | None = None,
    state: str | None = None,
) -> list[SheetRow]:
    """The term's sections with their sheets' state: a teacher's own, or those the reader
    oversees (``principal``), of one state if given."""
    stmt = (
        select(Section, Course.name, GradeSheet)
        .join(Course, Course.id == Section.course_id)
        .outerjoin(GradeSheet, GradeSheet.section_id == Section.id)
        .where(Section.term_id == term_id, Section.status == "open")
        .order_by(Section.code)
    )
    if teacher_id is not None:
        stmt = stmt.where(
            Section.id.in_(
                select(SectionTeacher.section_id).where(SectionTeacher.person_id == teacher_id)
            )
        )
    if principal is not None:
        stmt = stmt.where(overseen(principal))
    if state == "draft":
        stmt = stmt.where(or_(GradeSheet.state == "draft", GradeSheet.id.is_(None)))
    elif state:
        stmt = stmt.where(GradeSheet.state == state)
    rows = list(await session.execute(stmt.limit(500)))
    counts: dict[int, int] = {}
    if rows:
        sheet_ids = [sheet.id for _s, _n, sheet in rows if sheet is not None]
        if sheet_ids:
            counts = {
                sid: n
                for sid, n in await session.execute(
                    select(GradeEntry.sheet_id, func.count())
                    .where(GradeEntry.sheet_id.in_(sheet_ids))
                    .group_by(GradeEntry.sheet_id)
                )
            }
    return [
        SheetRow(
            section_id=section.id,
            section_code=section.code,
            section_name=section.name,
            course_name=course_name,
            org_unit_id=section.org_unit_id,
            state=sheet.state if sheet is not None else "draft",
            students=counts.get(sheet.id, 0) if sheet is not None else 0,
            updated_at=sheet.updated_at if sheet is not None else None,
        )
        for section, course_name, sheet in rows
    ]


# ---------------------------------------------------------------- statistics

BUCKETS = ("<60", "60–69", "70–79", "80–89", "90–100")


def stats_of(sheet: SheetOut) -> StatsOut:
    graded = [e for e in sheet.entries if e.complete and not e.special]
    absent = sum(1 for e in sheet.entries if e.special in ("absent", "cheating"))
    deferred = sum(1 for e in sheet.entries if e.special == "deferred")
    buckets: dict[str, int]
    if sheet.scale == "percentage":
        buckets = dict.fromkeys(BUCKETS, 0)
        totals = [e.total for e in graded if e.total is not None]
        for t in totals:
            index = 0 if t < 60 else min(int(t // 10) - 5, 4)
            buckets[BUCKETS[index]] += 1
        passed = sum(1 for t in totals if t >= scales.PASS_MARK)
        average = (
            (sum(totals, Decimal(0)) / len(totals)).quantize(scales.ONE_PLACE) if totals else None
        )
        highest, lowest = (max(totals), min(totals)) if totals else (None, None)
    else:
        levels = scales.LEVELS_OF_SCALE[sheet.scale]
        buckets = {LEVEL_LABELS[level]: 0 for level in levels}
        for e in graded:
            buckets[LEVEL_LABELS[e.level]] += 1
        passed = sum(1 for e in graded if e.level not in ("fail", "failed"))
        average = highest = lowest = None
    counted = len(graded) + absent
    return StatsOut(
        students=len(sheet.entries),
        graded=len(graded),
        absent=absent,
        deferred=deferred,
        passed=passed,
        pass_rate=round(passed / counted, 4) if counted else None,
        average=average,
        highest=highest,
        lowest=lowest,
        buckets=buckets,
    )


# ---------------------------------------------------------------- published results


async def results_rows(
    session: AsyncSession, person_ids: Sequence[int]
) -> list[tuple[CourseResult, str, str, str, Any]]:
    """Published results of these people with course code, name, term name and start."""
    if not person_ids:
        return []
    stmt = (
        select(CourseResult, Course.code, Course.name, Term.name, Term.start_date)
        .join(Course, Course.id == CourseResult.course_id)
        .join(Term, Term.id == CourseResult.term_id)
        .where(CourseResult.person_id.in_(list(person_ids)))
        .order_by(Term.start_date, Course.code, CourseResult.id)
    )
    return [tuple(row) for row in await session.execute(stmt)]  # type: ignore[misc]


def attempted(result: CourseResult, order: int) -> scales.Attempted:
    return scales.Attempted(
        course_id=result.course_id,
        credits=result.credits,
        score=result.score,
        level=result.level,
        special=result.special,
        attempt=result.attempt,
        passed=result.passed,
        order=order,
    )


def result_out(
    result: CourseResult,
    code: str,
    name: str,
    term_name: str,
    counted: bool,
    points: Decimal,
    capped: bool = False,
) -> ResultOut:
    return ResultOut(
        id=result.id,
        person_id=result.person_id,
        course_id=result.course_id,
        course_code=code,
        course_name=name,
        term_id=result.term_id,
        term_name=term_name,
        section_id=result.section_id,
        credits=result.credits,
        scale=result.scale,
        score=result.score,
        level=result.level,
        level_label=LEVEL_LABELS.get(result.level, ""),
        special=result.special,
        grade_point=points,
        passed=result.passed,
        attempt=result.attempt,
        counted=counted,
        capped=capped,
        published_at=result.published_at,
    )


async def people_with_failures(session: AsyncSession) -> list[int]:
    """Everyone with a failed published result: those whose failed credits may be counted."""
    stmt = (
        select(CourseResult.person_id)
        .where(CourseResult.passed.is_(False))
        .distinct()
        .order_by(CourseResult.person_id)
    )
    return list(await session.scalars(stmt))


async def attempts_by_person(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, list[scales.Attempted]]:
    """Every published result of these people, as the GPA computation takes them."""
    found: dict[int, list[scales.Attempted]] = defaultdict(list)
    for start in range(0, len(person_ids), 500):
        chunk = list(person_ids[start : start + 500])
        stmt = (
            select(
                CourseResult.person_id,
                CourseResult.course_id,
                CourseResult.credits,
                CourseResult.score,
                CourseResult.level,
                CourseResult.special,
                CourseResult.attempt,
                CourseResult.passed,
            )
            .join(Term, Term.id == CourseResult.term_id)
            .where(CourseResult.person_id.in_(chunk))
            .order_by(Term.start_date, CourseResult.id)
        )
        for order, row in enumerate(await session.execute(stmt)):
            pid, course_id, credits, score, level, special, attempt, passed = row
            found[pid].append(
                scales.Attempted(course_id, credits, score, level, special, attempt, passed, order)
            )
    return dict(found)


async def corrections_of(session: AsyncSession, section_id: int) -> list[GradeCorrection]:
    return list(
        await session.scalars(
            select(GradeCorrection)
            .where(GradeCorrection.section_id == section_id)
            .order_by(GradeCorrection.id.desc())
        )
    )


async def passed_courses(
    session: AsyncSession, person_ids: Sequence[int]
) -> dict[int, dict[int, Decimal]]:
    """Each student's passed courses with their credits, in one query: a course counts as
    passed when any of its published attempts passed (the counted attempt is then a pass)."""
    found: dict[int, dict[int, Decimal]] = {person_id: {} for person_id in person_ids}
    if person_ids:
        for person_id, course_id, credits in await session.execute(
            select(CourseResult.person_id, CourseResult.course_id, CourseResult.credits).where(
                CourseResult.person_id.in_(person_ids), CourseResult.passed.is_(True)
            )
        ):
            found[person_id][course_id] = credits
    return found
