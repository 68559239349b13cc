"""Writes of schedules: events, invitations and their answers, reminders. ``check_*`` validates
(times, invitees, who may do it) before ``do_*`` writes; a refusal changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import events, people
from campus.domains.oa.models import CalendarEvent, Invitation, Reminder
from campus.domains.oa.permissions import MEETING_INVITE_ORG
from campus.domains.oa.schedules import queries
from campus.domains.oa.schedules.access import access_event
from campus.domains.oa.schemas import (
    AnswerIn,
    ConflictOut,
    EventCreate,
    EventUpdate,
    Invitees,
)
from campus.kernel import audit, clock
from campus.kernel.clock import local, start_of_day
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, FieldError, Forbidden, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users

MAX_DURATION = timedelta(days=366)
MAX_INVITED = 500


@dataclass(frozen=True)
class Span:
    starts_at: datetime
    ends_at: datetime
    all_day: bool


def check_span(starts_at: datetime, ends_at: datetime, all_day: bool) -> Span:
    """The event's instants: an all-day event runs from the first day's midnight (China time)
    to the midnight after its last day."""
    if all_day:
        first, last = local(starts_at).date(), local(ends_at).date()
        if last < first:
            raise InvalidInput.on("ends_at", _("结束日期不能早于开始日期"))
        span = Span(start_of_day(first), start_of_day(last + timedelta(days=1)), True)
    else:
        if ends_at <= starts_at:
            raise InvalidInput.on("ends_at", _("结束时间必须晚于开始时间"))
        span = Span(starts_at, ends_at, False)
    if span.ends_at - span.starts_at > MAX_DURATION:
        raise InvalidInput.on("ends_at", _("一个日程最长一年"))
    return span


async def check_invitees(
    session: AsyncSession, principal: Principal, invitees: Invitees, owner_id: int
) -> list[int]:
    """The people invited, each once, the organiser left out; every one must exist, and each
    org unit invited as a whole must be within the organiser's ``oa.meeting.invite_org``."""
    found = await users.get_people(session, sorted(set(invitees.people)))
    errors = [
        FieldError(f"invitees.people.{n}", _("人员 {id} 不存在或已不在校", id=pid))
        for n, pid in enumerate(invitees.people)
        if pid not in found or found[pid].status != "active"
    ]
    if errors:
        raise InvalidInput(_("有受邀人不存在或已不在校"), errors=errors)
    invited: dict[int, None] = dict.fromkeys(invitees.people)
    if invitees.org_units:
        directory = await users.org_directory(session)
        for n, unit in enumerate(invitees.org_units):
            if unit.id not in directory:
                raise InvalidInput.on(f"invitees.org_units.{n}.id", _("单位不存在"))
            units = directory.subtree(unit.id) if unit.subtree else [unit.id]
            if not people.reaches_units(principal, MEETING_INVITE_ORG, units, directory):
                message = _("您不能整体邀请“{unit}”的人员", unit=directory.name(unit.id))
                raise await access.denied(principal, MEETING_INVITE_ORG, message)
            for person in await users.members_of_org(session, unit.id, subtree=unit.subtree):
                invited.setdefault(person.id)
    invited.pop(owner_id, None)
    if len(invited) > MAX_INVITED:
        raise InvalidInput.on(
            "invitees", _("一次最多邀请 {n} 人，当前 {m} 人", n=MAX_INVITED, m=len(invited))
        )
    return list(invited)


async def conflicts_of(
    session: AsyncSession,
    person_ids: list[int],
    span: Span,
    exclude_event_id: int | None = None,
) -> list[ConflictOut]:
    """The people among ``person_ids`` already busy during ``span``."""
    busy = await queries.busy(
        session, person_ids, span.starts_at, span.ends_at, exclude_event_id=exclude_event_id
    )
    names = await users.get_people(session, sorted(busy))
    return [
        ConflictOut(person_id=pid, name=names[pid].name if pid in names else "", busy=slots)
        for pid, slots in sorted(busy.items())
    ]


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Created:
    event_id: int
    conflicts: list[ConflictOut]


async def check_create_event(
    session: AsyncSession, principal: Principal, body: EventCreate
) -> Created:
    span = check_span(body.starts_at, body.ends_at, body.all_day)
    invited = await check_invitees(session, principal, body.invitees, principal.person_id)
    conflicts = await conflicts_of(session, invited, span)
    event_id = await do_create_event(session, principal.person_id, body, span, invited)
    return Created(event_id, conflicts)


async def do_create_event(
    session: AsyncSession, owner_id: int, body: EventCreate, span: Span, invited: list[int]
) -> int:
    now = clock.now()
    event = CalendarEvent(
        owner_id=owner_id,
        title=body.title,
        place=body.place,
        notes=body.notes,
        starts_at=span.starts_at,
        ends_at=span.ends_at,
        all_day=span.all_day,
        reminder_minutes=body.reminder_minutes,
        is_meeting=bool(invited),
        cancel_reason="",
        created_at=now,
        updated_at=now,
    )
    session.add(event)
    await session.flush()
    await _invite(session, event, invited)
    await _set_reminder(session, event, [owner_id])
    audit.record(session, "oa.event.create", "event", event.id, after=_state(event, invited))
    return event.id


def _state(event: CalendarEvent, invited: list[int] | None = None) -> dict[str, Any]:
    state: dict[str, Any] = {
        "title": event.title,
        "place": event.place,
        "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(),
        "all_day": event.all_day,
        "reminder_minutes": event.reminder_minutes,
        "cancelled": event.cancelled_at is not None,
    }
    if invited is not None:
        state["invited"] = invited
    return state


async def _invite(session: AsyncSession, event: CalendarEvent, person_ids: list[int]) -> list[int]:
    """Invitations for those not invited yet; returns who is newly invited."""
    if not person_ids:
        return []
    already = set(
        await session.scalars(
            select(Invitation.person_id).where(
                Invitation.event_id == event.id, Invitation.person_id.in_(person_ids)
            )
        )
    )
    new = [pid for pid in person_ids if pid not in already]
    now = clock.now()
    session.add_all(
        Invitation(event_id=event.id, person_id=pid, response="pending", reason="", invited_at=now)
        for pid in new
    )
    await session.flush()
    if new:
        event.is_meeting = True
        await _set_reminder(session, event, new)
        await emit(
            session,
            events.SCHEDULE_INVITED,
            events.ScheduleInvited(
                event_id=event.id,
                title=event.title,
                place=event.place,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                organiser_id=event.owner_id,
                person_ids=new,
            ),
        )
    return new


async def _set_reminder(session: AsyncSession, event: CalendarEvent, person_ids: list[int]) -> None:
    """A reminder for each of the people, due ``reminder_minutes`` before the start."""
    if event.reminder_minutes is None or not person_ids:
        return
    due = event.starts_at - timedelta(minutes=event.reminder_minutes)
    rows = [{"event_id": event.id, "person_id": pid, "due_at": due} for pid in person_ids]
    await insert_ignore(session, Reminder, rows, ["event_id", "person_id"])


async def _reset_reminders(session: AsyncSession, event: CalendarEvent) -> None:
    """After a change of time or of the reminder: one unsent reminder per person still coming
    (the organiser and every invitee who has not declined), due at the new time."""
    await session.execute(delete(Reminder).where(Reminder.event_id == event.id))
    coming = await session.scalars(
        select(Invitation.person_id).where(
            Invitation.event_id == event.id, Invitation.response != "declined"
        )
    )
    await _set_reminder(session, event, [event.owner_id, *coming])


async def _own_event(session: AsyncSession, principal: Principal, event_id: int) -> CalendarEvent:
    event = await access_event(session, principal, event_id)
    if event.owner_id != principal.person_id:
        raise Forbidden(_("只有组织者可以修改这个日程"))
    if event.cancelled_at is not None:
        raise Conflict(_("这个日程已取消"))
    return event


async def check_update_event(
    session: AsyncSession, principal: Principal, event_id: int, body: EventUpdate
) -> None:
    event = await _own_event(session, principal, event_id)
    given = body.model_dump(exclude_unset=True)
    for key in ("title", "starts_at", "ends_at", "all_day"):
        if key in given and given[key] is None:
            raise InvalidInput.on(key, _("不能为空"))
    all_day = given.get("all_day", event.all_day)
    starts_at = given.get("starts_at", event.starts_at)
    # An all-day event ends at the midnight after its last day: that day is what was meant.
    default_end = event.ends_at - timedelta(days=1) if event.all_day else event.ends_at
    span = check_span(starts_at, given.get("ends_at", default_end), all_day)
    await do_update_event(session, event, given, span)


async def do_update_event(
    session: AsyncSession, event: CalendarEvent, given: dict[str, Any], span: Span
) -> None:
    before = _state(event)
    moved = (span.starts_at, span.ends_at) != (event.starts_at, event.ends_at)
    relocated = "place" in given and given["place"] != event.place
    reminder_changed = "reminder_minutes" in given and (
        given["reminder_minutes"] != event.reminder_minutes
    )
    for key in ("title", "place", "notes", "reminder_minutes"):
        if key in given and (given[key] is not None or key == "reminder_minutes"):
            setattr(event, key, given[key])
    event.starts_at, event.ends_at, event.all_day = span.starts_at, span.ends_at, span.all_day
    event.updated_at = clock.now()
    if moved or reminder_changed:
        await _reset_reminders(session, event)
    audit.record(session, "oa.event.update", "event", event.id, before=before, after=_state(event))
    if event.is_meeting and (moved or relocated):
        coming = await session.scalars(
            select(Invitation.person_id).where(
                Invitation.event_id == event.id, Invitation.response != "declined"
            )
        )
        await emit(
            session,
            events.SCHEDULE_CHANGED,
            events.ScheduleChanged(
                event_id=event.id,
                title=event.title,
                place=event.place,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                person_ids=list(coming),
            ),
        )


async def check_add_invitees(
    session: AsyncSession, principal: Principal, event_id: int, invitees: Invitees
) -> list[ConflictOut]:
    event = await _own_event(session, principal, event_id)
    invited = await check_invitees(session, principal, invitees, event.owner_id)
    if not invited:
        raise InvalidInput.on("invitees", _("请至少选择一位受邀人"))
    span = Span(event.starts_at, event.ends_at, event.all_day)
    conflicts = await conflicts_of(session, invited, span, exclude_event_id=event.id)
    new = await _invite(session, event, invited)
    event.updated_at = clock.now()
    audit.record(session, "oa.event.invite", "event", event.id, after={"invited": new})
    return conflicts


async def check_cancel(
    session: AsyncSession, principal: Principal, event_id: int, reason: str
) -> None:
    event = await _own_event(session, principal, event_id)
    await do_cancel(session, event, reason)


async def do_cancel(session: AsyncSession, event: CalendarEvent, reason: str) -> None:
    before = _state(event)
    event.cancelled_at = clock.now()
    event.cancel_reason = reason
    event.updated_at = event.cancelled_at
    audit.record(session, "oa.event.cancel", "event", event.id, before=before, after=_state(event))
    if event.is_meeting:
        invited = await session.scalars(
            select(Invitation.person_id).where(
                Invitation.event_id == event.id, Invitation.response != "declined"
            )
        )
        await emit(
            session,
            events.SCHEDULE_CANCELLED,
            events.ScheduleCancelled(
                event_id=event.id, title=event.title, reason=reason, person_ids=list(invited)
            ),
        )


# ---------------------------------------------------------------- answers


async def check_answer(
    session: AsyncSession, principal: Principal, event_id: int, body: AnswerIn
) -> None:
    event = await access_event(session, principal, event_id)
    invitation = await queries.invitation_of(session, event.id, principal.person_id)
    if invitation is None:
        raise Forbidden(_("您没有收到这个会议的邀请，不能回复"))
    if event.cancelled_at is not None:
        raise Conflict(_("会议已取消，无需回复"))
    if body.response == "declined" and not body.reason:
        raise InvalidInput.on("reason", _("拒绝时请说明原因"))
    await do_answer(session, event, invitation, body)


async def do_answer(
    session: AsyncSession, event: CalendarEvent, invitation: Invitation, body: AnswerIn
) -> None:
    before = {"response": invitation.response, "reason": invitation.reason}
    invitation.response = body.response
    invitation.reason = body.reason
    invitation.responded_at = clock.now()
    if body.response == "declined":
        await session.execute(
            delete(Reminder).where(
                Reminder.event_id == event.id, Reminder.person_id == invitation.person_id
            )
        )
    else:
        await _set_reminder(session, event, [invitation.person_id])
    audit.record(
        session,
        "oa.event.answer",
        "event",
        event.id,
        before=before,
        after={"response": body.response, "reason": body.reason},
    )
    await emit(
        session,
        events.SCHEDULE_ANSWERED,
        events.ScheduleAnswered(
            event_id=event.id,
            organiser_id=event.owner_id,
            person_id=invitation.person_id,
            response=body.response,
            reason=body.reason,
        ),
    )


# ---------------------------------------------------------------- reminders


async def do_announce_due_reminders(session: AsyncSession, now: datetime | None = None) -> int:
    """Announce every reminder that is due, for an event not cancelled and not over yet.

    Each reminder is claimed by an UPDATE that only an unsent row matches, in the same
    transaction as its event: of two workers (or two runs) racing, exactly one announces it.
    """
    now = now or clock.now()
    due = await session.execute(
        select(Reminder, CalendarEvent)
        .join(CalendarEvent, CalendarEvent.id == Reminder.event_id)
        .where(
            Reminder.sent_at.is_(None),
            Reminder.due_at <= now,
            CalendarEvent.cancelled_at.is_(None),
            CalendarEvent.ends_at > now,
        )
        .order_by(Reminder.due_at, Reminder.id)
        .limit(1000)
    )
    announced = 0
    for reminder, event in due.all():
        claimed: Any = await session.execute(
            update(Reminder)
            .where(Reminder.id == reminder.id, Reminder.sent_at.is_(None))
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        announced += 1
        await emit(
            session,
            events.REMINDER_DUE,
            events.ReminderDue(
                reminder_id=reminder.id,
                event_id=event.id,
                person_id=reminder.person_id,
                title=event.title,
                place=event.place,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                all_day=event.all_day,
                minutes_before=event.reminder_minutes or 0,
            ),
        )
    return announced
