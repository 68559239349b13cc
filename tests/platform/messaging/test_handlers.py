"""Reactions to events: notify_requested from any module, workflow to-dos and outcomes, OA
notices, invitations and reminders. Each delivers once however often its event comes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event
from campus.kernel.runtime import Runtime
from campus.platform.messaging import handlers as messaging_handlers
from campus.platform.messaging.models import Notification
from campus.platform.workflow import events as workflow_events
from tests.platform.messaging.conftest import (
    Campus,
    create_person,
    deliver,
    handler,
    inbox,
    student_body,
)
from tests.platform.users.conftest import SignIn, audit_entries, event_payloads


async def notifications_from(db: Runtime, source_prefix: str) -> list[Notification]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.source.like(f"{source_prefix}%"))
        )
        found = list(rows)
        session.expunge_all()
        return found


async def newcomer(
    admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> tuple[int, httpx.AsyncClient]:
    person = await create_person(admin, student_body(campus))
    return int(person["id"]), await sign_in(person)


async def test_notify_requested_delivers_once_per_source(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person_id, reader = await newcomer(admin, campus, sign_in)
    payload = {
        "title": "来自其他模块",
        "category": "system",
        "audience": {"person_ids": [person_id]},
        "source": "test:thing:1",
    }
    first = Event(name="messaging.notify_requested", payload=payload)
    await deliver(db, "messaging.notify_requested", first)
    await deliver(db, "messaging.notify_requested", first)  # the same event again
    again = Event(name="messaging.notify_requested", payload=payload)  # a new event, same cause
    await deliver(db, "messaging.notify_requested", again)
    titles = [i["title"] for i in (await inbox(reader))["items"]]
    assert titles.count("来自其他模块") == 1


async def test_a_request_that_can_never_succeed_is_dropped(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus
) -> None:
    for payload in (
        {
            "title": "x",
            "category": "system",
            "audience": {"person_ids": [987654321]},
            "source": "test:bad:1",
        },
        {"title": "x", "category": "BAD", "audience": {}, "source": "test:bad:2"},
    ):
        await deliver(
            db,
            "messaging.notify_requested",
            Event(name="messaging.notify_requested", payload=payload),
        )
    assert await notifications_from(db, "test:bad:") == []


async def test_a_workflow_task_tells_its_assignees(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person_id, reader = await newcomer(admin, campus, sign_in)
    payload = workflow_events.TaskEvent(
        instance_id=None,
        process_key="leave",
        step_id="counselor",
        step_name="辅导员审批",
        task_ids=[1],
        assignee_ids=[person_id],
    )
    event = Event(name=workflow_events.TASK_ASSIGNED, payload=payload.model_dump())
    await deliver(db, "messaging.workflow_todo", event)
    [item] = [i for i in (await inbox(reader))["items"] if i["category"] == "workflow"]
    assert item["title"] == "待办：辅导员审批"
    assert item["link"] == "/hall/tasks"


async def test_to_dos_handled_together_each_tell_their_assignee_once(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    """The embedded bus hands a handler many events in one transaction: each notice is made
    (with its audit entry and event) once, and a second delivery of the lot makes none."""
    person_id, reader = await newcomer(admin, campus, sign_in)
    steps = ["辅导员审批", "学院审批", "学工部审批"]
    events = [
        Event(
            name=workflow_events.TASK_ASSIGNED,
            payload=workflow_events.TaskEvent(
                instance_id=None,
                process_key="leave",
                step_id=f"s{n}",
                step_name=step,
                task_ids=[n],
                assignee_ids=[person_id],
            ).model_dump(),
        )
        for n, step in enumerate(steps)
    ]
    dispatcher = Dispatcher(db.db)
    await dispatcher.deliver_together(handler("messaging.workflow_todo"), events)
    await dispatcher.deliver_together(handler("messaging.workflow_todo"), events)

    items = [i for i in (await inbox(reader))["items"] if i["category"] == "workflow"]
    assert sorted(i["title"] for i in items) == sorted(f"待办：{s}" for s in steps)
    made = await notifications_from(db, workflow_events.TASK_ASSIGNED)
    mine = [n for n in made if n.source in {f"{e.name}:{e.id}" for e in events}]
    assert len(mine) == 3
    for notification in mine:
        assert len(await audit_entries(db, "messaging.notify", notification.id)) == 1
        sent = await event_payloads(
            db, "messaging.notification.sent", notification_id=notification.id
        )
        assert len(sent) == 1


async def test_a_to_do_pushed_by_another_module_tells_its_person_once(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person_id, reader = await newcomer(admin, campus, sign_in)
    payload = workflow_events.TodoPushed(
        task_id=424242, person_id=person_id, source="dormitory", title="确认床位"
    )
    event = Event(name=workflow_events.TODO_PUSHED, payload=payload.model_dump())
    await deliver(db, "messaging.workflow_pushed", event)
    await deliver(db, "messaging.workflow_pushed", Event(name=event.name, payload=event.payload))
    items = [i for i in (await inbox(reader))["items"] if i["category"] == "workflow"]
    assert [i["title"] for i in items] == ["待办：确认床位"], "one notice per pushed to-do"


async def test_a_workflow_outcome_tells_the_applicant(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person_id, reader = await newcomer(admin, campus, sign_in)
    for name in (workflow_events.INSTANCE_APPROVED, workflow_events.INSTANCE_REJECTED):
        payload = workflow_events.InstanceEvent(
            instance_id=987654321,  # gone: the process key stands in for its title
            process_key="leave",
            source="workflow",
            business_key=None,
            applicant_id=person_id,
            status="approved",
        )
        handler = f"messaging.workflow_{name.rsplit('.', 1)[-1]}"
        await deliver(db, handler, Event(name=name, payload=payload.model_dump()))
    titles = sorted(
        i["title"] for i in (await inbox(reader))["items"] if i["category"] == "workflow"
    )
    assert titles == ["您的申请“leave”已通过", "您的申请“leave”未通过"]


async def test_an_oa_reminder_is_important_and_delivered_once(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    person_id, reader = await newcomer(admin, campus, sign_in)
    starts = clock.now() + timedelta(minutes=15)
    payload = {
        "reminder_id": 424242,
        "event_id": 9,
        "person_id": person_id,
        "title": "党委会",
        "place": "行政楼 302",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "all_day": False,
        "minutes_before": 15,
    }
    for _ in range(2):  # two deliveries of two events for one reminder: one notice
        event = Event(name="oa.schedule.reminder_due", payload=payload)
        await deliver(db, "messaging.oa_reminder", event)
    [item] = [i for i in (await inbox(reader))["items"] if i["category"] == "oa"]
    assert item["title"] == "日程提醒：党委会"
    assert item["priority"] == "important"
    assert "行政楼 302" in item["body"]
    assert item["link"] == "/oa/events/9"


async def test_a_distributed_document_tells_each_recipient_once_and_urgent_ones_matter(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    reader_id, reader = await newcomer(admin, campus, sign_in)
    other_id, other = await newcomer(admin, campus, sign_in)
    payload = {
        "document_id": 515151,
        "number": "校办发〔2026〕7号",
        "title": "关于做好寒假安全工作的通知",
        "recipient_ids": [reader_id, other_id],
        "urgency": "very_urgent",
        "distributor_id": None,
    }
    for _ in range(2):  # a repeated event: still one notice each
        event = Event(name="oa.document.distributed", payload=payload)
        await deliver(db, "messaging.oa_document", event)
    for client in (reader, other):
        [item] = [i for i in (await inbox(client))["items"] if i["category"] == "oa"]
        assert item["title"] == "收文：关于做好寒假安全工作的通知"
        assert "校办发〔2026〕7号" in item["body"]
        assert (item["priority"], item["link"]) == ("important", "/oa/documents/515151")
    ordinary = {**payload, "document_id": 515152, "urgency": "normal"}
    await deliver(
        db, "messaging.oa_document", Event(name="oa.document.distributed", payload=ordinary)
    )
    [made] = await notifications_from(db, "oa:document:515152")
    assert made.priority == "normal"


async def test_a_document_to_more_people_than_one_notice_holds_is_told_in_parts(
    db: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    admin: httpx.AsyncClient,
    campus: Campus,
    sign_in: SignIn,
) -> None:
    people = [(await newcomer(admin, campus, sign_in))[0] for _ in range(3)]
    monkeypatch.setattr(messaging_handlers, "MAX_PEOPLE", 2)
    payload = {"document_id": 515153, "number": "", "title": "全员收文", "recipient_ids": people}
    await deliver(
        db, "messaging.oa_document", Event(name="oa.document.distributed", payload=payload)
    )
    made = await notifications_from(db, "oa:document:515153")
    assert sorted(n.source for n in made) == ["oa:document:515153:0", "oa:document:515153:1"]
    assert sorted(n.recipient_count for n in made) == [1, 2]


async def test_an_oa_invitation_reaches_the_invited_but_not_the_organiser(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    guest_id, guest = await newcomer(admin, campus, sign_in)
    host_id, host = await newcomer(admin, campus, sign_in)
    starts = clock.now() + timedelta(days=1)
    payload = {
        "event_id": 5,
        "title": "教学研讨会",
        "place": "图书馆报告厅",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "organiser_id": host_id,
        "person_ids": [guest_id, host_id],
    }
    await deliver(
        db, "messaging.oa.schedule.invited", Event(name="oa.schedule.invited", payload=payload)
    )
    assert any(i["title"] == "会议邀请：教学研讨会" for i in (await inbox(guest))["items"])
    assert not any(i["title"] == "会议邀请：教学研讨会" for i in (await inbox(host))["items"])


async def test_a_campus_wide_oa_notice_becomes_a_campus_wide_notification(
    db: Runtime, admin: httpx.AsyncClient, campus: Campus, sign_in: SignIn
) -> None:
    _person_id, reader = await newcomer(admin, campus, sign_in)
    payload: dict[str, Any] = {
        "notice_id": 777001,
        "title": "寒假放假安排",
        "org_unit_id": campus.college_id,
        "publisher_id": 1,
        "people": "students",
        "targets": [{"kind": "campus", "id": None, "subtree": True}],
    }
    await deliver(db, "messaging.oa_notice", Event(name="oa.notice.published", payload=payload))
    [made] = await notifications_from(db, "oa:notice:777001")
    assert made.broadcast and made.person_scope == "student"
    assert any(i["id"] == made.id for i in (await inbox(reader))["items"])
