"""JSON API of graduation audit: /api/v1/academic/graduation/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from campus.domains.academic.graduation import actions, queries
from campus.domains.academic.graduation.schemas import AuditRow, RunCreate, RunOut, StudentReport
from campus.domains.academic.permissions import STATUS_MANAGE
from campus.domains.academic.status.access import access_own_record, access_record
from campus.domains.academic.status.models import StudentStatus
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/graduation", tags=["academic-graduation"])
Me = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(STATUS_MANAGE)]


async def _report(session: ReadSessionDep, record: StudentStatus) -> StudentReport:
    return StudentReport(
        person_id=record.person_id,
        student_no=record.student_no,
        name=record.name,
        report=await actions.report_of(session, record),
    )


@router.get("/me", response_model=StudentReport, summary="我的毕业审核（按当前成绩）")
async def my_report(session: ReadSessionDep, principal: Me) -> StudentReport:
    return await _report(session, await access_own_record(session, principal))


@router.get("/students/{person_id}", response_model=StudentReport, summary="学生的毕业审核")
async def student_report(session: ReadSessionDep, principal: Me, person_id: int) -> StudentReport:
    return await _report(session, await access_record(session, principal, person_id))


@router.post("/runs", status_code=201, response_model=RunOut, summary="开始一次毕业审核")
async def start_run(body: RunCreate, session: SessionDep, principal: Manager) -> RunOut:
    return RunOut.model_validate(await actions.check_start_run(session, principal, body))


@router.post("/runs/{run_id}/step", response_model=RunOut, summary="继续审核下一批学生")
async def step(run_id: int, session: SessionDep, principal: Manager) -> RunOut:
    run = await actions.do_run_step(session, principal, run_id)
    if run is None:
        raise NotFound(_("毕业审核 {id} 不存在", id=run_id))
    return RunOut.model_validate(run)


@router.get("/runs/{run_id}", response_model=RunOut, summary="毕业审核进度")
async def run(run_id: int, session: ReadSessionDep, principal: Manager) -> RunOut:
    return RunOut.model_validate(await queries.run_or_404(session, run_id))


@router.get("/runs/{run_id}/results", response_model=list[AuditRow], summary="毕业审核结果")
async def results(
    run_id: int, session: ReadSessionDep, principal: Manager, verdict: str | None = None
) -> list[AuditRow]:
    await queries.run_or_404(session, run_id)
    return [AuditRow.model_validate(a) for a in await queries.audits_of(session, run_id, verdict)]
