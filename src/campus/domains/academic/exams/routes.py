"""JSON API of exam scheduling, /api/v1/academic/exams/...: a term's exams and sessions
(generated, edited), people's unavailable sessions, scheduling runs and their progress, moving
one exam by hand (checked first), publishing, the overview per session and room, seat plans,
the Excel export; and everyone's own exams and duties."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from campus.domains.academic.exams import access, actions, excel, queries
from campus.domains.academic.exams.schemas import (
    DutyOut,
    ExamOut,
    ExamPatch,
    GeneratedOut,
    GenerateSessionsIn,
    MoveCheckOut,
    MoveIn,
    MyExamOut,
    PlanOut,
    RoomSittingOut,
    RunIn,
    RunOut,
    SeatOut,
    SessionIn,
    SessionOut,
    UnavailabilityIn,
    UnavailabilityOut,
)
from campus.domains.academic.permissions import EXAM_MANAGE
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/exams", tags=["academic-exams"])
Manager = Annotated[Principal, require(EXAM_MANAGE)]
Reader = Annotated[Principal, signed_in()]


# ---------------------------------------------------------------- exams and sessions


@router.post("/terms/{term_id}/exams/generate", response_model=GeneratedOut, summary="生成考试")
async def generate_exams(term_id: int, session: SessionDep, principal: Manager) -> GeneratedOut:
    return await actions.check_generate_exams(session, term_id)


@router.get("/terms/{term_id}/exams", response_model=list[ExamOut], summary="学期的考试")
async def list_exams(term_id: int, session: ReadSessionDep, principal: Manager) -> list[ExamOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.exams_out(session, term.id)


@router.patch("/exams/{exam_id}", response_model=ExamOut, summary="修改考试")
async def patch_exam(
    exam_id: int, body: ExamPatch, session: SessionDep, principal: Manager
) -> ExamOut:
    exam = await actions.check_patch_exam(session, exam_id, body)
    return (await queries.exams_out(session, exam.term_id, [exam.id]))[0]


@router.post(
    "/terms/{term_id}/sessions/generate", response_model=GeneratedOut, summary="生成考试场次"
)
async def generate_sessions(
    term_id: int, session: SessionDep, principal: Manager, body: GenerateSessionsIn | None = None
) -> GeneratedOut:
    return await actions.check_generate_sessions(session, term_id, body or GenerateSessionsIn())


@router.get("/terms/{term_id}/sessions", response_model=list[SessionOut], summary="考试场次")
async def list_sessions(
    term_id: int, session: ReadSessionDep, principal: Manager
) -> list[SessionOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.sessions_out(session, term.id)


@router.post(
    "/terms/{term_id}/sessions", response_model=SessionOut, status_code=201, summary="添加场次"
)
async def add_session(
    term_id: int, body: SessionIn, session: SessionDep, principal: Manager
) -> SessionOut:
    return SessionOut.model_validate(await actions.check_add_session(session, term_id, body))


@router.put("/sessions/{session_id}", response_model=SessionOut, summary="修改场次")
async def update_session(
    session_id: int, body: SessionIn, session: SessionDep, principal: Manager
) -> SessionOut:
    return SessionOut.model_validate(await actions.check_update_session(session, session_id, body))


@router.delete("/sessions/{session_id}", status_code=204, summary="删除场次")
async def delete_session(session_id: int, session: SessionDep, principal: Manager) -> Response:
    await actions.check_delete_session(session, session_id)
    return Response(status_code=204)


@router.get(
    "/terms/{term_id}/unavailability",
    response_model=list[UnavailabilityOut],
    summary="不可考与不可监考场次",
)
async def list_unavailability(
    term_id: int, session: ReadSessionDep, principal: Manager
) -> list[UnavailabilityOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.unavailability_out(session, term.id)


@router.post(
    "/terms/{term_id}/unavailability",
    response_model=list[UnavailabilityOut],
    status_code=201,
    summary="登记不可考或不可监考场次",
)
async def add_unavailability(
    term_id: int, body: UnavailabilityIn, session: SessionDep, principal: Manager
) -> list[UnavailabilityOut]:
    rows = await actions.check_add_unavailability(session, principal, term_id, body)
    return await queries.unavailability_out(session, term_id, [r.id for r in rows])


@router.delete("/unavailability/{row_id}", status_code=204, summary="删除不可考场次登记")
async def delete_unavailability(row_id: int, session: SessionDep, principal: Manager) -> Response:
    await actions.check_delete_unavailability(session, row_id)
    return Response(status_code=204)


@router.post("/exams/{exam_id}/move/check", response_model=MoveCheckOut, summary="检查调整考试")
async def check_move(
    exam_id: int, body: MoveIn, session: ReadSessionDep, principal: Manager
) -> MoveCheckOut:
    return await queries.move_out(session, await actions.preview_move(session, exam_id, body))


@router.post("/exams/{exam_id}/move", response_model=ExamOut, summary="调整考试（场次、考场）")
async def move(exam_id: int, body: MoveIn, session: SessionDep, principal: Manager) -> ExamOut:
    exam = await actions.check_move(session, exam_id, body)
    return (await queries.exams_out(session, exam.term_id, [exam.id]))[0]


# ---------------------------------------------------------------- runs and publishing


@router.post("/terms/{term_id}/runs", response_model=RunOut, status_code=202, summary="安排考试")
async def start_run(term_id: int, body: RunIn, session: SessionDep, principal: Manager) -> RunOut:
    run = await actions.check_start_run(session, principal, term_id, body)
    return await queries.run_out(session, run)


@router.get("/runs/{run_id}", response_model=RunOut, summary="考试安排运行与进度")
async def get_run(run_id: int, session: ReadSessionDep, principal: Manager) -> RunOut:
    return await queries.run_out(session, await queries.run_or_404(session, run_id))


@router.post("/runs/{run_id}/cancel", response_model=RunOut, summary="取消考试安排运行")
async def cancel_run(run_id: int, session: SessionDep, principal: Manager) -> RunOut:
    return await queries.run_out(session, await actions.check_cancel_run(session, run_id))


@router.post("/terms/{term_id}/publish", response_model=PlanOut, summary="发布考试安排")
async def publish(term_id: int, session: SessionDep, principal: Manager) -> PlanOut:
    plan = await actions.check_publish(session, principal, term_id)
    return await queries.plan_of(session, plan.term_id)


@router.get("/terms/{term_id}/plan", response_model=PlanOut, summary="考试安排状态")
async def plan(term_id: int, session: ReadSessionDep, principal: Manager) -> PlanOut:
    term = await queries.term_or_404(session, term_id)
    return await queries.plan_of(session, term.id)


@router.get(
    "/terms/{term_id}/overview", response_model=list[RoomSittingOut], summary="各场次考场总览"
)
async def overview(
    term_id: int, session: ReadSessionDep, principal: Manager
) -> list[RoomSittingOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.overview(session, term.id)


@router.get(
    "/sessions/{session_id}/rooms/{room_id}/seats",
    response_model=list[SeatOut],
    summary="考场座位表",
)
async def seats(
    session_id: int, room_id: int, session: ReadSessionDep, principal: Manager
) -> list[SeatOut]:
    await actions.session_or_404(session, session_id)
    return await queries.seat_plan(session, session_id, room_id)


@router.get("/terms/{term_id}/schedule.xlsx", summary="导出考试安排（Excel）")
async def export(term_id: int, session: ReadSessionDep, principal: Manager) -> Response:
    term = await queries.term_or_404(session, term_id)
    return await excel.schedule_response(session, term)


# ---------------------------------------------------------------- people's own


@router.get("/people/{person_id}/exams", response_model=list[MyExamOut], summary="某人的考试")
async def person_exams(
    person_id: int,
    session: ReadSessionDep,
    principal: Reader,
    term_id: Annotated[int | None, Query()] = None,
) -> list[MyExamOut]:
    await access.access_person_exams(session, principal, person_id)
    term = await queries.term_or_404(session, term_id)
    return await queries.student_exams(session, term.id, person_id)


@router.get("/mine", response_model=list[MyExamOut], summary="我的考试")
async def my_exams(
    session: ReadSessionDep, principal: Reader, term_id: Annotated[int | None, Query()] = None
) -> list[MyExamOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.student_exams(session, term.id, principal.person_id)


@router.get("/mine/duties", response_model=list[DutyOut], summary="我的监考")
async def my_duties(
    session: ReadSessionDep, principal: Reader, term_id: Annotated[int | None, Query()] = None
) -> list[DutyOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.duties_of(session, term.id, principal.person_id)


@router.get("/mine/courses", response_model=list[ExamOut], summary="我所授课程的考试")
async def my_courses(
    session: ReadSessionDep, principal: Reader, term_id: Annotated[int | None, Query()] = None
) -> list[ExamOut]:
    term = await queries.term_or_404(session, term_id)
    return await queries.teacher_exams(session, term.id, principal.person_id)
