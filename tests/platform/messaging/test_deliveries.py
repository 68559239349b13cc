"""External channels: planned after the commit from each person's preferences, held in quiet
hours, sent by the delivery job (e-mail over real SMTP, SMS and WeCom through the demo's
logging adapters), retried on failure and recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.messaging import actions, channels, jobs
from campus.platform.messaging.models import Delivery
from tests.platform.messaging.conftest import (
    SEND,
    Campus,
    Mailbox,
    create_person,
    handler,
    outbox_events,
    plan,
    send,
    student_body,
)
from tests.platform.users.conftest import SignIn

PREFS = "/api/v1/messaging/preferences"


async def deliveries_of(db: Runtime, notification_id: int) -> list[Any]:
    """The delivery rows, copied out of the session (it rolls back)."""
    async with db.db.read() as session:
        rows = await session.scalars(
            select(Delivery)
            .where(Delivery.notification_id == notification_id)
            .order_by(Delivery.channel)
        )
        columns = [c.key for c in Delivery.__table__.columns]
        return [SimpleNamespace(**{k: getattr(d, k) for k in columns}) for d in rows]


def china(instant: datetime) -> str:
    return instant.astimezone(clock.CHINA).strftime("%H:%M")


async def choose(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.put(PREFS, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_preferences_round_trip_and_bad_values(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    saved = await choose(
        reader,
        channels=[{"category": "academic", "email": True, "sms": False, "wecom": True}],
        quiet_hours={"enabled": True, "start": "22:00", "end": "07:30"},
    )
    assert saved["channels"] == [
        {"category": "academic", "email": True, "sms": False, "wecom": True}
    ]
    assert saved["quiet_hours"] == {"enabled": True, "start": "22:00", "end": "07:30"}
    assert (await reader.get(PREFS)).json() == saved
    for bad, field in (
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours"),
        ({"channels": [{"category": "oa"}, {"category": "oa"}]}, "channels.1.category"),
        ({"channels": [{"category": "Bad!"}]}, "channels.0.category"),
    ):
        response = await reader.put(PREFS, json=bad)
        assert response.status_code == 422, response.text
        assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert (await reader.get(PREFS)).json() == saved


async def test_email_goes_out_over_smtp_after_the_commit(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, smtp_server: Mailbox
) -> None:
    person = await create_person(admin, student_body(campus, email="lisi@example.edu.cn"))
    reader = await sign_in(person)
    await choose(reader, channels=[{"category": "academic", "email": True}])
    sent = await send(
        admin,
        title="选课开始",
        body="第二轮选课今天开始。",
        category="academic",
        link="/messaging/inbox",
        audience={"class_ids": [campus.class_id]},
    )
    assert smtp_server.messages == []  # nothing inside the request
    await plan(db, sent["id"])
    [planned] = await deliveries_of(db, sent["id"])
    assert (planned.channel, planned.status, planned.address) == (
        "email",
        "queued",
        "lisi@example.edu.cn",
    )
    assert await jobs.send_due(db) >= 1
    [mail] = await smtp_server.wait_for(1)
    assert "选课开始" in str(mail["Subject"])
    assert mail["X-Envelope-To"] == "lisi@example.edu.cn"
    assert "第二轮选课今天开始。" in mail.get_body().get_content()
    [done] = await deliveries_of(db, sent["id"])
    assert (done.status, done.adapter, done.attempts) == ("sent", "smtp", 1)
    stats = (await admin.get(f"{SEND}/{sent['id']}/stats")).json()
    email = next(c for c in stats["channels"] if c["channel"] == "email")
    assert email["sent"] == 1


async def test_quiet_hours_hold_email_until_they_end(
    db: Runtime,
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    smtp_server: Mailbox,
    monkeypatch: Any,
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus)))
    now = clock.now().replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    await choose(
        reader,
        channels=[{"category": "academic", "email": True}],
        quiet_hours={"enabled": True, "start": china(start), "end": china(end)},
    )
    sent = await send(
        admin, title="夜间通知", category="academic", audience={"class_ids": [campus.class_id]}
    )
    await plan(db, sent["id"])
    [held] = await deliveries_of(db, sent["id"])
    assert held.status == "held"
    assert held.due_at == end
    await jobs.send_due(db)
    assert smtp_server.messages == []
    monkeypatch.setattr(clock, "now", lambda: end + timedelta(minutes=1))
    await jobs.send_due(db)
    assert len(await smtp_server.wait_for(1)) == 1
    [done] = await deliveries_of(db, sent["id"])
    assert done.status == "sent"


async def test_an_emergency_ignores_quiet_hours_and_uses_every_channel(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, smtp_server: Mailbox
) -> None:
    person = await create_person(admin, student_body(campus))
    reader = await sign_in(person)
    await choose(reader, quiet_hours={"enabled": True, "start": "00:00", "end": "23:59"})
    sent = await send(
        admin,
        title="台风红色预警",
        body="请立即回到宿舍。",
        priority="emergency",
        audience={"class_ids": [campus.class_id]},
    )
    await plan(db, sent["id"])
    planned = await deliveries_of(db, sent["id"])
    assert [(d.channel, d.status) for d in planned] == [
        ("email", "queued"),
        ("sms", "queued"),
        ("wecom", "queued"),
    ]
    await jobs.send_due(db)
    done = {d.channel: d for d in await deliveries_of(db, sent["id"])}
    assert done["sms"].status == "sent" and done["sms"].adapter == "log"
    assert done["sms"].address == "13812345678"
    assert "台风红色预警" in done["sms"].content and "请立即回到宿舍。" in done["sms"].content
    assert done["wecom"].address == person["student_no"]
    assert done["wecom"].adapter == "log"
    assert len(await smtp_server.wait_for(1)) == 1
    listed = (await admin.get(f"{SEND}/{sent['id']}/deliveries")).json()
    assert sorted((d["channel"], d["status"]) for d in listed) == [
        ("email", "sent"),
        ("sms", "sent"),
        ("wecom", "sent"),
    ]
    assert (await reader.get(f"{SEND}/{sent['id']}/deliveries")).status_code == 403


async def test_failed_sends_are_retried_then_recorded_as_failed(
    db: Runtime,
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
    settings_for_test: Any,
    monkeypatch: Any,
) -> None:
    settings_for_test(
        smtp_host="127.0.0.1", smtp_port=9, smtp_security="none", smtp_timeout_seconds=1.0
    )
    monkeypatch.setattr(channels.messaging_settings(), "delivery_retry_seconds", 0.0)
    monkeypatch.setattr(channels.messaging_settings(), "delivery_max_attempts", 2)
    reader = await sign_in(await create_person(admin, student_body(campus)))
    await choose(reader, channels=[{"category": "academic", "email": True}])
    sent = await send(
        admin, title="发不出去", category="academic", audience={"class_ids": [campus.class_id]}
    )
    await plan(db, sent["id"])
    await jobs.send_due(db)
    [first] = await deliveries_of(db, sent["id"])
    assert (first.status, first.attempts) == ("queued", 1)
    assert first.last_error
    await jobs.send_due(db)
    [last] = await deliveries_of(db, sent["id"])
    assert (last.status, last.attempts) == ("failed", 2)
    await jobs.send_due(db)
    [still] = await deliveries_of(db, sent["id"])
    assert still.attempts == 2  # failed for good: not tried again


async def test_people_without_an_address_are_skipped_and_planning_is_once(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn, smtp_server: Mailbox
) -> None:
    reader = await sign_in(await create_person(admin, student_body(campus, email=None)))
    await choose(reader, channels=[{"category": "academic", "email": True}])
    sent = await send(
        admin, title="无邮箱", category="academic", audience={"class_ids": [campus.class_id]}
    )
    await plan(db, sent["id"])
    await plan(db, sent["id"])  # a redelivered event plans nothing twice
    [skipped] = await deliveries_of(db, sent["id"])
    assert skipped.status == "skipped"
    await jobs.send_due(db)
    assert smtp_server.messages == []
    url = f"{SEND}/{sent['id']}/deliveries"
    [listed] = (await admin.get(url)).json()
    assert listed["last_error"] == "没有可用的地址"
    [english] = (await admin.get(url, headers={"Accept-Language": "en"})).json()
    assert english["last_error"] == "No address on this channel"


async def test_workflow_notices_default_to_email_and_others_to_the_inbox_only(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, smtp_server: Mailbox
) -> None:
    await create_person(admin, student_body(campus))
    workflow = await send(
        admin, title="待办", category="workflow", audience={"class_ids": [campus.class_id]}
    )
    other = await send(
        admin, title="普通", category="academic", audience={"class_ids": [campus.class_id]}
    )
    await plan(db, workflow["id"], other["id"])
    assert [d.channel for d in await deliveries_of(db, workflow["id"])] == ["email"]
    assert await deliveries_of(db, other["id"]) == []


async def _sent_event(db: Runtime, notification_id: int) -> Any:
    events = await outbox_events(db, "messaging.notification.sent")
    return next(e for e in events if e.payload["notification_id"] == notification_id)


async def test_a_few_recipients_are_planned_with_the_notification_a_crowd_by_the_handler(
    db: Runtime,
    admin: httpx.AsyncClient,
    campus: Campus,
    smtp_server: Mailbox,
    monkeypatch: Any,
) -> None:
    await create_person(admin, student_body(campus))
    few = await send(
        admin, title="待办", category="workflow", audience={"class_ids": [campus.class_id]}
    )
    # Committed with the notification, before any handler ran; the handler is not needed.
    assert [d.channel for d in await deliveries_of(db, few["id"])] == ["email"]
    event = await _sent_event(db, few["id"])
    assert event.payload["deliveries_planned"] is True
    assert not handler("messaging.plan_deliveries").wants(event)

    monkeypatch.setattr(actions, "PLAN_WITH_NOTIFICATION", 0)
    crowd = await send(
        admin, title="待办", category="workflow", audience={"class_ids": [campus.class_id]}
    )
    assert await deliveries_of(db, crowd["id"]) == []  # left to the handler
    event = await _sent_event(db, crowd["id"])
    assert event.payload["deliveries_planned"] is False
    assert handler("messaging.plan_deliveries").wants(event)
    await plan(db, crowd["id"])
    assert [d.channel for d in await deliveries_of(db, crowd["id"])] == ["email"]


def test_quiet_hours_over_midnight() -> None:
    from campus.platform.messaging.models import QuietHours

    quiet = QuietHours(person_id=1, enabled=True, start_minute=22 * 60, end_minute=7 * 60)
    late = datetime(2026, 3, 1, 23, 30, tzinfo=clock.CHINA)
    early = datetime(2026, 3, 2, 6, 0, tzinfo=clock.CHINA)
    noon = datetime(2026, 3, 2, 12, 0, tzinfo=clock.CHINA)
    morning = datetime(2026, 3, 2, 7, 0, tzinfo=clock.CHINA)
    assert actions.quiet_until(quiet, late) == morning
    assert actions.quiet_until(quiet, early) == morning
    assert actions.quiet_until(quiet, noon) is None
    assert actions.quiet_until(quiet, morning) is None
    quiet.enabled = False
    assert actions.quiet_until(quiet, late) is None
