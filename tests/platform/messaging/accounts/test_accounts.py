"""Service accounts: who may create and change them, who sees which, the directory, and every
bad input (a refusal stores nothing)."""

from __future__ import annotations

import httpx

from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts import events
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    MANAGE,
    assert_problem,
    counts,
    create_account,
    outbox_events,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn, unique


async def test_an_administrator_creates_an_account_with_editors_and_a_mandatory_audience(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(
        admin,
        name="测试教务处",
        category="academic",
        org_unit_id=campus.college_id,
        mandatory={"person_types": ["undergraduate", "postgraduate"]},
        editor_ids=[editor.id],
    )
    assert account["mandatory"] == {
        "person_types": ["undergraduate", "postgraduate"],
        "org_unit_ids": [],
    }
    assert account["mandatory_text"] == "全校 本科生、研究生"
    assert [e["id"] for e in account["editors"]] == [editor.id]
    created = [e.payload for e in await outbox_events(db, events.ACCOUNT_CREATED)]
    assert created[-1]["account_id"] == account["id"]
    # The editor sees it as one they may publish for.
    found = await editor.client.get(f"{ACCOUNTS}/{account['id']}")
    assert found.status_code == 200, found.text
    assert found.json()["may_publish"] is True


async def test_only_holders_of_the_manage_permission_create_or_change_accounts(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    clerk = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id)
    before = await counts(db)
    body = {"code": unique("x").lower(), "name": "不该建成", "org_unit_id": campus.college_id}
    assert_problem(await clerk.client.post(ACCOUNTS, json=body), 403)
    assert_problem(
        await clerk.client.patch(f"{ACCOUNTS}/{account['id']}", json={"name": "改名"}), 403
    )
    assert await counts(db) == before
    manager = await staff(admin, sign_in, campus, MANAGE)
    changed = await manager.client.patch(f"{ACCOUNTS}/{account['id']}", json={"name": "新名字"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "新名字"


async def test_bad_account_input_names_the_field_and_stores_nothing(
    admin: httpx.AsyncClient, campus: Campus, db: Runtime
) -> None:
    taken = await create_account(admin, org_unit_id=campus.college_id)
    before = await counts(db)
    base = {"code": unique("ok").lower(), "name": unique("名"), "org_unit_id": campus.college_id}
    cases = [
        ({**base, "org_unit_id": 999_999_999}, 422, "org_unit_id"),
        ({**base, "code": taken["code"]}, 409, "code"),
        ({**base, "name": taken["name"]}, 409, "name"),
        ({**base, "code": "有中文"}, 422, "code"),
        ({**base, "name": "x" * 41}, 422, "name"),
        ({**base, "editor_ids": [999_999_999]}, 422, "editor_ids.0"),
        ({**base, "audience": {"org_unit_ids": [999_999_999]}}, 422, "audience.org_unit_ids.0"),
        ({**base, "mandatory": {"person_types": ["alien"]}}, 422, "mandatory.person_types.0"),
        ({**base, "category": "nonsense"}, 422, "category"),
        ({**base, "avatar_file_id": "nosuchfile"}, 422, "avatar_file_id.0"),
    ]
    for body, status, field in cases:
        problem = assert_problem(await admin.post(ACCOUNTS, json=body), status, field)
        assert problem["detail"], problem
    assert await counts(db) == before


async def test_the_directory_shows_accounts_meant_for_the_reader_only(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    mine = await create_account(
        admin,
        name=unique("本院号"),
        org_unit_id=campus.college_id,
        audience={"org_unit_ids": [campus.college_id]},
    )
    other = await create_account(
        admin,
        name=unique("外院号"),
        org_unit_id=campus.other_college_id,
        audience={"org_unit_ids": [campus.other_college_id]},
    )
    staff_only = await create_account(
        admin,
        name=unique("教工号"),
        org_unit_id=campus.college_id,
        audience={"person_types": ["faculty", "staff"]},
    )
    reader = await student(admin, sign_in, campus)
    listed = await reader.client.get(ACCOUNTS, params={"page_size": 200})
    assert listed.status_code == 200, listed.text
    names = {a["name"] for a in listed.json()["items"]}
    assert mine["name"] in names
    assert other["name"] not in names and staff_only["name"] not in names
    # Reading an account not meant for them is refused (and audited), not just unlisted.
    assert_problem(await reader.client.get(f"{ACCOUNTS}/{other['id']}"), 403)
    assert_problem(await reader.client.put(f"{ACCOUNTS}/{other['id']}/subscription"), 403)


async def test_the_directory_searches_names_and_filters_categories(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    marker = unique("搜")
    library = await create_account(
        admin, name=f"{marker}图书", category="service", org_unit_id=campus.college_id
    )
    youth = await create_account(
        admin,
        name=unique("团"),
        description=f"{marker} 团学活动",
        category="youth",
        org_unit_id=campus.college_id,
    )
    reader = await student(admin, sign_in, campus)
    found = await reader.client.get(ACCOUNTS, params={"q": marker})
    assert {a["id"] for a in found.json()["items"]} == {library["id"], youth["id"]}
    found = await reader.client.get(ACCOUNTS, params={"q": marker, "category": "youth"})
    assert [a["id"] for a in found.json()["items"]] == [youth["id"]]
    # LIKE wildcards in the query are taken literally.
    found = await reader.client.get(ACCOUNTS, params={"q": "%"})
    assert found.json()["items"] == []
    assert_problem(await reader.client.get(ACCOUNTS, params={"category": "x"}), 422, "category")


async def test_a_deactivated_account_leaves_the_directory_but_not_the_managers_list(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    account = await create_account(admin, org_unit_id=campus.college_id)
    reader = await student(admin, sign_in, campus)
    assert (await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).status_code == 200
    response = await admin.patch(f"{ACCOUNTS}/{account['id']}", json={"active": False})
    assert response.status_code == 200, response.text
    listed = await reader.client.get(ACCOUNTS, params={"page_size": 200})
    assert account["id"] not in {a["id"] for a in listed.json()["items"]}
    managed = await admin.get(ACCOUNTS, params={"page_size": 200, "q": account["name"]})
    assert [a["id"] for a in managed.json()["items"]] == [account["id"]]
    assert_problem(
        await admin.patch(f"{ACCOUNTS}/{account['id']}", json={"name": None}), 422, "name"
    )
