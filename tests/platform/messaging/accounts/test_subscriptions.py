"""Subscribing and unsubscribing; mandatory accounts (evaluated as a rule, so newcomers are
covered); the combined feed of one's subscriptions."""

from __future__ import annotations

import httpx

from campus.kernel.runtime import Runtime
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    assert_problem,
    counts,
    create_account,
    feed_titles,
    publish,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn


async def test_subscribing_and_unsubscribing_changes_the_feed(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    await publish(editor.client, account["id"], title="关注后可见")
    reader = await student(admin, sign_in, campus)
    assert "关注后可见" not in await feed_titles(reader.client)

    response = await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")
    assert response.status_code == 200, response.text
    assert response.json() == {"account_id": account["id"], "subscribed": True, "mandatory": False}
    # Subscribing twice is harmless.
    assert (await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).status_code == 200
    assert "关注后可见" in await feed_titles(reader.client)
    following = {
        a["id"]: a for a in (await reader.client.get(f"{ACCOUNTS}/following")).json()["items"]
    }
    assert following[account["id"]]["subscriber_count"] == 1
    # Besides it, only the accounts mandatory for every student (the demo's 教务处).
    assert all(a["mandatory_for_me"] for i, a in following.items() if i != account["id"])

    response = await reader.client.delete(f"{ACCOUNTS}/{account['id']}/subscription")
    assert response.status_code == 200, response.text
    assert "关注后可见" not in await feed_titles(reader.client)


async def test_a_mandatory_account_cannot_be_unsubscribed(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account = await create_account(
        admin,
        org_unit_id=campus.college_id,
        mandatory={"person_types": ["undergraduate"], "org_unit_ids": [campus.college_id]},
    )
    reader = await student(admin, sign_in, campus)
    found = (await reader.client.get(f"{ACCOUNTS}/{account['id']}")).json()
    assert found["subscribed"] is True and found["mandatory_for_me"] is True
    before = await counts(db)
    problem = assert_problem(
        await reader.client.delete(f"{ACCOUNTS}/{account['id']}/subscription"), 409, "account_id"
    )
    assert "不能取消关注" in problem["detail"]
    assert await counts(db) == before
    # A postgraduate of the same college is not covered by the rule, and may come and go.
    other = await student(admin, sign_in, campus, person_type="postgraduate")
    found = (await other.client.get(f"{ACCOUNTS}/{account['id']}")).json()
    assert found["mandatory_for_me"] is False and found["subscribed"] is False


async def test_a_student_who_joins_later_is_covered_by_the_mandatory_rule(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(
        admin,
        org_unit_id=campus.college_id,
        mandatory={"person_types": ["undergraduate"], "org_unit_ids": [campus.college_id]},
        editor_ids=[editor.id],
    )
    await publish(editor.client, account["id"], title="新生必读")
    # Enrolled after the account was made mandatory and after the post went out.
    freshman = await student(admin, sign_in, campus)
    assert "新生必读" in await feed_titles(freshman.client)
    following = await freshman.client.get(f"{ACCOUNTS}/following")
    assert account["id"] in [a["id"] for a in following.json()["items"]]
    # Someone of another college is not.
    outsider = await student(
        admin, sign_in, campus, class_id=None, org_unit_id=campus.other_college_id
    )
    assert "新生必读" not in await feed_titles(outsider.client)


async def test_the_feed_combines_subscriptions_newest_first(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    first = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    second = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    unfollowed = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    reader = await student(admin, sign_in, campus)
    for account in (first, second):
        assert (await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success
    await publish(editor.client, first["id"], title="甲一")
    await publish(editor.client, unfollowed["id"], title="没关注")
    await publish(editor.client, second["id"], title="乙一")
    await publish(editor.client, first["id"], title="甲二")
    titles = await feed_titles(reader.client)
    assert [t for t in titles if t in ("甲一", "乙一", "甲二", "没关注")] == [
        "甲二",
        "乙一",
        "甲一",
    ]
