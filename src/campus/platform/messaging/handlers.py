"""Reactions: planning a notification's external sends, delivering ``notify_requested``, and
the notices people expect from other modules' events (workflow to-dos and outcomes, OA notices,
documents distributed, meeting invitations and reminders, course selection results).

Each runs in its own transaction and is idempotent twice over: the kernel hands an event to a
handler once, and each notification carries a ``source`` naming its cause, so a replayed event
finds the notification it already made. Events of modules above the platform (OA, academic
affairs) are read by name and payload, without importing them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel import runtime as runtime_module
from campus.kernel.errors import Problem
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.messaging import actions, events
from campus.platform.messaging.schemas import MAX_PEOPLE, Audience, NotificationIn, Priority
from campus.platform.users import service as users
from campus.platform.workflow import events as workflow_events

log = structlog.get_logger(__name__)

OUTCOME_WORDS = {
    workflow_events.INSTANCE_APPROVED: "已通过",
    workflow_events.INSTANCE_REJECTED: "未通过",
    workflow_events.INSTANCE_RETURNED: "被退回，请修改后重新提交",
}


async def _send(session: AsyncSession, item: NotificationIn) -> None:
    """Notify, or log and drop a request that can never succeed (a retry would fail alike).

    Without autoflush: a handler's session holds nothing the notice reads (the audit entries
    and events of the notices before it in the same transaction are written once, at commit,
    instead of before each query)."""
    try:
        with session.no_autoflush:
            await actions.notify(session, runtime_module.current(), item)
    except Problem as problem:
        log.warning(
            "messaging_notify_dropped", source=item.source, problem=str(problem.detail or "")
        )


def _when(value: Any) -> str:
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return clock.fmt(instant)


# ---------------------------------------------------------------- our own events


async def on_notification_sent(session: AsyncSession, event: Event) -> None:
    sent = events.NotificationSent.model_validate(event.payload)
    planned = await actions.do_plan_deliveries(
        session, runtime_module.current(), sent.notification_id
    )
    if planned:
        log.info("messaging_deliveries_planned", notification_id=sent.notification_id, n=planned)


async def on_notify_requested(session: AsyncSession, event: Event) -> None:
    try:
        item = NotificationIn.model_validate(event.payload)
    except ValidationError as exc:
        log.warning("messaging_notify_request_invalid", event_id=event.id, errors=exc.errors())
        return
    if item.source is None:
        item = item.model_copy(update={"source": f"event:{event.id}"})
    await _send(session, item)


# ---------------------------------------------------------------- workflow


def _title_of(title: str, fallback: str) -> str:
    # Events carry the application's title; an empty one (older events) falls back.
    return title or fallback


async def _notify_assignees(
    session: AsyncSession, event: Event, template: str, priority: Priority = "normal"
) -> None:
    task = workflow_events.TaskEvent.model_validate(event.payload)
    if not task.assignee_ids:
        return
    title = _title_of(task.title, task.step_name)
    await _send(
        session,
        NotificationIn(
            category="workflow",
            priority=priority,
            template=template,
            variables={"title": title, "step": task.step_name},
            link="/hall/tasks",
            audience=Audience(person_ids=task.assignee_ids),
            source=f"{event.name}:{event.id}",
        ),
    )


async def on_task_assigned(session: AsyncSession, event: Event) -> None:
    await _notify_assignees(session, event, "workflow.todo")


async def on_task_overdue(session: AsyncSession, event: Event) -> None:
    await _notify_assignees(session, event, "workflow.overdue", priority="important")


async def on_instance_outcome(session: AsyncSession, event: Event) -> None:
    instance = workflow_events.InstanceEvent.model_validate(event.payload)
    title = _title_of(instance.title, instance.process_key)
    await _send(
        session,
        NotificationIn(
            category="workflow",
            template="workflow.outcome",
            variables={"title": title, "outcome": OUTCOME_WORDS[event.name]},
            link=f"/hall/instances/{instance.instance_id}",
            audience=Audience(person_ids=[instance.applicant_id]),
            source=f"{event.name}:{event.id}",
        ),
    )


async def on_todo_pushed(session: AsyncSession, event: Event) -> None:
    todo = workflow_events.TodoPushed.model_validate(event.payload)
    await _send(
        session,
        NotificationIn(
            category="workflow",
            template="workflow.todo",
            # A pushed to-do has no approval step: the to-do itself is what is waiting.
            variables={"title": todo.title, "step": todo.title},
            link="/hall/tasks",
            audience=Audience(person_ids=[todo.person_id]),
            source=f"workflow:todo:{todo.task_id}",
        ),
    )


# ---------------------------------------------------------------- the collaborative office (OA)


class _NoticeTarget(BaseModel):
    kind: str
    id: int | None = None
    subtree: bool = True


class _Notice(BaseModel):
    notice_id: int
    title: str
    org_unit_id: int
    publisher_id: int
    people: str = "all"
    targets: list[_NoticeTarget]


def _notice_audience(notice: _Notice) -> Audience:
    kinds: list[Any] = {"students": ["student"], "staff": ["staff"]}.get(notice.people, [])
    if any(t.kind == "campus" for t in notice.targets):
        return Audience(everyone=True, person_types=kinds)
    return Audience(
        org_unit_ids=[t.id for t in notice.targets if t.kind == "org" and t.subtree and t.id],
        exact_org_unit_ids=[
            t.id for t in notice.targets if t.kind == "org" and not t.subtree and t.id
        ],
        class_ids=[t.id for t in notice.targets if t.kind == "class" and t.id],
        person_types=kinds,
    )


async def on_notice_published(session: AsyncSession, event: Event) -> None:
    notice = _Notice.model_validate(event.payload)
    unit = await users.get_org_unit(session, notice.org_unit_id)
    await _send(
        session,
        NotificationIn(
            category="oa",
            template="oa.notice",
            variables={"title": notice.title, "unit": unit.name if unit else ""},
            link=f"/oa/notices/{notice.notice_id}",
            audience=_notice_audience(notice),
            sender_id=notice.publisher_id,
            source=f"oa:notice:{notice.notice_id}",
        ),
    )


class _Distributed(BaseModel):
    document_id: int
    number: str
    title: str
    recipient_ids: list[int]
    urgency: str = "normal"
    distributor_id: int | None = None


async def on_document_distributed(session: AsyncSession, event: Event) -> None:
    """收文提醒 to every recipient of a distributed document, in notices of at most
    ``MAX_PEOPLE`` (a document to all staff of a large university has more); 加急 and 特急
    documents are important."""
    document = _Distributed.model_validate(event.payload)
    priority: Priority = "normal" if document.urgency == "normal" else "important"
    people = document.recipient_ids
    for part, start in enumerate(range(0, len(people), MAX_PEOPLE)):
        await _send(
            session,
            NotificationIn(
                category="oa",
                priority=priority,
                template="oa.document",
                variables={"title": document.title, "number": document.number or "—"},
                link=f"/oa/documents/{document.document_id}",
                audience=Audience(person_ids=people[start : start + MAX_PEOPLE]),
                sender_id=document.distributor_id,
                source=f"oa:document:{document.document_id}:{part}",
            ),
        )


class _Meeting(BaseModel):
    event_id: int
    title: str
    place: str = ""
    starts_at: datetime | None = None
    reason: str = ""
    person_ids: list[int]
    organiser_id: int | None = None


MEETING_TEMPLATES = {
    "oa.schedule.invited": "oa.invitation",
    "oa.schedule.changed": "oa.meeting_changed",
    "oa.schedule.cancelled": "oa.meeting_cancelled",
}


async def on_meeting(session: AsyncSession, event: Event) -> None:
    meeting = _Meeting.model_validate(event.payload)
    people = [p for p in meeting.person_ids if p != meeting.organiser_id]
    if not people:
        return
    variables = {"title": meeting.title}
    template = MEETING_TEMPLATES[event.name]
    if template == "oa.meeting_cancelled":
        variables["reason"] = meeting.reason or "—"
    else:
        variables.update(place=meeting.place or "—", time=_when(meeting.starts_at))
    await _send(
        session,
        NotificationIn(
            category="oa",
            template=template,
            variables=variables,
            link=f"/oa/events/{meeting.event_id}",
            audience=Audience(person_ids=people),
            sender_id=meeting.organiser_id,
            source=f"{event.name}:{event.id}",
        ),
    )


class _Reminder(BaseModel):
    reminder_id: int
    event_id: int
    person_id: int
    title: str
    place: str = ""
    starts_at: datetime


async def on_reminder_due(session: AsyncSession, event: Event) -> None:
    reminder = _Reminder.model_validate(event.payload)
    await _send(
        session,
        NotificationIn(
            category="oa",
            priority="important",
            template="oa.reminder",
            variables={
                "title": reminder.title,
                "place": reminder.place or "—",
                "time": _when(reminder.starts_at),
            },
            link=f"/oa/events/{reminder.event_id}",
            audience=Audience(person_ids=[reminder.person_id]),
            expires_at=reminder.starts_at + timedelta(hours=12),
            source=f"oa:reminder:{reminder.reminder_id}",
        ),
    )


# ---------------------------------------------------------------- course selection (选课)


class _Place(BaseModel):
    person_id: int
    status: str
    source: str
    section_name: str


# What a student is told when their place changes by something they did not do themselves:
# (source, status) → (title, body). Their own selections and drops they see on the page.
PLACE_NOTICES = {
    ("promoted", "selected"): (
        "选课结果：{section}候补成功",
        "你已从候补名单递补选上“{section}”。",
    ),
    ("lottery", "selected"): ("选课结果：{section}已中签", "预选抽签结束，你已选上“{section}”。"),
    ("lottery", "lost"): (
        "选课结果：{section}未中签",
        "预选抽签结束，“{section}”名额已满，你未中签，可在正选或补退选时另选。",
    ),
    ("override", "selected"): ("选课变更：已为你选上{section}", "教务处已为你选上“{section}”。"),
    ("override", "dropped"): ("选课变更：已为你退选{section}", "教务处已为你退选“{section}”。"),
}


async def on_place_changed(session: AsyncSession, event: Event) -> None:
    place = _Place.model_validate(event.payload)
    found = PLACE_NOTICES.get((place.source, place.status))
    if found is None:
        return
    title, body = (text.format(section=place.section_name) for text in found)
    await _send(
        session,
        NotificationIn(
            category="academic",
            title=title,
            body=body,
            link="/academic/selection/me",
            audience=Audience(person_ids=[place.person_id]),
            source=f"{event.name}:{event.id}",
        ),
    )


HANDLERS = (
    EventHandler(
        "messaging.plan_deliveries",
        events.NOTIFICATION_SENT,
        on_notification_sent,
        when=lambda event: not event.payload.get("deliveries_planned", False),
    ),
    EventHandler("messaging.notify_requested", events.NOTIFY_REQUESTED, on_notify_requested),
    EventHandler("messaging.workflow_todo", workflow_events.TASK_ASSIGNED, on_task_assigned),
    EventHandler("messaging.workflow_overdue", workflow_events.TASK_OVERDUE, on_task_overdue),
    EventHandler("messaging.workflow_pushed", workflow_events.TODO_PUSHED, on_todo_pushed),
    *(
        EventHandler(f"messaging.workflow_{name.rsplit('.', 1)[-1]}", name, on_instance_outcome)
        for name in OUTCOME_WORDS
    ),
    EventHandler("messaging.oa_notice", "oa.notice.published", on_notice_published),
    EventHandler("messaging.oa_document", "oa.document.distributed", on_document_distributed),
    *(EventHandler(f"messaging.{name}", name, on_meeting) for name in MEETING_TEMPLATES),
    EventHandler("messaging.oa_reminder", "oa.schedule.reminder_due", on_reminder_due),
    EventHandler("messaging.selection_place", "academic.selection.place_changed", on_place_changed),
)
