"""JSON API of schedules: /api/v1/oa/schedule, /events, /invitations. Every signed-in person
keeps a schedule; only organisers change their events, only invitees answer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from campus.domains.oa.schedules import actions, ical, queries
from campus.domains.oa.schedules.access import access_event
from campus.domains.oa.schemas import (
    AnswerIn,
    CalendarItem,
    CancelIn,
    ConflictOut,
    ConflictQuery,
    EventCreate,
    EventOut,
    EventSaved,
    EventUpdate,
    InvitationItem,
    Invitees,
    UpcomingReminder,
)
from campus.kernel import clock
from campus.kernel.clock import start_of_day, today
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput
from campus.kernel.i18n import _
from campus.platform.access.service import signed_in

router = APIRouter(prefix="/api/v1/oa", tags=["oa"])

MAX_RANGE_DAYS = 92
# What the iCal feed holds: the recent past and the year ahead.
ICAL_PAST_DAYS = 90
ICAL_FUTURE_DAYS = 366


@router.get("/schedule", response_model=list[CalendarItem], summary="我的日程（时间段内）")
async def my_schedule(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    start: Annotated[date | None, Query(description="起始日期（含），默认今天")] = None,
    end: Annotated[date | None, Query(description="结束日期（含），默认起始后 7 天")] = None,
) -> list[CalendarItem]:
    first = start or today()
    last = end or first + timedelta(days=6)
    if last < first:
        raise InvalidInput.on("end", _("结束日期不能早于起始日期"))
    if (last - first).days > MAX_RANGE_DAYS:
        raise InvalidInput.on("end", _("一次最多查询 {n} 天", n=MAX_RANGE_DAYS))
    window = (start_of_day(first), start_of_day(last + timedelta(days=1)))
    return await queries.calendar(session, principal.person_id, *window)


@router.get("/schedule.ics", summary="导出我的日程（iCalendar）")
async def my_schedule_ics(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    now = clock.now()
    items = await queries.calendar(
        session,
        principal.person_id,
        now - timedelta(days=ICAL_PAST_DAYS),
        now + timedelta(days=ICAL_FUTURE_DAYS),
    )
    data = ical.export(items, f"{principal.name}的日程", request.url.hostname or "campus")
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="schedule.ics"'},
    )


@router.get(
    "/reminders", response_model=list[UpcomingReminder], summary="已到期的提醒（日程未结束的）"
)
async def my_reminders(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[UpcomingReminder]:
    return await queries.reminders_sent(session, principal.person_id, clock.now())


@router.post("/events", response_model=EventSaved, status_code=201, summary="新建日程或会议")
async def create_event(
    body: EventCreate, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> EventSaved:
    created = await actions.check_create_event(session, principal, body)
    event = await access_event(session, principal, created.event_id)
    return EventSaved(
        event=await queries.event_out(session, event, principal.person_id),
        conflicts=created.conflicts,
    )


@router.post(
    "/events/conflicts",
    response_model=list[ConflictOut],
    summary="邀请前查看受邀人在该时段是否有安排",
)
async def check_conflicts(
    body: ConflictQuery, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[ConflictOut]:
    span = actions.check_span(body.starts_at, body.ends_at, body.all_day)
    invited = await actions.check_invitees(session, principal, body.invitees, principal.person_id)
    return await actions.conflicts_of(session, invited, span, exclude_event_id=body.event_id)


@router.get("/events/{event_id}", response_model=EventOut, summary="日程详情")
async def get_event(
    event_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> EventOut:
    event = await access_event(session, principal, event_id)
    return await queries.event_out(session, event, principal.person_id)


@router.patch("/events/{event_id}", response_model=EventOut, summary="修改日程（组织者）")
async def update_event(
    event_id: int,
    body: EventUpdate,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> EventOut:
    await actions.check_update_event(session, principal, event_id, body)
    event = await access_event(session, principal, event_id)
    return await queries.event_out(session, event, principal.person_id)


@router.post(
    "/events/{event_id}/invitees", response_model=EventSaved, summary="追加受邀人（组织者）"
)
async def add_invitees(
    event_id: int,
    body: Invitees,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> EventSaved:
    conflicts = await actions.check_add_invitees(session, principal, event_id, body)
    event = await access_event(session, principal, event_id)
    return EventSaved(
        event=await queries.event_out(session, event, principal.person_id), conflicts=conflicts
    )


@router.post("/events/{event_id}/cancel", response_model=EventOut, summary="取消日程（组织者）")
async def cancel_event(
    event_id: int,
    body: CancelIn,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> EventOut:
    await actions.check_cancel(session, principal, event_id, body.reason)
    event = await access_event(session, principal, event_id)
    return await queries.event_out(session, event, principal.person_id)


@router.post(
    "/events/{event_id}/answer",
    response_model=EventOut,
    summary="回复会议邀请：接受、拒绝（需说明原因）或待定",
)
async def answer_invitation(
    event_id: int,
    body: AnswerIn,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> EventOut:
    await actions.check_answer(session, principal, event_id, body)
    event = await access_event(session, principal, event_id)
    return await queries.event_out(session, event, principal.person_id)


@router.get("/invitations", response_model=list[InvitationItem], summary="我收到的会议邀请")
async def my_invitations(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    pending: Annotated[bool, Query(description="只看待回复的")] = False,
) -> list[InvitationItem]:
    since: datetime = clock.now()
    return await queries.invitations_of(
        session, principal.person_id, since=since, pending_only=pending
    )
