"""Pages of the academic calendar: the calendar everyone signed in reads (校历), and the
registrar's pages to keep terms, holidays and the period grid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar import actions, queries
from campus.domains.academic.calendar.models import Term
from campus.domains.academic.permissions import CALENDAR_MANAGE
from campus.domains.academic.schemas import PeriodIn, TermCreate, TermDayIn, TermDayOut, TermUpdate
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import flash, form_errors, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-pages"])
MANAGE = require(CALENDAR_MANAGE)
Text = Annotated[str, Form(max_length=60)]


def labels() -> dict[str, Any]:
    return {
        "weekdays": queries.WEEKDAY_LABELS,
        "parts": queries.PART_LABELS,
        "seasons": queries.SEASON_NAMES,
    }


@dataclass(frozen=True)
class DayGroup:
    """Consecutive holidays of one name (国庆节 10-01 至 10-07), or one make-up day."""

    first: date
    last: date
    kind: str
    name: str
    as_weekday: int | None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def day_groups(days: Sequence[TermDayOut]) -> list[DayGroup]:
    groups: list[DayGroup] = []
    for d in sorted(days, key=lambda d: d.day):
        last = groups[-1] if groups else None
        if (
            last is not None
            and d.kind == "holiday" == last.kind
            and d.name == last.name
            and d.day == last.last + timedelta(days=1)
        ):
            groups[-1] = DayGroup(last.first, d.day, last.kind, last.name, None)
        else:
            groups.append(DayGroup(d.day, d.day, d.kind, d.name, d.as_weekday))
    return groups


@router.get("/academic/calendar")
async def calendar_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int | None = None,
) -> Response:
    terms = await queries.terms(session)
    term: Term | None
    if term_id is not None:
        term = await queries.term_or_404(session, term_id)
    else:
        term = await queries.current_term(session) or (terms[0] if terms else None)
    calendar = await queries.calendar(session, term) if term else None
    grid = queries.grid_of(term.id, await queries.periods(session, term.id)) if term else None
    return render(
        request,
        "academic/calendar/calendar.html",
        terms=terms,
        term=term,
        calendar=calendar,
        grid=grid,
        groups=day_groups(calendar.days) if calendar else [],
        today=clock.today(),
        can_manage=principal.can(CALENDAR_MANAGE),
        **labels(),
    )


# ---------------------------------------------------------------- managing terms


async def _manage(
    request: Request,
    session: AsyncSession,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "academic/calendar/manage.html",
        422 if errors else 200,
        terms=[queries.term_out(t) for t in await queries.terms(session)],
        values=values
        or {
            "weeks": "20",
            "teaching_weeks": "18",
            "exam_week_from": "19",
            "exam_week_to": "20",
            "days_per_week": "5",
        },
        errors=errors,
        **labels(),
    )


@router.get("/academic/calendar/manage", dependencies=[MANAGE])
async def manage_page(request: Request, session: ReadSessionDep) -> Response:
    return await _manage(request, session)


def _fields(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": form.get("name", ""),
        "start_date": form.get("start_date") or None,
        "weeks": form.get("weeks") or None,
        "teaching_weeks": form.get("teaching_weeks") or None,
        "exam_week_from": form.get("exam_week_from") or None,
        "exam_week_to": form.get("exam_week_to") or None,
        "days_per_week": form.get("days_per_week") or 5,
    }


class TermForm:
    def __init__(
        self,
        code: Text = "",
        name: Text = "",
        start_date: Annotated[str, Form(max_length=10)] = "",
        weeks: Annotated[str, Form(max_length=3)] = "",
        teaching_weeks: Annotated[str, Form(max_length=3)] = "",
        exam_week_from: Annotated[str, Form(max_length=3)] = "",
        exam_week_to: Annotated[str, Form(max_length=3)] = "",
        days_per_week: Annotated[str, Form(max_length=1)] = "5",
        current: Annotated[str | None, Form(max_length=2)] = None,
    ) -> None:
        self.values = {
            "code": code.strip(),
            "name": name,
            "start_date": start_date,
            "weeks": weeks,
            "teaching_weeks": teaching_weeks,
            "exam_week_from": exam_week_from,
            "exam_week_to": exam_week_to,
            "days_per_week": days_per_week,
            "current": bool(current),
        }


@router.post("/academic/calendar/terms", dependencies=[MANAGE])
async def create_term_submit(
    request: Request, session: SessionDep, form: Annotated[TermForm, Depends()]
) -> Response:
    try:
        body = TermCreate.model_validate(
            {**_fields(form.values), "code": form.values["code"], "current": form.values["current"]}
        )
        term = await actions.check_create_term(session, body)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _manage(request, session, form.values, errors)
    response = RedirectResponse(f"/academic/calendar/terms/{term.id}", status_code=303)
    flash(request, response, _("学期已创建"))
    return response


async def _term_page(
    request: Request,
    session: AsyncSession,
    term_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    card: str = "",
    day_values: dict[str, Any] | None = None,
    period_rows: list[dict[str, Any]] | None = None,
) -> Response:
    term = await queries.term_or_404(session, term_id)
    out = queries.term_out(term)
    errors = errors or {}
    rows = period_rows
    if rows is None:
        rows = [
            {
                "number": p.number,
                "block": p.block,
                "starts": p.starts.strftime("%H:%M"),
                "ends": p.ends.strftime("%H:%M"),
                "part": p.part,
            }
            for p in await queries.periods(session, term.id)
        ]
    return render(
        request,
        "academic/calendar/term.html",
        422 if errors else 200,
        term=out,
        values=values or {**out.model_dump(), "start_date": out.start_date.isoformat()},
        days=await queries.term_days(session, term.id),
        period_rows=rows,
        other_terms=[t for t in await queries.terms(session) if t.id != term.id],
        day_values=day_values or {"kind": "holiday"},
        errors=errors,
        card=card,
        **labels(),
    )


@router.get("/academic/calendar/terms/{term_id}", dependencies=[MANAGE])
async def term_page(request: Request, term_id: int, session: ReadSessionDep) -> Response:
    return await _term_page(request, session, term_id)


def _back(request: Request, term_id: int, message: Any) -> Response:
    response = RedirectResponse(f"/academic/calendar/terms/{term_id}", status_code=303)
    flash(request, response, message)
    return response


@router.post("/academic/calendar/terms/{term_id}", dependencies=[MANAGE])
async def update_term_submit(
    request: Request, term_id: int, session: SessionDep, form: Annotated[TermForm, Depends()]
) -> Response:
    try:
        body = TermUpdate.model_validate(_fields(form.values))
        await actions.check_update_term(session, term_id, body)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _term_page(
            request, session, term_id, values=form.values, errors=errors, card="term"
        )
    return _back(request, term_id, _("学期已保存"))


@router.post("/academic/calendar/terms/{term_id}/current", dependencies=[MANAGE])
async def set_current_submit(request: Request, term_id: int, session: SessionDep) -> Response:
    term = await actions.check_set_current(session, term_id)
    response = RedirectResponse("/academic/calendar/manage", status_code=303)
    flash(request, response, _("“{name}”已设为当前学期", name=term.name))
    return response


@router.post("/academic/calendar/terms/{term_id}/delete", dependencies=[MANAGE])
async def delete_term_submit(request: Request, term_id: int, session: SessionDep) -> Response:
    try:
        await actions.check_delete_term(session, term_id)
    except Problem as exc:
        if exc.status == 404:
            raise
        await session.rollback()
        response = RedirectResponse("/academic/calendar/manage", status_code=303)
        flash(request, response, str(exc.detail), "danger")
        return response
    response = RedirectResponse("/academic/calendar/manage", status_code=303)
    flash(request, response, _("学期已删除"))
    return response


# ---------------------------------------------------------------- special days


@router.post("/academic/calendar/terms/{term_id}/days", dependencies=[MANAGE])
async def add_day_submit(
    request: Request,
    term_id: int,
    session: SessionDep,
    day: Annotated[str, Form(max_length=10)] = "",
    kind: Annotated[str, Form(max_length=10)] = "holiday",
    name: Annotated[str, Form(max_length=40)] = "",
    as_weekday: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    values = {"day": day, "kind": kind, "name": name, "as_weekday": as_weekday}
    try:
        body = TermDayIn.model_validate(
            {
                "day": day or None,
                "kind": kind,
                "name": name.strip(),
                "as_weekday": as_weekday if as_weekday != "" and kind == "makeup" else None,
            }
        )
        await actions.check_add_day(session, term_id, body)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _term_page(
            request, session, term_id, errors=errors, card="days", day_values=values
        )
    return _back(request, term_id, _("已添加 {d}", d=day))


@router.post("/academic/calendar/terms/{term_id}/days/{day_id}/delete", dependencies=[MANAGE])
async def delete_day_submit(
    request: Request, term_id: int, day_id: int, session: SessionDep
) -> Response:
    await actions.check_delete_day(session, term_id, day_id)
    return _back(request, term_id, _("已删除"))


# ---------------------------------------------------------------- the period grid


def _parse_time(value: str) -> time | str:
    try:
        return time.fromisoformat(value.strip())
    except ValueError:
        return value


@router.post("/academic/calendar/terms/{term_id}/periods", dependencies=[MANAGE])
async def periods_submit(
    request: Request,
    term_id: int,
    session: SessionDep,
    block: Annotated[list[str] | None, Form()] = None,
    starts: Annotated[list[str] | None, Form()] = None,
    ends: Annotated[list[str] | None, Form()] = None,
    part: Annotated[list[str] | None, Form()] = None,
) -> Response:
    rows = [
        {"number": n, "block": b, "starts": s, "ends": e, "part": p}
        for n, (b, s, e, p) in enumerate(
            zip(block or [], starts or [], ends or [], part or [], strict=False), start=1
        )
        if b.strip() or s.strip() or e.strip()
    ]
    try:
        periods = [
            PeriodIn.model_validate(
                {**r, "starts": _parse_time(str(r["starts"])), "ends": _parse_time(str(r["ends"]))}
            )
            for r in rows
        ]
        if not periods:
            raise Problem(_("至少需要一节课"), status=422)
        await actions.check_replace_periods(session, term_id, periods)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _term_page(
            request, session, term_id, errors=errors, card="periods", period_rows=rows
        )
    return _back(request, term_id, _("作息时间已保存"))


@router.post("/academic/calendar/terms/{term_id}/periods/copy", dependencies=[MANAGE])
async def copy_periods_submit(
    request: Request,
    term_id: int,
    session: SessionDep,
    from_term_id: Annotated[int, Form()],
) -> Response:
    try:
        await actions.check_copy_periods(session, term_id, from_term_id)
    except Problem as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _term_page(request, session, term_id, errors=errors, card="periods")
    return _back(request, term_id, _("已复制作息时间"))
