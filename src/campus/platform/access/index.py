"""The decision index: for each person, every code they hold and where it reaches.

Two levels. The shared cache (in-process or Redis) holds each person's compiled reach as JSON
under ``access:perms:<person_id>`` for ``ENTRY_TTL`` seconds; every process also keeps the
parsed form, in ``LOCAL``, next to the bytes it was parsed from. A request's principal is loaded
through ``load``: one cache read, and when those bytes are the ones already parsed, no parsing
and no database. Forgetting a person deletes the shared entry, so every process rebuilds it on
that person's next request; ``ENTRY_TTL`` bounds how long a missed invalidation could last.

Decisions themselves (``PersonReach.reach(code).covers(...)``) are dictionary and set look-ups.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.cache import Cache
from campus.platform.access.models import Grant, Role
from campus.platform.access.scopes import (
    ANCHORED,
    PersonReach,
    Reach,
    ScopeKind,
    merge,
    reach_of,
)
from campus.platform.users import service as users

ENTRY_TTL = 300.0
LOCAL_CAPACITY = 100_000


def cache_key(person_id: int) -> str:
    return f"access:perms:{person_id}"


@dataclass(frozen=True)
class Held:
    """One grant as it applies to one person: the role's codes and the reach it gives."""

    grant: Grant
    role: Role
    reach: Reach


class LocalIndex:
    """Parsed entries of this process, least recently used dropped first beyond ``capacity``."""

    def __init__(self, capacity: int = LOCAL_CAPACITY) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[int, tuple[bytes, PersonReach]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, person_id: int) -> PersonReach | None:
        found = self._entries.get(person_id)
        return None if found is None else found[1]

    def matching(self, person_id: int, raw: bytes) -> PersonReach | None:
        """The parsed entry if it was parsed from exactly ``raw``."""
        found = self._entries.get(person_id)
        if found is None or (found[0] is not raw and found[0] != raw):
            return None
        self._entries.move_to_end(person_id)
        return found[1]

    def put(self, person_id: int, raw: bytes, reach: PersonReach) -> None:
        self._entries[person_id] = (raw, reach)
        self._entries.move_to_end(person_id)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


LOCAL = LocalIndex()


async def load(session: AsyncSession, cache: Cache, person_id: int) -> PersonReach:
    """A person's codes and reaches: from this process when current, else from the shared
    cache, else built from the grants (and put into both)."""
    raw = await cache.get(cache_key(person_id))
    if raw is not None:
        known = LOCAL.matching(person_id, raw)
        if known is not None:
            return known
        reach = PersonReach.from_json(person_id, json.loads(raw))
        LOCAL.put(person_id, raw, reach)
        return reach
    reach = await build(session, person_id)
    raw = json.dumps(reach.to_json(), separators=(",", ":")).encode()
    await cache.set(cache_key(person_id), raw, ENTRY_TTL)
    LOCAL.put(person_id, raw, reach)
    return reach


async def forget(cache: Cache, person_ids: Iterable[int]) -> None:
    """Make the next request of each person rebuild their entry, in every process."""
    keys = [cache_key(pid) for pid in set(person_ids)]
    for start in range(0, len(keys), 1000):
        await cache.delete(*keys[start : start + 1000])


async def build(session: AsyncSession, person_id: int) -> PersonReach:
    held = await held_by(session, person_id)
    return merge(person_id, ((code, h.reach) for h in held for code in h.role.permissions))


async def held_by(session: AsyncSession, person_id: int) -> list[Held]:
    """Every grant that applies to the person (their own and their posts'), with its reach."""
    anchors = await post_anchors(session, person_id)
    subject = Grant.person_id == person_id
    if anchors:
        subject = or_(subject, Grant.position_kind.in_(sorted(anchors)))
    rows = await session.execute(
        select(Grant, Role).join(Role, Role.id == Grant.role_id).where(subject).order_by(Grant.id)
    )
    return [Held(grant, role, reach_of_grant(grant, anchors)) for grant, role in rows.all()]


def reach_of_grant(grant: Grant, post_units: dict[str, set[int]]) -> Reach:
    """Where a grant reaches for one person; ``post_units`` are the org units of that person's
    posts by kind (they anchor a position grant that names no org unit)."""
    kind = ScopeKind(grant.scope)
    if kind is ScopeKind.CUSTOM:
        return reach_of(kind, grant.custom_org_unit_ids)
    if kind in ANCHORED:
        if grant.org_unit_id is not None:
            return reach_of(kind, [grant.org_unit_id])
        return reach_of(kind, post_units.get(grant.position_kind or "", set()))
    return reach_of(kind, ())


async def post_anchors(session: AsyncSession, person_id: int) -> dict[str, set[int]]:
    """The org units of the person's posts, by kind of post (a class post counts at the
    class's org unit when it names none)."""
    anchors: dict[str, set[int]] = {}
    for position in await users.positions_of(session, person_id):
        unit = position.org_unit_id
        if unit is None and position.class_id is not None:
            admin_class = await users.get_class(session, position.class_id)
            unit = admin_class.org_unit_id if admin_class is not None else None
        units = anchors.setdefault(position.kind, set())
        if unit is not None:
            units.add(unit)
    return anchors


async def role_grants(session: AsyncSession, role_code: str) -> list[tuple[int, Grant]]:
    """Each (person, grant) by which someone holds the role: person grants as they are, position
    grants once for every holder of that post."""
    rows = await session.execute(
        select(Grant).join(Role, Role.id == Grant.role_id).where(Role.code == role_code)
    )
    held: list[tuple[int, Grant]] = []
    for grant in rows.scalars():
        if grant.person_id is not None:
            held.append((grant.person_id, grant))
        elif grant.position_kind is not None:
            held += [(pid, grant) for pid in await users.holder_ids(session, grant.position_kind)]
    return held
