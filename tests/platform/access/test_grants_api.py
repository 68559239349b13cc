"""Grants through the JSON API: to a person or a kind of post, with each scope; bad input
(unknown role, person, post or org unit, a scope without its units, a duplicate) writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from campus.kernel.runtime import Runtime
from tests.platform.access.conftest import (
    Tree,
    assert_problem,
    audit_of,
    counts,
    outbox_events,
    staff_in,
)


async def grant(admin: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await admin.post("/api/v1/access/grants", json=body)


async def test_grant_to_a_person_over_a_subtree(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    response = await grant(
        admin,
        role="academic_secretary",
        person_id=person["id"],
        scope="subtree",
        org_unit_id=tree.college_a,
    )
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["role"] == "academic_secretary" and out["role_name"] == "教务秘书"
    assert out["person_name"] == person["name"] and out["person_number"] == person["staff_no"]
    assert out["scope_label"] == "本单位及下级"
    assert out["org_unit"] == {"id": tree.college_a, "name": "甲学院"}
    assert out["where"] == "本单位及下级：甲学院"
    [entry] = [
        e for e in await audit_of(db, "access.grant.create") if e["target_id"] == str(out["id"])
    ]
    assert entry["after"]["person_id"] == person["id"]
    [event] = [
        e
        for e in await outbox_events(db, "access.grant.changed")
        if e.payload["grant_id"] == out["id"]
    ]
    assert event.payload == {
        "grant_id": out["id"],
        "change": "created",
        "role": "academic_secretary",
        "person_id": person["id"],
        "position_kind": None,
    }
    listed = (await admin.get(f"/api/v1/access/grants?person_id={person['id']}")).json()
    assert [g["id"] for g in listed["items"]] == [out["id"]] and listed["total"] == 1


async def test_grant_to_a_kind_of_post_and_custom_units(
    admin: httpx.AsyncClient, tree: Tree
) -> None:
    by_post = await grant(admin, role="teacher", position_kind="head_teacher", scope="subtree")
    assert by_post.status_code == 201, by_post.text
    assert by_post.json()["where"] == "本单位及下级：任职单位"
    assert by_post.json()["position_title"] == "班主任"
    custom = await grant(
        admin,
        role="finance",
        position_kind="head_teacher",
        scope="custom",
        custom_org_unit_ids=[tree.college_b, tree.major_a, tree.college_b],
    )
    assert custom.status_code == 201, custom.text
    assert [u["id"] for u in custom.json()["custom_org_units"]] == sorted(
        [tree.major_a, tree.college_b]
    )
    assert custom.json()["where"].startswith("指定单位：")
    filtered = (await admin.get("/api/v1/access/grants?position_kind=head_teacher")).json()
    assert {g["id"] for g in filtered["items"]} == {by_post.json()["id"], custom.json()["id"]}
    only_custom = (
        await admin.get("/api/v1/access/grants?position_kind=head_teacher&scope=custom")
    ).json()
    assert [g["id"] for g in only_custom["items"]] == [custom.json()["id"]]


P = "PERSON"  # replaced by a person of the test
C = "COLLEGE"  # replaced by an org unit of the test


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "no_such_role", "person_id": P, "scope": "all"}, "role"),
        ({"role": "teacher", "person_id": 987654321, "scope": "all"}, "person_id"),
        ({"role": "teacher", "scope": "all"}, "person_id"),  # no subject
        ({"role": "teacher", "position_kind": "janitor", "scope": "all"}, "position_kind"),
        ({"role": "teacher", "person_id": P, "scope": "subtree"}, "org_unit_id"),  # no anchor
        (
            {"role": "teacher", "person_id": P, "scope": "org", "org_unit_id": 987654321},
            "org_unit_id",
        ),
        ({"role": "teacher", "person_id": P, "scope": "all", "org_unit_id": C}, "org_unit_id"),
        (
            {"role": "teacher", "person_id": P, "scope": "self", "custom_org_unit_ids": [C]},
            "custom_org_unit_ids",
        ),
        ({"role": "teacher", "person_id": P, "scope": "custom"}, "custom_org_unit_ids"),
        (
            {
                "role": "teacher",
                "person_id": P,
                "scope": "custom",
                "custom_org_unit_ids": [C, 987654321],
            },
            "custom_org_unit_ids",
        ),
        ({"role": "teacher", "person_id": P, "scope": "everywhere"}, "scope"),
        ({"role": "teacher", "person_id": P, "scope": "all", "extra": True}, "extra"),
    ],
)
async def test_bad_grants_are_refused_and_write_nothing(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree, body: dict[str, Any], field: str
) -> None:
    person = await staff_in(admin, tree, tree.college_a)

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {P: person["id"], C: tree.college_a}.get(value, value)

    body = {key: fill(value) for key, value in body.items()}
    before = await counts(db)
    assert_problem(await grant(admin, **body), 422, field)
    assert await counts(db) == before


async def test_both_subjects_at_once_are_refused(admin: httpx.AsyncClient, tree: Tree) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    response = await grant(
        admin, role="teacher", person_id=person["id"], position_kind="dean", scope="all"
    )
    assert (
        assert_problem(response, 422, "person_id")["detail"]
        == "请指定授权对象：人员或岗位，二者选一"
    )


async def test_a_duplicate_grant_is_a_conflict(
    admin: httpx.AsyncClient, db: Runtime, tree: Tree
) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    body = {
        "role": "teacher",
        "person_id": person["id"],
        "scope": "org",
        "org_unit_id": tree.major_a,
    }
    assert (await grant(admin, **body)).status_code == 201
    before = await counts(db)
    assert_problem(await grant(admin, **body), 409, "role")
    assert await counts(db) == before
    # The same role elsewhere is another grant.
    assert (await grant(admin, **{**body, "org_unit_id": tree.college_b})).status_code == 201


async def test_revoke_a_grant(admin: httpx.AsyncClient, db: Runtime, tree: Tree) -> None:
    person = await staff_in(admin, tree, tree.college_a)
    created = (await grant(admin, role="finance", person_id=person["id"], scope="all")).json()
    assert (await admin.delete(f"/api/v1/access/grants/{created['id']}")).status_code == 204
    listed = (await admin.get(f"/api/v1/access/grants?person_id={person['id']}")).json()
    assert listed["items"] == []
    [entry] = [
        e for e in await audit_of(db, "access.grant.revoke") if e["target_id"] == str(created["id"])
    ]
    assert entry["before"]["role"] == "finance"
    changes = [
        e.payload["change"]
        for e in await outbox_events(db, "access.grant.changed")
        if e.payload["grant_id"] == created["id"]
    ]
    assert changes == ["created", "revoked"]
    assert_problem(await admin.delete(f"/api/v1/access/grants/{created['id']}"), 404)


async def test_the_last_grant_of_everything_cannot_be_revoked(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    everything = (await admin.get("/api/v1/access/grants?role=admin&scope=all")).json()["items"]
    assert len(everything) == 1, "the demo has one system administrator"
    before = await counts(db)
    body = assert_problem(await admin.delete(f"/api/v1/access/grants/{everything[0]['id']}"), 409)
    assert "无人能管理系统" in body["detail"]
    assert await counts(db) == before
    assert (await admin.get("/api/v1/access/roles")).status_code == 200


async def test_grant_listing_rejects_bad_filters(admin: httpx.AsyncClient) -> None:
    assert_problem(await admin.get("/api/v1/access/grants?scope=nowhere"), 422, "scope")
    assert_problem(await admin.get("/api/v1/access/grants?page=0"), 422, "page")
    assert_problem(await admin.get("/api/v1/access/grants?person_id=abc"), 422, "person_id")
