"""Moderation of chats: the sensitive-word list (block and mask) on every text, blocks,
reports into the shared queue and a moderator's decision, and the retention policy."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.files.models import File
from campus.platform.messaging.im import jobs
from campus.platform.messaging.im.models import Message
from campus.platform.messaging.moderation import filter as word_filter
from campus.platform.messaging.moderation.filter import MASK, build, screen_with
from tests.conftest import LoginAs
from tests.platform.messaging.im.conftest import (
    IM,
    MOD,
    Person,
    assert_problem,
    cid,
    deliver,
    direct,
    group,
    history,
    message_count,
    outbox_events,
    send,
)


@pytest.fixture
async def moderator(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


async def add_words(moderator: httpx.AsyncClient, level: str, *words: str) -> None:
    response = await moderator.post(f"{MOD}/words", json={"words": list(words), "level": level})
    assert response.status_code == 200, response.text


async def test_blocking_words_refuse_and_mask_words_are_masked(
    db: Runtime, moderator: httpx.AsyncClient, alice: Person, bob: Person
) -> None:
    conversation = await direct(alice, bob)
    await add_words(moderator, "block", "代考")
    await add_words(moderator, "mask", "笨蛋")
    refused = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": cid(), "text": "找人代考吗"}
    )
    assert_problem(refused, 422, "text")
    assert "代考" in refused.json()["errors"][0]["reason"]
    assert await message_count(db, conversation) == 0
    sent = await send(alice, conversation, "你这个笨蛋")
    assert sent["message"]["text"] == f"你这个{MASK * 2}"
    wide = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": cid(), "text": "代　考"}
    )
    assert wide.status_code == 200, "words are matched as written, not across spaces"
    # Deleting the word takes effect at once (the list's version is bumped after the commit).
    words = (await moderator.get(f"{MOD}/words", params={"q": "代考"})).json()["items"]
    assert (await moderator.delete(f"{MOD}/words/{words[0]['id']}")).status_code == 204
    await send(alice, conversation, "代考")


async def test_group_names_and_announcements_are_screened(
    moderator: httpx.AsyncClient, alice: Person, bob: Person
) -> None:
    await add_words(moderator, "block", "刷单")
    made = await alice.client.post(
        f"{IM}/conversations/groups", json={"name": "刷单群", "members": [bob.id]}
    )
    assert_problem(made, 422, "name")
    conversation = await group(alice, bob)
    announced = await alice.client.patch(
        f"{IM}/conversations/{conversation}", json={"announcement": "加群刷单"}
    )
    assert_problem(announced, 422, "announcement")


async def test_only_moderators_manage_words_and_reports(alice: Person) -> None:
    assert_problem(await alice.client.get(f"{MOD}/words"), 403)
    assert_problem(await alice.client.post(f"{MOD}/words", json={"words": ["x"]}), 403)
    assert_problem(await alice.client.get(f"{MOD}/reports"), 403)
    assert_problem(await alice.client.put(f"{MOD}/retention", json={"days": 1}), 403)


async def test_bad_word_lists_name_the_entry(moderator: httpx.AsyncClient) -> None:
    response = await moderator.post(f"{MOD}/words", json={"words": ["好词", "  ", "x" * 61]})
    assert_problem(response, 422, "words.1")
    assert "words.2" in [e["field"] for e in response.json()["errors"]]
    bad_level = await moderator.post(f"{MOD}/words", json={"words": ["a"], "level": "ban"})
    assert_problem(bad_level, 422, "level")


async def test_a_blocked_person_cannot_message_me(
    db: Runtime, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await direct(alice, bob)
    assert (await bob.client.put(f"{MOD}/blocks/{alice.id}")).status_code == 204
    refused = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages", json={"id": cid(), "text": "在吗"}
    )
    assert_problem(refused, 403)
    assert await message_count(db, conversation) == 0
    await send(bob, conversation, "我可以给你发")
    shared = await group(carol, alice, bob)
    await send(alice, shared, "群里仍然可以说话")
    listed = (await bob.client.get(f"{MOD}/blocks")).json()
    assert [b["person_id"] for b in listed] == [alice.id]
    assert_problem(await bob.client.put(f"{MOD}/blocks/{bob.id}"), 422, "person_id")
    assert_problem(await bob.client.put(f"{MOD}/blocks/987654"), 422, "person_id")
    assert (await bob.client.delete(f"{MOD}/blocks/{alice.id}")).status_code == 204
    await send(alice, conversation, "解除了")


async def test_a_reported_message_is_removed_by_the_moderator(
    db: Runtime, moderator: httpx.AsyncClient, alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await group(alice, bob, carol)
    bad = (await send(alice, conversation, "一条不当言论"))["message"]
    url = f"{IM}/conversations/{conversation}/messages/{bad['seq']}/report"
    first = await bob.client.post(url, json={"reason": "人身攻击"})
    assert first.status_code == 201, first.text
    again = await bob.client.post(url, json={"reason": "再举报一次"})
    assert again.json() == first.json(), "one report per person and message"
    await carol.client.post(url, json={"reason": "不当言论"})
    assert_problem(await bob.client.post(url, json={"reason": ""}), 422, "reason")
    outsider = await moderator.post(url, json={"reason": "看不到"})
    assert_problem(outsider, 403)
    queue = (await moderator.get(f"{MOD}/reports", params={"kind": "im.message"})).json()
    mine = [r for r in queue["items"] if r["target_id"] == str(bad["id"])]
    assert len(mine) == 2 and mine[0]["reports_on_target"] == 2
    assert mine[0]["excerpt"] == "一条不当言论" and mine[0]["author_id"] == alice.id
    decided = await moderator.post(
        f"{MOD}/reports/{mine[0]['id']}/decision", json={"action": "remove", "note": "违规"}
    )
    assert decided.status_code == 200, decided.text
    assert sorted(decided.json()["report_ids"]) == sorted(r["id"] for r in mine)
    twice = await moderator.post(
        f"{MOD}/reports/{mine[1]['id']}/decision", json={"action": "dismiss"}
    )
    assert_problem(twice, 409)
    # The worker hands the decision to the chats' handler, which takes the message down.
    event = (await outbox_events(db, "messaging.report.decided"))[-1]
    await deliver(db, "messaging.im.report_decided", event)
    items = (await history(bob, conversation))["items"]
    original = next(m for m in items if m["seq"] == bad["seq"])
    assert original["recalled"] is True and original["text"] == ""
    assert items[-1]["kind"] == "recall" and items[-1]["text"] == "moderator"


async def test_retention_deletes_old_messages_and_releases_their_files(
    db: Runtime, moderator: httpx.AsyncClient, alice: Person, bob: Person
) -> None:
    conversation = await direct(alice, bob)
    upload = await alice.client.post(
        "/api/v1/files", files={"file": ("课表.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")}
    )
    assert upload.status_code == 201, upload.text
    file_id = upload.json()["id"]
    old = await send(alice, conversation, "", kind="image", file_id=file_id)
    await send(alice, conversation, "新消息")
    async with db.db.transaction() as session:
        await session.execute(
            update(Message)
            .where(Message.id == old["message"]["id"])
            .values(created_at=clock.now() - timedelta(days=40))
        )
    assert_problem(await moderator.put(f"{MOD}/retention", json={"days": -1}), 422, "days")
    assert (await moderator.put(f"{MOD}/retention", json={"days": 30})).status_code == 200
    assert await jobs.purge_expired() == 1
    texts = [m["text"] for m in (await history(bob, conversation))["items"]]
    assert texts == ["新消息"]
    async with db.db.read() as session:
        bound = await session.scalar(select(File.bound_module).where(File.id == file_id))
    assert bound is None, "the file is detached, so the file service sweeps it"
    assert (await moderator.put(f"{MOD}/retention", json={"days": 0})).status_code == 200
    assert await jobs.purge_expired() == 0, "0 keeps messages for ever"


async def test_pictures_are_served_to_members_only(
    alice: Person, bob: Person, carol: Person
) -> None:
    conversation = await direct(alice, bob)
    upload = await alice.client.post(
        "/api/v1/files", files={"file": ("a.png", b"\x89PNG\r\n\x1a\n1234", "image/png")}
    )
    sent = await send(alice, conversation, "", kind="image", file_id=upload.json()["id"])
    url = f"{IM}/conversations/{conversation}/files/{sent['message']['seq']}"
    got = await bob.client.get(url)
    assert got.status_code == 200 and got.content.startswith(b"\x89PNG")
    assert_problem(await carol.client.get(url), 403)
    reused = await alice.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "kind": "image", "file_id": upload.json()["id"]},
    )
    assert_problem(reused, 422, "file_id")
    stolen = await bob.client.post(
        f"{IM}/conversations/{conversation}/messages",
        json={"id": cid(), "kind": "file", "file_id": upload.json()["id"]},
    )
    assert_problem(stolen, 422, "file_id")


WORDS = st.text(alphabet="abc代考笨", min_size=1, max_size=4)


@given(
    words=st.lists(st.tuples(WORDS, st.sampled_from(["block", "mask"])), max_size=6),
    text=st.text(alphabet="abcABC代考笨 ｂ", max_size=40),
)
def test_screening_masks_every_hit_and_keeps_the_length(
    words: list[tuple[str, str]], text: str
) -> None:
    unique = dict(words)
    automaton = build(list(unique.items()))
    screened = screen_with(automaton, text)
    assert len(screened.text) == len(text)
    folded = word_filter.fold(screened.text)
    for word in unique:
        assert word not in folded, "no listed word survives screening"
    blocking = {w for w, level in unique.items() if level == "block"}
    assert screened.ok == (not any(w in word_filter.fold(text) for w in blocking))
    for original, after in zip(text, screened.text, strict=True):
        assert after in (original, MASK)
