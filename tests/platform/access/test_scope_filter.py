"""Data scopes compiled into SQL (``scope_filter``) and decided in memory (``allows``), for each
kind of scope, against people of the test's own org units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.context import Principal
from campus.kernel.runtime import Runtime
from campus.platform.access import actions, service
from campus.platform.access.models import Grant
from campus.platform.access.schemas import GrantCreate
from campus.platform.access.scopes import ScopeKind
from campus.platform.users.models import OrgUnit, Person
from tests.platform.access.conftest import Tree, staff_in, student_in

CODE = "users.person.read"


@dataclass(frozen=True)
class People:
    me: dict[str, Any]  # staff of college A: the reader
    colleague: dict[str, Any]  # staff of college A
    student: dict[str, Any]  # student of major A (below college A)
    outsider: dict[str, Any]  # staff of college B

    def ids(self) -> set[int]:
        return {p["id"] for p in (self.me, self.colleague, self.student, self.outsider)}


@pytest.fixture
async def people(admin: httpx.AsyncClient, tree: Tree) -> People:
    return People(
        me=await staff_in(admin, tree, tree.college_a),
        colleague=await staff_in(admin, tree, tree.college_a),
        student=await student_in(admin, tree),
        outsider=await staff_in(admin, tree, tree.college_b),
    )


async def reader(db: Runtime, person_id: int, *grants: tuple[ScopeKind, list[int]]) -> Principal:
    """The person as a signed-in principal after receiving a role holding CODE once per grant
    (through the API's own action, so custom sets are checked too)."""
    async with db.db.transaction() as session:
        for scope, units in grants:
            anchored = scope in (ScopeKind.ORG, ScopeKind.SUBTREE)
            await actions.check_grant(
                session,
                db.cache,
                GrantCreate(
                    role="academic_secretary",
                    person_id=person_id,
                    scope=scope,
                    org_unit_id=units[0] if anchored else None,
                    custom_org_unit_ids=units if scope is ScopeKind.CUSTOM else [],
                ),
            )
    async with db.db.read() as session:
        codes = await service.permissions_of(session, db.cache, person_id)
    return Principal(person_id=person_id, name="读者", login="reader", permissions=codes)


async def visible(
    db: Runtime, principal: Principal, people: People, *, with_person: bool = True
) -> set[int]:
    where = service.scope_filter(
        principal, CODE, Person.org_unit_id, Person.id if with_person else None
    )
    async with db.db.read() as session:
        rows = await session.scalars(
            select(Person.id).where(Person.id.in_(people.ids())).where(where)
        )
        return set(rows)


def ids(*persons: dict[str, Any]) -> set[int]:
    return {p["id"] for p in persons}


async def test_scope_all_sees_everyone(db: Runtime, people: People) -> None:
    principal = await reader(db, people.me["id"], (ScopeKind.ALL, []))
    assert await visible(db, principal, people) == people.ids()


async def test_scope_org_sees_the_unit_itself_only(db: Runtime, people: People, tree: Tree) -> None:
    principal = await reader(db, people.me["id"], (ScopeKind.ORG, [tree.college_a]))
    assert await visible(db, principal, people) == ids(people.me, people.colleague)


async def test_scope_subtree_sees_the_unit_and_below(
    db: Runtime, people: People, tree: Tree
) -> None:
    principal = await reader(db, people.me["id"], (ScopeKind.SUBTREE, [tree.college_a]))
    assert await visible(db, principal, people) == ids(people.me, people.colleague, people.student)


async def test_scope_self_sees_oneself_and_nothing_without_a_person_column(
    db: Runtime, people: People
) -> None:
    principal = await reader(db, people.me["id"], (ScopeKind.SELF, []))
    assert await visible(db, principal, people) == ids(people.me)
    assert await visible(db, principal, people, with_person=False) == set()


async def test_scope_custom_sees_exactly_the_units_listed(
    db: Runtime, people: People, tree: Tree
) -> None:
    principal = await reader(
        db, people.me["id"], (ScopeKind.CUSTOM, [tree.major_a, tree.college_b])
    )
    assert await visible(db, principal, people) == ids(people.student, people.outsider)


async def test_no_grant_sees_nothing(db: Runtime, people: People) -> None:
    principal = await reader(db, people.me["id"])
    assert CODE not in principal.permissions
    assert await visible(db, principal, people) == set()
    assert await visible(db, None, people) == set()  # type: ignore[arg-type]


async def test_grants_add_up(db: Runtime, people: People, tree: Tree) -> None:
    principal = await reader(
        db, people.me["id"], (ScopeKind.SELF, []), (ScopeKind.ORG, [tree.college_b])
    )
    assert await visible(db, principal, people) == ids(people.me, people.outsider)


async def test_subtree_follows_a_unit_created_after_the_grant(
    admin: httpx.AsyncClient, db: Runtime, people: People, tree: Tree
) -> None:
    principal = await reader(db, people.me["id"], (ScopeKind.SUBTREE, [tree.college_a]))
    late = await admin.post(
        "/api/v1/users/org-units",
        json={
            "code": f"L{people.me['id']}",
            "name": "新设系",
            "kind": "department",
            "parent_id": tree.college_a,
        },
    )
    assert late.status_code == 201, late.text
    newcomer = await staff_in(admin, tree, late.json()["id"])
    where = service.scope_filter(principal, CODE, Person.org_unit_id, Person.id)
    async with db.db.read() as session:
        found = await session.scalar(select(Person.id).where(Person.id == newcomer["id"], where))
    assert found == newcomer["id"]


async def test_the_filter_composes_with_a_query_already_joining_org_units(
    db: Runtime, people: People, tree: Tree
) -> None:
    """The people list joins the org table itself; the subtree subquery must not correlate."""
    principal = await reader(db, people.me["id"], (ScopeKind.SUBTREE, [tree.college_a]))
    where = service.scope_filter(principal, CODE, Person.org_unit_id, Person.id)
    async with db.db.read() as session:
        rows = await session.scalars(
            select(Person.id)
            .join(OrgUnit, OrgUnit.id == Person.org_unit_id)
            .where(Person.id.in_(people.ids()), where)
        )
        assert set(rows) == ids(people.me, people.colleague, people.student)


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (ScopeKind.ALL, {"me", "colleague", "student", "outsider"}),
        (ScopeKind.ORG, {"me", "colleague"}),
        (ScopeKind.SUBTREE, {"me", "colleague", "student"}),
        (ScopeKind.SELF, {"me"}),
        (ScopeKind.CUSTOM, {"student", "outsider"}),
    ],
)
async def test_allows_decides_one_object_like_the_filter(
    db: Runtime, people: People, tree: Tree, scope: ScopeKind, expected: set[str]
) -> None:
    units = {
        ScopeKind.ORG: [tree.college_a],
        ScopeKind.SUBTREE: [tree.college_a],
        ScopeKind.CUSTOM: [tree.major_a, tree.college_b],
    }.get(scope, [])
    principal = await reader(db, people.me["id"], (scope, units))
    paths = {
        "me": [tree.root_id, tree.college_a],
        "colleague": [tree.root_id, tree.college_a],
        "student": [tree.root_id, tree.college_a, tree.major_a],
        "outsider": [tree.root_id, tree.college_b],
    }
    allowed = {
        name
        for name, path in paths.items()
        if service.allows(principal, CODE, path, getattr(people, name)["id"])
    }
    assert allowed == expected
    assert {
        p for p in paths if getattr(people, p)["id"] in await visible(db, principal, people)
    } == expected


async def test_grants_are_stored_with_their_scope(db: Runtime, people: People, tree: Tree) -> None:
    await reader(db, people.me["id"], (ScopeKind.CUSTOM, [tree.college_b, tree.major_a]))
    async with db.db.read() as session:
        stored = await session.scalar(select(Grant).where(Grant.person_id == people.me["id"]))
        assert stored is not None
        assert (stored.scope, stored.org_unit_id) == ("custom", None)
        assert stored.custom_org_unit_ids == sorted([tree.college_b, tree.major_a])
