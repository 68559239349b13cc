"""Pages of schedules: the calendar (month and week), one event with its invitations and the
answer form, the event editor with the conflict check."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import labels
from campus.domains.oa.pages import common
from campus.domains.oa.permissions import MEETING_INVITE_ORG
from campus.domains.oa.schedules import actions, queries, views
from campus.domains.oa.schedules.access import access_event
from campus.domains.oa.schemas import AnswerIn, EventCreate, EventUpdate, Invitees, OrgInvite
from campus.kernel import clock
from campus.kernel.clock import CHINA, fmt, local, start_of_day, today
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput, Problem
from campus.kernel.i18n import _
from campus.kernel.templating import errors_of, errors_of_validation, flash, render
from campus.platform.access import service as access
from campus.platform.access.service import signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["oa-pages"])
UPCOMING_DAYS = 7


@router.get("/oa/schedule")
async def schedule_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    view: Annotated[str, Query(pattern="^(month|week)$")] = "month",
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    shown: views.View = "week" if view == "week" else "month"
    anchor = day or today()
    first, end = views.bounds(shown, anchor)
    items = await queries.calendar(
        session, principal.person_id, start_of_day(first), start_of_day(end)
    )
    now = clock.now()
    upcoming = await queries.calendar(
        session, principal.person_id, now, now + timedelta(days=UPCOMING_DAYS)
    )
    return render(
        request,
        "oa/schedule.html",
        view=shown,
        anchor=anchor,
        weeks=views.grid(shown, anchor, today(), items),
        weekdays=views.WEEKDAYS,
        previous=views.step(shown, anchor, forward=False),
        following=views.step(shown, anchor, forward=True),
        upcoming=[i for i in upcoming if not i.cancelled],
        invitations=await queries.invitations_of(
            session, principal.person_id, since=now, pending_only=True
        ),
        reminders=await queries.reminders_sent(session, principal.person_id, now),
        **common(),
    )


# ---------------------------------------------------------------- one event


@router.get("/oa/events/{event_id}")
async def event_page(
    request: Request,
    event_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    event = await access_event(session, principal, event_id)
    out = await queries.event_out(session, event, principal.person_id)
    busy: dict[int, Any] = {}
    if out.mine and out.invitations and not out.cancelled:
        busy = await queries.busy(
            session,
            [i.person_id for i in out.invitations if i.response != "declined"],
            event.starts_at,
            event.ends_at,
            exclude_event_id=event.id,
        )
    return render(
        request,
        "oa/event.html",
        event=out,
        last_day=fmt(event.ends_at - timedelta(days=1), "%Y-%m-%d") if event.all_day else None,
        busy=busy,
        may_invite_org=principal.can(MEETING_INVITE_ORG),
        units=await _invitable_units(session, principal),
        **common(),
    )


@router.post("/oa/events/{event_id}/answer")
async def answer_submit(
    request: Request,
    event_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    response_: Annotated[str, Form(alias="response", max_length=20)] = "",
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    redirect = RedirectResponse(f"/oa/events/{event_id}", status_code=303)
    try:
        body = AnswerIn.model_validate({"response": response_, "reason": reason})
        await actions.check_answer(session, principal, event_id, body)
    except ValidationError as exc:
        flash(request, redirect, "；".join(errors_of_validation(exc).values()), "danger")
        return redirect
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, redirect, "；".join(errors_of(problem).values()), "danger")
        return redirect
    flash(request, redirect, _("已回复：{answer}", answer=_(labels.RESPONSE_LABELS[body.response])))
    return redirect


@router.post("/oa/events/{event_id}/cancel")
async def cancel_submit(
    request: Request,
    event_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    await actions.check_cancel(session, principal, event_id, reason.strip())
    redirect = RedirectResponse(f"/oa/events/{event_id}", status_code=303)
    flash(request, redirect, _("日程已取消"))
    return redirect


@router.post("/oa/events/{event_id}/invite")
async def invite_submit(
    request: Request,
    event_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    invitee: Annotated[list[int] | None, Form()] = None,
    invite_org: Annotated[list[str] | None, Form()] = None,
) -> Response:
    redirect = RedirectResponse(f"/oa/events/{event_id}", status_code=303)
    try:
        conflicts = await actions.check_add_invitees(
            session, principal, event_id, _invitees(invitee, invite_org)
        )
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, redirect, "；".join(errors_of(problem).values()), "danger")
        return redirect
    flash(request, redirect, _conflict_message(len(conflicts)))
    return redirect


def _conflict_message(count: int) -> str:
    if count:
        return str(_("邀请已发出；其中 {n} 人在该时段已有安排", n=count))
    return str(_("邀请已发出"))


# ---------------------------------------------------------------- the editor


async def _invitable_units(session: AsyncSession, principal: Principal) -> list[Any]:
    if not principal.can(MEETING_INVITE_ORG):
        return []
    directory = await users.org_directory(session)
    return [
        row
        for row in directory.ordered()
        if access.allows(principal, MEETING_INVITE_ORG, directory.path(row[0]))
    ]


def _invitees(person_ids: list[int] | None, orgs: list[str] | None) -> Invitees:
    units = []
    for value in orgs or []:
        unit, _sep, subtree = value.partition(":")
        if unit.isdigit():
            units.append(OrgInvite(id=int(unit), subtree=subtree != "0"))
    return Invitees(people=list(dict.fromkeys(person_ids or [])), org_units=units)


def _instant(day: str, time: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(f"{day}T{time or '00:00'}").replace(tzinfo=CHINA)
    except ValueError:
        raise InvalidInput.on(field, _("日期或时间格式不正确")) from None


class EventForm:
    """The editor's fields (dates and times apart, as the browser's pickers give them)."""

    def __init__(
        self,
        title: Annotated[str, Form(max_length=400)] = "",
        place: Annotated[str, Form(max_length=400)] = "",
        notes: Annotated[str, Form(max_length=5_000)] = "",
        start_date: Annotated[str, Form(max_length=10)] = "",
        start_time: Annotated[str, Form(max_length=8)] = "",
        end_date: Annotated[str, Form(max_length=10)] = "",
        end_time: Annotated[str, Form(max_length=8)] = "",
        all_day: Annotated[str | None, Form(max_length=2)] = None,
        reminder: Annotated[str, Form(max_length=6)] = "",
        invitee: Annotated[list[int] | None, Form()] = None,
        invite_org: Annotated[list[str] | None, Form()] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "title": title,
            "place": place,
            "notes": notes,
            "start_date": start_date,
            "start_time": start_time,
            "end_date": end_date or start_date,
            "end_time": end_time,
            "all_day": bool(all_day),
            "reminder": reminder,
            "invitees": list(dict.fromkeys(invitee or [])),
            "orgs": invite_org or [],
        }

    def fields(self) -> dict[str, Any]:
        v = self.values
        return {
            "title": v["title"],
            "place": v["place"],
            "notes": v["notes"],
            "starts_at": _instant(v["start_date"], v["start_time"], "starts_at"),
            "ends_at": _instant(v["end_date"], v["end_time"], "ends_at"),
            "all_day": v["all_day"],
            "reminder_minutes": int(v["reminder"]) if v["reminder"].isdigit() else None,
        }

    def invitees(self) -> Invitees:
        return _invitees(self.values["invitees"], self.values["orgs"])


async def _editor(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    event_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    chosen = await users.get_people(session, values["invitees"])
    errors = errors or {}
    return render(
        request,
        "oa/event_form.html",
        422 if errors else 200,
        event_id=event_id,
        values=values,
        errors=errors,
        invitee_error=next(
            (v for k, v in sorted(errors.items()) if k.startswith("invitees")), None
        ),
        chosen=[{"id": p.id, "name": p.name, "number": p.number or ""} for p in chosen.values()],
        units=await _invitable_units(session, principal),
        reminder_choices=labels.REMINDER_CHOICES,
        **common(),
    )


@router.get("/oa/schedule/new")
async def new_event_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    start = day or today()
    values = {
        "title": "",
        "place": "",
        "notes": "",
        "start_date": start.isoformat(),
        "start_time": "09:00",
        "end_date": start.isoformat(),
        "end_time": "10:00",
        "all_day": False,
        "reminder": "15",
        "invitees": [],
        "orgs": [],
    }
    return await _editor(request, session, principal, event_id=None, values=values)


@router.post("/oa/schedule/new")
async def new_event_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    form: Annotated[EventForm, Depends()],
) -> Response:
    try:
        body = EventCreate(**form.fields(), invitees=form.invitees())
        created = await actions.check_create_event(session, principal, body)
    except ValidationError as exc:
        return await _editor(
            request,
            session,
            principal,
            event_id=None,
            values=form.values,
            errors=errors_of_validation(exc),
        )
    except Problem as problem:
        if problem.status == 404:
            raise
        return await _editor(
            request,
            session,
            principal,
            event_id=None,
            values=form.values,
            errors=errors_of(problem),
        )
    redirect = RedirectResponse(f"/oa/events/{created.event_id}", status_code=303)
    invited = bool(form.values["invitees"] or form.values["orgs"])
    message = _conflict_message(len(created.conflicts)) if invited else str(_("日程已保存"))
    flash(request, redirect, message)
    return redirect


@router.get("/oa/events/{event_id}/edit")
async def edit_event_page(
    request: Request,
    event_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    event = await access_event(session, principal, event_id)
    if event.owner_id != principal.person_id or event.cancelled_at is not None:
        return RedirectResponse(f"/oa/events/{event_id}", status_code=303)
    start, end = local(event.starts_at), local(event.ends_at)
    if event.all_day:
        end = end - timedelta(days=1)
    values = {
        "title": event.title,
        "place": event.place,
        "notes": event.notes,
        "start_date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_date": end.date().isoformat(),
        "end_time": end.strftime("%H:%M"),
        "all_day": event.all_day,
        "reminder": "" if event.reminder_minutes is None else str(event.reminder_minutes),
        "invitees": [],
        "orgs": [],
    }
    return await _editor(request, session, principal, event_id=event_id, values=values)


@router.post("/oa/events/{event_id}/edit")
async def edit_event_submit(
    request: Request,
    event_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    form: Annotated[EventForm, Depends()],
) -> Response:
    try:
        body = EventUpdate(**form.fields())
        await actions.check_update_event(session, principal, event_id, body)
    except ValidationError as exc:
        return await _editor(
            request,
            session,
            principal,
            event_id=event_id,
            values=form.values,
            errors=errors_of_validation(exc),
        )
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await _editor(
            request,
            session,
            principal,
            event_id=event_id,
            values=form.values,
            errors=errors_of(problem),
        )
    redirect = RedirectResponse(f"/oa/events/{event_id}", status_code=303)
    flash(request, redirect, _("日程已保存"))
    return redirect


@router.post("/oa/schedule/conflicts")
async def conflicts_partial(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    form: Annotated[EventForm, Depends()],
    event_id: Annotated[int | None, Form()] = None,
) -> Response:
    """Who of the invitees is busy at the chosen time (htmx, from the editor)."""
    try:
        fields = form.fields()
        span = actions.check_span(fields["starts_at"], fields["ends_at"], fields["all_day"])
        invited = await actions.check_invitees(
            session, principal, form.invitees(), principal.person_id
        )
        conflicts = await actions.conflicts_of(session, invited, span, exclude_event_id=event_id)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return render(
            request, "oa/partials/conflicts.html", error="；".join(errors_of(problem).values())
        )
    return render(
        request,
        "oa/partials/conflicts.html",
        conflicts=conflicts,
        checked=len(invited),
        **common(),
    )
