"""Moderation of posts: the sensitive-word filter on writing, editing and publishing (blocking
words refused naming the field, mask-level words masked); readers' reports into the shared
queue; a moderator's removal hides the post from readers and leaves it, marked, to editors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel import clock
from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event
from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts import events, jobs
from campus.platform.messaging.accounts.handlers import HANDLERS
from campus.platform.messaging.moderation import filter as word_filter
from campus.platform.messaging.moderation.models import Report
from campus.platform.messaging.service import REPORT_DECIDED
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    HTML,
    POSTS,
    Person,
    assert_problem,
    counts,
    create_account,
    feed_titles,
    outbox_events,
    publish,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn

MOD = "/api/v1/messaging/moderation"


@pytest.fixture(autouse=True)
async def fresh_word_filter(db: Runtime) -> None:
    """Each test compiles the word list it sees (rows of earlier tests were rolled back; the
    demo seed's words stay, so the words added here are others)."""
    word_filter._compiled = None


async def add_words(admin: httpx.AsyncClient, level: str, *words: str) -> None:
    response = await admin.post(f"{MOD}/words", json={"words": list(words), "level": level})
    assert response.status_code == 200, response.text
    word_filter._compiled = None  # as the version bump after the commit makes every process do


async def setting(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> tuple[dict[str, Any], Person, Person]:
    """An account with its editor, and a subscribed reader."""
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    reader = await student(admin, sign_in, campus)
    assert (await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success
    return account, editor, reader


async def report_rows(db: Runtime) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Report)) or 0)


async def run_decision(db: Runtime, payload: dict[str, Any]) -> None:
    """Hand a decision to the accounts' handler as the worker does (if it wants it)."""
    handler = next(h for h in HANDLERS if h.name == "messaging.accounts.report_decided")
    event = Event(name=REPORT_DECIDED, payload=payload)
    if handler.wants(event):
        await Dispatcher(db.db).run_once(handler, event)


# ---------------------------------------------------------------- the word filter


@pytest.mark.parametrize("field", ["title", "summary", "body"])
async def test_a_blocking_word_in_any_field_refuses_the_post(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime, field: str
) -> None:
    account, editor, _reader = await setting(admin, campus, sign_in)
    await add_words(admin, "block", "代写论文")
    before = await counts(db)
    body = {"title": "通知", "summary": "摘要", "body": "正文", "action": "publish"}
    body[field] = "本周 代写论文 服务"
    response = await editor.client.post(f"{ACCOUNTS}/{account['id']}/posts", json=body)
    problem = assert_problem(response, 422, field)
    assert "代写论文" in problem["errors"][0]["reason"]
    assert await counts(db) == before


async def test_mask_level_words_are_masked_in_what_is_stored(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    await add_words(admin, "mask", "笨蛋")
    post = await publish(
        editor.client, account["id"], title="别当笨蛋", summary="笨蛋摘要", body="不要做笨蛋"
    )
    assert (post["title"], post["summary"], post["body"]) == ("别当＊＊", "＊＊摘要", "不要做＊＊")
    seen = (await reader.client.get(f"{POSTS}/{post['id']}")).json()
    assert "笨蛋" not in seen["title"] + seen["summary"] + seen["body"]


async def test_edits_and_publication_are_screened_again(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account, editor, _reader = await setting(admin, campus, sign_in)
    draft = await publish(
        editor.client, account["id"], title="草稿", body="考前押题", action="draft"
    )
    await add_words(admin, "block", "刷单")
    edited = await editor.client.patch(f"{POSTS}/{draft['id']}", json={"summary": "刷单返利"})
    assert_problem(edited, 422, "summary")
    # The word list grew since the draft was saved: publishing screens it again.
    await add_words(admin, "block", "押题")
    refused = await editor.client.post(f"{POSTS}/{draft['id']}/publish")
    assert_problem(refused, 422, "body")
    stored = (await editor.client.get(f"{POSTS}/{draft['id']}")).json()
    assert (stored["status"], stored["body"]) == ("draft", "考前押题")
    published = [e.payload["post_id"] for e in await outbox_events(db, events.POST_PUBLISHED)]
    assert draft["id"] not in published
    # A mask-level word added since is masked as the post goes out.
    other = await publish(editor.client, account["id"], title="草稿二", body="呆瓜", action="draft")
    assert other["body"] == "呆瓜"
    await add_words(admin, "mask", "呆瓜")
    out = await editor.client.post(f"{POSTS}/{other['id']}/publish")
    assert out.status_code == 200, out.text
    assert (out.json()["status"], out.json()["body"]) == ("published", "＊＊")


async def test_a_scheduled_post_holding_a_blocked_word_goes_back_to_draft(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    due = (clock.now() + timedelta(hours=1)).isoformat()
    post = await publish(
        editor.client,
        account["id"],
        title="定时",
        body="枪手联系",
        action="schedule",
        publish_at=due,
    )
    await add_words(admin, "block", "枪手")
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    await jobs.publish_due_posts()
    stored = (await editor.client.get(f"{POSTS}/{post['id']}")).json()
    assert (stored["status"], stored["publish_at"]) == ("draft", None)
    assert "定时" not in await feed_titles(reader.client)


# ---------------------------------------------------------------- reports


async def test_a_reader_reports_a_post_into_the_shared_queue(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    post = await publish(editor.client, account["id"], title="举报测试", summary="摘要内容")
    response = await reader.client.post(f"{POSTS}/{post['id']}/report", json={"reason": "虚假"})
    assert response.status_code == 201, response.text
    report_id = response.json()["report_id"]
    again = await reader.client.post(f"{POSTS}/{post['id']}/report", json={"reason": "再报"})
    assert again.json() == {"report_id": report_id}, "the same report, not a second one"
    queue = (await admin.get(f"{MOD}/reports", params={"kind": "accounts.post"})).json()
    entry = next(r for r in queue["items"] if r["id"] == report_id)
    assert (entry["target_id"], entry["link"], entry["author_id"], entry["reason"]) == (
        str(post["id"]),
        f"/messaging/posts/{post['id']}",
        editor.id,
        "虚假",
    )
    assert entry["excerpt"] == "举报测试\n摘要内容"


async def test_bad_reports_store_nothing(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    post = await publish(editor.client, account["id"])
    draft = await publish(editor.client, account["id"], action="draft")
    before = await report_rows(db)
    url = f"{POSTS}/{post['id']}/report"
    assert_problem(await reader.client.post(url, json={"reason": ""}), 422, "reason")
    assert_problem(await reader.client.post(url, json={"reason": "长" * 501}), 422, "reason")
    assert_problem(await reader.client.post(url, json={"reason": "   "}), 422, "reason")
    assert_problem(await reader.client.post(url, json={}), 422, "reason")
    assert_problem(await editor.client.post(url, json={"reason": "自己的"}), 422, "post_id")
    draft_url = f"{POSTS}/{draft['id']}/report"
    assert_problem(await reader.client.post(draft_url, json={"reason": "x"}), 404)
    assert_problem(await editor.client.post(draft_url, json={"reason": "x"}), 409, "post_id")
    assert_problem(await reader.client.post(f"{POSTS}/987654321/report", json={"reason": "x"}), 404)
    assert await report_rows(db) == before


async def test_a_moderators_removal_hides_the_post_from_readers_only(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    post = await publish(editor.client, account["id"], title="违规文章")
    kept = await publish(editor.client, account["id"], title="正常文章")
    report_id = (
        await reader.client.post(f"{POSTS}/{post['id']}/report", json={"reason": "违规"})
    ).json()["report_id"]
    decided = await admin.post(
        f"{MOD}/reports/{report_id}/decision", json={"action": "remove", "note": "内容不实"}
    )
    assert decided.status_code == 200, decided.text
    event = (await outbox_events(db, REPORT_DECIDED))[-1]
    for _ in range(2):  # a redelivery changes nothing more
        await run_decision(db, event.payload)

    # Readers: gone from the feed, the account's page, the API, the card and the page.
    assert "违规文章" not in await feed_titles(reader.client)
    assert "正常文章" in await feed_titles(reader.client)
    timeline = (await reader.client.get(f"{ACCOUNTS}/{account['id']}/posts")).json()
    assert [p["id"] for p in timeline["items"]] == [kept["id"]]
    assert_problem(await reader.client.get(f"{POSTS}/{post['id']}"), 404)
    assert (await reader.client.get(f"/messaging/posts/{post['id']}/card")).status_code == 404
    assert (
        await reader.client.get(f"/messaging/posts/{post['id']}", headers=HTML)
    ).status_code == 404
    assert_problem(await reader.client.put(f"{POSTS}/{post['id']}/like"), 404)
    # Editors: still there, marked hidden, with the moderator's note.
    seen = (await editor.client.get(f"{POSTS}/{post['id']}")).json()
    assert (seen["hidden"], seen["hidden_note"], seen["status"]) == (True, "内容不实", "published")
    theirs = (await editor.client.get(f"{ACCOUNTS}/{account['id']}/posts")).json()
    assert {p["id"]: p["hidden"] for p in theirs["items"]} == {post["id"]: True, kept["id"]: False}
    studio = await editor.client.get(f"/messaging/accounts/{account['id']}/studio", headers=HTML)
    assert 'data-testid="post-hidden"' in studio.text
    page = await editor.client.get(f"/messaging/posts/{post['id']}", headers=HTML)
    assert 'data-testid="post-hidden"' in page.text and "内容不实" in page.text
    # Once hidden, once told.
    hidden = [e.payload for e in await outbox_events(db, events.POST_HIDDEN)]
    assert [h["post_id"] for h in hidden].count(post["id"]) == 1
    inbox = (await editor.client.get("/api/v1/messaging/inbox")).json()["items"]
    assert [n["title"] for n in inbox].count("你发布的文章“违规文章”已被审核隐藏") == 1


async def test_dismissals_and_owner_settlements_leave_the_post(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    post = await publish(editor.client, account["id"], title="无辜文章")
    base = {
        "report_ids": [1],
        "target_kind": "accounts.post",
        "target_id": str(post["id"]),
        "moderator_id": editor.id,
        "note": "",
    }
    for payload in (
        {**base, "action": "dismiss"},
        {**base, "action": "remove", "by_owner": True},
        {**base, "action": "remove", "target_kind": "community.post"},
        {**base, "action": "remove", "target_id": "not-a-number"},
    ):
        await run_decision(db, payload)
    assert (await reader.client.get(f"{POSTS}/{post['id']}")).status_code == 200
    assert "无辜文章" in await feed_titles(reader.client)


async def test_the_post_page_offers_a_report_button_to_readers(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account, editor, reader = await setting(admin, campus, sign_in)
    post = await publish(editor.client, account["id"], title="页面举报")
    page = await reader.client.get(f"/messaging/posts/{post['id']}", headers=HTML)
    assert 'data-testid="report-post"' in page.text
    own = await editor.client.get(f"/messaging/posts/{post['id']}", headers=HTML)
    assert 'data-testid="report-post"' not in own.text, "not on one's own account's post"
    before = await report_rows(db)
    sent = await reader.client.post(
        f"/messaging/posts/{post['id']}/report",
        data={"reason": "虚假信息", "detail": "时间写错了"},
        headers=HTML,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/messaging/posts/{post['id']}"
    assert await report_rows(db) == before + 1
    queue = (await admin.get(f"{MOD}/reports", params={"kind": "accounts.post"})).json()
    assert "虚假信息：时间写错了" in [r["reason"] for r in queue["items"]]
    # An empty form is refused with a message, nothing stored.
    empty = await reader.client.post(
        f"/messaging/posts/{post['id']}/report", data={"reason": "", "detail": ""}, headers=HTML
    )
    assert empty.status_code == 303
    assert await report_rows(db) == before + 1
