"""JSON API of timetabling, /api/v1/academic/timetabling/...: runs and their progress, the
draft (moves with live conflict checks, pins), constraints, publishing, ITC-2007 files; and the
published timetables (mine, a class's, a teacher's, a room's), iCal and free rooms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from campus.domains.academic.permissions import TIMETABLE_MANAGE
from campus.domains.academic.timetabling import access, actions, build, ctt, ical, queries
from campus.domains.academic.timetabling.engine import itc2007
from campus.domains.academic.timetabling.engine.problem import Placement
from campus.domains.academic.timetabling.models import FixedSlot, RoomClosure, Run, TeacherTime
from campus.domains.academic.timetabling.schemas import (
    ConstraintOut,
    FixedSlotIn,
    FreeRoomOut,
    LectureOut,
    MoveIn,
    PinIn,
    RoomClosureIn,
    RunIn,
    RunOut,
    SlotOption,
    TeacherTimeIn,
    TimetableOut,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/timetabling", tags=["academic-timetabling"])
Manager = Annotated[Principal, require(TIMETABLE_MANAGE)]
Reader = Annotated[Principal, signed_in()]


# ---------------------------------------------------------------- runs


@router.post("/terms/{term_id}/runs", response_model=RunOut, status_code=202, summary="开始排课")
async def start_run(term_id: int, body: RunIn, session: SessionDep, principal: Manager) -> RunOut:
    run = await actions.check_start_run(session, principal, term_id, body)
    return await queries.run_out(session, run)


@router.get("/runs/{run_id}", response_model=RunOut, summary="排课运行与进度")
async def get_run(run_id: int, session: ReadSessionDep, principal: Manager) -> RunOut:
    return await queries.run_out(session, await queries.run_or_404(session, run_id))


@router.post("/runs/{run_id}/cancel", response_model=RunOut, summary="取消排课运行")
async def cancel_run(run_id: int, session: SessionDep, principal: Manager) -> RunOut:
    run = await actions.check_cancel_run(session, run_id)
    return await queries.run_out(session, run)


@router.post("/benchmarks", response_model=RunOut, status_code=202, summary="ITC-2007 基准测试")
async def benchmark(
    session: SessionDep,
    principal: Manager,
    file: Annotated[UploadFile, File(description=".ctt 文件")],
    time_limit: Annotated[int, Form()] = 20,
    seed: Annotated[int, Form()] = 0,
) -> RunOut:
    data = await file.read(actions.MAX_INSTANCE_BYTES + 1)
    if len(data) > actions.MAX_INSTANCE_BYTES:
        raise InvalidInput.on("file", _("文件过大"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput.on("file", _("文件不是 UTF-8 文本")) from exc
    run = await actions.check_benchmark(session, principal, text, time_limit, seed)
    return await queries.run_out(session, run)


@router.get("/runs/{run_id}/solution.sol", summary="导出基准测试的解")
async def benchmark_solution(run_id: int, session: ReadSessionDep, principal: Manager) -> Response:
    run = await session.get(Run, run_id)
    if run is None or run.mode != "benchmark":
        raise NotFound(_("基准测试不存在"))
    problem = itc2007.loads(run.instance or "")
    placed = [Placement(c, r, s) for c, r, s in run.report.get("placements", [])]
    return _text_file(itc2007.dumps_solution(problem, placed), f"run-{run.id}.sol")


# ---------------------------------------------------------------- the draft


@router.get("/terms/{term_id}/lectures", response_model=list[LectureOut], summary="草稿课表")
async def draft_lectures(
    term_id: int,
    session: ReadSessionDep,
    principal: Manager,
    class_id: int | None = None,
    teacher_id: int | None = None,
    room_id: int | None = None,
) -> list[LectureOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.lectures(
        session,
        term.id,
        published=False,
        class_ids=None if class_id is None else [class_id],
        teacher_id=teacher_id,
        room_id=room_id,
    )


@router.get(
    "/lectures/{lecture_id}/options",
    response_model=list[SlotOption],
    summary="课次可调往的时段（每格是否可行及原因）",
)
async def lecture_options(
    lecture_id: int, session: ReadSessionDep, principal: Manager
) -> list[SlotOption]:
    return await options_of(session, lecture_id)


async def options_of(session: ReadSessionDep, lecture_id: int) -> list[SlotOption]:
    lecture, term = await actions._lecture(session, lecture_id)
    return await queries.slot_options(session, term, lecture.section_id, lecture)


@router.get(
    "/terms/{term_id}/sections/{section_id}/explain",
    response_model=list[SlotOption],
    summary="教学班的一次课能排在哪些时段，不能排的原因",
)
async def explain_section(
    term_id: int, section_id: int, session: ReadSessionDep, principal: Manager
) -> list[SlotOption]:
    term = await queries.term_or_404(session, term_id)
    return await queries.slot_options(session, term, section_id, None)


@router.post("/lectures/{lecture_id}/move", response_model=LectureOut, summary="手工调课")
async def move_lecture(
    lecture_id: int, body: MoveIn, session: SessionDep, principal: Manager
) -> LectureOut:
    lecture = await actions.check_move(session, lecture_id, body)
    return (
        await queries.lectures(session, lecture.term_id, published=False, lecture_id=lecture.id)
    )[0]


@router.post("/lectures/{lecture_id}/pin", response_model=LectureOut, summary="锁定/解锁课次")
async def pin_lecture(
    lecture_id: int, body: PinIn, session: SessionDep, principal: Manager
) -> LectureOut:
    lecture = await actions.check_pin(session, lecture_id, body.pinned)
    return (
        await queries.lectures(session, lecture.term_id, published=False, lecture_id=lecture.id)
    )[0]


@router.post("/terms/{term_id}/publish", response_model=TimetableOut, summary="发布课表")
async def publish(term_id: int, session: SessionDep, principal: Manager) -> TimetableOut:
    timetable = await actions.check_publish(session, principal, term_id)
    count = len(await queries.lectures(session, timetable.term_id, published=True))
    return TimetableOut(
        term_id=timetable.term_id,
        revision=timetable.revision,
        published_version=timetable.published_version,
        published_at=timetable.published_at,
        lectures=count,
    )


# ---------------------------------------------------------------- constraints


@router.get(
    "/terms/{term_id}/constraints/{kind}", response_model=list[ConstraintOut], summary="排课约束"
)
async def list_constraints(
    term_id: int, kind: str, session: ReadSessionDep, principal: Manager
) -> list[ConstraintOut]:
    model = actions.CONSTRAINTS.get(kind)
    if model is None:
        raise NotFound(_("约束类型不存在"))
    from sqlalchemy import select

    rows = await session.scalars(select(model).where(model.term_id == term_id).order_by(model.id))
    return [
        ConstraintOut(
            id=row.id,
            day=row.day,
            block=row.block,
            reason=getattr(row, "reason", ""),
            person_id=getattr(row, "person_id", None),
            room_id=getattr(row, "room_id", None),
            kind=getattr(row, "kind", None),
            section_id=getattr(row, "section_id", None),
            number=getattr(row, "number", None),
        )
        for row in rows
    ]


def _constraint(row: TeacherTime | RoomClosure | FixedSlot) -> ConstraintOut:
    return ConstraintOut(
        id=row.id,
        day=row.day,
        block=row.block,
        reason=getattr(row, "reason", ""),
        person_id=getattr(row, "person_id", None),
        room_id=getattr(row, "room_id", None),
        kind=getattr(row, "kind", None),
        section_id=getattr(row, "section_id", None),
        number=getattr(row, "number", None),
    )


@router.post(
    "/terms/{term_id}/teacher-times",
    response_model=ConstraintOut,
    status_code=201,
    summary="教师不可排课/希望避开的时间",
)
async def add_teacher_time(
    term_id: int, body: TeacherTimeIn, session: SessionDep, principal: Manager
) -> ConstraintOut:
    return _constraint(await actions.check_teacher_time(session, term_id, body))


@router.post(
    "/terms/{term_id}/room-closures",
    response_model=ConstraintOut,
    status_code=201,
    summary="教室关闭时段",
)
async def add_room_closure(
    term_id: int, body: RoomClosureIn, session: SessionDep, principal: Manager
) -> ConstraintOut:
    return _constraint(await actions.check_room_closure(session, term_id, body))


@router.post(
    "/terms/{term_id}/fixed-slots",
    response_model=ConstraintOut,
    status_code=201,
    summary="固定课次",
)
async def add_fixed_slot(
    term_id: int, body: FixedSlotIn, session: SessionDep, principal: Manager
) -> ConstraintOut:
    return _constraint(await actions.check_fixed(session, term_id, body))


@router.delete("/constraints/{kind}/{row_id}", status_code=204, summary="删除排课约束")
async def remove_constraint(
    kind: str, row_id: int, session: SessionDep, principal: Manager
) -> Response:
    await actions.check_remove_constraint(session, kind, row_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- ITC-2007 export


@router.get("/terms/{term_id}/problem.ctt", summary="导出本学期排课问题（ITC-2007）")
async def export_problem(term_id: int, session: ReadSessionDep, principal: Manager) -> Response:
    term = await queries.term_or_404(session, term_id)
    built = await build.build_problem(session, term)
    return _text_file(ctt.dumps(built.problem), f"{term.code}.ctt")


@router.get("/terms/{term_id}/solution.sol", summary="导出本学期课表（ITC-2007 解）")
async def export_solution(term_id: int, session: ReadSessionDep, principal: Manager) -> Response:
    term = await queries.term_or_404(session, term_id)
    built = await build.build_problem(session, term)
    placed = await build.draft_placements(session, term.id, built.grid)
    return _text_file(itc2007.dumps_solution(built.problem, placed), f"{term.code}.sol")


def _text_file(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ---------------------------------------------------------------- published timetables

published = APIRouter(prefix="/api/v1/academic/timetable", tags=["academic-timetable"])


@published.get("/me", response_model=list[LectureOut], summary="我的课表（学生：本班；教师：任课）")
async def my_timetable(
    session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> list[LectureOut]:
    term = await queries.term_or_404(session, term_id)
    return await mine(session, principal, term.id)


async def mine(session: ReadSessionDep, principal: Principal, term_id: int) -> list[LectureOut]:
    classes = await access.own_class_ids(session, principal)
    return await queries.lectures_of_person(session, term_id, principal.person_id, classes)


@published.get("/classes/{class_id}", response_model=list[LectureOut], summary="班级课表")
async def class_timetable(
    class_id: int, session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> list[LectureOut]:
    await access.access_class_timetable(session, principal, class_id)
    term = await queries.term_or_404(session, term_id)
    return await queries.lectures(session, term.id, published=True, class_ids=[class_id])


@published.get("/teachers/{person_id}", response_model=list[LectureOut], summary="教师课表")
async def teacher_timetable(
    person_id: int, session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> list[LectureOut]:
    await access.access_teacher_timetable(session, principal, person_id)
    term = await queries.term_or_404(session, term_id)
    return await queries.lectures(session, term.id, published=True, teacher_id=person_id)


@published.get("/rooms/{room_id}", response_model=list[LectureOut], summary="教室课表")
async def room_timetable(
    room_id: int, session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> list[LectureOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.lectures(session, term.id, published=True, room_id=room_id)


@published.get("/me.ics", summary="导出我的课表（iCalendar）")
async def my_ics(
    request: Request, session: ReadSessionDep, principal: Reader, term_id: int | None = None
) -> Response:
    term = await queries.term_or_404(session, term_id)
    lectures = await mine(session, principal, term.id)
    data = ical.export(
        term,
        lectures,
        await queries.sections_by_id(session, sorted({x.section_id for x in lectures})),
        await queries.term_days(session, term.id),
        await queries.block_times(session, term.id),
        f"{principal.name}的课表 {term.name}",
        request.url.hostname or "campus",
    )
    return Response(
        data,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="timetable.ics"'},
    )


@published.get("/free-rooms", response_model=list[FreeRoomOut], summary="空教室查询")
async def free_rooms(
    session: ReadSessionDep,
    principal: Reader,
    week: Annotated[int, Query(ge=1, le=30)],
    day: Annotated[int, Query(ge=0, le=6)],
    block: Annotated[int, Query(ge=1, le=20)],
    term_id: int | None = None,
    building_id: int | None = None,
    room_type: Annotated[str | None, Query(max_length=20)] = None,
    min_capacity: Annotated[int | None, Query(ge=0, le=10000)] = None,
) -> list[FreeRoomOut]:
    term = await queries.term_or_404(session, term_id)
    check_week(term.teaching_weeks, term.exam_week_to, week)
    return await queries.free_rooms(
        session,
        term,
        week=week,
        day=day,
        block=block,
        building_id=building_id,
        room_type=room_type or None,
        min_capacity=min_capacity,
    )


def check_week(teaching_weeks: int, last_week: int, week: int) -> None:
    if week > max(teaching_weeks, last_week):
        raise InvalidInput.on("week", _("本学期共 {n} 周", n=max(teaching_weeks, last_week)))
