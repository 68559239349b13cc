"""The chat pages and the moderation pages, through HTTP as a browser posts its forms."""

from __future__ import annotations

import json
import re

import httpx

from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.messaging.im.conftest import (
    IM,
    MOD,
    Person,
    assert_problem,
    direct,
    group,
    send,
)

HTML = {"Accept": "text/html"}


def chat_config(html: str) -> dict[str, object]:
    found = re.search(
        r'<script type="application/json" id="im-chat-data">(.*?)</script>', html, re.S
    )
    assert found, "the conversation page carries its data for the script"
    return dict(json.loads(found.group(1)))


async def test_contacts_list_one_step_relations(alice: Person, bob: Person) -> None:
    groups = {g["kind"]: g for g in (await alice.client.get(f"{IM}/contacts")).json()}
    assert bob.id in [p["person_id"] for p in groups["classmates"]["people"]]
    assert alice.id not in [p["person_id"] for p in groups["classmates"]["people"]]
    assert groups["teachers"]["pending"] and groups["roommates"]["pending"]
    assert not groups["classmates"]["pending"]
    page = await alice.client.get("/messaging/im/contacts", headers=HTML)
    assert page.status_code == 200
    assert "我的同学" in page.text and "鲍勃" in page.text and "宿舍管理模块接入后显示" in page.text


async def test_townspeople_share_a_prefecture(
    admin: httpx.AsyncClient, campus: object, sign_in: object
) -> None:
    from tests.platform.messaging.im.conftest import make_person

    here = await make_person(admin, campus, sign_in, name="北京甲", native_place="110105")  # type: ignore[arg-type]
    near = await make_person(
        admin, campus, sign_in, kind="staff", name="北京乙", native_place="110108"
    )  # type: ignore[arg-type]
    far = await make_person(
        admin, campus, sign_in, kind="staff", name="上海丙", native_place="310101"
    )  # type: ignore[arg-type]
    groups = {g["kind"]: g for g in (await here.client.get(f"{IM}/contacts")).json()}
    ids = [p["person_id"] for p in groups["townspeople"]["people"]]
    assert near.id in ids and far.id not in ids


async def test_starting_a_chat_from_contacts(alice: Person, bob: Person) -> None:
    response = await alice.client.post(f"/messaging/im/direct/{bob.id}", headers=HTML)
    assert response.status_code == 303
    conversation = int(response.headers["location"].rsplit("/", 1)[1])
    assert conversation == await direct(alice, bob)
    await send(bob, conversation, "你好 <b>粗体</b>")
    page = await alice.client.get(response.headers["location"], headers=HTML)
    assert page.status_code == 200
    config = chat_config(page.text)
    assert config["conversation"]["peer_id"] == bob.id  # type: ignore[index]
    assert [m["text"] for m in config["history"]] == ["你好 <b>粗体</b>"]  # type: ignore[attr-defined]
    assert "<b>粗体</b>" not in page.text, "message text is escaped in the page"
    listed = await alice.client.get("/messaging/im", headers=HTML)
    assert (
        listed.status_code == 200
        and "鲍勃" in listed.text
        and 'data-testid="chat-unread"' in listed.text
    )
    rows = await alice.client.get("/messaging/im/rows", headers=HTML)
    assert 'data-testid="chat-row"' in rows.text and "<html" not in rows.text


async def test_other_peoples_conversations_are_not_shown(
    alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await direct(alice, bob)
    page = await carol.client.get(f"/messaging/im/c/{conversation}", headers=HTML)
    assert page.status_code == 403


async def test_creating_and_managing_a_group_with_forms(
    alice: Person, bob: Person, carol: Person
) -> None:
    form = await alice.client.get("/messaging/im/groups/new", headers=HTML)
    assert "鲍勃" in form.text
    made = await alice.client.post(
        "/messaging/im/groups/new",
        data={"name": "周末爬山", "members": [str(bob.id)]},
        headers=HTML,
    )
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    conversation = int(location.rsplit("/", 1)[1])
    empty = await alice.client.post("/messaging/im/groups/new", data={"name": "没人"}, headers=HTML)
    assert empty.headers["location"] == "/messaging/im/groups/new"
    settings = await alice.client.get(f"{location}/settings", headers=HTML)
    assert settings.status_code == 200 and "卡萝尔" in settings.text, "classmates can be invited"
    invited = await alice.client.post(
        f"{location}/members", data={"members": [str(carol.id)]}, headers=HTML
    )
    assert invited.status_code == 303
    renamed = await alice.client.post(
        f"{location}/settings",
        data={"name": "周日爬山", "announcement": "八点校门集合"},
        headers=HTML,
    )
    assert renamed.status_code == 303
    detail = (await bob.client.get(f"{IM}/conversations/{conversation}")).json()
    assert detail["name"] == "周日爬山" and detail["announcement"] == "八点校门集合"
    assert {m["person_id"] for m in detail["members"]} == {alice.id, bob.id, carol.id}
    not_manager = await bob.client.post(f"{location}/settings", data={"name": "x"}, headers=HTML)
    assert not_manager.status_code == 403
    left = await carol.client.post(f"{location}/members/{carol.id}/remove", headers=HTML)
    assert left.headers["location"] == "/messaging/im"
    dissolved = await alice.client.post(f"{location}/dissolve", headers=HTML)
    assert dissolved.headers["location"] == "/messaging/im"
    assert_problem(await bob.client.get(f"{IM}/conversations/{conversation}"), 404)


async def test_blocking_from_the_conversation_page(alice: Person, bob: Person) -> None:
    conversation = await direct(alice, bob)
    back = f"/messaging/im/c/{conversation}"
    blocked = await bob.client.post(
        f"/messaging/im/blocks/{alice.id}", data={"back": back}, headers=HTML
    )
    assert blocked.headers["location"] == back
    page = await bob.client.get(back, headers=HTML)
    assert "取消屏蔽" in page.text
    refused = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": "x1", "text": "hi"}
    )
    assert_problem(refused, 403)
    elsewhere = await bob.client.post(
        f"/messaging/im/blocks/{alice.id}/delete",
        data={"back": "https://evil.example"},
        headers=HTML,
    )
    assert elsewhere.headers["location"] == "/messaging/im/contacts"


async def test_moderation_pages(db: Runtime, login_as: LoginAs, alice: Person, bob: Person) -> None:
    moderator = await login_as("admin")
    assert_problem(await alice.client.get("/messaging/moderation/reports"), 403)
    added = await moderator.post(
        "/messaging/moderation/words",
        data={"words": "替考，办假证\n\n刷分", "level": "block"},
        headers=HTML,
    )
    assert added.status_code == 303
    words = await moderator.get("/messaging/moderation/words", headers=HTML)
    assert all(w in words.text for w in ("替考", "办假证", "刷分"))
    conversation = await group(alice, bob)
    bad = (await send(alice, conversation, "不当内容示例"))["message"]
    await bob.client.post(
        f"{IM}/conversations/{conversation}/messages/{bad['seq']}/report", json={"reason": "骚扰"}
    )
    queue = await moderator.get("/messaging/moderation/reports?kind=im.message", headers=HTML)
    assert "不当内容示例" in queue.text and "聊天消息" in queue.text
    report_id = (await moderator.get(f"{MOD}/reports")).json()["items"][0]["id"]
    decided = await moderator.post(
        f"/messaging/moderation/reports/{report_id}/decide",
        data={"action": "dismiss"},
        headers=HTML,
    )
    assert decided.status_code == 303
    assert (await moderator.get(f"{MOD}/reports", params={"status": "dismissed"})).json()[
        "total"
    ] >= 1
    retention = await moderator.post(
        "/messaging/moderation/retention", data={"days": "abc"}, headers=HTML
    )
    assert retention.status_code == 303
    assert (await moderator.get(f"{MOD}/retention")).json()["days"] == 365, (
        "bad input changes nothing"
    )
    await moderator.post("/messaging/moderation/retention", data={"days": "90"}, headers=HTML)
    assert (await moderator.get(f"{MOD}/retention")).json()["days"] == 90


async def test_assets_are_served(anon: httpx.AsyncClient) -> None:
    script = await anon.get("/messaging/im/im.js")
    assert script.status_code == 200 and "imChat" in script.text
    styles = await anon.get("/messaging/im/im.css")
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
