"""The pages: directory, account, post (opening counts the read), feed, the editors' studio and
editor (errors shown on the form, nothing stored), statistics, administration, the service
worker."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts.models import Account
from tests.platform.messaging.accounts.conftest import (
    ACCOUNTS,
    HTML,
    HTMX,
    POSTS,
    counts,
    create_account,
    publish,
    staff,
    student,
)
from tests.platform.users.conftest import Campus, SignIn, unique


async def test_a_reader_finds_follows_and_reads(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(
        admin, name=unique("页"), org_unit_id=campus.college_id, editor_ids=[editor.id]
    )
    post = await publish(editor.client, account["id"], title="页面文章", body="# 小标题\n\n内容")
    reader = await student(admin, sign_in, campus)

    page = await reader.client.get(
        "/messaging/accounts", params={"q": account["name"]}, headers=HTML
    )
    assert page.status_code == 200
    assert account["name"] in page.text and 'data-testid="subscribe"' in page.text

    button = await reader.client.post(
        f"/messaging/accounts/{account['id']}/subscription", data={"follow": "on"}, headers=HTMX
    )
    assert button.status_code == 200 and 'data-testid="unsubscribe"' in button.text

    page = await reader.client.get(f"/messaging/accounts/{account['id']}", headers=HTML)
    assert page.status_code == 200 and "页面文章" in page.text
    assert "data-live-posts" in page.text

    feed = await reader.client.get("/messaging/feed", headers=HTML)
    assert feed.status_code == 200 and "页面文章" in feed.text
    accounts = re.search(r'data-accounts="([^"]*)"', feed.text)
    assert accounts is not None and str(account["id"]) in accounts.group(1)

    page = await reader.client.get(f"/messaging/posts/{post['id']}", headers=HTML)
    assert page.status_code == 200
    assert "<h1>小标题</h1>" in page.text and "阅读 1" in page.text
    card = await reader.client.get(f"/messaging/posts/{post['id']}/card", headers=HTMX)
    assert card.status_code == 200 and f'data-post-id="{post["id"]}"' in card.text

    liked = await reader.client.post(
        f"/messaging/posts/{post['id']}/like", data={"like": "on"}, headers=HTMX
    )
    assert liked.status_code == 200 and 'aria-pressed="true"' in liked.text


async def test_the_mandatory_button_cannot_unsubscribe(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    account = await create_account(
        admin, org_unit_id=campus.college_id, mandatory={"person_types": ["undergraduate"]}
    )
    reader = await student(admin, sign_in, campus)
    page = await reader.client.get(f"/messaging/accounts/{account['id']}", headers=HTML)
    assert (
        'data-testid="mandatory-badge"' in page.text
        and 'data-testid="unsubscribe"' not in page.text
    )
    before = await counts(db)
    refused = await reader.client.post(
        f"/messaging/accounts/{account['id']}/subscription", data={"follow": "off"}, headers=HTMX
    )
    assert refused.status_code == 409 and "不能取消关注" in refused.text
    assert await counts(db) == before


async def test_an_editor_writes_on_the_form_and_sees_errors_in_place(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    account = await create_account(admin, org_unit_id=campus.college_id, editor_ids=[editor.id])
    form = await editor.client.get(f"/messaging/accounts/{account['id']}/posts/new", headers=HTML)
    assert form.status_code == 200 and 'data-testid="post-form"' in form.text
    before = await counts(db)
    refused = await editor.client.post(
        f"/messaging/accounts/{account['id']}/posts/new",
        data={
            "title": "定时",
            "body": "正文",
            "action": "schedule",
            "publish_at": "2020-01-01T08:00",
        },
        headers=HTML,
    )
    assert refused.status_code == 422
    assert 'data-testid="error-publish_at"' in refused.text and 'value="定时"' in refused.text
    refused = await editor.client.post(
        f"/messaging/accounts/{account['id']}/posts/new",
        data={"title": "", "body": "正文", "action": "publish"},
        headers=HTML,
    )
    assert refused.status_code == 422 and 'data-testid="error-title"' in refused.text
    assert await counts(db) == before

    done = await editor.client.post(
        f"/messaging/accounts/{account['id']}/posts/new",
        data={"title": "表单发布", "summary": "", "body": "正文", "action": "publish"},
        headers=HTML,
    )
    assert done.status_code == 303
    post_url = done.headers["location"]
    studio = await editor.client.get(f"/messaging/accounts/{account['id']}/studio", headers=HTML)
    assert studio.status_code == 200 and "表单发布" in studio.text
    post_id = int(post_url.rsplit("/", 1)[-1])
    stats = await editor.client.get(f"/messaging/posts/{post_id}/stats", headers=HTML)
    assert stats.status_code == 200 and "data-msg-chart" in stats.text
    assert (await editor.client.get(f"{POSTS}/{post_id}")).json()["title"] == "表单发布"


async def test_outsiders_cannot_open_the_studio_or_the_editor(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    account = await create_account(admin, org_unit_id=campus.college_id)
    reader = await student(admin, sign_in, campus)
    for path in (
        f"/messaging/accounts/{account['id']}/studio",
        f"/messaging/accounts/{account['id']}/posts/new",
        "/messaging/accounts-admin",
        "/messaging/accounts-admin/new",
    ):
        assert (await reader.client.get(path, headers=HTML)).status_code == 403, path


async def test_an_administrator_creates_an_account_on_the_form(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, db: Runtime
) -> None:
    editor = await staff(admin, sign_in, campus)
    page = await admin.get("/messaging/accounts-admin/new", headers=HTML)
    assert page.status_code == 200 and 'data-testid="account-form"' in page.text
    people = await admin.get("/messaging/accounts-admin/people", params={"q": "李"})
    assert people.status_code == 200
    code = unique("form").lower()
    fields = {
        "code": code,
        "name": unique("表单号"),
        "category": "college",
        "icon": "school",
        "org_unit_id": str(campus.college_id),
        "audience_unit": [str(campus.college_id)],
        "mandatory_on": "1",
        "mandatory_type": ["undergraduate"],
        "editor_ids": [str(editor.id)],
        "active": "1",
    }
    bad = await admin.post(
        "/messaging/accounts-admin/new", data={**fields, "org_unit_id": ""}, headers=HTML
    )
    assert bad.status_code == 422 and 'data-testid="error-org_unit_id"' in bad.text
    done = await admin.post("/messaging/accounts-admin/new", data=fields, headers=HTML)
    assert done.status_code == 303, done.text
    async with db.db.read() as session:
        row = (
            await session.execute(
                select(Account.id, Account.audience, Account.mandatory).where(Account.code == code)
            )
        ).one()
    assert row.mandatory == {"person_types": ["undergraduate"], "org_unit_ids": []}
    assert row.audience == {"person_types": [], "org_unit_ids": [campus.college_id]}
    found = await editor.client.get(f"{ACCOUNTS}/{row.id}")
    assert found.json()["may_publish"] is True
    listing = await admin.get("/messaging/accounts-admin", headers=HTML)
    assert fields["name"] in listing.text


async def test_the_service_worker_is_served_for_the_whole_site(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["content-type"].startswith("text/javascript")
    assert "notificationclick" in response.text and "showNotification" in response.text
    script = await anon.get("/messaging/accounts/accounts.js")
    assert script.status_code == 200 and "campus:post" in script.text


async def test_the_pages_speak_english_when_asked(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await student(admin, sign_in, campus)
    page = await reader.client.get("/messaging/feed", headers={**HTML, "Accept-Language": "en"})
    assert page.status_code == 200
    assert "Turn on push notifications" in page.text and "开启推送通知" not in page.text
    problem = await reader.client.put(
        f"{ACCOUNTS}/999999999/subscription", headers={"Accept-Language": "en"}
    )
    assert problem.json()["detail"] == "Service account 999999999 does not exist"
