"""One-step relationships (一步关系): the people already in someone's contacts, by relation.

A relation is a provider: ``register_relation(kind, title, fn)`` where ``fn(session,
person_id)`` returns the ids of the related people. The user center's relations ship here;
modules that come later plug theirs in from their own code at import time (their handlers or
manifest), e.g. the academic module::

    from campus.platform.messaging import service as messaging
    messaging.register_relation("teachers", "我的老师", my_teachers)

Until a module provides a relation it is listed as pending (``PENDING``), so the contacts page
can say what is coming instead of showing an empty group as if nobody were related.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.i18n import LazyText, _
from campus.platform.messaging.im.schemas import ContactOut, RelationGroup
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES

RelationFunc = Callable[[AsyncSession, int], Awaitable[list[int]]]
RELATION_LIMIT = 500


@dataclass(frozen=True)
class Relation:
    kind: str
    title: LazyText | str
    fn: RelationFunc | None  # None: pending, no module provides it yet
    order: int = 100


_relations: dict[str, Relation] = {}


def register_relation(
    kind: str, title: LazyText | str, fn: RelationFunc, *, order: int = 100
) -> None:
    """Provide (or replace) a relation; a pending one of the same kind becomes live."""
    previous = _relations.get(kind)
    _relations[kind] = Relation(kind, title, fn, previous.order if previous else order)


def _pending(kind: str, title: LazyText, order: int) -> None:
    _relations.setdefault(kind, Relation(kind, title, None, order))


def relations() -> list[Relation]:
    return sorted(_relations.values(), key=lambda r: (r.order, r.kind))


# ---------------------------------------------------------------- the user center's relations


async def classmates(session: AsyncSession, person_id: int) -> list[int]:
    me = await users.get_person_ref(session, person_id)
    if me is None or me.class_id is None:
        return []
    return [p.id for p in await users.members_of_class(session, me.class_id) if p.id != person_id]


async def counselors(session: AsyncSession, person_id: int) -> list[int]:
    me = await users.get_person_ref(session, person_id)
    if me is None or me.person_type in STAFF_TYPES:
        return []
    return [p.id for p in await users.counselors_of(session, person_id) if p.id != person_id]


async def colleagues(session: AsyncSession, person_id: int) -> list[int]:
    """Faculty and staff of the same org unit (students have classmates instead)."""
    me = await users.get_person_ref(session, person_id)
    if me is None or me.person_type not in STAFF_TYPES:
        return []
    return [
        p.id
        for p in await users.members_of_org(session, me.org_unit_id)
        if p.id != person_id and p.person_type in STAFF_TYPES
    ][:RELATION_LIMIT]


async def townspeople(session: AsyncSession, person_id: int) -> list[int]:
    """Same prefecture-level native place (the first four digits of the division code)."""
    return [p.id for p in await users.townspeople_of(session, person_id, limit=RELATION_LIMIT)]


register_relation("counselor", _("我的辅导员"), counselors, order=10)
_pending("teachers", _("我的老师"), 20)
_pending("students", _("我的学生"), 25)
register_relation("classmates", _("我的同学"), classmates, order=30)
_pending("roommates", _("我的室友"), 40)
register_relation("colleagues", _("我的同事"), colleagues, order=50)
register_relation("townspeople", _("我的老乡"), townspeople, order=60)

# Who will provide the pending relations, for the page and the docs.
PENDING_PROVIDERS = {
    "teachers": _("教务模块的教学班名单接入后显示"),
    "students": _("教务模块的教学班名单接入后显示"),
    "roommates": _("宿舍管理模块接入后显示"),
}


# ---------------------------------------------------------------- reading them


async def contacts_of(session: AsyncSession, person_id: int) -> list[RelationGroup]:
    """The person's relations, each with its people (pending ones empty and marked)."""
    groups: list[tuple[Relation, list[int]]] = []
    for relation in relations():
        ids = (
            [] if relation.fn is None else (await relation.fn(session, person_id))[:RELATION_LIMIT]
        )
        groups.append((relation, ids))
    everyone = sorted({pid for _r, ids in groups for pid in ids})
    people = await users.get_people(session, everyone)
    units = await users.get_org_units(session, sorted({p.org_unit_id for p in people.values()}))
    out = []
    for relation, ids in groups:
        shown = [
            ContactOut(
                person_id=pid,
                name=people[pid].name,
                unit=units[people[pid].org_unit_id].name
                if people[pid].org_unit_id in units
                else "",
                number=people[pid].number,
            )
            for pid in ids
            if pid in people
        ]
        out.append(
            RelationGroup(
                kind=relation.kind,
                title=str(relation.title),
                pending=relation.fn is None,
                people=shown,
            )
        )
    return out
