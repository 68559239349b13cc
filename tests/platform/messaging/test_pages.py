"""The pages: inbox, detail (its read receipt), preferences, the send form with its errors,
statistics with the Excel export, template management; and the bell on every page."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from campus.kernel.runtime import Runtime
from tests.platform.messaging.conftest import (
    INBOX,
    SEND,
    Campus,
    create_person,
    inbox,
    send,
    student_body,
)
from tests.platform.users.conftest import SignIn


async def test_every_page_has_the_bell_and_the_live_script(student: httpx.AsyncClient) -> None:
    page = await student.get("/messaging/inbox")
    assert page.status_code == 200
    assert 'data-testid="bell-badge"' in page.text
    assert '<script src="/static/messaging/live.js" defer></script>' in page.text
    script = await student.get("/static/messaging/live.js")
    assert script.status_code == 200
    assert "EventSource" in script.text and "campus:" in script.text


async def test_the_inbox_page_lists_filters_and_opening_marks_read(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    sent = await send(
        admin,
        title="图书馆闭馆通知",
        body="<b>周日</b>闭馆",
        category="system",
        audience={"class_ids": [campus.class_id]},
    )
    page = await reader.get("/messaging/inbox")
    assert "图书馆闭馆通知" in page.text
    assert 'data-testid="unread-dot"' in page.text
    filtered = await reader.get(
        "/messaging/inbox?category=academic", headers={"HX-Request": "true"}
    )
    assert "图书馆闭馆通知" not in filtered.text
    assert "<html" not in filtered.text  # the htmx partial only
    detail = await reader.get(f"/messaging/notifications/{sent['id']}")
    assert detail.status_code == 200
    assert "&lt;b&gt;周日&lt;/b&gt;闭馆" in detail.text  # escaped, never rendered as HTML
    item = (await reader.get(f"{INBOX}/{sent['id']}")).json()
    assert item["read_at"] is not None
    assert (await reader.get("/messaging/notifications/987654321")).status_code == 404


async def test_read_all_from_the_page(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    await send(admin, title="一", audience={"class_ids": [campus.class_id]})
    response = await reader.post(
        "/messaging/inbox/read-all", data={"csrf_token": reader.headers["X-CSRF-Token"]}
    )
    assert response.status_code == 303
    assert (await inbox(reader))["unread"] == 0


async def test_the_preferences_page_saves_and_shows_errors(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    page = await reader.get("/messaging/preferences")
    assert page.status_code == 200 and 'data-testid="pref-academic-email"' in page.text
    form = {
        "csrf_token": reader.headers["X-CSRF-Token"],
        "category": ["academic", "oa"],
        "academic.email": "on",
        "oa.sms": "on",
        "quiet_enabled": "on",
        "quiet_start": "23:00",
        "quiet_end": "06:30",
    }
    saved = await reader.post("/messaging/preferences", data=form)
    assert saved.status_code == 303, saved.text
    prefs = (await reader.get("/api/v1/messaging/preferences")).json()
    assert {"category": "academic", "email": True, "sms": False, "wecom": False} in prefs[
        "channels"
    ]
    assert {"category": "oa", "email": False, "sms": True, "wecom": False} in prefs["channels"]
    assert prefs["quiet_hours"] == {"enabled": True, "start": "23:00", "end": "06:30"}
    bad = await reader.post("/messaging/preferences", data={**form, "quiet_end": "23:00"})
    assert bad.status_code == 422
    assert "免打扰的开始和结束时间不能相同" in bad.text
    assert (await reader.get("/api/v1/messaging/preferences")).json() == prefs


def send_form(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    return {
        "csrf_token": client.headers["X-CSRF-Token"],
        "category": "system",
        "priority": "normal",
        **fields,
    }


async def test_the_send_page_sends_and_redirects_to_the_statistics(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    await create_person(admin, student_body(campus))
    page = await admin.get("/messaging/send")
    assert page.status_code == 200 and 'data-testid="everyone"' in page.text
    response = await admin.post(
        "/messaging/send",
        data=send_form(admin, title="班级通知", body="正文", class_ids=[str(campus.class_id)]),
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/messaging/sent/")
    stats = await admin.get(location)
    assert stats.status_code == 200
    assert 'data-testid="reads-chart"' in stats.text and "班级通知" in stats.text


async def test_the_send_page_shows_errors_and_stores_nothing(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    before = (await admin.get("/api/v1/messaging/sent")).json()["total"]
    empty = await admin.post("/messaging/send", data=send_form(admin, title="无对象"))
    assert empty.status_code == 422
    assert "请至少选择一类通知对象" in empty.text
    assert 'value="无对象"' in empty.text  # what was typed is kept
    unknown = await admin.post(
        "/messaging/send", data=send_form(admin, title="x", person_ids=["987654321"])
    )
    assert unknown.status_code == 422 and "987654321" in unknown.text
    template = await admin.post(
        "/messaging/send",
        data=send_form(
            admin,
            template="academic.exam",
            **{"var.course": "高数"},
            class_ids=[str(campus.class_id)],
        ),
    )
    assert template.status_code == 422 and "缺少模板变量" in template.text
    assert (await admin.get("/api/v1/messaging/sent")).json()["total"] == before


async def test_the_send_page_needs_the_permission(student: httpx.AsyncClient) -> None:
    assert (await student.get("/messaging/send")).status_code == 403
    assert (await student.get("/messaging/templates")).status_code == 403


async def test_receipts_export_names_who_has_and_has_not_read(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader_person = await create_person(admin, student_body(campus, name="王已读"))
    await create_person(admin, student_body(campus, name="赵未读"))
    sent = await send(admin, title="导出测试", audience={"class_ids": [campus.class_id]})
    reader = await sign_in(reader_person)
    await reader.post(f"{INBOX}/{sent['id']}/read")
    response = await admin.get(f"{SEND}/{sent['id']}/receipts.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {r[0]: r[3] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows == {"王已读": "已读", "赵未读": "未读"}
    unread = (await admin.get(f"{SEND}/{sent['id']}/receipts", params={"state": "unread"})).json()
    assert [r["name"] for r in unread["items"]] == ["赵未读"]
    page = await admin.get(
        f"/messaging/sent/{sent['id']}?state=read", headers={"HX-Request": "true"}
    )
    assert "王已读" in page.text and "赵未读" not in page.text


async def test_templates_are_managed_with_declared_variables(
    db: Runtime, admin: httpx.AsyncClient
) -> None:
    body = {
        "code": "test.lecture",
        "name": "讲座通知",
        "category": "academic",
        "title": "讲座：{topic}",
        "body": "{speaker} 将于 {time} 主讲。",
        "variables": ["topic", "speaker", "time"],
    }
    created = await admin.post("/api/v1/messaging/templates", json=body)
    assert created.status_code == 201, created.text
    duplicate = await admin.post("/api/v1/messaging/templates", json=body)
    assert duplicate.status_code == 409
    undeclared = await admin.post(
        "/api/v1/messaging/templates", json={**body, "code": "test.other", "variables": ["topic"]}
    )
    assert undeclared.status_code == 422
    assert [e["field"] for e in undeclared.json()["errors"]] == ["body"]
    bad_name = await admin.post(
        "/api/v1/messaging/templates", json={**body, "code": "test.x", "variables": ["Bad-Name"]}
    )
    assert bad_name.status_code == 422
    template_id = created.json()["id"]
    changed = await admin.put(
        f"/api/v1/messaging/templates/{template_id}", json={**body, "title": "学术讲座：{topic}"}
    )
    assert changed.status_code == 200 and changed.json()["title"] == "学术讲座：{topic}"
    page = await admin.get("/messaging/templates")
    assert "讲座通知" in page.text
    builtin = next(
        t for t in (await admin.get("/api/v1/messaging/templates")).json() if t["builtin"]
    )
    assert (await admin.delete(f"/api/v1/messaging/templates/{builtin['id']}")).status_code == 409
    assert (await admin.delete(f"/api/v1/messaging/templates/{template_id}")).status_code == 204


async def test_the_template_form_page(admin: httpx.AsyncClient) -> None:
    token = admin.headers["X-CSRF-Token"]
    bad = await admin.post(
        "/messaging/templates",
        data={
            "csrf_token": token,
            "code": "test.form",
            "name": "表单",
            "category": "system",
            "title": "{x}",
            "variables": "",
        },
    )
    assert bad.status_code == 422 and "未声明的变量" in bad.text
    ok = await admin.post(
        "/messaging/templates",
        data={
            "csrf_token": token,
            "code": "test.form",
            "name": "表单",
            "category": "system",
            "title": "{x}",
            "variables": "x",
        },
    )
    assert ok.status_code == 303
