"""Reads of schedules: a person's calendar, their invitations, who is busy when, reminders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.models import CalendarEvent, Invitation, Reminder
from campus.domains.oa.schemas import (
    BusySlot,
    CalendarItem,
    EventOut,
    InvitationItem,
    InvitationOut,
    UpcomingReminder,
)
from campus.platform.users import service as users


async def calendar(
    session: AsyncSession, person_id: int, start: datetime, end: datetime
) -> list[CalendarItem]:
    """The person's events overlapping [start, end): their own, and meetings they are invited
    to and have not declined; cancelled ones are kept (shown struck through)."""
    overlapping = and_(CalendarEvent.starts_at < end, CalendarEvent.ends_at > start)
    own = await session.scalars(
        select(CalendarEvent).where(CalendarEvent.owner_id == person_id, overlapping)
    )
    invited = await session.execute(
        select(CalendarEvent, Invitation.response)
        .join(Invitation, Invitation.event_id == CalendarEvent.id)
        .where(
            Invitation.person_id == person_id,
            Invitation.response != "declined",
            overlapping,
        )
    )
    reminded = await _reminded(session, person_id, start, end)
    items = [_item(e, mine=True, response=None, reminded=reminded) for e in own]
    items += [_item(e, mine=False, response=r, reminded=reminded) for e, r in invited.all()]
    return sorted(items, key=lambda i: (i.starts_at, i.id))


async def _reminded(
    session: AsyncSession, person_id: int, start: datetime, end: datetime
) -> dict[int, datetime]:
    rows = await session.execute(
        select(Reminder.event_id, Reminder.sent_at)
        .join(CalendarEvent, CalendarEvent.id == Reminder.event_id)
        .where(
            Reminder.person_id == person_id,
            Reminder.sent_at.is_not(None),
            CalendarEvent.starts_at < end,
            CalendarEvent.ends_at > start,
        )
    )
    return {event_id: sent_at for event_id, sent_at in rows.all() if sent_at is not None}


def _item(
    event: CalendarEvent, *, mine: bool, response: str | None, reminded: dict[int, datetime]
) -> CalendarItem:
    return CalendarItem(
        id=event.id,
        title=event.title,
        place=event.place,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        all_day=event.all_day,
        is_meeting=event.is_meeting,
        mine=mine,
        response=response,
        cancelled=event.cancelled_at is not None,
        reminded_at=reminded.get(event.id),
    )


async def invitations_of(
    session: AsyncSession, person_id: int, *, since: datetime, pending_only: bool = False
) -> list[InvitationItem]:
    """The person's invitations to meetings that have not ended before ``since``."""
    stmt = (
        select(CalendarEvent, Invitation)
        .join(Invitation, Invitation.event_id == CalendarEvent.id)
        .where(Invitation.person_id == person_id, CalendarEvent.ends_at > since)
        .order_by(CalendarEvent.starts_at, CalendarEvent.id)
    )
    if pending_only:
        stmt = stmt.where(Invitation.response == "pending", CalendarEvent.cancelled_at.is_(None))
    rows = (await session.execute(stmt)).all()
    owners = await users.get_people(session, sorted({e.owner_id for e, _i in rows}))
    return [
        InvitationItem(
            event_id=e.id,
            title=e.title,
            place=e.place,
            starts_at=e.starts_at,
            ends_at=e.ends_at,
            all_day=e.all_day,
            owner_name=owners[e.owner_id].name if e.owner_id in owners else "",
            response=i.response,
            reason=i.reason,
            cancelled=e.cancelled_at is not None,
        )
        for e, i in rows
    ]


async def busy(
    session: AsyncSession,
    person_ids: Iterable[int],
    start: datetime,
    end: datetime,
    *,
    exclude_event_id: int | None = None,
) -> dict[int, list[BusySlot]]:
    """For each of the people busy at some time in [start, end), when: their own events and
    meetings they have not declined, cancelled ones left out."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    live = and_(
        CalendarEvent.cancelled_at.is_(None),
        CalendarEvent.starts_at < end,
        CalendarEvent.ends_at > start,
    )
    if exclude_event_id is not None:
        live = and_(live, CalendarEvent.id != exclude_event_id)
    found: dict[int, list[BusySlot]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        own = await session.execute(
            select(CalendarEvent.owner_id, CalendarEvent.starts_at, CalendarEvent.ends_at).where(
                CalendarEvent.owner_id.in_(chunk), live
            )
        )
        invited = await session.execute(
            select(Invitation.person_id, CalendarEvent.starts_at, CalendarEvent.ends_at)
            .join(CalendarEvent, CalendarEvent.id == Invitation.event_id)
            .where(Invitation.person_id.in_(chunk), Invitation.response != "declined", live)
        )
        for person_id, starts_at, ends_at in [*own.all(), *invited.all()]:
            found.setdefault(person_id, []).append(BusySlot(starts_at=starts_at, ends_at=ends_at))
    for slots in found.values():
        slots.sort(key=lambda s: s.starts_at)
    return found


async def invitations(session: AsyncSession, event_id: int) -> list[Invitation]:
    rows = await session.scalars(
        select(Invitation).where(Invitation.event_id == event_id).order_by(Invitation.id)
    )
    return list(rows)


async def invitation_of(session: AsyncSession, event_id: int, person_id: int) -> Invitation | None:
    found: Invitation | None = await session.scalar(
        select(Invitation).where(Invitation.event_id == event_id, Invitation.person_id == person_id)
    )
    return found


async def event_out(session: AsyncSession, event: CalendarEvent, viewer_id: int) -> EventOut:
    """The event as the viewer sees it: the organiser sees every answer and its reason, an
    invitee sees who else is invited and how they answered."""
    rows = await invitations(session, event.id)
    names = await users.get_people(session, sorted({event.owner_id, *(i.person_id for i in rows)}))
    mine = event.owner_id == viewer_id
    counts: dict[str, int] = {}
    out: list[InvitationOut] = []
    my_response = None
    for invitation in rows:
        counts[invitation.response] = counts.get(invitation.response, 0) + 1
        if invitation.person_id == viewer_id:
            my_response = invitation.response
        person = names.get(invitation.person_id)
        out.append(
            InvitationOut(
                person_id=invitation.person_id,
                name=person.name if person else "",
                response=invitation.response,
                reason=invitation.reason if mine or invitation.person_id == viewer_id else "",
                responded_at=invitation.responded_at,
            )
        )
    owner = names.get(event.owner_id)
    return EventOut(
        id=event.id,
        owner_id=event.owner_id,
        owner_name=owner.name if owner else "",
        title=event.title,
        place=event.place,
        notes=event.notes,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        all_day=event.all_day,
        reminder_minutes=event.reminder_minutes,
        is_meeting=event.is_meeting,
        cancelled=event.cancelled_at is not None,
        cancel_reason=event.cancel_reason,
        mine=mine,
        my_response=my_response,
        invitations=out,
        counts=counts,
    )


async def reminders_sent(
    session: AsyncSession, person_id: int, since: datetime
) -> list[UpcomingReminder]:
    """Reminders announced to the person for events that have not ended before ``since``."""
    rows = await session.execute(
        select(CalendarEvent, Reminder.sent_at)
        .join(Reminder, Reminder.event_id == CalendarEvent.id)
        .where(
            Reminder.person_id == person_id,
            Reminder.sent_at.is_not(None),
            CalendarEvent.ends_at > since,
            CalendarEvent.cancelled_at.is_(None),
        )
        .order_by(CalendarEvent.starts_at)
    )
    return [
        UpcomingReminder(
            event_id=e.id,
            title=e.title,
            place=e.place,
            starts_at=e.starts_at,
            reminded_at=sent_at,
        )
        for e, sent_at in rows.all()
        if sent_at is not None
    ]


def involved(person_id: int) -> object:
    """Events the person owns or is invited to (for listing their schedule)."""
    invited = select(Invitation.event_id).where(Invitation.person_id == person_id)
    return or_(CalendarEvent.owner_id == person_id, CalendarEvent.id.in_(invited))
