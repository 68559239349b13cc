"""Pages of teaching evaluation (评教): the student's list of sections to evaluate and the form
(both made for a phone), the registrar's forms, completion and results with charts, and a
teacher's own results once the evaluation has closed."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.evaluation import access, actions, queries
from campus.domains.academic.evaluation.models import EvalForm
from campus.domains.academic.evaluation.schemas import (
    DEFAULT_ANCHORS,
    DIMENSIONS,
    SCORES,
    STATES,
    BallotIn,
    FormIn,
    FormOut,
    ItemIn,
    Tally,
)
from campus.domains.academic.evaluation.seed import DEFAULT_ITEMS
from campus.domains.academic.offering import queries as offering_queries
from campus.domains.academic.offering.models import Section
from campus.domains.academic.permissions import EVALUATION_MANAGE, EVALUATION_READ
from campus.domains.academic.programmes.queries import current_term, terms
from campus.domains.academic.schemas import FilterInt
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput, NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-evaluation-pages"])
Me = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(EVALUATION_MANAGE)]
Reader = Annotated[Principal, require(EVALUATION_READ)]
ITEM_LINE = re.compile(r"^\s*([^|｜:：]{1,20})\s*[|｜:：]\s*(.+?)\s*$")
SCORE_FIELD = re.compile(r"^score_(\d+)$")


def common() -> dict[str, Any]:
    return {"fmt": clock.fmt, "states": STATES, "scores": SCORES}


def percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


# ---------------------------------------------------------------- the student's side


@router.get("/academic/evaluation")
async def my_page(
    request: Request, session: ReadSessionDep, me: Me, term_id: FilterInt = None
) -> Response:
    term = await current_term(session) if term_id is None else None
    chosen = term_id if term_id is not None else (term.id if term else None)
    mine = (
        await queries.my_evaluation(session, me.person_id, chosen, clock.now())
        if chosen is not None
        else None
    )
    return render(
        request,
        "academic/evaluation/mine.html",
        mine=mine,
        term_id=chosen,
        terms=await terms(session),
        may_read=me.can(EVALUATION_READ) or me.can(EVALUATION_MANAGE),
        **common(),
    )


async def _ballot_page(
    request: Request,
    session: AsyncSession,
    me: Principal,
    section_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    section = await session.get(Section, section_id)
    form = await queries.form_of_term(session, section.term_id) if section else None
    if section is None or form is None:
        raise NotFound(_("教学班不存在或没有评教"))
    now = clock.now()
    mine = await queries.my_evaluation(session, me.person_id, section.term_id, now)
    task = next((t for t in mine.tasks if t.section_id == section_id), None)
    return render(
        request,
        "academic/evaluation/ballot.html",
        status_code=status_code,
        form=mine.form,
        task=task,
        section=section,
        mine=mine,
        values=values or {},
        errors=errors or {},
        **common(),
    )


@router.get("/academic/evaluation/sections/{section_id}")
async def ballot_page(
    request: Request, section_id: int, session: ReadSessionDep, me: Me
) -> Response:
    return await _ballot_page(request, session, me, section_id)


@router.post("/academic/evaluation/sections/{section_id}")
async def ballot_form(request: Request, section_id: int, session: SessionDep, me: Me) -> Response:
    data = await request.form()
    scores: dict[int, int] = {}
    for key, value in data.items():
        matched = SCORE_FIELD.match(key)
        if matched and isinstance(value, str) and value.isdigit():
            scores[int(matched.group(1))] = int(value)
    comment = str(data.get("comment") or "")
    try:
        done = await actions.check_submit(
            session, me, section_id, BallotIn(scores=scores, comment=comment)
        )
    except (Problem, ValidationError) as exc:
        if isinstance(exc, Problem) and exc.status != 422:
            return back_with_problem(request, "/academic/evaluation", exc)
        values = {"scores": scores, "comment": comment}
        return await _ballot_page(
            request,
            session,
            me,
            section_id,
            values=values,
            errors=form_errors(exc),
            status_code=422,
        )
    response = go_to(request, "/academic/evaluation")
    flash(request, response, _("已提交评价（{d}/{t}），谢谢！", d=done.done, t=done.total))
    return response


# ---------------------------------------------------------------- forms (registrar)


def _items_text(items: list[tuple[str, str]]) -> str:
    return "\n".join(f"{d}｜{t}" for d, t in items)


def _parse_items(text: str) -> list[ItemIn]:
    found: list[ItemIn] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        matched = ITEM_LINE.match(line)
        if matched is None:
            raise InvalidInput.on("items", _("第 {n} 行应写成“维度｜指标”", n=number))
        dimension, item = matched.group(1).strip(), matched.group(2)
        if len(item) > 200:
            raise InvalidInput.on("items", _("第 {n} 行的指标超过 200 字", n=number))
        found.append(ItemIn(dimension=dimension, text=item))
    return found


def _local(value: Any) -> str:
    return clock.local(value).strftime("%Y-%m-%dT%H:%M") if value else ""


def _form_values(found: FormOut) -> dict[str, Any]:
    return {
        "term_id": found.term_id,
        "name": found.name,
        "intro": found.intro,
        "anchors": "、".join(found.anchors),
        "comment_enabled": found.comment_enabled,
        "min_answers": found.min_answers,
        "opens_at": _local(found.opens_at),
        "closes_at": _local(found.closes_at),
        "items": _items_text([(i.dimension, i.text) for i in found.items]),
    }


async def _forms_page(
    request: Request,
    session: AsyncSession,
    me: Principal,
    *,
    editing: EvalForm | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = clock.now()
    shown = [await queries.form_out(session, f, now) for f in await queries.forms(session)]
    term = await current_term(session)
    editing_out = await queries.form_out(session, editing, now) if editing else None
    form = values or (
        _form_values(editing_out)
        if editing_out
        else {
            "term_id": term.id if term else None,
            "anchors": "、".join(DEFAULT_ANCHORS),
            "comment_enabled": True,
            "min_answers": 5,
            "items": _items_text(list(DEFAULT_ITEMS)),
        }
    )
    return render(
        request,
        "academic/evaluation/forms.html",
        status_code=status_code,
        forms=shown,
        terms=await terms(session),
        editing=editing_out,
        form=form,
        errors=errors or {},
        may_manage=me.can(EVALUATION_MANAGE),
        dimensions=DIMENSIONS,
        **common(),
    )


@router.get("/academic/evaluation/forms")
async def forms_page(request: Request, session: ReadSessionDep, me: Reader) -> Response:
    return await _forms_page(request, session, me)


@router.get("/academic/evaluation/forms/{form_id}/edit")
async def edit_page(
    request: Request, form_id: int, session: ReadSessionDep, me: Manager
) -> Response:
    return await _forms_page(
        request, session, me, editing=await queries.form_or_404(session, form_id)
    )


def _form_errors(exc: Problem | ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for field, reason in form_errors(exc).items():
        found.setdefault(field.split(".")[0], reason)
    return found


@router.post("/academic/evaluation/forms")
async def save_form(
    request: Request,
    session: SessionDep,
    me: Manager,
    form_id: Annotated[str, Form()] = "",
    term_id: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    intro: Annotated[str, Form()] = "",
    anchors: Annotated[str, Form()] = "",
    comment_enabled: Annotated[bool, Form()] = False,
    min_answers: Annotated[str, Form()] = "",
    opens_at: Annotated[str, Form()] = "",
    closes_at: Annotated[str, Form()] = "",
    items: Annotated[str, Form()] = "",
) -> Response:
    values: dict[str, Any] = {
        "term_id": term_id,
        "name": name,
        "intro": intro,
        "anchors": anchors,
        "comment_enabled": comment_enabled,
        "min_answers": min_answers,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "items": items,
    }
    editing = await queries.form_or_404(session, int(form_id)) if form_id.isdigit() else None
    try:
        given = {k: v for k, v in values.items() if v != "" and k != "items"}
        given["anchors"] = [a for a in re.split(r"[\s,，、]+", anchors) if a]
        given["items"] = _parse_items(items)
        found = await actions.check_save_form(
            session, FormIn.model_validate(given), editing.id if editing else None
        )
    except (Problem, ValidationError) as exc:
        if isinstance(exc, Problem) and exc.status == 409 and not exc.errors:
            return back_with_problem(request, "/academic/evaluation/forms", exc)
        return await _forms_page(
            request,
            session,
            me,
            editing=editing,
            values=values,
            errors=_form_errors(exc),
            status_code=422,
        )
    response = go_to(request, "/academic/evaluation/forms")
    flash(request, response, _("已保存评教问卷“{name}”", name=found.name))
    return response


@router.post("/academic/evaluation/forms/{form_id}/close")
async def close_form(request: Request, form_id: int, session: SessionDep, me: Manager) -> Response:
    back = "/academic/evaluation/forms"
    try:
        found = await actions.check_close(session, form_id)
    except Problem as exc:
        return back_with_problem(request, back, exc)
    response = go_to(request, back)
    flash(request, response, _("已结束“{name}”，可以查看评教结果", name=found.name))
    return response


@router.post("/academic/evaluation/forms/{form_id}/remind")
async def remind(request: Request, form_id: int, session: SessionDep, me: Manager) -> Response:
    back = f"/academic/evaluation/forms/{form_id}/completion"
    try:
        reminded = await actions.check_remind(session, me, form_id)
    except Problem as exc:
        return back_with_problem(request, back, exc)
    response = go_to(request, back)
    flash(request, response, _("已提醒 {n} 名未完成评教的学生", n=reminded))
    return response


# ---------------------------------------------------------------- completion and results


def bar_chart(
    labels: list[str], values: list[float | None], name: str, unit: str, top: float | None = None
) -> dict[str, Any]:
    """A horizontal bar chart (the first label on top), as ECharts takes it."""
    axis: dict[str, Any] = {"type": "value", "axisLabel": {"formatter": "{value}" + unit}}
    if top is not None:
        axis["max"] = top
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 8, "right": 48, "top": 10, "bottom": 10, "containLabel": True},
        "xAxis": axis,
        "yAxis": {
            "type": "category",
            "data": labels[::-1],
            "axisLabel": {"width": 140, "overflow": "truncate"},
        },
        "series": [
            {
                "name": name,
                "type": "bar",
                "data": values[::-1],
                "barMaxWidth": 24,
                "label": {"show": True, "position": "right"},
            }
        ],
    }


def distribution_chart(found: Tally, anchors: list[str]) -> dict[str, Any]:
    """Each item's answers split by score, stacked (how many gave 1 … 5)."""
    labels = [f"{i.number}. {i.text}" for i in found.items]
    colours = ["#d63939", "#f76707", "#f59f00", "#74b816", "#2fb344"]
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": {"left": 8, "right": 16, "top": 36, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {
            "type": "category",
            "data": labels[::-1],
            "axisLabel": {"width": 160, "overflow": "truncate"},
        },
        "series": [
            {
                "name": f"{score} {anchors[score - 1]}",
                "type": "bar",
                "stack": "n",
                "color": colours[score - 1],
                "data": [i.distribution[score - 1] for i in found.items][::-1],
            }
            for score in SCORES
        ],
    }


@router.get("/academic/evaluation/forms/{form_id}/completion")
async def completion_page(
    request: Request,
    form_id: int,
    session: ReadSessionDep,
    me: Reader,
    threshold: Annotated[int, Query(ge=0, le=100)] = 80,
) -> Response:
    found = await queries.form_or_404(session, form_id)
    data = await queries.completion(session, me, found, threshold / 100)
    chart = bar_chart(
        [c.college_name for c in data.colleges],
        [round(c.rate * 100, 1) for c in data.colleges],
        str(_("完成率")),
        "%",
        100,
    )
    return render(
        request,
        "academic/evaluation/completion.html",
        form=await queries.form_out(session, found, clock.now()),
        data=data,
        threshold=threshold,
        charts={"colleges": chart},
        may_remind=me.can(EVALUATION_MANAGE),
        percent=percent,
        **common(),
    )


@router.get("/academic/evaluation/forms/{form_id}/results")
async def results_page(
    request: Request, form_id: int, session: ReadSessionDep, me: Reader
) -> Response:
    found = await queries.form_or_404(session, form_id)
    form = await queries.form_out(session, found, clock.now())
    ready = form.state == "closed"
    data = None
    charts: dict[str, Any] = {}
    if ready:
        sections = await queries.sections_in_scope(session, me, found.term_id)
        data = await queries.results(session, form, sections)
        charts["colleges"] = bar_chart(
            [c.name for c in data.colleges],
            [c.tally.mean for c in data.colleges],
            str(_("平均分")),
            "",
            5,
        )
    return render(
        request,
        "academic/evaluation/results.html",
        form=form,
        ready=ready,
        data=data,
        charts=charts,
        **common(),
    )


@router.get("/academic/evaluation/sections/{section_id}/results")
async def section_results_page(
    request: Request, section_id: int, session: ReadSessionDep, me: Me
) -> Response:
    section, found = await access.access_section_results(session, me, section_id)
    form = await queries.form_out(session, found, clock.now())
    out = (await offering_queries.sections_out(session, [section]))[0]
    result = await queries.section_detail(session, form, out)
    charts: dict[str, Any] = {}
    if result.tally is not None:
        charts["dimensions"] = bar_chart(
            [d.name for d in result.tally.dimensions],
            [d.mean for d in result.tally.dimensions],
            str(_("平均分")),
            "",
            5,
        )
        charts["distribution"] = distribution_chart(result.tally, form.anchors)
    return render(
        request,
        "academic/evaluation/section.html",
        form=form,
        result=result,
        charts=charts,
        **common(),
    )


@router.get("/academic/evaluation/teaching")
async def teaching_page(
    request: Request, session: ReadSessionDep, me: Me, term_id: FilterInt = None
) -> Response:
    """A teacher's own sections of the term, each with its results once the evaluation closed."""
    term = await current_term(session) if term_id is None else None
    chosen = term_id if term_id is not None else (term.id if term else None)
    found = await queries.form_of_term(session, chosen) if chosen is not None else None
    form = await queries.form_out(session, found, clock.now()) if found else None
    rows = []
    if form is not None and chosen is not None:
        sections = await queries.sections_taught(session, me.person_id, chosen)
        if form.state == "closed":
            rows = (await queries.results(session, form, sections)).sections
        else:
            rows = [queries.section_result(form, s, 0, {}) for s in sections]
    return render(
        request,
        "academic/evaluation/teaching.html",
        form=form,
        rows=rows,
        term_id=chosen,
        terms=await terms(session),
        **common(),
    )
