"""Pages of timetabling: the registrar's desk (runs, publishing, ITC-2007 files), a run's live
progress, the editable week grid, the published timetables (mine, a class's, a teacher's, a
room's; printable), and the free-classroom search (usable on a phone)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from campus.domains.academic import runs
from campus.domains.academic.permissions import TIMETABLE_MANAGE
from campus.domains.academic.rooms.models import ROOM_TYPES
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.domains.academic.timetabling import access, actions, build, queries
from campus.domains.academic.timetabling.routes import check_week, mine
from campus.domains.academic.timetabling.schemas import (
    LectureOut,
    RoomClosureIn,
    RunIn,
    TeacherTimeIn,
)
from campus.kernel.clock import fmt, today
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, go_to, render
from campus.platform.access.service import public, require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-timetabling-pages"])
STATIC = Path(__file__).parent.parent / "static"
Manager = Annotated[Principal, require(TIMETABLE_MANAGE)]
Reader = Annotated[Principal, signed_in()]


def common() -> dict[str, Any]:
    return {
        "fmt": fmt,
        "weekdays": queries.WEEKDAYS,
        "status_labels": runs.STATUS_LABELS,
        "room_types": ROOM_TYPE_LABELS,
    }


@router.get("/academic/timetabling/timetabling.js", dependencies=[public()])
async def script() -> Response:
    """The pages' script: the cost curve and the grid's drag-and-drop."""
    return Response(
        (STATIC / "timetabling.js").read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/academic/timetabling/timetabling.css", dependencies=[public()])
async def stylesheet() -> Response:
    """The week grid's colours and the print layout (A4 landscape)."""
    return Response(
        (STATIC / "timetabling.css").read_bytes(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


# ---------------------------------------------------------------- the registrar's desk


@router.get("/academic/timetabling")
async def desk(
    request: Request, session: ReadSessionDep, principal: Manager, term_id: int | None = None
) -> Response:
    term = await queries.current_term(session) if term_id is None else None
    if term_id is not None:
        term = await queries.term_or_404(session, term_id)
    timetable = None if term is None else await queries.timetable_of(session, term.id)
    constraints = None if term is None else await queries.constraints_of(session, term.id)
    return render(
        request,
        "academic/timetabling/desk.html",
        term=term,
        constraints=constraints,
        blocks=[] if term is None else list(await queries.block_times(session, term.id)),
        terms=await queries.terms(session),
        timetable=timetable,
        runs=[] if term is None else await queries.runs_of(session, term.id),
        benchmarks=await queries.runs_of(session, None, limit=5),
        classes=await users.list_classes(session),
        **common(),
    )


@router.post("/academic/timetabling/terms/{term_id}/runs")
async def start_run_form(
    request: Request,
    term_id: int,
    session: SessionDep,
    principal: Manager,
    mode: Annotated[str, Form()] = "full",
    time_limit: Annotated[int, Form()] = 30,
    seed: Annotated[int, Form()] = 0,
) -> Response:
    response = RedirectResponse(f"/academic/timetabling?term_id={term_id}", status_code=303)
    try:
        body = RunIn.model_validate({"mode": mode, "time_limit": time_limit, "seed": seed})
    except ValidationError:
        flash(request, response, _("时限应在 1 到 1800 秒之间，种子为非负整数"), "danger")
        return response
    try:
        run = await actions.check_start_run(session, principal, term_id, body)
    except Problem as exc:
        flash(request, response, exc.detail or exc.title, "danger")
        return response
    return RedirectResponse(f"/academic/timetabling/runs/{run.id}", status_code=303)


@router.post("/academic/timetabling/terms/{term_id}/publish")
async def publish_form(
    request: Request, term_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = RedirectResponse(f"/academic/timetabling?term_id={term_id}", status_code=303)
    try:
        timetable = await actions.check_publish(session, principal, term_id)
    except Problem as exc:
        flash(request, response, exc.detail or exc.title, "danger")
        return response
    flash(request, response, _("已发布第 {v} 版课表", v=timetable.published_version))
    return response


@router.post("/academic/timetabling/benchmarks")
async def benchmark_form(
    request: Request,
    session: SessionDep,
    principal: Manager,
    file: Annotated[UploadFile, File()],
    time_limit: Annotated[int, Form()] = 20,
) -> Response:
    text = (await file.read(actions.MAX_INSTANCE_BYTES)).decode("utf-8", errors="replace")
    try:
        run = await actions.check_benchmark(session, principal, text, time_limit, 0)
    except Problem as exc:
        return back_with_problem(request, "/academic/timetabling", exc)
    return go_to(request, f"/academic/timetabling/runs/{run.id}")


@router.post("/academic/timetabling/terms/{term_id}/constraints")
async def add_constraint_form(
    request: Request,
    term_id: int,
    session: SessionDep,
    principal: Manager,
    kind: Annotated[str, Form()],
    target: Annotated[int, Form()],
    day: Annotated[int, Form()],
    block: Annotated[int, Form()],
    reason: Annotated[str, Form(max_length=200)] = "",
    hard: Annotated[str, Form()] = "unavailable",
) -> Response:
    """A teacher's unavailable or avoided time, or a room closure, from the desk's form."""
    response = RedirectResponse(f"/academic/timetabling?term_id={term_id}", status_code=303)
    try:
        if kind == "teacher":
            await actions.check_teacher_time(
                session,
                term_id,
                TeacherTimeIn.model_validate(
                    {
                        "person_id": target,
                        "day": day,
                        "block": block,
                        "kind": hard,
                        "reason": reason,
                    }
                ),
            )
        else:
            await actions.check_room_closure(
                session,
                term_id,
                RoomClosureIn.model_validate(
                    {"room_id": target, "day": day, "block": block, "reason": reason}
                ),
            )
    except ValidationError:
        flash(request, response, _("请检查填写的时段与原因"), "danger")
        return response
    except Problem as exc:
        flash(request, response, exc.detail or exc.title, "danger")
        return response
    flash(request, response, _("已添加排课约束，可运行“增量调整”让课表避开它"))
    return response


@router.post("/academic/timetabling/constraints/{kind}/{row_id}/delete")
async def remove_constraint_form(
    request: Request,
    kind: str,
    row_id: int,
    session: SessionDep,
    principal: Manager,
    term_id: Annotated[int, Form()],
) -> Response:
    response = RedirectResponse(f"/academic/timetabling?term_id={term_id}", status_code=303)
    try:
        await actions.check_remove_constraint(session, kind, row_id)
    except Problem as exc:
        flash(request, response, exc.detail or exc.title, "danger")
    return response


# ---------------------------------------------------------------- a run's progress


async def _run(session: ReadSessionDep, run_id: int) -> Any:
    return await queries.run_out(session, await queries.run_or_404(session, run_id))


@router.get("/academic/timetabling/runs/{run_id}")
async def run_page(
    request: Request, run_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    return render(
        request, "academic/timetabling/run.html", run=await _run(session, run_id), **common()
    )


@router.get("/academic/timetabling/runs/{run_id}/status")
async def run_status(
    request: Request, run_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    return render(
        request,
        "academic/timetabling/partials/run_status.html",
        run=await _run(session, run_id),
        **common(),
    )


@router.post("/academic/timetabling/runs/{run_id}/cancel")
async def cancel_form(
    request: Request, run_id: int, session: SessionDep, principal: Manager
) -> Response:
    response = RedirectResponse(f"/academic/timetabling/runs/{run_id}", status_code=303)
    try:
        await actions.check_cancel_run(session, run_id)
    except Problem as exc:
        flash(request, response, exc.detail or exc.title, "danger")
    return response


# ---------------------------------------------------------------- week grids


def cells(lectures: list[LectureOut]) -> dict[tuple[int, int], list[LectureOut]]:
    found: dict[tuple[int, int], list[LectureOut]] = {}
    for lecture in lectures:
        found.setdefault((lecture.day, lecture.block), []).append(lecture)
    return found


async def _grid_values(session: ReadSessionDep, term: Any) -> dict[str, Any]:
    times = await queries.block_times(session, term.id)
    return {
        "term": term,
        "blocks": list(times),
        "times": times,
        "days": list(range(term.days_per_week)),
    }


@router.get("/academic/timetabling/grid")
async def grid_page(
    request: Request,
    session: ReadSessionDep,
    principal: Manager,
    term_id: int | None = None,
    view: Annotated[str, Query(pattern="^(class|teacher|room|all)$")] = "all",
    id: int | None = None,
) -> Response:
    term = await queries.term_or_404(session, term_id)
    lectures = await queries.lectures(
        session,
        term.id,
        published=False,
        class_ids=[id] if view == "class" and id else None,
        teacher_id=id if view == "teacher" else None,
        room_id=id if view == "room" else None,
    )
    timetable = await queries.timetable_of(session, term.id)
    everything = await queries.lectures(session, term.id, published=False)
    sections = await build.sections_of(session, term.id)
    class_ids = {c for s in sections.values() for c in s.classes}
    teacher_ids = sorted({p for s in sections.values() for p in s.teachers})
    teachers = await users.get_people(session, teacher_ids)
    return render(
        request,
        "academic/timetabling/grid.html",
        cells=cells(lectures),
        view=view,
        chosen=id,
        timetable=timetable,
        classes=[c for c in await users.list_classes(session) if c.id in class_ids],
        teachers=sorted(((t.id, t.name) for t in teachers.values()), key=lambda x: x[1]),
        rooms=sorted({(x.room_id, x.room) for x in everything}, key=lambda x: x[1]),
        **(await _grid_values(session, term)),
        **common(),
    )


@router.get("/academic/timetable")
async def timetable_page(
    request: Request,
    session: ReadSessionDep,
    principal: Reader,
    term_id: int | None = None,
    view: Annotated[str, Query(pattern="^(me|class|teacher|room)$")] = "me",
    id: int | None = None,
) -> Response:
    term = await queries.term_or_404(session, term_id)
    title = str(_("我的课表"))
    if view == "class" and id is not None:
        found = await access.access_class_timetable(session, principal, id)
        lectures = await queries.lectures(session, term.id, published=True, class_ids=[id])
        title = found.name + "课表"
    elif view == "teacher" and id is not None:
        name = await access.access_teacher_timetable(session, principal, id)
        lectures = await queries.lectures(session, term.id, published=True, teacher_id=id)
        title = name + "的课表"
    elif view == "room" and id is not None:
        lectures = await queries.lectures(session, term.id, published=True, room_id=id)
        title = (lectures[0].room if lectures else str(id)) + " 教室课表"
    else:
        lectures = await mine(session, principal, term.id)
    timetable = await queries.timetable_of(session, term.id)
    return render(
        request,
        "academic/timetabling/timetable.html",
        cells=cells(lectures),
        lectures=lectures,
        title=title,
        view=view,
        published=timetable is not None and timetable.published_version > 0,
        timetable=timetable,
        today_weekday=today().weekday() if term.start_date <= today() <= term.end_date else None,
        **(await _grid_values(session, term)),
        **common(),
    )


# ---------------------------------------------------------------- free rooms


@router.get("/academic/free-rooms")
async def free_rooms_page(
    request: Request,
    session: ReadSessionDep,
    principal: Reader,
    term_id: int | None = None,
    week: Annotated[int | None, Query(ge=1, le=30)] = None,
    day: Annotated[int | None, Query(ge=0, le=6)] = None,
    block: Annotated[int | None, Query(ge=1, le=20)] = None,
    building_id: Annotated[str | None, Query()] = None,
    room_type: Annotated[str | None, Query(max_length=20)] = None,
    min_capacity: Annotated[str | None, Query(max_length=6)] = None,
) -> Response:
    term = await queries.term_or_404(session, term_id)
    current_week = max(1, min(term.teaching_weeks, queries.week_of(term, today())))
    week = week or current_week
    day = today().weekday() if day is None else day
    block = block or 1
    building = int(building_id) if building_id and building_id.isdigit() else None
    capacity = int(min_capacity) if min_capacity and min_capacity.isdigit() else None
    check_week(term.teaching_weeks, term.exam_week_to, week)
    rooms = await queries.free_rooms(
        session,
        term,
        week=week,
        day=day,
        block=block,
        building_id=building,
        room_type=room_type if room_type in ROOM_TYPES else None,
        min_capacity=capacity,
    )
    return render(
        request,
        "academic/timetabling/free_rooms.html",
        term=term,
        rooms=rooms,
        week=week,
        day=day,
        block=block,
        building_id=building,
        room_type=room_type or "",
        min_capacity=capacity,
        buildings=await queries.buildings(session),
        blocks=list(await queries.block_times(session, term.id)),
        weeks=list(range(1, max(term.teaching_weeks, term.exam_week_to) + 1)),
        **common(),
    )
