"""Reaches without a database: merging, deciding, inclusion, the cached JSON, the SQL built."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Integer, MetaData, Table, literal_column, select
from sqlalchemy.dialects import sqlite

from campus.platform.access.scopes import (
    EVERYWHERE,
    NOWHERE,
    PersonReach,
    Reach,
    ScopeKind,
    compile_reach,
    merge,
    reach_of,
)

ROOT, COLLEGE, MAJOR, OTHER = 1, 10, 100, 20
ROWS = Table("rows", MetaData(), Column("org_unit_id", Integer), Column("person_id", Integer))


def subtree_clause(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    return column.in_(select(literal_column("unit_below")).where(literal_column("anchor").in_(ids)))


def sql(reach: Reach, me: int = 7, person: bool = True) -> str:
    clause = compile_reach(
        reach, me, ROWS.c.org_unit_id, ROWS.c.person_id if person else None, subtree_clause
    )
    return str(clause.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))


def test_each_kind_of_scope_compiles_to_its_where_clause() -> None:
    assert sql(reach_of(ScopeKind.ALL, [])) == "1"
    assert sql(reach_of(ScopeKind.ORG, [COLLEGE])) == "rows.org_unit_id IN (10)"
    assert sql(reach_of(ScopeKind.CUSTOM, [OTHER, MAJOR])) == "rows.org_unit_id IN (20, 100)"
    assert sql(reach_of(ScopeKind.SELF, [])) == "rows.person_id = 7"
    assert sql(reach_of(ScopeKind.SELF, []), person=False) == "0"
    assert sql(NOWHERE) == "0"
    subtree = sql(reach_of(ScopeKind.SUBTREE, [COLLEGE]))
    assert subtree.startswith("rows.org_unit_id IN (SELECT unit_below")
    assert "anchor IN (10)" in subtree


def test_several_grants_become_one_or() -> None:
    reach = reach_of(ScopeKind.SELF, []).union(reach_of(ScopeKind.ORG, [OTHER]))
    assert sql(reach) == "rows.person_id = 7 OR rows.org_unit_id IN (20)"
    assert reach.union(EVERYWHERE) is EVERYWHERE


def test_covers_follows_the_org_path() -> None:
    college_path, major_path, other_path = [ROOT, COLLEGE], [ROOT, COLLEGE, MAJOR], [ROOT, OTHER]
    subtree = reach_of(ScopeKind.SUBTREE, [COLLEGE])
    assert subtree.covers(7, college_path) and subtree.covers(7, major_path)
    assert not subtree.covers(7, other_path)
    org = reach_of(ScopeKind.ORG, [COLLEGE])
    assert org.covers(7, college_path) and not org.covers(7, major_path)
    own = reach_of(ScopeKind.SELF, [])
    assert own.covers(7, other_path, person_id=7)
    assert not own.covers(7, other_path, person_id=8) and not own.covers(7, other_path)
    assert EVERYWHERE.covers(7, []) and not NOWHERE.covers(7, college_path, 7)


def test_inclusion_is_cautious() -> None:
    subtree = reach_of(ScopeKind.SUBTREE, [COLLEGE])
    assert EVERYWHERE.includes(subtree) and not subtree.includes(EVERYWHERE)
    assert subtree.includes(subtree) and subtree.includes(reach_of(ScopeKind.ORG, [COLLEGE]))
    assert not reach_of(ScopeKind.ORG, [COLLEGE]).includes(subtree)
    assert not subtree.includes(reach_of(ScopeKind.SELF, []))
    assert subtree.includes(NOWHERE)
    # A unit inside the subtree is not recognised from the anchors alone: a cautious no.
    assert not subtree.includes(reach_of(ScopeKind.ORG, [MAJOR]))


def test_person_reach_merges_codes_and_honours_the_wildcard() -> None:
    person = merge(
        7,
        [
            ("users.person.read", reach_of(ScopeKind.ORG, [COLLEGE])),
            ("users.person.read", reach_of(ScopeKind.ORG, [OTHER])),
            ("users.org.read", reach_of(ScopeKind.SELF, [])),
        ],
    )
    assert person.reach("users.person.read").units == {COLLEGE, OTHER}
    assert person.reach("monitor.audit.read") is NOWHERE
    assert person.codes == {"users.person.read", "users.org.read"}
    admin = merge(8, [("*", EVERYWHERE)])
    assert admin.reach("anything.at.all") is EVERYWHERE and admin.codes == {"*"}


def test_a_code_reaching_nowhere_is_not_held() -> None:
    """A post grant anchored at the holder's post, for someone whose post names no unit."""
    person = merge(7, [("users.person.read", reach_of(ScopeKind.SUBTREE, []))])
    assert person.codes == frozenset()


def test_the_cached_form_round_trips() -> None:
    person = merge(
        7,
        [
            ("a.b.c", reach_of(ScopeKind.SUBTREE, [COLLEGE, OTHER])),
            ("a.b.c", reach_of(ScopeKind.SELF, [])),
            ("a.b.d", EVERYWHERE),
        ],
    )
    again = PersonReach.from_json(7, person.to_json())
    assert again == person
    assert person.to_json()["a.b.c"] == {"all": False, "self": True, "org": [], "subtree": [10, 20]}
