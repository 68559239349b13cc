"""Pages of course selection (选课): the students' course search with a 选课 button per section
and their own places with a preview of their week (both phone-friendly), and the registrar's
rounds, the draw of a lottery round and a dashboard per round."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.catalog.actions import credits_text
from campus.domains.academic.offering.models import Section
from campus.domains.academic.offering.schemas import SectionOut
from campus.domains.academic.permissions import SELECTION_MANAGE
from campus.domains.academic.programmes.queries import current_term, term_or_404, terms
from campus.domains.academic.schemas import FilterInt
from campus.domains.academic.selection import actions, facts, queries, queue, rules
from campus.domains.academic.selection.models import Round
from campus.domains.academic.selection.rules import Student
from campus.domains.academic.selection.schemas import (
    HELD,
    PLACES,
    QUEUE_RATE_MAX,
    ROUND_KINDS,
    OfferOut,
    PlaceOut,
    QueueRateIn,
    RoundIn,
)
from campus.domains.academic.timetabling import queries as timetabling
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, is_htmx, render
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-selection-pages"])
Manager = Annotated[Principal, require(SELECTION_MANAGE)]
Reader = Annotated[Principal, signed_in()]
OFFERS_SHOWN = 100  # sections listed at once; the filters narrow a larger term
HOT_SHOWN = 10

# The reasons a selection is refused for (the table in docs/modules/academic-selection.md), as
# the registrar's dashboard names them.
REASONS = {
    "not_in_school": _("不在校"),
    "round_closed": _("不在选课时间"),
    "outside_round": _("不在本轮范围"),
    "not_offered": _("未开放"),
    "restricted": _("限定专业"),
    "gender": _("限定性别"),
    "passed_before": _("已修读通过"),
    "prerequisite": _("先修课未通过"),
    "already": _("已选该班"),
    "same_course": _("已选同课程"),
    "clash": _("时间冲突"),
    "credits": _("超学分上限"),
    "full": _("已满"),
    "in_flight": _("处理中"),
    "no_drop": _("不允许退选"),
}
# What a place in the preview grid is: a class's own section, or one held in selection.
GRID_KINDS = {
    "class": (_("班级课程"), "bg-blue-lt"),
    "selected": (_("已选"), "bg-green-lt"),
    "waitlisted": (_("候补"), "bg-yellow-lt"),
    "preferred": (_("预选"), "bg-yellow-lt"),
}
AdmissionCookie = Annotated[str | None, Cookie(alias=queue.COOKIE, max_length=200)]
GRADES_SPLIT = re.compile(r"[\s,，、]+")
T = TypeVar("T")


def common() -> dict[str, Any]:
    return {
        "fmt": clock.fmt,
        "credits_text": credits_text,
        "place_labels": PLACES,
        "kinds": ROUND_KINDS,
        "weekdays": timetabling.WEEKDAYS,
        "held": HELD,
    }


async def attempt(
    rt: Runtime, act: Callable[[AsyncSession], Awaitable[T]]
) -> tuple[T | None, str | None]:
    """Runs ``act`` in a transaction of its own, so that a refusal (409) gives back all it took,
    rows and seats claimed in the cache alike, before the page shows why: the result, or the
    refusal's sentence."""
    try:
        async with rt.db.transaction(lock_early=True) as session:
            return await act(session), None
    except Conflict as exc:
        return None, str(exc.detail)


def _door(rt: Runtime, cookie: str | None) -> queue.Door:
    return queue.Door(queue.token_of(None, cookie), rt.settings.secret_key)


def to_queue(request: Request, problem: Forbidden) -> Response:
    """A request the queue's door refused: to the queue page, saying why."""
    response = go_to(request, queue.PAGE)
    flash(request, response, str(problem.detail), "warning")
    return response


def at_door(problem: Forbidden) -> bool:
    return "queue" in problem.extra


def new_key() -> str:
    """The idempotency key of one 选课 button, made when the page is drawn: a double click or a
    resubmitted form sends the same key, so it is the same request."""
    return secrets.token_urlsafe(18)


# ---------------------------------------------------------------- the student's side


@dataclass(frozen=True)
class Chooser:
    """Who looks at the selection pages: the student (none for others), their class, the
    round open for them now, and the term shown."""

    student: Student | None
    class_id: int | None
    round: Round | None
    term: Term | None

    @property
    def selecting(self) -> bool:
        """Whether they may ask for sections of the term shown now."""
        return (
            self.student is not None
            and self.round is not None
            and self.term is not None
            and self.round.term_id == self.term.id
        )

    def may_drop(self, place: PlaceOut) -> bool:
        return (
            self.selecting
            and place.status in HELD
            and (place.status != "selected" or (self.round is not None and self.round.drop_allowed))
        )


async def chooser_of(
    session: AsyncSession, principal: Principal, term_id: int | None = None
) -> Chooser:
    found = await queries.student_of(session, principal.person_id)
    student, class_id = found if found is not None else (None, None)
    if student is not None:
        student = await facts.with_gender(session, student)
    open_now = await queries.open_round(session, student, clock.now())
    if term_id is not None:
        term: Term | None = await term_or_404(session, term_id)
    elif open_now is not None:
        term = await term_or_404(session, open_now.term_id)
    else:
        term = await current_term(session)
    return Chooser(student, class_id, open_now, term)


@dataclass(frozen=True)
class OfferRow:
    """One section of the search, with its lectures, my place in it and its button's key; a
    refusal of my last request for it, if any."""

    offer: OfferOut
    lectures: list[queries.Lecture]
    place: PlaceOut | None
    key: str
    error: str | None = None
    barred: str | None = None  # why the section is not open to me (major, grade, gender)


def barred(chooser: Chooser, section: SectionOut) -> str | None:
    """Why the section is shut to the student looking (the rules' sentence), if it is."""
    if chooser.student is None:
        return None
    majors = tuple((m.org_unit_id, m.grade) for m in section.majors)
    refusal = rules.barring(majors, section.gender, chooser.student)
    return refusal.message if refusal is not None else None


async def offer_rows(
    session: AsyncSession,
    principal: Principal,
    chooser: Chooser,
    offers: list[OfferOut],
    *,
    key: str | None = None,
    error: str | None = None,
) -> list[OfferRow]:
    lectures = await queries.lectures_of(session, [o.section.id for o in offers])
    mine: dict[int, PlaceOut] = {}
    if chooser.term is not None:
        places = await queries.places_of(session, principal.person_id, chooser.term.id)
        mine = {p.section_id: p for p in places}
    return [
        OfferRow(
            o,
            lectures.get(o.section.id, []),
            mine.get(o.section.id),
            key or new_key(),
            error,
            barred(chooser, o.section),
        )
        for o in offers
    ]


@router.get("/academic/selection")
async def search_page(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Reader,
    term_id: FilterInt = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    college_id: FilterInt = None,
    admission: AdmissionCookie = None,
) -> Response:
    chooser = await chooser_of(session, principal, term_id)
    if chooser.selecting and chooser.round is not None and chooser.round.queue_rate:
        # A student of a round with a queue searches once admitted: the queue shields the
        # search as well as the selections.
        try:
            queue.admit(_door(rt, admission), chooser.round, principal, clock.now().timestamp())
        except Forbidden:
            return go_to(request, queue.PAGE)
    q = (q or "").strip()
    offers: list[OfferOut] = []
    if chooser.term is not None:
        offers = await queries.offers(
            session, chooser.term.id, q=q or None, college_id=college_id, limit=OFFERS_SHOWN
        )
    tree = await users.org_directory(session)
    name = (
        "academic/selection/partials/offers.html"
        if is_htmx(request)
        else "academic/selection/search.html"
    )
    return render(
        request,
        name,
        chooser=chooser,
        rows=await offer_rows(session, principal, chooser, offers),
        truncated=len(offers) >= OFFERS_SHOWN,
        q=q,
        college_id=college_id,
        colleges=[(u, tree.name(u)) for u in tree.of_kind("college")],
        **common(),
    )


@router.post("/academic/selection/sections/{section_id}/select")
async def select_form(
    request: Request,
    section_id: int,
    rt: RuntimeDep,
    principal: Reader,
    key: Annotated[str, Form(min_length=8, max_length=64)],
    admission: AdmissionCookie = None,
) -> Response:
    """选课 from the search: the card comes back with my place, or with the refusal's reason
    (a refusal wrote nothing, so the same key may ask again)."""
    door = _door(rt, admission)
    try:
        answer, error = await attempt(
            rt,
            lambda session: actions.check_select(
                session, rt.cache, principal, section_id, key, door
            ),
        )
    except Forbidden as problem:
        if at_door(problem):
            return to_queue(request, problem)
        raise
    if not is_htmx(request):
        response = go_to(request, "/academic/selection")
        if answer is not None:
            flash(request, response, PLACES[answer.status])
        else:
            flash(request, response, str(error), "danger")
        return response
    async with rt.db.read() as session:
        section = await session.get(Section, section_id)
        if section is None:
            raise NotFound(_("教学班不存在"))
        chooser = await chooser_of(session, principal, section.term_id)
        offers = await queries.offers_out(session, [section])
        rows = await offer_rows(
            session, principal, chooser, offers, key=key if error else None, error=error
        )
        # Drawn while the session is open: the round is one of its rows.
        return render(
            request,
            "academic/selection/partials/offer.html",
            row=rows[0],
            chooser=chooser,
            **common(),
        )


# ---------------------------------------------------------------- the queue at the door


async def _queued(
    request: Request, session: AsyncSession, principal: Principal
) -> tuple[Round | None, Response | None]:
    """The round whose queue the student stands in, or where to send them instead."""
    chooser = await chooser_of(session, principal)
    found = chooser.round
    if not chooser.selecting or found is None or not found.queue_rate:
        return None, go_to(request, "/academic/selection")
    return found, None


def _admitted(request: Request, rt: Runtime, state: Any) -> Response:
    response = go_to(request, "/academic/selection")
    queue.remember(response, state, secure=rt.settings.environment == "production")
    return response


def _queue_values(found: Round, state: Any) -> dict[str, Any]:
    return {"round": found, "state": state, "kinds": ROUND_KINDS, "fmt": clock.fmt}


@router.get("/academic/selection/queue")
async def queue_page(
    request: Request, session: ReadSessionDep, rt: RuntimeDep, principal: Reader
) -> Response:
    """排队进入选课: the student's place in the round's queue, moving until they are in."""
    return await _queue_view(request, session, rt, principal, "academic/selection/queue.html")


@router.get("/academic/selection/queue/status")
async def queue_status(
    request: Request, session: ReadSessionDep, rt: RuntimeDep, principal: Reader
) -> Response:
    """The queue card, polled by the page every two seconds; once admitted, on to the search."""
    template = "academic/selection/partials/queue.html"
    return await _queue_view(request, session, rt, principal, template)


async def _queue_view(
    request: Request, session: AsyncSession, rt: Runtime, principal: Principal, template: str
) -> Response:
    """The student's place in the queue drawn with ``template`` (the page, or its polled card);
    once admitted, on to the search."""
    found, elsewhere = await _queued(request, session, principal)
    if found is None:
        assert elsewhere is not None
        return elsewhere
    state = await queue.state(rt.cache, found, principal, rt.settings.secret_key)
    if state is not None and state.admitted:
        return _admitted(request, rt, state)
    return render(request, template, **_queue_values(found, state))


@router.post("/academic/selection/queue")
async def enter_queue_form(
    request: Request, session: ReadSessionDep, rt: RuntimeDep, principal: Reader
) -> Response:
    found, elsewhere = await _queued(request, session, principal)
    if found is None:
        assert elsewhere is not None
        return elsewhere
    state = await queue.enter(rt.cache, found, principal, rt.settings.secret_key)
    if state.admitted:
        return _admitted(request, rt, state)
    if not is_htmx(request):
        return go_to(request, queue.PAGE)
    return render(request, "academic/selection/partials/queue.html", **_queue_values(found, state))


@dataclass(frozen=True)
class GridItem:
    name: str
    room: str
    weeks: str
    kind: str  # class | selected | waitlisted | preferred


async def preview(
    session: AsyncSession, person_id: int, chooser: Chooser, term: Term, mine: list[PlaceOut]
) -> dict[str, Any]:
    """My week in the term from the published lectures: my class's sections and those I hold
    in selection (waitlist places and wishes marked as such)."""
    held = await queries.holdings(session, person_id, chooser.class_id, term.id)
    places = {p.section_id: p.status for p in mine if p.status in HELD}
    lectures = await queries.lectures_of(session, [h.section_id for h in held])
    cells: dict[tuple[int, int], list[GridItem]] = {}
    listed: list[tuple[queries.Lecture, GridItem]] = []
    for h in held:
        for lecture in lectures.get(h.section_id, []):
            item = GridItem(h.name, lecture.room, lecture.weeks, places.get(h.section_id, "class"))
            cells.setdefault((lecture.day, lecture.block), []).append(item)
            listed.append((lecture, item))
    times = await timetabling.block_times(session, term.id)
    days = max([term.days_per_week, *(d + 1 for d, _b in cells)])
    return {
        "cells": cells,
        "listed": sorted(listed, key=lambda x: (x[0].day, x[0].block)),
        "days": list(range(days)),
        "blocks": sorted(set(times) | {b for _d, b in cells}),
        "times": times,
        "grid_kinds": GRID_KINDS,
    }


async def my_values(
    session: AsyncSession, principal: Principal, chooser: Chooser
) -> dict[str, Any]:
    if chooser.term is None:
        return {"chooser": chooser, "places": []}
    places = await queries.places_of(session, principal.person_id, chooser.term.id)
    return {
        "chooser": chooser,
        "places": places,
        "credits": sum((p.credits for p in places if p.status == "selected"), Decimal(0)),
        "held_credits": sum((p.credits for p in places if p.status in HELD), Decimal(0)),
        **(await preview(session, principal.person_id, chooser, chooser.term, places)),
    }


@router.get("/academic/selection/me")
async def my_page(
    request: Request, session: ReadSessionDep, principal: Reader, term_id: FilterInt = None
) -> Response:
    chooser = await chooser_of(session, principal, term_id)
    return render(
        request,
        "academic/selection/mine.html",
        terms=await terms(session),
        **(await my_values(session, principal, chooser)),
        **common(),
    )


@router.post("/academic/selection/me/sections/{section_id}/drop")
async def drop_form(
    request: Request,
    section_id: int,
    rt: RuntimeDep,
    principal: Reader,
    admission: AdmissionCookie = None,
) -> Response:
    """退选: my places come back with the outcome (a refusal's reason, inline)."""
    door = _door(rt, admission)
    try:
        _done, error = await attempt(
            rt, lambda session: actions.check_drop(session, rt.cache, principal, section_id, door)
        )
    except Forbidden as problem:
        if at_door(problem):
            return to_queue(request, problem)
        raise
    message = ("danger", error) if error else ("success", str(_("已退选")))
    async with rt.db.read() as session:
        place = await queries.place_of(session, principal.person_id, section_id)
        assert place is not None  # check_drop found it, or said 404
        if not is_htmx(request):
            response = go_to(request, f"/academic/selection/me?term_id={place.term_id}")
            flash(request, response, message[1], "danger" if error else "success")
            return response
        chooser = await chooser_of(session, principal, place.term_id)
        values = await my_values(session, principal, chooser)
        return render(
            request, "academic/selection/partials/mine.html", message=message, **values, **common()
        )


# ---------------------------------------------------------------- the registrar's side


async def _rounds_page(
    request: Request,
    session: AsyncSession,
    term_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    term = await term_or_404(session, term_id) if term_id else await current_term(session)
    tree = await users.org_directory(session)
    majors = [
        (u, f"{tree.name(tree.nearest(u, 'college'))} · {tree.name(u)}")
        for u in tree.of_kind("major")
    ]
    form = values or {
        "term_id": term.id if term else None,
        "kind": "first_come",
        "max_credits": "25",
        "waitlist": True,
        "drop_allowed": True,
        "major_ids": [],
    }
    return render(
        request,
        "academic/selection/rounds.html",
        status_code=status_code,
        term=term,
        terms=await terms(session),
        rounds=await queries.rounds_of(session, term.id if term else None),
        majors=majors,
        form=form,
        errors=errors or {},
        now=clock.now(),
        **common(),
    )


@router.get("/academic/selection/rounds")
async def rounds_page(
    request: Request, session: ReadSessionDep, principal: Manager, term_id: FilterInt = None
) -> Response:
    return await _rounds_page(request, session, term_id)


def round_errors(exc: Problem | ValidationError) -> dict[str, str]:
    """The form's errors by field: a list's item speaks for its list, the round's own check
    (it closes after it opens) for the closing time, and the credit limit says what it needs."""
    found: dict[str, str] = {}
    for field, reason in form_errors(exc).items():
        name = {"body": "closes_at"}.get(field, field.split(".")[0])
        found.setdefault(name, reason)
    if "max_credits" in found:
        found["max_credits"] = str(_("应为大于 0、不超过 60 的数，最多一位小数"))
    if "queue_rate" in found:
        found["queue_rate"] = str(_("应为 1 到 10000 的整数，留空为不排队"))
    return found


@router.post("/academic/selection/rounds")
async def create_round_form(
    request: Request,
    session: SessionDep,
    principal: Manager,
    term_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    opens_at: Annotated[str, Form()] = "",
    closes_at: Annotated[str, Form()] = "",
    grades: Annotated[str, Form()] = "",
    major_ids: Annotated[list[int] | None, Form()] = None,
    max_credits: Annotated[str, Form()] = "",
    waitlist: Annotated[bool, Form()] = False,
    drop_allowed: Annotated[bool, Form()] = False,
    queue_rate: Annotated[str, Form()] = "",
) -> Response:
    values: dict[str, Any] = {
        "term_id": term_id,
        "name": name,
        "kind": kind,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "grades": grades,
        "major_ids": major_ids or [],
        "max_credits": max_credits,
        "waitlist": waitlist,
        "drop_allowed": drop_allowed,
        "queue_rate": queue_rate,
    }
    # A blank field is a missing one (必填), not a wrong one.
    given = {k: v for k, v in values.items() if v != ""}
    given["grades"] = [g for g in GRADES_SPLIT.split(grades) if g]
    try:
        found = await actions.check_create_round(session, RoundIn.model_validate(given))
    except (Problem, ValidationError) as exc:
        errors = round_errors(exc)
        shown = int(term_id) if term_id.isdigit() and "term_id" not in errors else None
        return await _rounds_page(
            request, session, shown, errors=errors, values=values, status_code=422
        )
    response = go_to(request, f"/academic/selection/rounds?term_id={found.term_id}")
    flash(request, response, _("已新建选课轮次“{name}”", name=found.name))
    return response


@router.post("/academic/selection/rounds/{round_id}/draw")
async def draw_form(
    request: Request, round_id: int, session: SessionDep, rt: RuntimeDep, principal: Manager
) -> Response:
    back = f"/academic/selection/rounds/{round_id}"
    try:
        result = await actions.check_draw(session, rt.cache, round_id)
    except Problem as exc:
        return back_with_problem(request, back, exc)
    response = go_to(request, back)
    message = _(
        "抽签完成：{sections} 个教学班，{drawn} 人中签，{lost} 人未中签",
        sections=result.sections,
        drawn=result.drawn,
        lost=result.lost,
    )
    flash(request, response, message)
    return response


def _bar_chart(labels: list[str], values: list[float], name: str, unit: str) -> dict[str, Any]:
    """A horizontal bar chart (the longest bar on top), as ECharts takes it."""
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 40, "top": 10, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1, "axisLabel": {"formatter": "{value}" + unit}},
        "yAxis": {"type": "category", "data": labels[::-1], "axisLabel": {"width": 140}},
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": values[::-1],
                "barMaxWidth": 28,
                "label": {"show": True, "position": "right"},
            },
        ],
    }


@router.get("/academic/selection/rounds/{round_id}")
async def round_page(
    request: Request, round_id: int, session: ReadSessionDep, rt: RuntimeDep, principal: Manager
) -> Response:
    """A round's dashboard: its places so far, the fullest sections and the refusals."""
    found = await queries.round_or_404(session, round_id)
    hot = await queries.hot_sections(session, found.term_id, HOT_SHOWN)
    refusals = await queries.refusal_counts(rt.cache, round_id, REASONS)
    refused = [(str(REASONS[r]), n) for r, n in refusals.items() if n]
    charts = {
        "hot": _bar_chart(
            [f.name for f in hot], [round(f.ratio * 100, 1) for f in hot], str(_("满额率")), "%"
        ),
        "refusals": _bar_chart(
            [label for label, _n in refused], [n for _label, n in refused], str(_("次数")), ""
        ),
    }
    now = clock.now()
    return render(
        request,
        "academic/selection/round.html",
        round=found,
        live=await queue.live(rt.cache, found),
        rate_max=QUEUE_RATE_MAX,
        term=await term_or_404(session, found.term_id),
        counts=await queries.round_counts(session, round_id),
        hot=hot,
        hot_shown=HOT_SHOWN,
        refusals=refusals,
        reasons=REASONS,
        charts=charts,
        drawable=found.kind == "lottery" and found.settled_at is None and found.closes_at <= now,
        now=now,
        **common(),
    )


@router.get("/academic/selection/rounds/{round_id}/queue-live")
async def queue_live_card(
    request: Request, round_id: int, session: ReadSessionDep, rt: RuntimeDep, principal: Manager
) -> Response:
    """The queue's numbers on the round's dashboard, polled while the page is open."""
    found = await queries.round_or_404(session, round_id)
    live = await queue.live(rt.cache, found)
    return render(request, "academic/selection/partials/queue_live.html", round=found, live=live)


@router.post("/academic/selection/rounds/{round_id}/queue-rate")
async def queue_rate_form(
    request: Request,
    round_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Manager,
    queue_rate: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """排队准入速率 from the dashboard (blank: no queue); a refusal comes back as an alert."""
    back = f"/academic/selection/rounds/{round_id}"
    try:
        body = QueueRateIn.model_validate({"queue_rate": queue_rate.strip() or None})
        found = await actions.check_queue_rate(session, rt.cache, round_id, body)
    except ValidationError:
        reason = _("排队准入速率应为 1 到 {n} 的整数，留空为不排队", n=QUEUE_RATE_MAX)
        return back_with_problem(request, back, InvalidInput.on("queue_rate", reason))
    except Problem as exc:
        return back_with_problem(request, back, exc)
    response = go_to(request, back)
    if found.queue_rate:
        flash(request, response, _("排队准入速率已改为每秒 {n} 人", n=found.queue_rate))
    else:
        flash(request, response, _("已关闭排队"))
    return response
