"""Posts: only an account's editors publish; at once (pushed live after commit) or scheduled;
unique read counts; likes; safe Markdown; and every bad input (a refusal stores nothing)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.messaging import live
from campus.platform.messaging.accounts import events, jobs
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    POSTS,
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


async def next_frame(connection: live.Connection, within: float = 2.0) -> dict[str, Any]:
    return await asyncio.wait_for(connection.queue.get(), within)


async def test_an_editor_publishes_and_subscribers_get_a_live_frame_after_commit(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    follower = await student(admin, sign_in, campus)
    bystander = await student(admin, sign_in, campus)
    assert (await follower.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success
    async with (
        live.connect(db, follower.id) as following,
        live.connect(db, bystander.id) as not_following,
    ):
        post = await publish(editor.client, account["id"], title="实时推送", summary="摘要")
        frame = await next_frame(following)
        assert frame == {"type": "post", "post_id": post["id"], "account_id": account["id"]}
        with pytest.raises(TimeoutError):
            await next_frame(not_following, 0.3)
    assert post["status"] == "published" and post["published_at"]
    published = [e.payload for e in await outbox_events(db, events.POST_PUBLISHED)]
    assert published[-1] | {"published_at": None} == {
        "post_id": post["id"],
        "account_id": account["id"],
        "account_name": account["name"],
        "title": "实时推送",
        "summary": "摘要",
        "url": f"/messaging/posts/{post['id']}",
        "published_at": None,
        "mandatory": False,
    }


async def test_a_mandatory_account_pushes_one_campus_wide_frame(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    """Not a loop over the audience: every open page gets the frame and keeps it if it follows
    the account."""
    editor = await staff(admin, sign_in, campus)
    account = await create_account(
        admin,
        org_unit_id=campus.college_id,
        mandatory={"person_types": ["undergraduate"]},
        editor_ids=[editor.id],
    )
    anyone = await staff(admin, sign_in, campus)
    async with live.connect(db, anyone.id) as connection:
        post = await publish(editor.client, account["id"])
        frame = await next_frame(connection)
    assert frame == {
        "type": "post",
        "post_id": post["id"],
        "account_id": account["id"],
        "spread": 3,
    }


async def test_a_refused_publication_pushes_nothing_and_stores_nothing(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    outsider = await staff(admin, sign_in, campus)
    follower = await student(admin, sign_in, campus)
    assert (await follower.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success
    before = await counts(db)
    async with live.connect(db, follower.id) as connection:
        problem = assert_problem(
            await outsider.client.post(
                f"{ACCOUNTS}/{account['id']}/posts", json={"title": "冒名", "body": "正文"}
            ),
            403,
        )
        assert "编辑" in problem["detail"]
        # An administrator who is not an editor does not publish either.
        assert_problem(
            await admin.post(
                f"{ACCOUNTS}/{account['id']}/posts", json={"title": "管理员", "body": "正文"}
            ),
            403,
        )
        with pytest.raises(TimeoutError):
            await next_frame(connection, 0.3)
    assert await counts(db) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "body": "正文"}, "title"),
        ({"title": "   ", "body": "正文"}, "title"),
        ({"title": "标题", "body": ""}, "body"),
        ({"title": "标", "body": "   "}, "body"),
        ({"title": "长" * 65, "body": "正文"}, "title"),
        ({"title": "标题", "summary": "长" * 121, "body": "正文"}, "summary"),
        ({"title": "标题", "body": "长" * 20_001}, "body"),
        ({"title": "标题", "body": "正文", "action": "now"}, "action"),
        ({"title": "标题", "body": "正文", "action": "schedule"}, "publish_at"),
        ({"title": "标题", "body": "正文", "attachments": ["nosuch"]}, "attachments.0"),
        ({"title": "标题", "body": "正文", "cover_file_id": "nosuch"}, "cover_file_id.0"),
        ({"title": "标题", "body": "正文", "extra": 1}, "extra"),
    ],
)
async def test_bad_posts_name_the_field_and_store_nothing(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    before = await counts(db)
    response = await editor.client.post(f"{ACCOUNTS}/{account['id']}/posts", json=body)
    assert_problem(response, 422, field)
    assert await counts(db) == before


async def test_scheduling_in_the_past_is_refused(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    before = await counts(db)
    for when in (clock.now() - timedelta(hours=1), clock.now() + timedelta(days=400)):
        body = {
            "title": "定时",
            "body": "正文",
            "action": "schedule",
            "publish_at": when.isoformat(),
        }
        problem = assert_problem(
            await editor.client.post(f"{ACCOUNTS}/{account['id']}/posts", json=body),
            422,
            "publish_at",
        )
        assert "定时发布时间" in problem["detail"]
    assert await counts(db) == before


async def test_a_scheduled_post_goes_out_when_its_time_comes(
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    db: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    reader = await student(admin, sign_in, campus)
    assert (await reader.client.put(f"{ACCOUNTS}/{account['id']}/subscription")).is_success
    # A zone-less time is China time (UTC+8): 2 hours from now, typed as an editor types it.
    due = clock.now() + timedelta(hours=2)
    typed = (due + timedelta(hours=8)).replace(tzinfo=None).isoformat(timespec="minutes")
    post = await publish(
        editor.client, account["id"], title="定时文章", action="schedule", publish_at=typed
    )
    assert post["status"] == "scheduled"
    assert abs(
        datetime.fromisoformat(post["publish_at"]) - (clock.now() + timedelta(hours=2))
    ) < timedelta(minutes=1)
    # Not out yet: not in the feed, invisible to readers.
    assert "定时文章" not in await feed_titles(reader.client)
    assert_problem(await reader.client.get(f"{POSTS}/{post['id']}"), 404)
    await jobs.publish_due_posts()
    assert (await editor.client.get(f"{POSTS}/{post['id']}")).json()["status"] == "scheduled"

    later = clock.now() + timedelta(hours=3)
    monkeypatch.setattr(clock, "now", lambda: later)
    async with live.connect(db, reader.id) as connection:
        await jobs.publish_due_posts()
        frame = await next_frame(connection)
    assert frame["post_id"] == post["id"]
    assert "定时文章" in await feed_titles(reader.client)
    published = [e.payload["post_id"] for e in await outbox_events(db, events.POST_PUBLISHED)]
    assert published.count(post["id"]) == 1


async def test_drafts_are_edited_then_published_and_published_posts_are_frozen(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    reader = await student(admin, sign_in, campus)
    draft = await publish(editor.client, account["id"], title="草稿", action="draft")
    assert draft["status"] == "draft"
    assert_problem(await reader.client.get(f"{POSTS}/{draft['id']}"), 404)
    changed = await editor.client.patch(f"{POSTS}/{draft['id']}", json={"title": "改过的草稿"})
    assert changed.status_code == 200 and changed.json()["title"] == "改过的草稿"
    assert_problem(
        await editor.client.patch(f"{POSTS}/{draft['id']}", json={"title": None}), 422, "title"
    )
    unpublished = await editor.client.get(f"{ACCOUNTS}/{account['id']}/posts?unpublished=true")
    assert [p["id"] for p in unpublished.json()["items"]] == [draft["id"]]
    assert_problem(
        await reader.client.get(f"{ACCOUNTS}/{account['id']}/posts?unpublished=true"), 403
    )
    published = await editor.client.post(f"{POSTS}/{draft['id']}/publish")
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert_problem(await editor.client.post(f"{POSTS}/{draft['id']}/publish"), 409)
    assert_problem(await editor.client.patch(f"{POSTS}/{draft['id']}", json={"title": "晚了"}), 409)
    deleted = await editor.client.delete(f"{POSTS}/{draft['id']}")
    assert deleted.status_code == 204
    assert_problem(await editor.client.get(f"{POSTS}/{draft['id']}"), 404)


async def test_reads_are_counted_once_per_person(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    post = await publish(editor.client, account["id"])
    first = await student(admin, sign_in, campus)
    second = await student(admin, sign_in, campus)
    for client in (first.client, first.client, second.client, first.client):
        assert (await client.post(f"{POSTS}/{post['id']}/read")).status_code == 200
    # Opening the page counts too, still once per person.
    page = await first.client.get(f"/messaging/posts/{post['id']}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    found = (await first.client.get(f"{POSTS}/{post['id']}")).json()
    assert found["read_count"] == 2 and found["read"] is True
    stats = await editor.client.get(f"{POSTS}/{post['id']}/stats")
    assert stats.status_code == 200, stats.text
    assert stats.json()["read_count"] == 2 and sum(stats.json()["reads"]) == 2
    # Only editors see the statistics.
    assert_problem(await first.client.get(f"{POSTS}/{post['id']}/stats"), 403)


async def test_likes_toggle_once_per_person(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    post = await publish(editor.client, account["id"])
    reader = await student(admin, sign_in, campus)
    for _ in range(2):
        liked = await reader.client.put(f"{POSTS}/{post['id']}/like")
        assert liked.json()["like_count"] == 1 and liked.json()["liked"] is True
    unliked = await reader.client.delete(f"{POSTS}/{post['id']}/like")
    assert unliked.json()["like_count"] == 0 and unliked.json()["liked"] is False
    assert (await reader.client.delete(f"{POSTS}/{post['id']}/like")).json()["like_count"] == 0


async def test_bodies_are_markdown_without_raw_html(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    body = "**重要**<script>alert(1)</script>\n\n[点我](javascript:alert(1))"
    post = await publish(editor.client, account["id"], body=body)
    assert "<strong>重要</strong>" in post["body_html"]
    assert "<script>" not in post["body_html"] and "&lt;script&gt;" in post["body_html"]
    assert 'href="javascript' not in post["body_html"]
    assert post["summary"].startswith("重要")
