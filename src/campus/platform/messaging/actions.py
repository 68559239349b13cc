"""Writes of the notifications core: ``check_*`` validates everything, then ``do_*`` writes,
audits and emits. A refusal changes nothing.

Sending stores the notification once; a targeted one gets its recipient rows in batches in the
same transaction, a campus-wide one none (fan-out on read). The live push waits for the commit.
The external channels of a notification to a few people are planned in the same transaction;
those of a larger audience by a handler of ``messaging.notification.sent``. Either way the
delivery job sends them, never inside the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.clock import CHINA
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore, on_connection
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _, storable
from campus.kernel.runtime import Runtime
from campus.platform.access import service as access
from campus.platform.messaging import audience as audiences
from campus.platform.messaging import channels, events, live, queries
from campus.platform.messaging.audience import Resolved
from campus.platform.messaging.models import (
    BroadcastRead,
    ChannelPreference,
    Delivery,
    Notification,
    QuietHours,
    Recipient,
    Template,
)
from campus.platform.messaging.permissions import NOTIFY_SEND, NOTIFY_SEND_ALL
from campus.platform.messaging.queries import Reader
from campus.platform.messaging.schemas import (
    BUILTIN_TEMPLATES,
    DEFAULT_CHANNELS,
    MAX_BODY,
    MAX_TITLE,
    PLACEHOLDER,
    NotificationIn,
    PreferencesIn,
    TemplateIn,
    placeholders,
)
from campus.platform.users import service as users

# Recipient rows per INSERT: large lists go in several statements of one transaction.
RECIPIENT_BATCH = 1000
# Built once and run past the ORM (a notice per to-do makes sending hot); none of them depends
# on anything pending in the session.
_INSERT_NOTIFICATION = insert(Notification).returning(Notification.id)
_INSERT_RECIPIENTS = insert(Recipient)
_INSERT_DELIVERIES = insert(Delivery)
_BY_SOURCE = select(Notification.id).where(Notification.source == bindparam("source"))
# Up to this many recipients, the external sends are planned with the notification: one
# transaction instead of two for every to-do notice, while a large audience's plan (a college,
# the campus) does not hold the sender's transaction.
PLAN_WITH_NOTIFICATION = 200


# ---------------------------------------------------------------- templates and variables


def fill(text: str, variables: dict[str, str]) -> str:
    """Replace ``{name}`` by its value; nothing else in the text is interpreted."""
    return PLACEHOLDER.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TEMPLATES = "campus.messaging.templates"


async def _template(session: AsyncSession, code: str) -> Template | TemplateIn | None:
    """The template of this code, looked up once per transaction (a handler's transaction
    sends many notices of the same few templates)."""
    known: dict[str, Template | TemplateIn | None] = session.info.setdefault(_TEMPLATES, {})
    if code not in known:
        known[code] = await queries.template_by_code(session, code)
    return known[code]


async def _filled(session: AsyncSession, item: NotificationIn) -> tuple[str, str]:
    """The title and body: the item's own, or its template's filled with its variables."""
    if not item.template:
        return item.title, item.body
    template = await _template(session, item.template)
    if template is None:
        template = BUILTIN_TEMPLATES.get(item.template)
    if template is None:
        raise InvalidInput.on("template", _("模板“{code}”不存在", code=item.template))
    declared = set(template.variables)
    used = placeholders(template.title) | placeholders(template.body)
    errors = [
        FieldError(
            f"variables.{name}", _("模板“{code}”没有变量 {name}", code=template.code, name=name)
        )
        for name in sorted(set(item.variables) - declared)
    ]
    errors += [
        FieldError(f"variables.{name}", _("缺少模板变量 {name}", name=name))
        for name in sorted(used - set(item.variables))
    ]
    if errors:
        raise InvalidInput(_("模板变量有误"), errors=errors)
    title = item.title or _clip(fill(template.title, item.variables), MAX_TITLE)
    body = item.body or _clip(fill(template.body, item.variables), MAX_BODY)
    return title, body


def _expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    aware = clock.aware(expires_at)
    if aware <= clock.now():
        raise InvalidInput.on("expires_at", _("过期时间应晚于现在"))
    return aware.astimezone(UTC)


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class CheckedNotification:
    item: NotificationIn
    title: str
    body: str
    expires_at: datetime | None
    audience: Resolved


async def check_notification(session: AsyncSession, item: NotificationIn) -> CheckedNotification:
    """Everything about the notification itself: template, expiry, audience."""
    title, body = await _filled(session, item)
    if not title.strip():
        raise InvalidInput.on("title", _("标题不能为空"))
    expires_at = _expiry(item.expires_at)
    resolved = await audiences.resolve(session, item.audience)
    return CheckedNotification(item, title.strip(), body, expires_at, resolved)


async def check_send(
    session: AsyncSession, principal: Principal, item: NotificationIn
) -> CheckedNotification:
    """A person sending from the send page or the API: campus-wide and emergency notices need
    ``messaging.notify.send_all``; otherwise every recipient must be within the reach of their
    ``messaging.notify.send``."""
    wide = principal.can(NOTIFY_SEND_ALL)
    if item.audience.everyone and not wide:
        raise await access.denied(principal, NOTIFY_SEND_ALL, _("您没有向全校发送通知的权限"))
    if item.priority == "emergency" and not wide:
        raise await access.denied(principal, NOTIFY_SEND_ALL, _("您没有发送紧急通知的权限"))
    item = item.model_copy(update={"sender_id": principal.person_id})
    checked = await check_notification(session, item)
    if not wide and checked.audience.person_ids:
        outside = await users.people_outside_reach(
            session, principal, NOTIFY_SEND, checked.audience.person_ids
        )
        if outside:
            raise await access.denied(
                principal,
                NOTIFY_SEND,
                _("有 {n} 位通知对象超出您的发送范围", n=len(outside)),
            )
    return checked


async def existing_by_source(session: AsyncSession, source: str | None) -> int | None:
    if not source:
        return None
    return (await on_connection(session, _BY_SOURCE, {"source": source})).scalar()


def live_frame(notification: Notification) -> live.Frame:
    frame: live.Frame = {
        "type": "notification",
        "id": notification.id,
        "title": notification.title,
        "category": notification.category,
        "priority": notification.priority,
        "link": notification.link,
        "created_at": notification.created_at.isoformat(),
    }
    if notification.broadcast:
        # Each connection keeps only the frames whose scope matches its person (no DB work).
        frame["scope"] = notification.person_scope
    return frame


async def do_notify(session: AsyncSession, runtime: Runtime, checked: CheckedNotification) -> int:
    item, resolved = checked.item, checked.audience
    values: dict[str, Any] = dict(
        category=item.category,
        priority=item.priority,
        title=checked.title,
        body=checked.body,
        link=item.link,
        audience=item.audience.model_dump(mode="json"),
        broadcast=resolved.broadcast,
        person_scope=resolved.person_scope,
        recipient_count=resolved.size,
        template_code=item.template,
        sender_id=item.sender_id,
        source=item.source,
        created_at=clock.now(),
        expires_at=checked.expires_at,
    )
    notification = Notification(**values)
    notification.id = (await on_connection(session, _INSERT_NOTIFICATION, values)).scalar_one()
    ids = resolved.person_ids
    for start in range(0, len(ids), RECIPIENT_BATCH):
        await on_connection(
            session,
            _INSERT_RECIPIENTS,
            [
                {"notification_id": notification.id, "person_id": pid, "read_at": None}
                for pid in ids[start : start + RECIPIENT_BATCH]
            ],
        )
    planned = not resolved.broadcast and len(ids) <= PLAN_WITH_NOTIFICATION
    if planned:
        await _plan_deliveries(session, runtime, notification, sorted(ids))
    await emit(
        session,
        events.NOTIFICATION_SENT,
        events.NotificationSent(
            notification_id=notification.id,
            category=notification.category,
            priority=notification.priority,
            broadcast=notification.broadcast,
            recipient_count=notification.recipient_count,
            sender_id=notification.sender_id,
            source=notification.source,
            deliveries_planned=planned,
        ),
    )
    audit.record(
        session,
        "messaging.notify",
        "notification",
        notification.id,
        after={
            "title": notification.title,
            "category": notification.category,
            "priority": notification.priority,
            "broadcast": notification.broadcast,
            "recipients": notification.recipient_count,
        },
    )
    frame = live_frame(notification)
    live.push_after_commit(session, runtime, None if resolved.broadcast else ids, frame)
    return notification.id


async def notify(session: AsyncSession, runtime: Runtime, item: NotificationIn) -> int:
    """Store and deliver; a notification with the same ``source`` is delivered once."""
    found = await existing_by_source(session, item.source)
    if found is not None:
        return found
    return await do_notify(session, runtime, await check_notification(session, item))


# ---------------------------------------------------------------- reading


async def _push_unread(session: AsyncSession, runtime: Runtime, reader: Reader) -> None:
    """Tell the reader's other tabs the new unread count, once the transaction commits."""
    await session.flush()
    count = await queries.unread_count(session, reader)
    live.push_after_commit(
        session, runtime, [reader.person_id], {"type": "notification.read", "unread": count}
    )


async def do_mark_read(
    session: AsyncSession, runtime: Runtime, reader: Reader, notification_id: int
) -> bool:
    """Mark one notification of the reader's inbox read; False when it already was."""
    found = await queries.for_reader(session, reader, notification_id)
    if found is None:
        raise NotFound(_("通知 {id} 不存在", id=notification_id))
    notification, read_at = found
    if read_at is not None:
        return False
    now = clock.now()
    if notification.broadcast:
        row = {"notification_id": notification_id, "person_id": reader.person_id, "read_at": now}
        await insert_ignore(session, BroadcastRead, [row])
    else:
        await session.execute(
            update(Recipient)
            .where(
                Recipient.notification_id == notification_id,
                Recipient.person_id == reader.person_id,
                Recipient.read_at.is_(None),
            )
            .values(read_at=now)
        )
    await emit(
        session,
        events.NOTIFICATION_READ,
        events.NotificationRead(notification_id=notification_id, person_id=reader.person_id),
    )
    await _push_unread(session, runtime, reader)
    return True


async def do_mark_all_read(session: AsyncSession, runtime: Runtime, reader: Reader) -> int:
    now = clock.now()
    wide = await queries.unread_broadcast_ids(session, reader)
    if wide:
        rows = [{"notification_id": n, "person_id": reader.person_id, "read_at": now} for n in wide]
        await insert_ignore(session, BroadcastRead, rows)
    result = await session.execute(
        update(Recipient)
        .where(Recipient.person_id == reader.person_id, Recipient.read_at.is_(None))
        .values(read_at=now)
    )
    count = len(wide) + int(getattr(result, "rowcount", 0) or 0)
    if count:
        await emit(
            session,
            events.INBOX_READ_ALL,
            events.InboxReadAll(person_id=reader.person_id, count=count),
        )
        await _push_unread(session, runtime, reader)
    return count


# ---------------------------------------------------------------- preferences


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


async def do_save_preferences(session: AsyncSession, person_id: int, body: PreferencesIn) -> None:
    seen: set[str] = set()
    for index, choice in enumerate(body.channels):
        if choice.category in seen:
            raise InvalidInput.on(f"channels.{index}.category", _("分类重复"))
        seen.add(choice.category)
    for choice in body.channels:
        await session.merge(
            ChannelPreference(
                person_id=person_id,
                category=choice.category,
                email=choice.email,
                sms=choice.sms,
                wecom=choice.wecom,
            )
        )
    if body.quiet_hours is not None:
        q = body.quiet_hours
        await session.merge(
            QuietHours(
                person_id=person_id,
                enabled=q.enabled,
                start_minute=_minutes(q.start),
                end_minute=_minutes(q.end),
            )
        )
    audit.record(
        session,
        "messaging.preferences",
        "person",
        person_id,
        after=body.model_dump(mode="json"),
    )


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the person's quiet period that ``now`` falls in ends (UTC), or None if it does not."""
    if quiet is None or not quiet.enabled or quiet.start_minute == quiet.end_minute:
        return None
    local = now.astimezone(CHINA)
    minute = local.hour * 60 + local.minute
    start, end = quiet.start_minute, quiet.end_minute
    ends_today = datetime.combine(local.date(), time(end // 60, end % 60), CHINA)
    if start < end:
        inside = start <= minute < end
        until = ends_today
    else:  # over midnight, e.g. 22:00–07:00
        inside = minute >= start or minute < end
        until = ends_today if minute < end else ends_today + timedelta(days=1)
    return until.astimezone(UTC) if inside else None


# ---------------------------------------------------------------- templates


def _check_template_text(body: TemplateIn) -> None:
    declared = set(body.variables)
    errors = [
        FieldError(field, _("使用了未声明的变量：{names}", names="、".join(sorted(unknown))))
        for field, text in (("title", body.title), ("body", body.body))
        if (unknown := placeholders(text) - declared)
    ]
    if errors:
        raise InvalidInput(_("模板变量有误"), errors=errors)


async def check_save_template(
    session: AsyncSession, body: TemplateIn, template_id: int | None
) -> Template:
    _check_template_text(body)
    same_code = await queries.template_by_code(session, body.code)
    if same_code is not None and same_code.id != template_id:
        raise Conflict.on("code", _("模板代码“{code}”已被使用", code=body.code))
    if template_id is None:
        return Template(builtin=False)
    template = await session.get(Template, template_id)
    if template is None:
        raise NotFound(_("模板 {id} 不存在", id=template_id))
    if template.builtin and template.code != body.code:
        raise InvalidInput.on("code", _("内置模板的代码不能修改"))
    return template


async def do_save_template(
    session: AsyncSession, template: Template, body: TemplateIn, actor_id: int | None
) -> Template:
    before = _template_state(template) if template.id else None
    for key, value in body.model_dump().items():
        setattr(template, key, value)
    template.updated_at = clock.now()
    template.updated_by = actor_id
    session.add(template)
    await session.flush()
    session.info.pop(_TEMPLATES, None)
    audit.record(
        session,
        "messaging.template.save",
        "template",
        template.id,
        before=before,
        after=_template_state(template),
    )
    return template


def _template_state(template: Template) -> dict[str, Any]:
    return {
        "code": template.code,
        "name": template.name,
        "title": template.title,
        "variables": list(template.variables or []),
    }


async def check_delete_template(session: AsyncSession, template_id: int) -> Template:
    template = await session.get(Template, template_id)
    if template is None:
        raise NotFound(_("模板 {id} 不存在", id=template_id))
    if template.builtin:
        raise Conflict(_("内置模板不能删除（其他模块用它发送通知）"))
    return template


async def do_delete_template(session: AsyncSession, template: Template) -> None:
    before = _template_state(template)
    await session.execute(delete(Template).where(Template.id == template.id))
    session.info.pop(_TEMPLATES, None)
    audit.record(session, "messaging.template.delete", "template", template.id, before=before)


# ---------------------------------------------------------------- external deliveries

SENDING_LEASE = timedelta(minutes=5)


async def _preferred(
    session: AsyncSession,
    notification: Notification,
    available: set[str],
    recipients: list[int] | None,
) -> dict[int, set[str]]:
    """Who gets which external channels: everyone of the audience on every channel for an
    emergency; otherwise each person's choice for the category (the category's default when
    they have not chosen; campus-wide notices only to those who chose). ``recipients`` are a
    targeted notification's people when the caller knows them already."""
    scope_types = audiences.person_types(
        [] if notification.person_scope == "all" else [notification.person_scope]
    )
    if notification.broadcast:
        if notification.priority == "emergency":
            people = await users.person_ids_of_types(session, scope_types)
            return {pid: set(available) for pid in people}
        chosen = await queries.channel_choices(session, notification.category, None)
        if scope_types:
            keep = set(await users.people_of_types(session, sorted(chosen), scope_types))
            chosen = {pid: c for pid, c in chosen.items() if pid in keep}
        return {pid: c & available for pid, c in chosen.items() if c & available}
    people = (
        recipients
        if recipients is not None
        else await queries.recipient_ids(session, notification.id)
    )
    if notification.priority == "emergency":
        return {pid: set(available) for pid in people}
    chosen = await queries.channel_choices(session, notification.category, people)
    default = set(DEFAULT_CHANNELS.get(notification.category, frozenset()))
    wanted = {pid: chosen.get(pid, default) & available for pid in people}
    return {pid: c for pid, c in wanted.items() if c}


async def do_plan_deliveries(session: AsyncSession, runtime: Runtime, notification_id: int) -> int:
    """Queue the external sends of a notification (held in quiet hours, skipped without an
    address); returns how many rows it wrote. Planned once: a second call writes nothing."""
    notification = await session.get(Notification, notification_id)
    if notification is None or await queries.has_deliveries(session, notification_id):
        return 0
    return await _plan_deliveries(session, runtime, notification, None)


async def _plan_deliveries(
    session: AsyncSession,
    runtime: Runtime,
    notification: Notification,
    recipients: list[int] | None,
) -> int:
    adapters = channels.adapters(runtime.settings)
    wanted = await _preferred(session, notification, set(adapters), recipients)
    if not wanted:
        return 0
    people = sorted(wanted)
    contacts = await users.contacts_of(session, people)
    quiet = (
        {}
        if notification.priority == "emergency"
        else await queries.quiet_hours_of(session, people)
    )
    message = channels.outgoing(
        notification.title, notification.body, notification.link, str(runtime.settings.site_name)
    )
    now = clock.now()
    rows: list[dict[str, Any]] = []
    for pid in people:
        contact = contacts.get(pid)
        held_until = quiet_until(quiet.get(pid), now)
        for channel in sorted(wanted[pid]):
            adapter = adapters[channel]
            address = adapter.address_of(contact) if contact else None
            status = "skipped" if not address else "held" if held_until else "queued"
            rows.append(
                {
                    "notification_id": notification.id,
                    "person_id": pid,
                    "channel": channel,
                    "adapter": adapter.adapter,
                    "address": address or "",
                    "status": status,
                    "content": f"{message.subject}\n{message.text}",
                    "attempts": 0,
                    "last_error": None if address else storable(_("没有可用的地址")),
                    "due_at": held_until or now,
                    "created_at": now,
                }
            )
    for start in range(0, len(rows), RECIPIENT_BATCH):
        await on_connection(session, _INSERT_DELIVERIES, rows[start : start + RECIPIENT_BATCH])
    return len(rows)


async def do_claim_due(session: AsyncSession, limit: int) -> list[Delivery]:
    """Take up to ``limit`` due sends (queued, held past their quiet hours, or left sending
    by a worker that died) and lease them, so that no other worker takes them meanwhile."""
    now = clock.now()
    due = await queries.due_deliveries(session, now, limit)
    for delivery in due:
        delivery.status = "sending"
        delivery.due_at = now + SENDING_LEASE
    await session.flush()
    return due


def record_outcome(
    delivery: Delivery, error: str | None, max_attempts: int, retry_seconds: float
) -> None:
    """Sent, or failed for good after ``max_attempts``, or queued again with a backoff."""
    now = clock.now()
    delivery.attempts += 1
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", now, None
        return
    delivery.last_error = error[:500]
    if delivery.attempts >= max_attempts:
        delivery.status = "failed"
        return
    delivery.status = "queued"
    delivery.due_at = now + timedelta(seconds=retry_seconds * 2 ** (delivery.attempts - 1))


async def do_record_outcomes(
    session: AsyncSession,
    outcomes: dict[int, str | None],
    max_attempts: int,
    retry_seconds: float,
) -> None:
    rows = await session.scalars(select(Delivery).where(Delivery.id.in_(list(outcomes))))
    for delivery in rows:
        record_outcome(delivery, outcomes[delivery.id], max_attempts, retry_seconds)
