"""Sending through the API: who receives a notification (fan-out on write for lists, on read for
the whole campus), read receipts, statistics, and every refusal leaving nothing behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel import clock
from campus.kernel.errors import InvalidInput
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.messaging import actions
from campus.platform.messaging.models import Notification, Recipient
from campus.platform.messaging.schemas import NotificationIn, TemplateIn
from tests.platform.messaging.conftest import (
    INBOX,
    SEND,
    Campus,
    create_person,
    inbox,
    inbox_ids,
    person_id_of,
    send,
    staff_body,
    student_body,
)
from tests.platform.users.conftest import SignIn, audit_entries, event_payloads


async def notification_count(db: Runtime) -> int:
    async with db.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification)) or 0)


async def test_a_class_notice_reaches_its_students_only(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    inside = await create_person(admin, student_body(campus))
    outside = await create_person(
        admin, student_body(campus, class_id=None, org_unit_id=campus.other_college_id)
    )
    sent = await send(
        admin, title="班会通知", body="周五开班会", audience={"class_ids": [campus.class_id]}
    )
    assert sent["broadcast"] is False
    assert sent["recipient_count"] == 1
    reader = await sign_in(inside)
    page = await inbox(reader)
    mine = next(i for i in page["items"] if i["id"] == sent["id"])
    assert mine["title"] == "班会通知"
    assert mine["read_at"] is None
    assert page["unread"] >= 1
    stranger = await sign_in(outside)
    assert sent["id"] not in await inbox_ids(stranger)
    assert (await stranger.get(f"{INBOX}/{sent['id']}")).status_code == 404
    [entry] = await audit_entries(db, "messaging.notify", sent["id"])
    assert entry["after"]["recipients"] == 1
    [event] = await event_payloads(db, "messaging.notification.sent", notification_id=sent["id"])
    assert event["broadcast"] is False


async def test_an_org_unit_includes_the_units_below_and_person_types_narrow_it(
    admin: httpx.AsyncClient, campus: Campus
) -> None:
    await create_person(admin, student_body(campus))
    await create_person(admin, staff_body(campus))
    both = await send(admin, title="学院通知", audience={"org_unit_ids": [campus.college_id]})
    assert both["recipient_count"] == 2
    staff = await send(
        admin,
        title="教职工会议",
        audience={"org_unit_ids": [campus.college_id], "person_types": ["staff"]},
    )
    assert staff["recipient_count"] == 1
    exact = await send(
        admin, title="仅学院本级", audience={"exact_org_unit_ids": [campus.college_id]}
    )
    assert exact["recipient_count"] == 1  # the teacher works at the college, the student below


async def test_a_campus_wide_notice_is_stored_once_and_reaches_people_created_later(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    sent = await send(admin, title="全校停水通知", audience={"everyone": True})
    assert sent["broadcast"] is True
    async with db.db.read() as session:
        rows = await session.scalar(
            select(func.count()).where(Recipient.notification_id == sent["id"])
        )
    assert rows == 0  # fan-out on read: no row per person
    newcomer = await create_person(admin, student_body(campus))
    reader = await sign_in(newcomer)
    assert sent["id"] in await inbox_ids(reader)


async def test_a_students_only_notice_is_not_shown_to_staff(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    sent = await send(
        admin, title="学生体测", audience={"everyone": True, "person_types": ["student"]}
    )
    student = await sign_in(await create_person(admin, student_body(campus)))
    teacher = await sign_in(await create_person(admin, staff_body(campus)))
    assert sent["id"] in await inbox_ids(student)
    assert sent["id"] not in await inbox_ids(teacher)


async def test_a_class_notice_reaches_students_on_leave_but_not_those_who_left(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    made = await admin.post(
        "/api/v1/users/classes",
        json={
            "code": "LEAVE01X",
            "name": "休学测试班",
            "org_unit_id": campus.major_id,
            "grade": 2024,
        },
    )
    assert made.status_code == 201, made.text
    class_id = made.json()["id"]
    people = [await create_person(admin, student_body(campus, class_id=class_id)) for _ in range(3)]
    for person, status in zip(people[1:], ("suspended", "graduated"), strict=True):
        url = f"/api/v1/users/people/{person['id']}/status"
        response = await admin.post(url, json={"status": status, "reason": "测试"})
        assert response.status_code == 200, response.text
    sent = await send(admin, title="返校通知", audience={"class_ids": [class_id]})
    stats = (await admin.get(f"{SEND}/{sent['id']}/stats")).json()
    assert stats["audience_size"] == 2  # the student in study and the one on leave
    on_leave = await sign_in(people[1])
    assert sent["id"] in await inbox_ids(on_leave)


async def test_reading_marks_once_and_the_counts_follow(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    wide = await send(admin, title="全校", audience={"everyone": True})
    mine = await send(admin, title="班级", audience={"class_ids": [campus.class_id]})
    before = (await inbox(reader))["unread"]
    for notification in (wide, mine):
        response = await reader.post(f"{INBOX}/{notification['id']}/read")
        assert response.status_code == 204, response.text
        again = await reader.post(f"{INBOX}/{notification['id']}/read")
        assert again.status_code == 204
    page = await inbox(reader)
    assert page["unread"] == before - 2
    unread_ids = await inbox_ids(reader, unread="true")
    assert wide["id"] not in unread_ids and mine["id"] not in unread_ids
    stats = (await admin.get(f"{SEND}/{wide['id']}/stats")).json()
    assert stats["read_count"] == 1
    assert stats["audience_size"] >= 2
    class_stats = (await admin.get(f"{SEND}/{mine['id']}/stats")).json()
    assert class_stats["read_count"] == 1 and class_stats["audience_size"] == 1
    assert class_stats["read_percent"] == 100.0
    assert class_stats["reads_over_time"][-1]["cumulative"] == 1


async def test_mark_all_read_empties_the_unread_list(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    await send(admin, title="一", audience={"everyone": True})
    await send(admin, title="二", audience={"class_ids": [campus.class_id]})
    response = await reader.post(f"{INBOX}/read-all")
    assert response.status_code == 200
    assert response.json()["marked"] >= 2
    assert (await inbox(reader))["unread"] == 0
    assert (await reader.get(f"{INBOX}/unread")).json() == {"unread": 0}


async def test_expired_notifications_are_not_listed(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, monkeypatch: Any
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    soon = (clock.now() + timedelta(hours=1)).isoformat()
    sent = await send(admin, title="限时", audience={"everyone": True}, expires_at=soon)
    assert sent["id"] in await inbox_ids(reader)
    later = clock.now() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert sent["id"] not in await inbox_ids(reader)


async def test_category_filter(admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    a = await send(
        admin, title="教务", category="academic", audience={"class_ids": [campus.class_id]}
    )
    b = await send(
        admin, title="系统", category="system", audience={"class_ids": [campus.class_id]}
    )
    ids = await inbox_ids(reader, category="academic")
    assert a["id"] in ids and b["id"] not in ids


async def test_templates_fill_variables(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    sent = await send(
        admin,
        template="academic.exam",
        variables={"course": "线性代数", "time": "明天 9:00", "place": "B105"},
        audience={"class_ids": [campus.class_id]},
        category="academic",
    )
    item = (await reader.get(f"{INBOX}/{sent['id']}")).json()
    assert item["title"] == "考试安排：线性代数"
    assert "明天 9:00" in item["body"] and "B105" in item["body"]


async def test_a_template_saved_mid_transaction_is_the_one_sent_next(
    db: Runtime, demo: SeedContext
) -> None:
    """Templates are looked up once per transaction; saving one forgets what was looked up."""
    body = TemplateIn(
        code="test.once", name="一次", category="system", title="旧：{x}", variables=["x"]
    )
    someone = await person_id_of(db, demo, "staff")

    def item(x: str) -> NotificationIn:
        return NotificationIn(
            category="system",
            template="test.once",
            variables={"x": x},
            audience={"person_ids": [someone]},
        )

    async with db.db.transaction() as session:
        with pytest.raises(InvalidInput):
            await actions.check_notification(session, item("无"))
        template = await actions.check_save_template(session, body, None)
        await actions.do_save_template(session, template, body, None)
        first = await actions.check_notification(session, item("一"))
        changed = body.model_copy(update={"title": "新：{x}"})
        await actions.do_save_template(session, template, changed, None)
        second = await actions.check_notification(session, item("二"))
        await actions.do_delete_template(session, template)
        with pytest.raises(InvalidInput):
            await actions.check_notification(session, item("三"))
    assert (first.title, second.title) == ("旧：一", "新：二")


# ---------------------------------------------------------------- refusals change nothing


async def refused(
    db: Runtime, client: httpx.AsyncClient, status: int, field: str | None, **body: Any
) -> dict[str, Any]:
    before = await notification_count(db)
    body.setdefault("category", "system")
    response = await client.post(SEND, json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = dict(response.json())
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert await notification_count(db) == before
    return problem


async def test_unknown_recipients_are_named(db: Runtime, admin: httpx.AsyncClient) -> None:
    problem = await refused(
        db, admin, 422, "audience.person_ids", title="x", audience={"person_ids": [987654321]}
    )
    assert "987654321" in problem["errors"][0]["reason"]
    await refused(
        db, admin, 422, "audience.class_ids", title="x", audience={"class_ids": [987654321]}
    )
    await refused(
        db, admin, 422, "audience.org_unit_ids", title="x", audience={"org_unit_ids": [987654321]}
    )
    await refused(
        db, admin, 422, "audience.role_codes", title="x", audience={"role_codes": ["nobody"]}
    )


async def test_empty_audiences_are_refused(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus
) -> None:
    await refused(db, admin, 422, "audience", title="x", audience={})
    empty_class = await admin.post(
        "/api/v1/users/classes",
        json={"code": "EMPTY01X", "name": "空班", "org_unit_id": campus.major_id, "grade": 2024},
    )
    assert empty_class.status_code == 201, empty_class.text
    await refused(
        db, admin, 422, "audience", title="x", audience={"class_ids": [empty_class.json()["id"]]}
    )
    await refused(
        db,
        admin,
        422,
        "audience.everyone",
        title="x",
        audience={"everyone": True, "class_ids": [campus.class_id]},
    )


async def test_oversized_and_malformed_input(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus
) -> None:
    audience = {"class_ids": [campus.class_id]}
    await refused(db, admin, 422, "title", title="长" * 201, audience=audience)
    await refused(db, admin, 422, "body", title="x", body="长" * 10_001, audience=audience)
    await refused(db, admin, 422, "priority", title="x", priority="urgent", audience=audience)
    await refused(db, admin, 422, "link", title="x", link="javascript:alert(1)", audience=audience)
    await refused(db, admin, 422, "category", title="x", category="Bad Category", audience=audience)
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    await refused(db, admin, 422, "expires_at", title="x", expires_at=past, audience=audience)


async def test_template_variables_are_checked(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus
) -> None:
    audience = {"class_ids": [campus.class_id]}
    await refused(db, admin, 422, "template", template="no.such", audience=audience)
    await refused(
        db,
        admin,
        422,
        "variables.teacher",
        template="academic.exam",
        variables={"course": "a", "time": "b", "place": "c", "teacher": "d"},
        audience=audience,
    )
    await refused(
        db,
        admin,
        422,
        "variables.place",
        template="academic.exam",
        variables={"course": "a", "time": "b"},
        audience=audience,
    )


async def test_campus_wide_and_emergency_need_the_wide_right(
    db: Runtime, login_as: Any, campus: Campus
) -> None:
    staff = await login_as("staff")
    await refused(db, staff, 403, None, title="x", audience={"everyone": True})
    await refused(
        db,
        staff,
        403,
        None,
        title="x",
        priority="emergency",
        audience={"class_ids": [campus.class_id]},
    )
    student = await login_as("student")
    await refused(db, student, 403, None, title="x", audience={"class_ids": [campus.class_id]})


async def test_a_sender_reaches_only_their_own_unit(
    db: Runtime, login_as: Any, demo: SeedContext, admin: httpx.AsyncClient, campus: Campus
) -> None:
    """The demo staff login sends within its office; the test college is outside it."""
    await create_person(admin, student_body(campus))
    staff = await login_as("staff")
    problem = await refused(
        db, staff, 403, None, title="x", audience={"class_ids": [campus.class_id]}
    )
    assert "超出" in problem["detail"]
    own = await person_id_of(db, demo, "staff")
    ok = await send(staff, title="本处通知", audience={"person_ids": [own]})
    assert ok["recipient_count"] == 1


async def test_only_the_sender_sees_the_statistics(
    db: Runtime, login_as: Any, demo: SeedContext, admin: httpx.AsyncClient
) -> None:
    staff = await login_as("staff")
    own = await person_id_of(db, demo, "staff")
    sent = await send(staff, title="处内", audience={"person_ids": [own]})
    assert (await staff.get(f"{SEND}/{sent['id']}/stats")).status_code == 200
    assert (await admin.get(f"{SEND}/{sent['id']}/stats")).status_code == 200  # send_all
    counselor = await login_as("counselor")
    assert (await counselor.get(f"{SEND}/{sent['id']}/stats")).status_code == 403
    assert (await staff.get(f"{SEND}/987654321/stats")).status_code == 404
