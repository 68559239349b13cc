"""Decisions come from the cached index and follow every change: a grant given or revoked, a
role's codes changed, a post assigned; the handlers drop entries rebuilt before a commit."""

from __future__ import annotations

import json

import httpx

from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.kernel.runtime import Runtime
from campus.platform.access import index, service
from campus.platform.access.handlers import HANDLERS
from tests.platform.access.conftest import (
    SignIn,
    Tree,
    outbox_events,
    staff_in,
    student_in,
    unique,
)

PEOPLE = "/api/v1/users/people"


def handler(name: str) -> EventHandler:
    return next(h for h in HANDLERS if h.name == name)


async def deliver(db: Runtime, handler_name: str, event: Event) -> None:
    """Hand an event to one of the access handlers as the worker does (own transaction)."""
    await Dispatcher(db.db).run_once(handler(handler_name), event)


async def test_a_grant_takes_effect_on_the_next_request_without_signing_in_again(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(person)
    assert (await client.get(PEOPLE)).status_code == 403
    created = await admin.post(
        "/api/v1/access/grants",
        json={
            "role": "academic_secretary",
            "person_id": person["id"],
            "scope": "subtree",
            "org_unit_id": tree.college_a,
        },
    )
    assert created.status_code == 201
    assert (await client.get(PEOPLE)).status_code == 200
    me = (await client.get("/api/v1/auth/me")).json()
    assert {"users.person.read", "users.org.read"} <= set(me["permissions"])

    assert (await admin.delete(f"/api/v1/access/grants/{created.json()['id']}")).status_code == 204
    assert (await client.get(PEOPLE)).status_code == 403


async def test_changing_a_roles_codes_changes_its_holders_decisions(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, sign_in: SignIn
) -> None:
    role = await admin.post(
        "/api/v1/access/roles",
        json={"code": unique("r_").lower(), "name": "临时", "permissions": ["users.org.read"]},
    )
    person = await staff_in(admin, tree, tree.college_a)
    grant = await admin.post(
        "/api/v1/access/grants",
        json={"role": role.json()["code"], "person_id": person["id"], "scope": "all"},
    )
    assert grant.status_code == 201
    client = await sign_in(person)
    assert (await client.get("/api/v1/users/org-units")).status_code == 200
    assert (await client.get("/api/v1/monitor/audit")).status_code == 403
    changed = await admin.patch(
        f"/api/v1/access/roles/{role.json()['id']}", json={"permissions": ["monitor.audit.read"]}
    )
    assert changed.status_code == 200
    assert (await client.get("/api/v1/monitor/audit")).status_code == 200
    assert (await client.get("/api/v1/users/org-units")).status_code == 403
    [event] = [
        e
        for e in await outbox_events(db, "access.role.changed")
        if e.payload["role_id"] == role.json()["id"] and e.payload["change"] == "updated"
    ]
    assert event.payload["person_ids"] == [person["id"]]


async def test_the_handler_drops_an_entry_rebuilt_before_the_commit(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, sign_in: SignIn
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(person)
    created = await admin.post(
        "/api/v1/access/grants",
        json={"role": "finance", "person_id": person["id"], "scope": "all"},
    )
    assert created.status_code == 201
    # A request that read the grants before the commit caches what it saw: no codes at all.
    await db.cache.set(index.cache_key(person["id"]), b"{}", index.ENTRY_TTL)
    assert (await client.get(PEOPLE)).status_code == 403
    [event] = [
        e
        for e in await outbox_events(db, "access.grant.changed")
        if e.payload["grant_id"] == created.json()["id"]
    ]
    await deliver(db, "access.forget_on_grant", event)
    assert await db.cache.get(index.cache_key(person["id"])) is None
    assert (await client.get(PEOPLE)).status_code == 200


async def test_a_post_grant_reaches_a_new_holder_once_the_assignment_is_handled(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, sign_in: SignIn
) -> None:
    """Every counselor holds the counselor role over their post's unit and below (seeded); a
    class post counts at the class's unit."""
    person = await staff_in(admin, tree, tree.college_a)
    student = await student_in(admin, tree)
    client = await sign_in(person)
    assert (await client.get(f"/api/v1/users/people/{student['id']}")).status_code == 403
    assigned = await admin.post(
        "/api/v1/users/positions",
        json={
            "person_id": person["id"],
            "kind": "counselor",
            "class_id": tree.class_a,
        },
    )
    assert assigned.status_code == 201, assigned.text
    # Until the assignment event is handled, the cached decision stands.
    assert (await client.get(f"/api/v1/users/people/{student['id']}")).status_code == 403
    [event] = [
        e
        for e in await outbox_events(db, "users.position.assigned")
        if e.payload["person_id"] == person["id"]
    ]
    await deliver(db, "access.forget_on_position_assigned", event)
    detail = await client.get(f"/api/v1/users/people/{student['id']}")
    assert detail.status_code == 200
    assert detail.json()["masked"] is False  # counselors see their students' phones
    outsider = await staff_in(admin, tree, tree.college_b)
    assert (await client.get(f"/api/v1/users/people/{outsider['id']}")).status_code == 403
    async with db.db.read() as session:
        assert "counselor" in await service.roles_of(session, person["id"])


async def test_role_events_reach_post_holders(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    assigned = await admin.post(
        "/api/v1/users/positions",
        json={"person_id": person["id"], "kind": "counselor", "class_id": tree.class_a},
    )
    assert assigned.status_code == 201
    await db.cache.set(index.cache_key(person["id"]), b"{}", index.ENTRY_TTL)
    event = Event(
        name="access.role.changed",
        payload={
            "role_id": 1,
            "code": "counselor",
            "change": "updated",
            "position_kinds": ["counselor"],
        },
    )
    await deliver(db, "access.forget_on_role", event)
    assert await db.cache.get(index.cache_key(person["id"])) is None


async def test_the_process_reuses_what_it_parsed_while_the_shared_entry_is_unchanged(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    async with db.db.read() as session:
        first = await index.load(session, db.cache, person["id"])
        again = await index.load(session, db.cache, person["id"])
        assert again is first  # no parsing, no query
        await db.cache.set(
            index.cache_key(person["id"]),
            json.dumps({"users.org.read": {"all": True}}).encode(),
            index.ENTRY_TTL,
        )
        other = await index.load(session, db.cache, person["id"])  # another process changed it
        assert other is not first and other.codes == {"users.org.read"}
        await service.forget_permissions(db.cache, person["id"])
        rebuilt = await index.load(session, db.cache, person["id"])
        assert rebuilt.codes == frozenset()  # from the grants: this person has none
