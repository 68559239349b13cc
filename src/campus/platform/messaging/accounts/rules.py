"""Audience rules (person types × org units) and who they cover, evaluated when asked: a student
who enrols after an account was made mandatory for students is covered at once, with no row
written for them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.messaging.accounts.schemas import AudienceRule
from campus.platform.users import service as users


@dataclass(frozen=True)
class Member:
    """What a rule needs to know about a person."""

    person_id: int
    person_type: str
    org_path: tuple[int, ...]  # their org unit and the units above it
    active: bool


def rule_of(stored: dict[str, Any] | None) -> AudienceRule | None:
    return None if stored is None else AudienceRule.model_validate(stored)


def covers(rule: AudienceRule | None, member: Member | None) -> bool:
    if rule is None or member is None or not member.active:
        return False
    if rule.person_types and member.person_type not in rule.person_types:
        return False
    return not rule.org_unit_ids or any(u in member.org_path for u in rule.org_unit_ids)


async def member_of(session: AsyncSession, person_id: int) -> Member | None:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        return None
    path = await users.org_path_of(session, person_id)
    return Member(person.id, person.person_type, tuple(path), person.status == "active")


class BulkRules:
    """Who among many people a few rules cover, with the org subtrees read once per unit."""

    def __init__(self) -> None:
        self._subtrees: dict[int, frozenset[int]] = {}

    async def _units_under(self, session: AsyncSession, unit_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for unit_id in unit_ids:
            if unit_id not in self._subtrees:
                self._subtrees[unit_id] = frozenset(await users.org_subtree_ids(session, unit_id))
            found |= self._subtrees[unit_id]
        return found

    async def covered(
        self, session: AsyncSession, rule: AudienceRule, person_ids: Iterable[int]
    ) -> set[int]:
        ids = list(dict.fromkeys(person_ids))
        if not ids:
            return set()
        units = await self._units_under(session, rule.org_unit_ids) if rule.org_unit_ids else None
        people = await users.get_people(session, ids)
        return {
            p.id
            for p in people.values()
            if p.status == "active"
            and (not rule.person_types or p.person_type in rule.person_types)
            and (units is None or p.org_unit_id in units)
        }
