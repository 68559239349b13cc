"""Reads of the user center (private to this module; other modules use service.py)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import ScalarSelect

from campus.kernel.pagination import Page, PageParams, paginate
from campus.platform.users.models import AdminClass, Identity, OrgUnit, Person, Position
from campus.platform.users.schemas import STUDENT_TYPES

SORTABLE = ("number", "name", "created_at", "id", "status", "person_type")
DEFAULT_SORT = "number"


def primary_number() -> ScalarSelect[Any]:
    """The number a person is shown by: the identity matching their type, else any."""
    kind = case((Person.person_type.in_(STUDENT_TYPES), "student_no"), else_="staff_no")
    return (
        select(
            func.coalesce(
                func.max(case((Identity.kind == kind, Identity.value))), func.min(Identity.value)
            )
        )
        .where(Identity.person_id == Person.id)
        .correlate(Person)
        .scalar_subquery()
    )


def like_prefix(text: str) -> str:
    """A LIKE pattern matching values that start with ``text`` literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


@dataclass(frozen=True)
class PeopleFilter:
    org_unit_id: int | None = None
    org_path: str | None = None  # set when the whole subtree of org_unit_id is wanted
    person_type: str | None = None
    status: str | None = None
    class_id: int | None = None
    q: str | None = None
    # The reader's data scope (the permission center's scope_filter), None for no limit.
    within: ColumnElement[bool] | None = None


def _filtered(stmt: Select[Any], f: PeopleFilter) -> Select[Any]:
    if f.within is not None:
        stmt = stmt.where(f.within)
    if f.org_path is not None:
        subtree = select(OrgUnit.id).where(OrgUnit.path.like(like_prefix(f.org_path), escape="\\"))
        stmt = stmt.where(Person.org_unit_id.in_(subtree))
    elif f.org_unit_id is not None:
        stmt = stmt.where(Person.org_unit_id == f.org_unit_id)
    if f.person_type:
        stmt = stmt.where(Person.person_type == f.person_type)
    if f.status:
        stmt = stmt.where(Person.status == f.status)
    if f.class_id is not None:
        stmt = stmt.where(Person.class_id == f.class_id)
    if f.q:
        stmt = stmt.where(matches_name_or_number(f.q))
    return stmt


def matches_name_or_number(q: str) -> ColumnElement[bool]:
    pattern = like_prefix(q.strip())
    number_match = exists().where(
        Identity.person_id == Person.id, Identity.value.like(pattern, escape="\\")
    )
    return or_(Person.name.like(pattern, escape="\\"), number_match)


def _order(sort: str, number: ScalarSelect[Any]) -> list[Any]:
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    column: Any = {
        "number": number,
        "name": Person.name,
        "created_at": Person.created_at,
        "id": Person.id,
        "status": Person.status,
        "person_type": Person.person_type,
    }[key]
    tie = Person.id.desc() if descending else Person.id.asc()
    return [column.desc() if descending else column.asc(), tie]


@dataclass(frozen=True)
class PersonRow:
    person: Person
    number: str | None
    org_code: str | None
    org_name: str | None
    class_code: str | None
    class_name: str | None


async def people_page(
    session: AsyncSession, f: PeopleFilter, *, sort: str, params: PageParams
) -> Page[Any]:
    """One page of people as ``PersonRow``s (number, org unit and class names), and the total."""
    found = await paginate(session, _people_select(f, sort), params.page, params.page_size)
    return found.into(Page[Any], lambda row: PersonRow(*row))


async def people_rows(
    session: AsyncSession, f: PeopleFilter, *, sort: str, offset: int = 0, limit: int | None = None
) -> list[PersonRow]:
    stmt = _people_select(f, sort).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = await session.execute(stmt)
    return [PersonRow(*row) for row in result.all()]


def _people_select(f: PeopleFilter, sort: str) -> Select[Any]:
    number = primary_number()
    stmt = (
        select(
            Person,
            number.label("number"),
            OrgUnit.code,
            OrgUnit.name,
            AdminClass.code,
            AdminClass.name,
        )
        .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .outerjoin(AdminClass, AdminClass.id == Person.class_id)
    )
    return _filtered(stmt, f).order_by(*_order(sort, number))


async def person_with_number(
    session: AsyncSession, person_id: int
) -> tuple[Person, str | None] | None:
    row = (
        await session.execute(select(Person, primary_number()).where(Person.id == person_id))
    ).first()
    return None if row is None else (row[0], row[1])


def number_of_kind(kind: str) -> ScalarSelect[Any]:
    """The person's number of one kind (``student_no``, ``staff_no``), if they have one."""
    return (
        select(Identity.value)
        .where(Identity.person_id == Person.id, Identity.kind == kind)
        .correlate(Person)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class PersonRecord:
    """A person with their numbers, org unit and class, as one query loads them."""

    person: Person
    number: str | None
    student_no: str | None
    staff_no: str | None
    org_unit: OrgUnit | None
    admin_class: AdminClass | None


async def person_record(session: AsyncSession, person_id: int) -> PersonRecord | None:
    row = (await session.execute(_person_record_select(), {"person_id": person_id})).first()
    return None if row is None else PersonRecord(*row)


@functools.cache
def _person_record_select() -> Select[Any]:
    # Built once: the detail is read on every profile view, and building costs more than running.
    return (
        select(
            Person,
            primary_number(),
            number_of_kind("student_no"),
            number_of_kind("staff_no"),
            OrgUnit,
            AdminClass,
        )
        .outerjoin(OrgUnit, OrgUnit.id == Person.org_unit_id)
        .outerjoin(AdminClass, AdminClass.id == Person.class_id)
        .where(Person.id == bindparam("person_id"))
    )


async def identities_of(session: AsyncSession, person_id: int) -> dict[str, str]:
    rows = await session.execute(
        select(Identity.kind, Identity.value).where(Identity.person_id == person_id)
    )
    return {kind: value for kind, value in rows.all()}


async def owner_of_number(session: AsyncSession, kind: str, value: str) -> int | None:
    return await session.scalar(
        select(Identity.person_id).where(Identity.kind == kind, Identity.value == value)
    )


async def owner_of_id_number(session: AsyncSession, id_type: str, number: str) -> int | None:
    return await session.scalar(
        select(Person.id).where(Person.id_type == id_type, Person.id_number == number)
    )


async def taken_numbers(session: AsyncSession, kind: str, values: Sequence[str]) -> set[str]:
    """Which of ``values`` are already somebody's number of ``kind``."""
    taken: set[str] = set()
    for start in range(0, len(values), 900):
        chunk = list(values[start : start + 900])
        taken.update(
            await session.scalars(
                select(Identity.value).where(Identity.kind == kind, Identity.value.in_(chunk))
            )
        )
    return taken


async def taken_id_numbers(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    taken: set[str] = set()
    for start in range(0, len(numbers), 900):
        chunk = list(numbers[start : start + 900])
        taken.update(
            n
            for n in await session.scalars(
                select(Person.id_number).where(Person.id_type == "1", Person.id_number.in_(chunk))
            )
            if n is not None
        )
    return taken


async def org_unit(session: AsyncSession, org_unit_id: int) -> OrgUnit | None:
    return await session.get(OrgUnit, org_unit_id)


async def org_unit_by_code(session: AsyncSession, code: str) -> OrgUnit | None:
    return await session.scalar(select(OrgUnit).where(OrgUnit.code == code))


async def org_units(session: AsyncSession, ids: Sequence[int]) -> list[OrgUnit]:
    if not ids:
        return []
    return list(await session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids))))


async def org_ancestors(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """The units on the path from the root down to ``unit`` itself."""
    ids = [int(part) for part in unit.path.strip("/").split("/") if part]
    if not ids:
        return [unit]
    found = {u.id: u for u in await org_units(session, ids)}
    return [found[i] for i in ids if i in found]


async def org_children(session: AsyncSession, parent_id: int | None) -> list[tuple[OrgUnit, int]]:
    """The units directly below ``parent_id`` (the roots for None) with their child counts."""
    child = OrgUnit.__table__.alias("child")
    count = (
        select(func.count(child.c.id))
        .where(child.c.parent_id == OrgUnit.id)
        .correlate(OrgUnit)
        .scalar_subquery()
    )
    condition = OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id
    rows = await session.execute(
        select(OrgUnit, count).where(condition).order_by(OrgUnit.sort_order, OrgUnit.code)
    )
    return [(row[0], int(row[1])) for row in rows.all()]


async def all_org_units(session: AsyncSession) -> list[OrgUnit]:
    return list(await session.scalars(select(OrgUnit).order_by(OrgUnit.sort_order, OrgUnit.code)))


async def subtree(session: AsyncSession, unit: OrgUnit) -> list[OrgUnit]:
    """``unit`` and every unit below it."""
    return list(
        await session.scalars(
            select(OrgUnit).where(OrgUnit.path.like(like_prefix(unit.path), escape="\\"))
        )
    )


async def org_codes(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """Every org unit's code with its id and path (for validating an import in one query)."""
    rows = await session.execute(select(OrgUnit.code, OrgUnit.id, OrgUnit.path))
    return {code: (unit_id, path) for code, unit_id, path in rows.all()}


async def class_codes(session: AsyncSession) -> dict[str, tuple[int, int]]:
    """Every class's code with its id and org unit id."""
    rows = await session.execute(select(AdminClass.code, AdminClass.id, AdminClass.org_unit_id))
    return {code: (class_id, org_id) for code, class_id, org_id in rows.all()}


async def admin_class(session: AsyncSession, class_id: int) -> AdminClass | None:
    return await session.get(AdminClass, class_id)


async def class_by_code(session: AsyncSession, code: str) -> AdminClass | None:
    return await session.scalar(select(AdminClass).where(AdminClass.code == code))


async def classes(
    session: AsyncSession, org_path: str | None, grade: int | None
) -> list[tuple[AdminClass, int]]:
    """Classes (within an org subtree and of a grade when given) with their student counts."""
    students = (
        select(func.count(Person.id))
        .where(Person.class_id == AdminClass.id)
        .correlate(AdminClass)
        .scalar_subquery()
    )
    stmt = select(AdminClass, students)
    if org_path is not None:
        subtree_ids = select(OrgUnit.id).where(
            OrgUnit.path.like(like_prefix(org_path), escape="\\")
        )
        stmt = stmt.where(AdminClass.org_unit_id.in_(subtree_ids))
    if grade is not None:
        stmt = stmt.where(AdminClass.grade == grade)
    rows = await session.execute(stmt.order_by(AdminClass.grade.desc(), AdminClass.code))
    return [(row[0], int(row[1])) for row in rows.all()]


async def positions_of(session: AsyncSession, person_id: int) -> list[Position]:
    return list(
        await session.scalars(
            select(Position).where(Position.person_id == person_id).order_by(Position.id)
        )
    )


async def holders(
    session: AsyncSession,
    kind: str,
    *,
    org_unit_ids: Sequence[int] = (),
    class_id: int | None = None,
) -> list[tuple[Position, Person, str | None]]:
    """Positions of ``kind`` on the given class or org units, with their holders and numbers."""
    conditions = []
    if class_id is not None:
        conditions.append(Position.class_id == class_id)
    if org_unit_ids:
        conditions.append(Position.org_unit_id.in_(list(org_unit_ids)))
    if not conditions:
        return []
    rows = await session.execute(
        select(Position, Person, primary_number())
        .join(Person, Person.id == Position.person_id)
        .where(Position.kind == kind, or_(*conditions))
        .order_by(Position.id)
    )
    return [(row[0], row[1], row[2]) for row in rows.all()]


async def find_position(
    session: AsyncSession, person_id: int, kind: str, org_unit_id: int | None, class_id: int | None
) -> Position | None:
    stmt = select(Position).where(Position.person_id == person_id, Position.kind == kind)
    stmt = stmt.where(
        Position.org_unit_id.is_(None)
        if org_unit_id is None
        else Position.org_unit_id == org_unit_id
    )
    stmt = stmt.where(
        Position.class_id.is_(None) if class_id is None else Position.class_id == class_id
    )
    return await session.scalar(stmt)


# Two names for the org table, so that a query already joining org units does not correlate
# with the subtree subquery; built once, as building aliases costs more than the query.
_UNIT_BELOW = OrgUnit.__table__.alias("unit_below")
_UNIT_ANCHOR = OrgUnit.__table__.alias("unit_anchor")
_SUBTREE_IDS = select(_UNIT_BELOW.c.id).join(
    _UNIT_ANCHOR, _UNIT_BELOW.c.path.like(_UNIT_ANCHOR.c.path.concat("%"))
)


def subtree_ids_select(org_unit_ids: Sequence[int]) -> Select[Any]:
    """The ids of the given units and of every unit below them."""
    return _SUBTREE_IDS.where(_UNIT_ANCHOR.c.id.in_(list(org_unit_ids)))


async def holder_ids(session: AsyncSession, kind: str) -> list[int]:
    rows = await session.scalars(select(Position.person_id).where(Position.kind == kind).distinct())
    return sorted(rows)


async def people_count_in(session: AsyncSession, org_path: str, status: str | None) -> int:
    subtree_ids = select(OrgUnit.id).where(OrgUnit.path.like(like_prefix(org_path), escape="\\"))
    stmt = select(func.count(Person.id)).where(Person.org_unit_id.in_(subtree_ids))
    if status is not None:
        stmt = stmt.where(Person.status == status)
    return int(await session.scalar(stmt) or 0)
