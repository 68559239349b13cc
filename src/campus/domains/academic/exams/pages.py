"""Pages of exam scheduling: the registrar's desk (exams, sessions, unavailable sessions, runs,
publishing, the overview per session and room), moving one exam by hand (checked live before
saving), a run's live progress, a printable seat plan, and everyone's own exams (a student's
timetable with seats, a teacher's duties and courses; phone-friendly)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from campus.domains.academic import runs
from campus.domains.academic.exams import actions, build, queries
from campus.domains.academic.exams.schemas import (
    ExamPatch,
    GenerateSessionsIn,
    MoveCheckOut,
    MoveIn,
    RunIn,
    SessionIn,
    UnavailabilityIn,
)
from campus.domains.academic.permissions import EXAM_MANAGE
from campus.domains.academic.rooms.models import Room
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import flash, form_errors, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-exams-pages"])
Manager = Annotated[Principal, require(EXAM_MANAGE)]
Reader = Annotated[Principal, signed_in()]
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def common() -> dict[str, Any]:
    return {"fmt": fmt, "weekdays": WEEKDAYS, "status_labels": runs.STATUS_LABELS}


def _back(term_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/academic/exams?term_id={term_id}{anchor}", status_code=303)


def _problem_text(exc: Problem | ValidationError) -> str:
    if isinstance(exc, Problem):
        return str(exc.detail or exc.title)
    return "；".join(form_errors(exc).values()) or str(_("输入不合法"))


@contextmanager
def _refusal_flashed(request: Request, response: Response) -> Iterator[None]:
    """A desk form's action: its refusal or bad input is flashed on ``response`` (back to the
    desk) instead of raised."""
    try:
        yield
    except (Problem, ValidationError) as exc:
        flash(request, response, _problem_text(exc), "danger")


# ---------------------------------------------------------------- the registrar's desk


@router.get("/academic/exams")
async def desk(
    request: Request, session: ReadSessionDep, principal: Manager, term_id: int | None = None
) -> Response:
    terms = await queries.terms(session)
    if not terms:
        return render(request, "academic/exams/desk.html", term=None, terms=[], **common())
    term = await queries.term_or_404(session, term_id)
    first, last = queries.exam_days(term)
    sessions = await queries.sessions_out(session, term.id)
    return render(
        request,
        "academic/exams/desk.html",
        term=term,
        terms=terms,
        exam_from=first,
        exam_to=last,
        plan=await queries.plan_of(session, term.id),
        exams=await queries.exams_out(session, term.id),
        sessions=sessions,
        session_index={s.id: s for s in sessions},
        runs=await queries.runs_of(session, term.id, limit=5),
        overview=await queries.overview(session, term.id),
        unavailable=await queries.unavailability_out(session, term.id),
        **common(),
    )


@router.post("/academic/exams/terms/{term_id}/exams/generate")
async def generate_exams_form(
    request: Request, term_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = _back(term_id, "#exams")
    with _refusal_flashed(request, response):
        done = await actions.check_generate_exams(session, term_id)
        flash(
            request, response, _("新建 {n} 门考试（已有 {m} 门）", n=done.created, m=done.existing)
        )
    return response


@router.post("/academic/exams/terms/{term_id}/sessions/generate")
async def generate_sessions_form(
    request: Request, term_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = _back(term_id, "#sessions")
    with _refusal_flashed(request, response):
        done = await actions.check_generate_sessions(session, term_id, GenerateSessionsIn())
        flash(request, response, _("新建 {n} 个考试场次", n=done.created))
    return response


@router.post("/academic/exams/terms/{term_id}/sessions")
async def add_session_form(
    request: Request,
    term_id: int,
    session: SessionDep,
    principal: Manager,
    day: Annotated[str, Form()] = "",
    starts: Annotated[str, Form()] = "",
    ends: Annotated[str, Form()] = "",
) -> Response:
    response = _back(term_id, "#sessions")
    with _refusal_flashed(request, response):
        body = SessionIn.model_validate({"day": day, "starts": starts, "ends": ends})
        await actions.check_add_session(session, term_id, body)
        flash(request, response, _("已添加场次"))
    return response


@router.post("/academic/exams/sessions/{session_id}/delete")
async def delete_session_form(
    request: Request, session_id: int, session: SessionDep, principal: Manager
) -> Response:
    row = await actions.session_or_404(session, session_id)
    response = _back(row.term_id, "#sessions")
    with _refusal_flashed(request, response):
        await actions.check_delete_session(session, session_id)
        flash(request, response, _("已删除场次"))
    return response


@router.post("/academic/exams/exams/{exam_id}")
async def edit_exam_form(
    request: Request,
    exam_id: int,
    session: SessionDep,
    principal: Manager,
    duration: Annotated[int, Form()] = 120,
    mode: Annotated[str, Form()] = "auto",
) -> Response:
    exam = await actions.exam_or_404(session, exam_id)
    response = _back(exam.term_id, "#exams")
    with _refusal_flashed(request, response):
        body = ExamPatch.model_validate(
            {"duration": duration, "excluded": mode == "excluded", "manual": mode == "manual"}
        )
        await actions.check_patch_exam(session, exam_id, body)
        flash(request, response, _("已保存考试"))
    return response


@router.post("/academic/exams/terms/{term_id}/runs")
async def start_run_form(
    request: Request,
    term_id: int,
    session: SessionDep,
    principal: Manager,
    time_limit: Annotated[int, Form()] = 10,
    seed: Annotated[int, Form()] = 0,
) -> Response:
    response = _back(term_id)
    try:
        body = RunIn.model_validate({"time_limit": time_limit, "seed": seed})
        run = await actions.check_start_run(session, principal, term_id, body)
    except (Problem, ValidationError) as exc:
        flash(request, response, _problem_text(exc), "danger")
        return response
    return RedirectResponse(f"/academic/exams/runs/{run.id}", status_code=303)


@router.post("/academic/exams/terms/{term_id}/publish")
async def publish_form(
    request: Request, term_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = _back(term_id)
    with _refusal_flashed(request, response):
        plan = await actions.check_publish(session, principal, term_id)
        flash(request, response, _("已发布第 {v} 版考试安排", v=plan.version))
    return response


@router.post("/academic/exams/terms/{term_id}/unavailability")
async def add_unavailability_form(
    request: Request,
    term_id: int,
    session: SessionDep,
    principal: Manager,
    number: Annotated[str, Form()] = "",
    session_ids: Annotated[list[int] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    response = _back(term_id, "#unavailable")
    with _refusal_flashed(request, response):
        body = UnavailabilityIn.model_validate(
            {"number": number or None, "session_ids": session_ids or [], "reason": reason}
        )
        rows = await actions.check_add_unavailability(session, principal, term_id, body)
        flash(request, response, _("已登记 {n} 个场次", n=len(rows)))
    return response


@router.post("/academic/exams/unavailability/{row_id}/delete")
async def delete_unavailability_form(
    request: Request, row_id: int, session: SessionDep, principal: Manager
) -> Response:
    row = await actions.check_delete_unavailability(session, row_id)
    response = _back(row.term_id, "#unavailable")
    flash(request, response, _("已删除登记"))
    return response


# ---------------------------------------------------------------- moving an exam by hand


async def _move_check(
    session: Any, exam_id: int, session_id: int | None, room_ids: list[int]
) -> tuple[MoveCheckOut | None, str | None]:
    """What the move would do, or why it cannot even be checked."""
    if session_id is None:
        return None, None
    try:
        body = MoveIn.model_validate({"session_id": session_id, "room_ids": room_ids})
        plan = await actions.preview_move(session, exam_id, body)
    except (Problem, ValidationError) as exc:
        return None, _problem_text(exc)
    return await queries.move_out(session, plan), None


@router.get("/academic/exams/exams/{exam_id}/move")
async def move_page(
    request: Request,
    exam_id: int,
    session: ReadSessionDep,
    principal: Manager,
    session_id: int | None = None,
    room_ids: Annotated[list[int] | None, Query()] = None,
) -> Response:
    exam = await actions.exam_or_404(session, exam_id)
    term = await queries.term_or_404(session, exam.term_id)
    (out,) = await queries.exams_out(session, term.id, [exam.id])
    chosen_session = session_id or exam.session_id
    chosen_rooms = room_ids or [r.room_id for r in out.rooms]
    check, error = await _move_check(session, exam.id, chosen_session, chosen_rooms)
    rooms = await build.exam_rooms(session, [])
    return render(
        request,
        "academic/exams/move.html",
        term=term,
        exam=out,
        sessions=await queries.sessions_out(session, term.id),
        rooms=rooms,
        chosen_session=chosen_session,
        chosen_rooms=chosen_rooms,
        check=check,
        error=error,
        **common(),
    )


@router.get("/academic/exams/exams/{exam_id}/move/check")
async def move_check_partial(
    request: Request,
    exam_id: int,
    session: ReadSessionDep,
    principal: Manager,
    session_id: int | None = None,
    room_ids: Annotated[list[int] | None, Query()] = None,
) -> Response:
    check, error = await _move_check(session, exam_id, session_id, room_ids or [])
    return render(
        request, "academic/exams/partials/move_check.html", check=check, error=error, **common()
    )


@router.post("/academic/exams/exams/{exam_id}/move")
async def move_form(
    request: Request,
    exam_id: int,
    session: SessionDep,
    principal: Manager,
    session_id: Annotated[int | None, Form()] = None,
    room_ids: Annotated[list[int] | None, Form()] = None,
    confirm: Annotated[bool, Form()] = False,
    fix: Annotated[bool, Form()] = False,
) -> Response:
    exam = await actions.exam_or_404(session, exam_id)
    try:
        body = MoveIn.model_validate(
            {"session_id": session_id, "room_ids": room_ids or [], "confirm": confirm, "fix": fix}
        )
        await actions.check_move(session, exam.id, body)
    except (Problem, ValidationError) as exc:
        query = "&".join(
            [
                f"session_id={session_id}" if session_id else "",
                *(f"room_ids={r}" for r in room_ids or []),
            ]
        ).strip("&")
        response = RedirectResponse(
            f"/academic/exams/exams/{exam.id}/move?{query}", status_code=303
        )
        flash(request, response, _problem_text(exc), "danger")
        return response
    response = _back(exam.term_id, "#exams")
    flash(request, response, _("已调整考试；发布后考生和监考教师才能看到新的安排"))
    return response


# ---------------------------------------------------------------- a run's progress


@router.get("/academic/exams/runs/{run_id}")
async def run_page(
    request: Request, run_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    run = await queries.run_out(session, await queries.run_or_404(session, run_id))
    return render(request, "academic/exams/run.html", run=run, **common())


@router.get("/academic/exams/runs/{run_id}/status")
async def run_status(
    request: Request, run_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    run = await queries.run_out(session, await queries.run_or_404(session, run_id))
    return render(request, "academic/exams/partials/run_status.html", run=run, **common())


@router.post("/academic/exams/runs/{run_id}/cancel")
async def cancel_form(
    request: Request, run_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = RedirectResponse(f"/academic/exams/runs/{run_id}", status_code=303)
    with _refusal_flashed(request, response):
        await actions.check_cancel_run(session, run_id)
    return response


# ---------------------------------------------------------------- seat plan (print)


@router.get("/academic/exams/sessions/{session_id}/rooms/{room_id}/seats")
async def seat_plan_page(
    request: Request, session_id: int, room_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    when = await actions.session_or_404(session, session_id)
    term = await queries.term_or_404(session, when.term_id)
    room = await session.get(Room, room_id)
    seats = await queries.seat_plan(session, session_id, room_id)
    sitting = next(
        (
            s
            for s in await queries.overview(session, term.id)
            if s.session_id == session_id and s.room_id == room_id
        ),
        None,
    )
    columns = max((s.column for s in seats), default=0)
    rows = max((s.row for s in seats), default=0)
    grid = {(s.row, s.column): s for s in seats}
    return render(
        request,
        "academic/exams/seats.html",
        term=term,
        when=when,
        room=room,
        seats=seats,
        sitting=sitting,
        grid=grid,
        rows=rows,
        columns=columns,
        **common(),
    )


# ---------------------------------------------------------------- everyone's own


@router.get("/academic/my/exams")
async def my_exams(
    request: Request, session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> Response:
    terms = await queries.terms(session)
    if not terms:
        return render(request, "academic/exams/mine.html", term=None, terms=[], **common())
    term = await queries.term_or_404(session, term_id)
    return render(
        request,
        "academic/exams/mine.html",
        term=term,
        terms=terms,
        exams=await queries.student_exams(session, term.id, principal.person_id),
        duties=await queries.duties_of(session, term.id, principal.person_id),
        courses=await queries.teacher_exams(session, term.id, principal.person_id),
        **common(),
    )
