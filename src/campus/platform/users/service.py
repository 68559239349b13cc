"""The user center's public interface. Other modules call these; they return schemas, never
ORM objects."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.platform.access import service as access_center
from campus.platform.users import actions, excel, idcard, queries, standards, validation
from campus.platform.users.directory import OrgDirectory
from campus.platform.users.models import AdminClass, Identity, OrgUnit, Person
from campus.platform.users.permissions import PERSON_READ, PERSON_SENSITIVE
from campus.platform.users.schemas import (
    STAFF_TYPES,
    STUDENT_TYPES,
    ClassOut,
    ImportReport,
    OrgTreeNode,
    OrgUnitOut,
    PersonContact,
    PersonDetail,
    PersonRef,
    PositionOut,
)
from campus.platform.users.schemas import (
    audience_of as audience_of,  # re-exported: whom a person's own pages are for
)


def may_sign_in(person: PersonRef) -> bool:
    """Whether this person's account opens: people at work or in study, and students on leave
    (休学), who keep their place on the roll and come back to see their record and apply to
    resume. Staff suspended from duty (停职) and people who graduated, left or retired do not.
    ``MAY_SIGN_IN`` is the same rule as a filter of the audience queries."""
    if person.status == "suspended":
        return person.person_type in STUDENT_TYPES
    return person.status == "active"


# A status filter of the audience functions below that stands for the people whose account
# opens (``may_sign_in``) rather than for one stored status: what the messaging center reaches.
MAY_SIGN_IN = "may_sign_in"


def _status_is(status: str | None) -> list[ColumnElement[bool]]:
    if status is None:
        return []
    if status == MAY_SIGN_IN:
        on_leave = and_(Person.status == "suspended", Person.person_type.in_(STUDENT_TYPES))
        return [or_(Person.status == "active", on_leave)]
    return [Person.status == status]


class PersonAccess(StrEnum):
    """How much of a person's record a reader may see."""

    NONE = "none"
    MASKED = "masked"  # everything, with the identity number and phone masked
    FULL = "full"


def access_person(principal: Principal | None, person_id: int) -> PersonAccess:
    """A person always reads their own record in full; others need ``users.person.read``, and
    ``users.person.sensitive`` to see identity numbers and phones unmasked."""
    if principal is None:
        return PersonAccess.NONE
    if principal.person_id == person_id:
        return PersonAccess.FULL
    if not principal.can(PERSON_READ):
        return PersonAccess.NONE
    return PersonAccess.FULL if principal.can(PERSON_SENSITIVE) else PersonAccess.MASKED


def _ref(person: Person, number: str | None) -> PersonRef:
    ref = PersonRef.model_validate(person)
    ref.number = number
    return ref


# ---------------------------------------------------------------- people


async def find_person_by_login(session: AsyncSession, login: str) -> PersonRef | None:
    """The person whose student number, staff number, phone or email is ``login``."""
    login = login.strip()
    if not login:
        return None
    person_id = await session.scalar(select(Identity.person_id).where(Identity.value == login))
    if person_id is None:
        person_id = await session.scalar(
            select(Person.id)
            .where(or_(Person.phone == login, Person.email == login.lower()))
            .order_by(Person.id)
            .limit(1)
        )
    return None if person_id is None else await get_person_ref(session, person_id)


async def get_person_ref(session: AsyncSession, person_id: int) -> PersonRef | None:
    found = await queries.person_with_number(session, person_id)
    return None if found is None else _ref(*found)


get_person = get_person_ref


async def get_people(session: AsyncSession, person_ids: list[int]) -> dict[int, PersonRef]:
    """Several people at once, by id; ids that do not exist are left out."""
    result: dict[int, PersonRef] = {}
    number = queries.primary_number()
    for start in range(0, len(person_ids), 900):
        chunk = person_ids[start : start + 900]
        rows = await session.execute(select(Person, number).where(Person.id.in_(chunk)))
        for person, value in rows.all():
            result[person.id] = _ref(person, value)
    return result


async def person_detail(
    session: AsyncSession, person_id: int, access: PersonAccess = PersonAccess.MASKED
) -> PersonDetail | None:
    """The whole record as the detail page shows it, masked unless ``access`` is FULL.
    Three queries: the person with numbers, org unit and class; the org path; the positions."""
    if access is PersonAccess.NONE:
        return None
    record = await queries.person_record(session, person_id)
    if record is None:
        return None
    detail = _detail_of(record)
    if record.org_unit is not None:
        ancestors = await queries.org_ancestors(session, record.org_unit)
        detail.org_path = [OrgUnitOut.model_validate(u) for u in ancestors]
    detail.positions = await positions_of(session, person_id)
    return detail if access is PersonAccess.FULL else masked(detail)


def masked(detail: PersonDetail) -> PersonDetail:
    """The record with its identity number and phone masked."""
    detail.id_number = idcard.mask(detail.id_number)
    detail.phone = validation.mask_phone(detail.phone)
    detail.masked = True
    return detail


def _detail_of(record: queries.PersonRecord) -> PersonDetail:
    """The record with its codes named; the org path and positions are added by the caller."""
    person = record.person
    detail = PersonDetail.model_validate(person)
    detail.number, detail.student_no, detail.staff_no = (
        record.number,
        record.student_no,
        record.staff_no,
    )
    detail.gender_name = standards.gender().name_of(person.gender)
    detail.ethnicity_name = standards.ethnicity().name_of(person.ethnicity)
    detail.political_status_name = standards.political_status().name_of(person.political_status)
    detail.native_place_name = (
        standards.divisions().full_name_of(person.native_place) if person.native_place else None
    )
    detail.org_unit_name = record.org_unit.name if record.org_unit else None
    detail.class_name = record.admin_class.name if record.admin_class else None
    return detail


async def search_people(
    session: AsyncSession, q: str, limit: int = 20, *, within: ColumnElement[bool] | None = None
) -> list[PersonRef]:
    """People whose name or number starts with ``q``, numbers first in order; ``within`` is
    the reader's data scope (the permission center's ``scope_filter``), None for no limit."""
    q = q.strip()
    if not q:
        return []
    rows = await queries.people_rows(
        session,
        queries.PeopleFilter(q=q, within=within),
        sort="number",
        limit=max(1, min(limit, 200)),
    )
    return [_ref(row.person, row.number) for row in rows]


async def search_staff(session: AsyncSession, q: str, limit: int = 20) -> list[PersonRef]:
    """Active teachers and staff whose name or number starts with ``q``: whom anyone signed in
    may name as a supervisor or an approver, without reach into the students."""
    staff = Person.person_type.in_(STAFF_TYPES) & (Person.status == "active")
    return await search_people(session, q, limit, within=staff)


def may_search_people(principal: Principal | None) -> bool:
    """Whether ``principal`` may look people up (the portal's search asks before it searches)."""
    return principal is not None and principal.can(PERSON_READ)


async def search_people_for(
    session: AsyncSession, principal: Principal, q: str, limit: int = 20
) -> list[PersonRef]:
    """``search_people`` within the reach of the reader's ``users.person.read``."""
    if not may_search_people(principal):
        return []
    within = access_center.scope_filter(principal, PERSON_READ, Person.org_unit_id, Person.id)
    return await search_people(session, q, limit, within=within)


async def has_people(session: AsyncSession) -> bool:
    """Whether anybody is recorded yet (the demo university is seeded only into an empty one)."""
    return await session.scalar(select(Person.id).limit(1)) is not None


async def all_person_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(Person.id).order_by(Person.id)))


# ---------------------------------------------------------------- org units


async def get_org_unit(session: AsyncSession, org_unit_id: int) -> OrgUnitOut | None:
    unit = await queries.org_unit(session, org_unit_id)
    return None if unit is None else OrgUnitOut.model_validate(unit)


async def get_org_units(
    session: AsyncSession, org_unit_ids: Sequence[int]
) -> dict[int, OrgUnitOut]:
    """The org units with these ids, in one query; unknown ids are left out."""
    return {
        unit.id: OrgUnitOut.model_validate(unit)
        for unit in await queries.org_units(session, org_unit_ids)
    }


async def find_org_unit_by_code(session: AsyncSession, code: str) -> OrgUnitOut | None:
    unit = await queries.org_unit_by_code(session, code)
    return None if unit is None else OrgUnitOut.model_validate(unit)


async def org_children(session: AsyncSession, parent_id: int | None) -> list[OrgTreeNode]:
    """The units directly below ``parent_id`` (the roots for None), with their child counts."""
    return [
        OrgTreeNode.model_validate(unit).model_copy(update={"child_count": count})
        for unit, count in await queries.org_children(session, parent_id)
    ]


async def org_tree(session: AsyncSession, root_id: int | None = None) -> list[OrgTreeNode]:
    """The whole tree (or the subtree under ``root_id``), children in display order."""
    units = await queries.all_org_units(session)
    nodes = {u.id: OrgTreeNode.model_validate(u) for u in units}
    roots: list[OrgTreeNode] = []
    for unit in units:
        node = nodes[unit.id]
        parent = nodes.get(unit.parent_id) if unit.parent_id is not None else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
            parent.child_count += 1
    if root_id is not None:
        return [nodes[root_id]] if root_id in nodes else []
    return roots


async def org_directory(session: AsyncSession) -> OrgDirectory:
    """The whole tree in memory: names, kinds, codes, parents and children in display order."""
    units = await queries.all_org_units(session)
    directory = OrgDirectory()
    for unit in units:
        directory.names[unit.id], directory.kinds[unit.id] = unit.name, unit.kind
        directory.codes[unit.id] = unit.code
    for unit in units:
        parent = unit.parent_id if unit.parent_id in directory.names else None
        directory.parents[unit.id] = parent
        directory.children.setdefault(parent, []).append(unit.id)
    return directory


async def org_subtree_ids(session: AsyncSession, org_unit_id: int) -> list[int]:
    """``org_unit_id`` and the ids of every unit below it."""
    unit = await queries.org_unit(session, org_unit_id)
    if unit is None:
        return []
    return sorted(u.id for u in await queries.subtree(session, unit))


def org_subtree_clause(column: Any, org_unit_ids: Sequence[int]) -> ColumnElement[bool]:
    """A WHERE condition: ``column`` (an org unit id column of any table) names one of the
    given units or a unit below one of them; one subquery over the tree, no ids read first."""
    return column.in_(queries.subtree_ids_select(org_unit_ids))


async def members_of_org(
    session: AsyncSession,
    org_unit_id: int,
    *,
    subtree: bool = False,
    person_type: str | None = None,
    status: str | None = "active",
) -> list[PersonRef]:
    """The people of an org unit (and of every unit below it when ``subtree``)."""
    unit = await queries.org_unit(session, org_unit_id)
    if unit is None:
        return []
    f = queries.PeopleFilter(
        org_unit_id=unit.id,
        org_path=unit.path if subtree else None,
        person_type=person_type,
        status=status,
    )
    rows = await queries.people_rows(session, f, sort="number")
    return [_ref(row.person, row.number) for row in rows]


# ---------------------------------------------------------------- classes and positions


async def get_class(session: AsyncSession, class_id: int) -> ClassOut | None:
    admin_class = await queries.admin_class(session, class_id)
    return None if admin_class is None else ClassOut.model_validate(admin_class)


async def members_of_class(
    session: AsyncSession,
    class_id: int,
    status: str | None = "active",
    *,
    within: ColumnElement[bool] | None = None,
) -> list[PersonRef]:
    """The class's people; ``within`` limits them to a reader's data scope."""
    rows = await queries.people_rows(
        session,
        queries.PeopleFilter(class_id=class_id, status=status, within=within),
        sort="number",
    )
    return [_ref(row.person, row.number) for row in rows]


async def positions_of(session: AsyncSession, person_id: int) -> list[PositionOut]:
    return [PositionOut.model_validate(p) for p in await queries.positions_of(session, person_id)]


async def holders_of(
    session: AsyncSession,
    kind: str,
    *,
    org_unit_id: int | None = None,
    class_id: int | None = None,
) -> list[PersonRef]:
    """Who holds a position of ``kind`` on that org unit or class (e.g. the dean of a college)."""
    rows = await queries.holders(
        session, kind, org_unit_ids=[org_unit_id] if org_unit_id else [], class_id=class_id
    )
    return _refs_of_holders(rows)


async def holder_ids(session: AsyncSession, kind: str) -> list[int]:
    """Everyone holding a position of ``kind`` anywhere, each once."""
    return await queries.holder_ids(session, kind)


async def counselors_of(session: AsyncSession, person_id: int) -> list[PersonRef]:
    """The counselors of a student: those of their class, else the nearest org unit up the tree
    that has any."""
    return await nearest_holders(session, person_id, "counselor")


async def nearest_holders(session: AsyncSession, person_id: int, kind: str) -> list[PersonRef]:
    """The holders of posts of ``kind`` nearest to a person: on their class, else on the nearest
    org unit up the tree that has any (their counselor, their college's dean, their head)."""
    person = await session.get(Person, person_id)
    if person is None:
        return []
    path = await org_path_of(session, person_id)
    return await holders_nearest(session, kind, person.class_id, path)


async def org_path_of(session: AsyncSession, person_id: int) -> list[int]:
    """The ids of a person's org unit and the units above it, root first."""
    person = await session.get(Person, person_id)
    unit = None if person is None else await session.get(OrgUnit, person.org_unit_id)
    return [u.id for u in await queries.org_ancestors(session, unit)] if unit else []


async def counselors_in(
    session: AsyncSession, class_id: int | None, org_path: Sequence[int]
) -> list[PersonRef]:
    """The counselors of a student in ``class_id`` whose org units, root first, are ``org_path``
    (a ``PersonDetail`` has both, so a page showing one reads nothing about them again)."""
    return await holders_nearest(session, "counselor", class_id, org_path)


async def holders_nearest(
    session: AsyncSession, kind: str, class_id: int | None, org_path: Sequence[int]
) -> list[PersonRef]:
    if class_id is not None:
        rows = await queries.holders(session, kind, class_id=class_id)
        if rows:
            return _refs_of_holders(rows)
    for org_unit_id in reversed(org_path):
        rows = await queries.holders(session, kind, org_unit_ids=[org_unit_id])
        if rows:
            return _refs_of_holders(rows)
    return []


def _refs_of_holders(rows: Sequence[tuple[object, Person, str | None]]) -> list[PersonRef]:
    """Each holder once, in the order of their positions."""
    refs: dict[int, PersonRef] = {}
    for _position, person, number in rows:
        refs.setdefault(person.id, _ref(person, number))
    return list(refs.values())


async def place_student(
    session: AsyncSession,
    person_id: int,
    *,
    status: str,
    org_unit_id: int,
    class_id: int | None,
    reason: str = "",
) -> None:
    """Set a student's status, major (org unit) and class as the academic roll (学籍) decided,
    in the caller's transaction (the roll's change and the user center stay in step)."""
    await actions.do_place_student(
        session, person_id, status=status, org_unit_id=org_unit_id, class_id=class_id, reason=reason
    )


# ---------------------------------------------------------------- Excel, for the command line


async def import_people(
    session: AsyncSession, data: bytes, *, only_valid: bool, dry_run: bool = False
) -> ImportReport:
    """Import an .xlsx in the template's columns, as the admin page does (same checks, same
    all-or-nothing rule); raises the same problems (InvalidInput with the report…)."""
    return await actions.check_import_people(session, data, only_valid=only_valid, dry_run=dry_run)


async def export_people(session: AsyncSession) -> tuple[bytes, int]:
    """Everyone as an .xlsx in the template's columns, unmasked; and how many people."""
    rows = await queries.people_rows(session, queries.PeopleFilter(), sort="number")
    return excel.export(rows, full=True), len(rows)


# ---------------------------------------------------------------- relations (instant messaging)


async def list_classes(session: AsyncSession) -> list[ClassOut]:
    """Every administrative class, with its student count."""
    return [
        ClassOut.model_validate(c).model_copy(update={"student_count": n})
        for c, n in await queries.classes(session, None, None)
    ]


async def counselors_of_class(session: AsyncSession, class_id: int) -> list[PersonRef]:
    """The counselors of a class: its own, else those of the nearest org unit above it."""
    found = await queries.admin_class(session, class_id)
    if found is None:
        return []
    unit = await session.get(OrgUnit, found.org_unit_id)
    path = [u.id for u in await queries.org_ancestors(session, unit)] if unit else []
    return await holders_nearest(session, "counselor", class_id, path)


async def townspeople_of(
    session: AsyncSession, person_id: int, *, digits: int = 4, limit: int = 200
) -> list[PersonRef]:
    """Active people whose native place shares the first ``digits`` digits of the person's
    division code (4: the same prefecture-level city), the person left out."""
    place = await session.scalar(select(Person.native_place).where(Person.id == person_id))
    if not place or len(place) < digits:
        return []
    rows = await session.execute(
        select(Person, queries.primary_number())
        .where(
            Person.native_place.like(queries.like_prefix(place[:digits]), escape="\\"),
            Person.id != person_id,
            Person.status == "active",
        )
        .order_by(Person.id)
        .limit(limit)
    )
    return [_ref(person, number) for person, number in rows.all()]


# ---------------------------------------------------------------- audiences (messaging)

_CHUNK = 900


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i : i + _CHUNK] for i in range(0, len(unique), _CHUNK)]


async def existing_person_ids(
    session: AsyncSession, person_ids: Sequence[int], *, status: str | None = None
) -> set[int]:
    """Those of the ids that name a person (of ``status`` if given, else of any)."""
    found: set[int] = set()
    for chunk in _chunks(person_ids):
        where = [Person.id.in_(chunk)] + ([Person.status == status] if status else [])
        found.update(await session.scalars(select(Person.id).where(*where)))
    return found


async def existing_class_ids(session: AsyncSession, class_ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(class_ids):
        found.update(await session.scalars(select(AdminClass.id).where(AdminClass.id.in_(chunk))))
    return found


async def people_in_groups(
    session: AsyncSession,
    *,
    org_unit_ids: Sequence[int] = (),
    exact_org_unit_ids: Sequence[int] = (),
    class_ids: Sequence[int] = (),
    person_types: Sequence[str] = (),
    status: str | None = "active",
) -> list[int]:
    """The ids of the people of any of the org units with the units below them, of the units
    alone (``exact_org_unit_ids``) or of the classes, of ``status`` (or ``MAY_SIGN_IN``); one
    query, each person once."""
    groups: list[ColumnElement[bool]] = []
    if org_unit_ids:
        groups.append(Person.org_unit_id.in_(queries.subtree_ids_select(org_unit_ids)))
    if exact_org_unit_ids:
        groups.append(Person.org_unit_id.in_(list(exact_org_unit_ids)))
    if class_ids:
        groups.append(Person.class_id.in_(list(class_ids)))
    if not groups:
        return []
    stmt = select(Person.id).where(or_(*groups), *_of_types(person_types, status))
    return list(await session.scalars(stmt.order_by(Person.id)))


async def people_of_types(
    session: AsyncSession, person_ids: Sequence[int], person_types: Sequence[str]
) -> list[int]:
    """Those of the people whose type is one of ``person_types``."""
    found: list[int] = []
    for chunk in _chunks(person_ids):
        found += await session.scalars(
            select(Person.id).where(Person.id.in_(chunk), Person.person_type.in_(person_types))
        )
    return sorted(found)


async def count_people(
    session: AsyncSession, person_types: Sequence[str] = (), status: str | None = "active"
) -> int:
    """How many people there are (of these types; of this status, or ``MAY_SIGN_IN``)."""
    stmt = select(func.count(Person.id)).where(*_of_types(person_types, status))
    return int(await session.scalar(stmt) or 0)


def _of_types(person_types: Sequence[str], status: str | None) -> list[ColumnElement[bool]]:
    where = _status_is(status)
    if person_types:
        where.append(Person.person_type.in_(list(person_types)))
    return where


async def people_outside_reach(
    session: AsyncSession, principal: Principal, code: str, person_ids: Sequence[int]
) -> list[int]:
    """Those of the people that ``code`` does not reach for the principal (its data scope)."""
    within = access_center.scope_filter(principal, code, Person.org_unit_id, Person.id)
    outside: list[int] = []
    for chunk in _chunks(person_ids):
        outside += await session.scalars(
            select(Person.id).where(Person.id.in_(chunk), not_(within))
        )
    return sorted(outside)


async def contacts_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, PersonContact]:
    """E-mail, phone and number of each person, unmasked, for sending to them."""
    found: dict[int, PersonContact] = {}
    number = queries.primary_number()
    for chunk in _chunks(person_ids):
        rows = await session.execute(
            select(Person.id, Person.name, number, Person.email, Person.phone).where(
                Person.id.in_(chunk)
            )
        )
        for pid, name, value, email, phone in rows.all():
            found[pid] = PersonContact(id=pid, name=name, number=value, email=email, phone=phone)
    return found


async def genders_of(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, str]:
    """Each person's gender code (GB/T 2261.1: "1" male, "2" female), by id."""
    found: dict[int, str] = {}
    for chunk in _chunks(person_ids):
        rows = await session.execute(select(Person.id, Person.gender).where(Person.id.in_(chunk)))
        found.update({pid: gender for pid, gender in rows.all()})
    return found


async def person_ids_of_types(
    session: AsyncSession, person_types: Sequence[str] = (), status: str | None = "active"
) -> list[int]:
    """The ids of everyone (of these types; of this status), ascending."""
    stmt = select(Person.id).where(*_of_types(person_types, status))
    return list(await session.scalars(stmt.order_by(Person.id)))
