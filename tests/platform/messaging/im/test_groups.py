"""Groups people make (roles, invite, remove, leave, dissolve) and the automatic class and
section groups that follow their rosters."""

from __future__ import annotations

from typing import Any

import httpx

from campus.kernel.events import Event
from campus.kernel.runtime import Runtime
from campus.platform.messaging.im import group_actions
from campus.platform.messaging.im.events import SECTION_ROSTER_CHANGED
from tests.platform.messaging.im.conftest import (
    IM,
    Campus,
    Person,
    assert_problem,
    deliver,
    group,
    history,
    make_person,
    outbox_events,
    send,
)


async def members_of(who: Person, conversation_id: int) -> dict[int, str]:
    detail = (await who.client.get(f"{IM}/conversations/{conversation_id}")).json()
    return {m["person_id"]: m["role"] for m in detail["members"]}


async def test_owner_admins_and_members(
    alice: Person,
    bob: Person,
    carol: Person,
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: Any,
) -> None:
    conversation = await group(alice, bob)
    assert await members_of(alice, conversation) == {alice.id: "owner", bob.id: "member"}
    url = f"{IM}/conversations/{conversation}"
    refused = await bob.client.post(f"{url}/members", json={"members": [carol.id]})
    assert_problem(refused, 403)
    promote = await bob.client.put(f"{url}/members/{bob.id}/role", json={"role": "admin"})
    assert_problem(promote, 403)
    assert (
        await alice.client.put(f"{url}/members/{bob.id}/role", json={"role": "admin"})
    ).status_code == 204
    invited = await bob.client.post(f"{url}/members", json={"members": [carol.id]})
    assert invited.status_code == 200, invited.text
    assert await members_of(alice, conversation) == {
        alice.id: "owner",
        bob.id: "admin",
        carol.id: "member",
    }
    dave = await make_person(admin, campus, sign_in, name="戴夫")
    await alice.client.post(f"{url}/members", json={"members": [dave.id]})
    kicked = await bob.client.delete(f"{url}/members/{dave.id}")
    assert kicked.status_code == 204
    owner_out = await bob.client.delete(f"{url}/members/{alice.id}")
    assert_problem(owner_out, 403)
    gone = await dave.client.get(f"{url}/messages")
    assert_problem(gone, 403)


async def test_a_newcomer_sees_only_what_follows(alice: Person, bob: Person, carol: Person) -> None:
    conversation = await group(alice, bob)
    await send(alice, conversation, "新人来之前的话")
    await alice.client.post(
        f"{IM}/conversations/{conversation}/members", json={"members": [carol.id]}
    )
    await send(alice, conversation, "欢迎")
    seen = [(m["kind"], m["text"]) for m in (await history(carol, conversation))["items"]]
    assert seen == [("system", "爱丽丝 邀请 卡萝尔 加入了群聊"), ("text", "欢迎")]
    listed = {c["id"]: c for c in (await carol.client.get(f"{IM}/conversations")).json()}
    assert listed[conversation]["unread"] == 1, "the system's notice is not unread"


async def test_leaving_passes_ownership_and_the_last_one_out_dissolves(
    alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob, carol)
    url = f"{IM}/conversations/{conversation}"
    await alice.client.put(f"{url}/members/{carol.id}/role", json={"role": "admin"})
    assert (await alice.client.delete(f"{url}/members/{alice.id}")).status_code == 204
    roles = await members_of(bob, conversation)
    assert roles == {bob.id: "member", carol.id: "owner"}, "an admin inherits before a member"
    await bob.client.delete(f"{url}/members/{bob.id}")
    await carol.client.delete(f"{url}/members/{carol.id}")
    assert_problem(await carol.client.get(url), 404)


async def test_renaming_announcing_and_dissolving(db: Runtime, alice: Person, bob: Person) -> None:
    conversation = await group(alice, bob)
    url = f"{IM}/conversations/{conversation}"
    changed = await alice.client.patch(url, json={"name": "新名字", "announcement": "周五交作业"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "新名字"
    notices = [
        m["text"] for m in (await history(bob, conversation))["items"] if m["kind"] == "system"
    ]
    assert any("新名字" in n for n in notices) and any("群公告" in n for n in notices)
    empty = await alice.client.patch(url, json={"name": ""})
    assert_problem(empty, 422, "name")
    assert_problem(await bob.client.delete(url), 403)
    assert (await alice.client.delete(url)).status_code == 204
    assert_problem(await bob.client.get(url), 404)
    events = await outbox_events(db, "messaging.im.group_changed")
    assert [e.payload["change"] for e in events if e.payload["conversation_id"] == conversation][
        -1
    ] == "dissolved"


async def test_a_class_group_follows_its_roster(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: Any
) -> None:
    first = await make_person(admin, campus, sign_in, name="甲")
    async with db.db.transaction() as session:
        group_id = await group_actions.sync_class_group(session, db, campus.class_id)
    assert group_id is not None
    roles = await members_of(first, group_id)
    assert roles.get(first.id) == "member"
    # A new classmate joins through the user center's event, as the worker would deliver it.
    second = await make_person(admin, campus, sign_in, name="乙")
    created = [
        e
        for e in await outbox_events(db, "users.person.created")
        if e.payload["person_id"] == second.id
    ]
    await deliver(db, "messaging.im.person_created", created[0])
    assert second.id in await members_of(first, group_id)
    # Moving to no class takes them out again.
    moved = await admin.patch(f"/api/v1/users/people/{second.id}", json={"class_id": None})
    assert moved.status_code == 200, moved.text
    updated = [
        e
        for e in await outbox_events(db, "users.person.updated")
        if e.payload["person_id"] == second.id
    ]
    await deliver(db, "messaging.im.person_updated", updated[-1])
    assert second.id not in await members_of(first, group_id)
    # Nobody adds or leaves by hand.
    url = f"{IM}/conversations/{group_id}"
    assert_problem(await first.client.delete(f"{url}/members/{first.id}"), 409)


async def test_section_groups_follow_the_academic_roster_event(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    roster = {
        "section_id": 4242,
        "name": "高等数学（一）01 班",
        "teacher_ids": [carol.id],
        "student_ids": [alice.id, bob.id],
    }
    await deliver(
        db, "messaging.im.section_roster", Event(name=SECTION_ROSTER_CHANGED, payload=roster)
    )
    listed = {c["name"]: c for c in (await alice.client.get(f"{IM}/conversations")).json()}
    section = listed["高等数学（一）01 班"]
    assert section["kind"] == "section"
    assert await members_of(alice, section["id"]) == {
        carol.id: "owner",
        alice.id: "member",
        bob.id: "member",
    }
    smaller = {**roster, "student_ids": [alice.id]}
    await deliver(
        db, "messaging.im.section_roster", Event(name=SECTION_ROSTER_CHANGED, payload=smaller)
    )
    assert bob.id not in await members_of(alice, section["id"])
    cancelled = {**roster, "active": False}
    await deliver(
        db, "messaging.im.section_roster", Event(name=SECTION_ROSTER_CHANGED, payload=cancelled)
    )
    assert_problem(await alice.client.get(f"{IM}/conversations/{section['id']}"), 404)
