"""@mentions reach the people mentioned as notifications (one per message, never the sender);
unread counts leave out system notices, recall markers, recalled messages and one's own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from campus.kernel.runtime import Runtime
from campus.platform.messaging.models import Notification
from tests.platform.messaging.im.conftest import (
    IM,
    Person,
    assert_problem,
    cid,
    direct,
    group,
    send,
)

INBOX = "/api/v1/messaging/inbox"


async def mentions_in_inbox(who: Person) -> list[dict[str, Any]]:
    response = await who.client.get(INBOX, params={"page_size": 200})
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["category"] == "im"]


async def notifications_from(db: Runtime, message_id: int) -> int:
    async with db.db.read() as session:
        stmt = select(func.count()).where(Notification.source == f"im:mention:{message_id}")
        return int(await session.scalar(stmt) or 0)


async def unread_of(who: Person, conversation_id: int) -> int:
    listed = {c["id"]: c for c in (await who.client.get(f"{IM}/conversations")).json()}
    return int(listed[conversation_id]["unread"])


async def test_a_mentioned_member_is_notified_once(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob, carol, name="实验小组")
    client_id = cid()
    sent = await send(
        alice, conversation, "@鲍勃 看一下报告", id=client_id, mentions=[bob.id, alice.id]
    )
    message = sent["message"]
    notices = await mentions_in_inbox(bob)
    assert [(n["title"], n["body"], n["link"], n["sender_id"]) for n in notices] == [
        (
            "爱丽丝 在“实验小组”中@了你",
            "@鲍勃 看一下报告",
            f"/messaging/im/c/{conversation}#seq-{message['seq']}",
            alice.id,
        )
    ]
    assert await mentions_in_inbox(carol) == [], "only the people mentioned"
    assert await mentions_in_inbox(alice) == [], "never the sender, even self-mentioned"
    # The client retries the same message: stored once, notified once.
    again = await send(alice, conversation, "@鲍勃 看一下报告", id=client_id, mentions=[bob.id])
    assert again["duplicate"] is True
    assert await notifications_from(db, message["id"]) == 1
    assert len(await mentions_in_inbox(bob)) == 1


async def test_mentioning_everyone_notifies_every_other_member(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob, carol, name="班委会")
    sent = await send(alice, conversation, "@所有人 今晚开会", mention_all=True, mentions=[bob.id])
    for member in (bob, carol):
        titles = [n["title"] for n in await mentions_in_inbox(member)]
        assert titles == ["爱丽丝 在“班委会”中@了所有人"]
    assert await mentions_in_inbox(alice) == []
    assert await notifications_from(db, sent["message"]["id"]) == 1, "one per message"


async def test_a_refused_mention_notifies_nobody(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob, carol)
    async with db.db.read() as session:
        before = int(await session.scalar(select(func.count()).select_from(Notification)) or 0)
    stranger = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "text": "@谁", "mentions": [bob.id, 987654]},
    )
    assert_problem(stranger, 422, "mentions.1")
    not_admin = await bob.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "text": "@所有人", "mention_all": True},
    )
    assert_problem(not_admin, 403)
    async with db.db.read() as session:
        after = int(await session.scalar(select(func.count()).select_from(Notification)) or 0)
    assert after == before
    assert await mentions_in_inbox(bob) == [] and await mentions_in_inbox(carol) == []


async def test_plain_messages_notify_nobody(alice: Person, bob: Person, carol: Person) -> None:
    conversation = await group(alice, bob, carol)
    await send(alice, conversation, "大家好")
    assert await mentions_in_inbox(bob) == []


async def test_recalls_do_not_count_as_unread(alice: Person, bob: Person) -> None:
    conversation = await direct(alice, bob)
    await send(alice, conversation, "一")
    second = await send(alice, conversation, "发错了")
    recalled = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages/{second['message']['seq']}/recall"
    )
    assert recalled.status_code == 200, recalled.text
    # Three messages after bob's mark (a text, a recalled one, the recall marker): one unread.
    assert await unread_of(bob, conversation) == 1
    # Her own recall marker is nothing for alice to read.
    assert await unread_of(alice, conversation) == 0
    await send(bob, conversation, "收到")
    assert await unread_of(alice, conversation) == 1
    assert await unread_of(bob, conversation) == 0, "sending reads up to one's message"


async def test_system_notices_do_not_count_as_unread(
    alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob)
    invited = await alice.client.post(
        f"{IM}/conversations/{conversation}/members", json={"members": [carol.id]}
    )
    assert invited.is_success, invited.text
    assert await unread_of(carol, conversation) == 0
    assert await unread_of(bob, conversation) == 0, "the join notice is not unread for bob"
    await send(alice, conversation, "欢迎")
    assert await unread_of(carol, conversation) == 1
    assert await unread_of(bob, conversation) == 1
