"""Pages of the monitoring center: the overview, dead letters (list, detail, replay) and the
audit log."""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from campus.kernel import context
from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.kernel.errors import Problem, validation_field_errors
from campus.kernel.i18n import _
from campus.kernel.templating import flash, render
from campus.platform.access.service import require
from campus.platform.monitor import actions, display, queries
from campus.platform.monitor.permissions import (
    AUDIT_READ,
    DEAD_LETTER_READ,
    DEAD_LETTER_REPLAY,
    OVERVIEW_READ,
)
from campus.platform.monitor.schemas import (
    CAMPUS_TZ,
    AuditFilter,
    DeadLetterFilter,
    RecentErrorOut,
    TrafficFilter,
)
from campus.platform.monitor.traffic import TRAFFIC

router = APIRouter(tags=["monitor-pages"])

WINDOWS = (5, 15)
ERRORS_SHOWN = 20
# An error's audit entries were written while its request ran, shortly before it failed.
AUDIT_LOOKBACK = timedelta(minutes=10)

FilterModel = TypeVar("FilterModel", bound=BaseModel)


def campus_time(value: datetime | None) -> str:
    return value.astimezone(CAMPUS_TZ).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def page_link(request: Request, page: int) -> str:
    """This page's URL with the same filters, on another page of results."""
    params = {k: v for k, v in request.query_params.items() if k != "page" and v != ""}
    return f"{request.url.path}?{urlencode({**params, 'page': page})}"


def parse_filters(request: Request, model: type[FilterModel]) -> tuple[FilterModel, dict[str, str]]:
    """The filters typed into the form; what does not parse is reported per field and ignored."""
    raw = dict(request.query_params)
    try:
        return model.model_validate(raw), {}
    except ValidationError as exc:
        reported = validation_field_errors([dict(e) for e in exc.errors()])
        errors = {e.field: str(e.reason) for e in reported}
        kept = {k: v for k, v in raw.items() if k not in errors}
        return model.model_validate(kept), errors


def _helpers(request: Request) -> dict[str, Any]:
    return {
        "campus_time": campus_time,
        "pretty_json": pretty_json,
        "page_link": lambda page: page_link(request, page),
        "query": request.query_params,
    }


def audit_link(error: RecentErrorOut) -> str:
    """The audit log of an error's request: its id, around its time (which the index serves)."""
    local = "%Y-%m-%dT%H:%M"
    params = {
        "request_id": error.request_id,
        "since": campus_time_of(error.at - AUDIT_LOOKBACK, local),
        "until": campus_time_of(error.at + timedelta(minutes=1), local),
    }
    return f"/monitor/audit?{urlencode(params)}"


def campus_time_of(value: datetime, pattern: str) -> str:
    return value.astimezone(CAMPUS_TZ).strftime(pattern)


def traffic_link(request: Request, **changed: str | int | None) -> str:
    """The overview with some of its choices changed (None drops one)."""
    params = {k: v for k, v in request.query_params.items() if v != ""}
    for key, value in changed.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "/monitor/overview" + (f"?{urlencode(params)}" if params else "")


@router.get("/monitor/overview", dependencies=[require(OVERVIEW_READ)])
async def overview_page(request: Request, session: ReadSessionDep, rt: RuntimeDep) -> Response:
    filters, errors = parse_filters(request, TrafficFilter)
    traffic = queries.traffic(TRAFFIC, filters)
    return render(
        request,
        "monitor/overview.html",
        422 if errors else 200,
        health=await queries.health(rt, session),
        traffic=traffic,
        charts=display.traffic_charts(traffic),
        recent=queries.recent_errors(TRAFFIC, ERRORS_SHOWN),
        filters=filters,
        errors=errors,
        windows=WINDOWS,
        process=f"{socket.gethostname()} · pid {os.getpid()}",
        audit_link=audit_link,
        traffic_link=lambda **changed: traffic_link(request, **changed),
        route_label=display.route_label,
        **_helpers(request),
    )


@router.get("/monitor/dead-letters", dependencies=[require(DEAD_LETTER_READ)])
async def dead_letters_page(request: Request, session: ReadSessionDep) -> Response:
    filters, errors = parse_filters(request, DeadLetterFilter)
    result = await queries.list_dead_letters(session, filters)
    return render(
        request,
        "monitor/dead_letters.html",
        422 if errors else 200,
        result=result,
        filters=filters,
        errors=errors,
        handlers=await queries.dead_letter_handlers(session),
        **_helpers(request),
    )


@router.get("/monitor/dead-letters/{letter_id}", dependencies=[require(DEAD_LETTER_READ)])
async def dead_letter_page(
    request: Request, letter_id: int, session: ReadSessionDep, rt: RuntimeDep
) -> Response:
    letter = await queries.get_dead_letter(session, letter_id, actions.handler_known(rt))
    principal = context.current().principal
    return render(
        request,
        "monitor/dead_letter.html",
        letter=letter,
        can_replay=principal is not None and principal.can(DEAD_LETTER_REPLAY),
        **_helpers(request),
    )


@router.post("/monitor/dead-letters/{letter_id}/replay", dependencies=[require(DEAD_LETTER_REPLAY)])
async def replay_submit(request: Request, letter_id: int, rt: RuntimeDep) -> Response:
    response = RedirectResponse(f"/monitor/dead-letters/{letter_id}", status_code=303)
    try:
        await actions.do_replay(rt, letter_id)
    except Problem as problem:
        if problem.status == 404:
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("重放成功，事件已由处理器处理"))
    return response


@router.get("/monitor/audit", dependencies=[require(AUDIT_READ)])
async def audit_page(request: Request, session: ReadSessionDep) -> Response:
    filters, errors = parse_filters(request, AuditFilter)
    try:
        result = await queries.list_audit(session, filters)
    except Problem as problem:
        errors.update({e.field: str(e.reason) for e in problem.errors})
        result = await queries.list_audit(session, _without(filters, problem))
    return render(
        request,
        "monitor/audit.html",
        422 if errors else 200,
        result=result,
        filters=filters,
        errors=errors,
        **_helpers(request),
    )


def _without(filters: AuditFilter, problem: Problem) -> AuditFilter:
    """The filters minus the fields the problem names, to still show a list under the error."""
    return filters.model_copy(update={e.field: None for e in problem.errors})
