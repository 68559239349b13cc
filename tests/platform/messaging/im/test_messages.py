"""Sending, history, recall, read receipts, mentions, idempotent retries and search over the
HTTP API (the WebSocket uses the same actions; see test_socket.py for the frames)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.platform.messaging.im.conftest import (
    IM,
    Person,
    assert_problem,
    cid,
    direct,
    group,
    history,
    message_count,
    outbox_events,
    send,
)


async def test_a_direct_chat_numbers_messages_and_both_see_them(
    db: Runtime, alice: Person, bob: Person
) -> None:
    conversation = await direct(alice, bob)
    assert await direct(bob, alice) == conversation, "one direct conversation per pair"
    first = await send(alice, conversation, "你好 鲍勃")
    second = await send(bob, conversation, "你好 👋")
    assert [first["message"]["seq"], second["message"]["seq"]] == [1, 2]
    assert set(first["recipients"]) == {alice.id, bob.id}
    seen = await history(bob, conversation)
    assert [m["text"] for m in seen["items"]] == ["你好 鲍勃", "你好 👋"]
    assert seen["items"][0]["sender_name"] == "爱丽丝"
    events = await outbox_events(db, "messaging.im.message_sent")
    assert [e.payload["seq"] for e in events if e.payload["conversation_id"] == conversation] == [
        1,
        2,
    ]
    assert "text" not in events[-1].payload, "events carry ids, never message text"


async def test_unread_counts_and_read_receipts(alice: Person, bob: Person) -> None:
    conversation = await direct(alice, bob)
    for text in ("一", "二", "三"):
        await send(alice, conversation, text)
    listed = {c["id"]: c for c in (await bob.client.get(f"{IM}/conversations")).json()}
    assert listed[conversation]["unread"] == 3
    assert listed[conversation]["name"] == "爱丽丝", "a direct chat is named after the peer"
    assert listed[conversation]["last_message"]["text"] == "三"
    read = await bob.client.post(f"{IM}/conversations/{conversation}/read", params={"seq": 2})
    assert read.json() == {"read_seq": 2}
    back = await bob.client.post(f"{IM}/conversations/{conversation}/read", params={"seq": 1})
    assert back.json() == {"read_seq": 2}, "a read mark never moves back"
    past = await bob.client.post(f"{IM}/conversations/{conversation}/read", params={"seq": 99})
    assert past.json() == {"read_seq": 3}, "nor past the last message"
    listed = {c["id"]: c for c in (await bob.client.get(f"{IM}/conversations")).json()}
    assert listed[conversation]["unread"] == 0
    detail = (await alice.client.get(f"{IM}/conversations/{conversation}")).json()
    reads = {m["person_id"]: m["read_seq"] for m in detail["members"]}
    assert reads[bob.id] == 3, "the sender sees the peer's read receipt"


async def test_history_pages_backwards_by_seq(alice: Person, bob: Person) -> None:
    conversation = await direct(alice, bob)
    for n in range(1, 8):
        await send(alice, conversation, f"第{n}条")
    page = await history(alice, conversation, limit=3)
    assert [m["seq"] for m in page["items"]] == [5, 6, 7]
    page = await history(alice, conversation, limit=3, before=page["next_before"])
    assert [m["seq"] for m in page["items"]] == [2, 3, 4]
    page = await history(alice, conversation, limit=3, before=page["next_before"])
    assert [m["seq"] for m in page["items"]] == [1]
    assert page["next_before"] is None


async def test_a_resent_client_id_is_stored_once(db: Runtime, alice: Person, bob: Person) -> None:
    conversation = await direct(alice, bob)
    client_id = cid()
    first = await send(alice, conversation, "只发一次", id=client_id)
    again = await send(alice, conversation, "只发一次", id=client_id)
    assert again["duplicate"] is True and first["duplicate"] is False
    assert again["message"]["seq"] == first["message"]["seq"]
    assert await message_count(db, conversation) == 1


async def test_sending_into_a_conversation_one_is_not_in_stores_nothing(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await direct(alice, bob)
    before = await message_count(db)
    response = await carol.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": cid(), "text": "插一句"}
    )
    assert_problem(response, 403)
    assert "不是该会话的成员" in response.json()["detail"]
    missing = await carol.client.post(
        f"{IM}/conversations/999999/messages", json={"id": cid(), "text": "喂"}
    )
    assert_problem(missing, 404)
    history_of_other = await carol.client.get(f"{IM}/conversations/{conversation}/messages")
    assert_problem(history_of_other, 403)
    assert await message_count(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"kind": "image"}, "file_id"),
        ({"kind": "file", "file_id": "nope"}, "file_id"),
        ({"text": "hi", "file_id": "abc"}, "file_id"),
        ({"text": "hi", "unknown": 1}, "unknown"),
        ({"text": "@", "mentions": [1]}, "mentions"),
    ],
)
async def test_bad_messages_name_the_field_and_store_nothing(
    db: Runtime, alice: Person, bob: Person, body: dict[str, object], field: str
) -> None:
    conversation = await direct(alice, bob)
    response = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": cid(), **body}
    )
    assert_problem(response, 422, field)
    assert await message_count(db, conversation) == 0


async def test_unknown_recipients_are_refused(alice: Person) -> None:
    response = await alice.client.post(f"{IM}/conversations/direct", json={"person_id": 987654})
    assert_problem(response, 422, "person_id")
    self_chat = await alice.client.post(f"{IM}/conversations/direct", json={"person_id": alice.id})
    assert_problem(self_chat, 422, "person_id")
    made = await alice.client.post(
        f"{IM}/conversations/groups", json={"name": "幽灵群", "members": [987654]}
    )
    assert_problem(made, 422, "members.0")


async def test_recall_rules(
    db: Runtime, alice: Person, bob: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = await direct(alice, bob)
    mine = (await send(alice, conversation, "说错了"))["message"]
    theirs = (await send(bob, conversation, "嗯？"))["message"]
    url = f"{IM}/conversations/{conversation}/messages"
    refused = await alice.client.post(f"{url}/{theirs['seq']}/recall")
    assert_problem(refused, 403)
    recalled = await alice.client.post(f"{url}/{mine['seq']}/recall")
    assert recalled.status_code == 200, recalled.text
    marker = recalled.json()
    assert marker["kind"] == "recall" and marker["ref_seq"] == mine["seq"]
    assert marker["seq"] == theirs["seq"] + 1, "the recall takes the next seq, for sync"
    twice = await alice.client.post(f"{url}/{mine['seq']}/recall")
    assert_problem(twice, 409)
    items = (await history(bob, conversation))["items"]
    original = next(m for m in items if m["seq"] == mine["seq"])
    assert original["recalled"] is True and original["text"] == ""
    late = (await send(alice, conversation, "两分钟前的话"))["message"]
    later = clock.now() + timedelta(minutes=2, seconds=5)
    monkeypatch.setattr(clock, "now", lambda: later)
    expired = await alice.client.post(f"{url}/{late['seq']}/recall")
    assert_problem(expired, 409, "seq")
    assert "2 分钟" in expired.json()["detail"]
    unknown = await alice.client.post(f"{url}/999/recall")
    assert_problem(unknown, 404)


async def test_mentions_in_groups(alice: Person, bob: Person, carol: Person) -> None:
    conversation = await group(alice, bob, carol)
    sent = await send(alice, conversation, "@鲍勃 看一下", mentions=[bob.id])
    assert sent["message"]["mentions"] == [bob.id]
    stranger = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "text": "@谁", "mentions": [bob.id, 987654]},
    )
    assert_problem(stranger, 422, "mentions.1")
    everyone = await bob.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "text": "@所有人", "mention_all": True},
    )
    assert_problem(everyone, 403)
    owner_all = await send(alice, conversation, "@所有人 开会", mention_all=True)
    assert owner_all["message"]["mention_all"] is True


async def test_search_finds_only_my_conversations(
    alice: Person, bob: Person, carol: Person
) -> None:
    ours = await direct(alice, bob)
    theirs = await direct(bob, carol)
    await send(alice, ours, "明天的实验报告 100% 要交")
    await send(bob, theirs, "实验报告的模板发你了")
    found = (await alice.client.get(f"{IM}/search", params={"q": "实验报告"})).json()
    assert [h["conversation_id"] for h in found] == [ours]
    assert found[0]["conversation_name"] == "鲍勃"
    literal = (await alice.client.get(f"{IM}/search", params={"q": "100%"})).json()
    assert len(literal) == 1, "% is matched literally"
    wild = (await alice.client.get(f"{IM}/search", params={"q": "%"})).json()
    assert len(wild) == 1
    empty = await alice.client.get(f"{IM}/search", params={"q": " "})
    assert_problem(empty, 422, "q")
