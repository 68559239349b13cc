"""Data scopes: where a permission reaches, merged per code, decided in memory and compiled into
SQL. No I/O here; ``index.py`` builds the per-person structures, ``service.py`` exposes them.

A grant reaches data by one of five kinds of scope:

- ``self``: rows about the person themselves (needs a person column to compile);
- ``org``: rows of the anchor org unit itself;
- ``subtree``: rows of the anchor org unit and every unit below it;
- ``all``: everything;
- ``custom``: rows of an explicit set of org units (each unit itself, not below it).

All grants of one person that carry a code merge into one ``Reach`` for that code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true

from campus.kernel.i18n import LazyText, _

WILDCARD = "*"


class ScopeKind(StrEnum):
    SELF = "self"
    ORG = "org"
    SUBTREE = "subtree"
    ALL = "all"
    CUSTOM = "custom"


SCOPE_LABELS: dict[ScopeKind, LazyText] = {
    ScopeKind.SELF: _("仅本人"),
    ScopeKind.ORG: _("本单位"),
    ScopeKind.SUBTREE: _("本单位及下级"),
    ScopeKind.ALL: _("全校"),
    ScopeKind.CUSTOM: _("指定单位"),
}

# Scopes anchored at one org unit.
ANCHORED = (ScopeKind.ORG, ScopeKind.SUBTREE)


@dataclass(frozen=True)
class Reach:
    """Where one code reaches for one person: the union of their grants' scopes."""

    everywhere: bool = False
    own: bool = False  # rows about the person themselves
    units: frozenset[int] = frozenset()  # these org units (org and custom scopes)
    subtrees: frozenset[int] = frozenset()  # these org units and everything below them

    @property
    def nowhere(self) -> bool:
        return not (self.everywhere or self.own or self.units or self.subtrees)

    def union(self, other: Reach) -> Reach:
        if self.everywhere or other.everywhere:
            return EVERYWHERE
        return Reach(
            own=self.own or other.own,
            units=self.units | other.units,
            subtrees=self.subtrees | other.subtrees,
        )

    def covers(self, me: int, org_path: Sequence[int], person_id: int | None = None) -> bool:
        """Whether a row reaches: ``org_path`` is its org unit's path, root first (the unit
        itself last); ``person_id`` is whom the row is about, when it is about a person."""
        if self.everywhere:
            return True
        if self.own and person_id is not None and person_id == me:
            return True
        if org_path and org_path[-1] in self.units:
            return True
        return bool(self.subtrees) and not self.subtrees.isdisjoint(org_path)

    def includes(self, other: Reach) -> bool:
        """Whether every row ``other`` reaches is reached here too, judged from the anchors
        alone (a unit inside one of these subtrees is not recognised: the answer may be a
        cautious no, never a wrong yes)."""
        if self.everywhere:
            return True
        if other.everywhere:
            return False
        return (
            (self.own or not other.own)
            and other.units <= (self.units | self.subtrees)
            and other.subtrees <= self.subtrees
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "all": self.everywhere,
            "self": self.own,
            "org": sorted(self.units),
            "subtree": sorted(self.subtrees),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reach:
        if data.get("all"):
            return EVERYWHERE
        return cls(
            own=bool(data.get("self")),
            units=frozenset(int(i) for i in data.get("org", ())),
            subtrees=frozenset(int(i) for i in data.get("subtree", ())),
        )


EVERYWHERE = Reach(everywhere=True)
NOWHERE = Reach()


def reach_of(kind: ScopeKind, anchors: Iterable[int]) -> Reach:
    """The reach of one grant: ``anchors`` are its org units (the anchor of an org or subtree
    scope, or the custom set)."""
    ids = frozenset(anchors)
    if kind is ScopeKind.ALL:
        return EVERYWHERE
    if kind is ScopeKind.SELF:
        return Reach(own=True)
    if kind is ScopeKind.SUBTREE:
        return Reach(subtrees=ids)
    return Reach(units=ids)


# Builds "column is one of these units or below one of them" (the user center owns the tree).
SubtreeClause = Callable[[Any, Sequence[int]], ColumnElement[bool]]


def compile_reach(
    reach: Reach,
    me: int,
    org_unit_column: Any,
    person_column: Any | None,
    subtree_clause: SubtreeClause,
) -> ColumnElement[bool]:
    """A WHERE clause keeping exactly the rows ``reach`` covers."""
    if reach.everywhere:
        return true()
    parts: list[ColumnElement[bool]] = []
    if reach.own and person_column is not None:
        parts.append(person_column == me)
    if reach.units:
        parts.append(org_unit_column.in_(sorted(reach.units)))
    if reach.subtrees:
        parts.append(subtree_clause(org_unit_column, sorted(reach.subtrees)))
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)


@dataclass(frozen=True)
class PersonReach:
    """Every code a person holds and where it reaches: what a decision reads."""

    person_id: int
    by_code: Mapping[str, Reach] = field(default_factory=dict)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(code for code, reach in self.by_code.items() if not reach.nowhere)

    def reach(self, code: str) -> Reach:
        """Where ``code`` reaches, the wildcard's reach included."""
        own = self.by_code.get(code, NOWHERE)
        wildcard = self.by_code.get(WILDCARD)
        return own if wildcard is None else own.union(wildcard)

    def to_json(self) -> dict[str, Any]:
        return {code: reach.to_json() for code, reach in sorted(self.by_code.items())}

    @classmethod
    def from_json(cls, person_id: int, data: Mapping[str, Any]) -> PersonReach:
        return cls(person_id, {code: Reach.from_json(r) for code, r in data.items()})


def merge(person_id: int, pieces: Iterable[tuple[str, Reach]]) -> PersonReach:
    """One ``PersonReach`` from (code, reach) pairs, merging the reaches of a repeated code."""
    by_code: dict[str, Reach] = {}
    for code, reach in pieces:
        known = by_code.get(code)
        by_code[code] = reach if known is None else known.union(reach)
    return PersonReach(person_id, by_code)
