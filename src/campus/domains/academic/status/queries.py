"""Reads of student status: records within the reader's data scope, a record's history and
requests, the roster for export, and the names of the units and classes they point at."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import STATUS_MANAGE, STATUS_READ
from campus.domains.academic.status.models import (
    GraduationBatch,
    StatusChange,
    StatusHistory,
    StudentStatus,
)
from campus.domains.academic.status.schemas import (
    KIND_LABELS,
    STATE_LABELS,
    STATUS_LABELS,
    ChangeOut,
    ChangePage,
    HistoryOut,
    RecordDetail,
    RecordOut,
    RecordPage,
)
from campus.kernel.context import Principal
from campus.kernel.pagination import PageParams, paginate
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import ClassOut

# Above this many distinct classes, read every class at once rather than one by one.
CLASS_BULK = 30


@dataclass
class Names:
    """Names of org units, classes and people, read once for a page or an export."""

    units: dict[int, str] = field(default_factory=dict)
    classes: dict[int, ClassOut] = field(default_factory=dict)
    people: dict[int, str] = field(default_factory=dict)

    def unit(self, unit_id: int | None) -> str:
        return self.units.get(unit_id, "") if unit_id is not None else ""

    def klass(self, class_id: int | None) -> str:
        found = self.classes.get(class_id) if class_id is not None else None
        return found.name if found else ""


async def names_of(
    session: AsyncSession,
    unit_ids: Iterable[int | None],
    class_ids: Iterable[int | None],
    person_ids: Iterable[int | None] = (),
) -> Names:
    names = Names()
    units = sorted({u for u in unit_ids if u is not None})
    if units:
        names.units = {u.id: u.name for u in (await users.get_org_units(session, units)).values()}
    wanted = {c for c in class_ids if c is not None}
    if len(wanted) > CLASS_BULK:
        names.classes = {c.id: c for c in await users.list_classes(session) if c.id in wanted}
    else:
        for class_id in sorted(wanted):
            found = await users.get_class(session, class_id)
            if found is not None:
                names.classes[class_id] = found
    people = sorted({p for p in person_ids if p is not None})
    if people:
        names.people = {p.id: p.name for p in (await users.get_people(session, people)).values()}
    return names


# ---------------------------------------------------------------- scope


def within(principal: Principal | None) -> ColumnElement[bool]:
    """Records the reader may see: their own, and those ``academic.status.read`` or
    ``.manage`` reaches (by the major's unit, so a college's secretary sees their college)."""
    if principal is None:
        return false()
    return or_(
        StudentStatus.person_id == principal.person_id,
        access.scope_filter(principal, STATUS_READ, StudentStatus.major_id),
        access.scope_filter(principal, STATUS_MANAGE, StudentStatus.major_id),
    )


def managed(principal: Principal | None) -> ColumnElement[bool]:
    """Records whose changes the reader may file and batch (``academic.status.manage``)."""
    return access.scope_filter(principal, STATUS_MANAGE, StudentStatus.major_id)


async def record_of(session: AsyncSession, person_id: int) -> StudentStatus | None:
    found: StudentStatus | None = await session.scalar(
        select(StudentStatus).where(StudentStatus.person_id == person_id)
    )
    return found


async def reaches(
    session: AsyncSession, person_id: int, clause: ColumnElement[bool]
) -> StudentStatus | None:
    """The person's record if ``clause`` keeps it."""
    found: StudentStatus | None = await session.scalar(
        select(StudentStatus).where(StudentStatus.person_id == person_id, clause)
    )
    return found


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class RecordFilter:
    q: str | None = None  # the start of a student number, or part of a name
    college_id: int | None = None
    major_id: int | None = None
    status: str | None = None
    grade: int | None = None


def records_select(principal: Principal | None, f: RecordFilter) -> Select[Any]:
    stmt = select(StudentStatus).where(within(principal))
    if f.q:
        like = f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            or_(
                StudentStatus.student_no.like(f"{like}%", escape="\\"),
                StudentStatus.name.like(f"%{like}%", escape="\\"),
            )
        )
    if f.college_id is not None:
        stmt = stmt.where(StudentStatus.college_id == f.college_id)
    if f.major_id is not None:
        stmt = stmt.where(StudentStatus.major_id == f.major_id)
    if f.status is not None:
        stmt = stmt.where(StudentStatus.status == f.status)
    if f.grade is not None:
        stmt = stmt.where(StudentStatus.grade == f.grade)
    return stmt.order_by(StudentStatus.student_no)


def record_out(record: StudentStatus, names: Names) -> RecordOut:
    out = RecordOut.model_validate(record)
    out.college_name = names.unit(record.college_id)
    out.major_name = names.unit(record.major_id)
    out.class_name = names.klass(record.class_id)
    out.status_label = STATUS_LABELS.get(record.status, record.status)
    return out


async def records_out(session: AsyncSession, records: Sequence[StudentStatus]) -> list[RecordOut]:
    names = await names_of(
        session,
        [*(r.major_id for r in records), *(r.college_id for r in records)],
        (r.class_id for r in records),
    )
    return [record_out(r, names) for r in records]


async def records_page(
    session: AsyncSession, principal: Principal, f: RecordFilter, paging: PageParams
) -> RecordPage:
    page = await paginate(session, records_select(principal, f), paging.page, paging.page_size)
    items = await records_out(session, page.items)
    return RecordPage(
        items=items, total=page.total, page=page.page, page_size=page.page_size, pages=page.pages
    )


async def roster(session: AsyncSession, principal: Principal, f: RecordFilter) -> list[RecordOut]:
    records = list(await session.scalars(records_select(principal, f)))
    return await records_out(session, records)


async def record_detail(session: AsyncSession, record: StudentStatus) -> RecordDetail:
    history = list(
        await session.scalars(
            select(StatusHistory)
            .where(StatusHistory.person_id == record.person_id)
            .order_by(StatusHistory.at.desc(), StatusHistory.id.desc())
        )
    )
    changes = list(
        await session.scalars(
            select(StatusChange)
            .where(StatusChange.person_id == record.person_id)
            .order_by(StatusChange.id.desc())
        )
    )
    names = await names_of(
        session,
        [
            record.major_id,
            record.college_id,
            *(h.from_major_id for h in history),
            *(h.to_major_id for h in history),
            *(c.target_major_id for c in changes),
        ],
        [
            record.class_id,
            *(h.from_class_id for h in history),
            *(h.to_class_id for h in history),
            *(c.target_class_id for c in changes),
        ],
        (h.actor_id for h in history),
    )
    detail = RecordDetail.model_validate(record_out(record, names).model_dump())
    detail.history = [history_out(h, names) for h in history]
    detail.changes = [change_out(c, record, names) for c in changes]
    return detail


def history_out(row: StatusHistory, names: Names) -> HistoryOut:
    return HistoryOut(
        id=row.id,
        kind=row.kind,
        kind_label=KIND_LABELS.get(row.kind, row.kind),
        from_status=row.from_status,
        to_status=row.to_status,
        from_major_name=names.unit(row.from_major_id),
        to_major_name=names.unit(row.to_major_id),
        from_class_name=names.klass(row.from_class_id),
        to_class_name=names.klass(row.to_class_id),
        from_grade=row.from_grade,
        to_grade=row.to_grade,
        reason=row.reason,
        actor_id=row.actor_id,
        actor_name=names.people.get(row.actor_id, "") if row.actor_id else "",
        change_id=row.change_id,
        instance_id=row.instance_id,
        at=row.at,
    )


def change_out(change: StatusChange, record: StudentStatus, names: Names) -> ChangeOut:
    return ChangeOut(
        id=change.id,
        person_id=change.person_id,
        student_no=record.student_no,
        name=record.name,
        kind=change.kind,
        kind_label=KIND_LABELS.get(change.kind, change.kind),
        state=change.state,
        state_label=STATE_LABELS.get(change.state, change.state),
        reason=change.reason,
        terms=change.terms,
        target_major_id=change.target_major_id,
        target_major_name=names.unit(change.target_major_id),
        target_class_id=change.target_class_id,
        target_class_name=names.klass(change.target_class_id),
        target_grade=change.target_grade,
        filed_by=change.filed_by,
        instance_id=change.instance_id,
        outcome_note=change.outcome_note,
        created_at=change.created_at,
        decided_at=change.decided_at,
    )


# ---------------------------------------------------------------- changes


@dataclass(frozen=True)
class ChangeFilter:
    state: str | None = None
    kind: str | None = None
    q: str | None = None


async def changes_page(
    session: AsyncSession, principal: Principal, f: ChangeFilter, paging: PageParams
) -> ChangePage:
    stmt: Any = (
        select(StatusChange, StudentStatus)
        .join(StudentStatus, StudentStatus.person_id == StatusChange.person_id)
        .where(within(principal))
    )
    if f.state:
        stmt = stmt.where(StatusChange.state == f.state)
    if f.kind:
        stmt = stmt.where(StatusChange.kind == f.kind)
    if f.q:
        stmt = stmt.where(
            or_(StudentStatus.student_no.startswith(f.q), StudentStatus.name.contains(f.q))
        )
    stmt = stmt.order_by(StatusChange.id.desc())
    page = await paginate(session, stmt, paging.page, paging.page_size)
    rows = list(page.items)
    names = await names_of(
        session, (c.target_major_id for c, _r in rows), (c.target_class_id for c, _r in rows)
    )
    return ChangePage(
        items=[change_out(c, r, names) for c, r in rows],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
        pages=page.pages,
    )


async def change_with_record(
    session: AsyncSession, change_id: int
) -> tuple[StatusChange, StudentStatus] | None:
    row = (
        await session.execute(
            select(StatusChange, StudentStatus)
            .join(StudentStatus, StudentStatus.person_id == StatusChange.person_id)
            .where(StatusChange.id == change_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def open_change(session: AsyncSession, person_id: int, kind: str) -> StatusChange | None:
    found: StatusChange | None = await session.scalar(
        select(StatusChange).where(
            StatusChange.person_id == person_id,
            StatusChange.kind == kind,
            StatusChange.state == "pending",
        )
    )
    return found


# ---------------------------------------------------------------- batches and choices


async def batch(session: AsyncSession, batch_id: int) -> GraduationBatch | None:
    return await session.get(GraduationBatch, batch_id)


async def recent_batches(session: AsyncSession, limit: int = 10) -> list[GraduationBatch]:
    return list(
        await session.scalars(
            select(GraduationBatch).order_by(GraduationBatch.id.desc()).limit(limit)
        )
    )


async def majors(session: AsyncSession) -> list[tuple[int, str, str]]:
    """Every active major: (id, name, its college's name), in the tree's order."""
    found: list[tuple[int, str, str]] = []
    for root in await users.org_tree(session):
        stack = [(root, "")]
        while stack:
            node, college = stack.pop(0)
            if node.kind == "major" and node.active:
                found.append((node.id, node.name, college))
            college_name = node.name if node.kind == "college" else college
            stack[0:0] = [(child, college_name) for child in node.children]
    return found


async def classes_of(
    session: AsyncSession, major_id: int | None = None, min_grade: int | None = None
) -> list[ClassOut]:
    return [
        c
        for c in await users.list_classes(session)
        if (major_id is None or c.org_unit_id == major_id)
        and (min_grade is None or c.grade >= min_grade)
    ]


async def grades(session: AsyncSession) -> list[int]:
    return sorted(
        {g for g in await session.scalars(select(StudentStatus.grade).distinct())}, reverse=True
    )


async def in_school_of(session: AsyncSession, person_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), 900):
        found.update(
            await session.scalars(
                select(StudentStatus.person_id).where(
                    StudentStatus.person_id.in_(ids[start : start + 900]),
                    StudentStatus.in_school.is_(True),
                )
            )
        )
    return found


async def instances_of(session: AsyncSession, person_id: int) -> list[int]:
    """The workflow instances of the student's requests, newest first."""
    return [
        i
        for i in await session.scalars(
            select(StatusChange.instance_id)
            .where(StatusChange.person_id == person_id, StatusChange.instance_id.is_not(None))
            .order_by(StatusChange.id.desc())
            .limit(20)
        )
        if i is not None
    ]
