"""Pages of graduation audit: my audit (a student, phone-friendly: what is met and what is
missing), a student's audit (whoever reads their record), and cohort runs (those who handle
student status): start, progress, results with the most often missing courses, Excel, and on
to batch graduation without those who did not pass."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.graduation import actions, queries
from campus.domains.academic.graduation.schemas import RunCreate
from campus.domains.academic.permissions import STATUS_MANAGE
from campus.domains.academic.status import queries as status_queries
from campus.domains.academic.status.access import access_own_record, access_record
from campus.domains.academic.status.models import StudentStatus
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import Problem
from campus.kernel.templating import form_errors, go_to, render
from campus.platform.access.service import require, signed_in

router = APIRouter(tags=["academic-pages"])
BASE = "/academic/graduation"
Reader = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(STATUS_MANAGE)]


async def _report_page(request: Request, session: AsyncSession, record: StudentStatus) -> Response:
    return render(
        request,
        "academic/graduation/report.html",
        record=record,
        report=await actions.report_of(session, record),
    )


@router.get(f"{BASE}/me")
async def my_audit(request: Request, session: ReadSessionDep, principal: Reader) -> Response:
    return await _report_page(request, session, await access_own_record(session, principal))


@router.get(f"{BASE}/students/{{person_id}}")
async def student_audit(
    request: Request, session: ReadSessionDep, principal: Reader, person_id: int
) -> Response:
    record = await access_record(session, principal, person_id)
    return await _report_page(request, session, record)


async def _runs_page(
    request: Request, session: AsyncSession, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    return render(
        request,
        "academic/graduation/runs.html",
        422 if errors else 200,
        values=values,
        errors=errors,
        majors=await status_queries.majors(session),
        grades=await status_queries.grades(session),
        runs=await queries.recent_runs(session),
        fmt=fmt,
    )


@router.get(f"{BASE}/runs")
async def runs_page(request: Request, session: ReadSessionDep, principal: Manager) -> Response:
    return await _runs_page(request, session, {}, {})


@router.post(f"{BASE}/runs")
async def start_run(
    request: Request,
    session: SessionDep,
    principal: Manager,
    grade: Annotated[str, Form(max_length=4)] = "",
    major_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values: dict[str, Any] = {
        "grade": int(grade) if grade.isdigit() else None,
        "major_id": int(major_id) if major_id.isdigit() else None,
    }
    try:
        run = await actions.check_start_run(session, principal, RunCreate.model_validate(values))
    except (Problem, ValidationError) as exc:
        return await _runs_page(request, session, values, form_errors(exc))
    return go_to(request, f"{BASE}/runs/{run.id}")


@router.get(f"{BASE}/runs/{{run_id}}")
async def run_page(
    request: Request,
    session: ReadSessionDep,
    principal: Manager,
    run_id: int,
    verdict: str = "failed",
) -> Response:
    run = await queries.run_or_404(session, run_id)
    audits = await queries.audits_of(session, run.id)
    names = await status_queries.names_of(session, [run.major_id], [])
    return render(
        request,
        "academic/graduation/run.html",
        run=run,
        major=names.unit(run.major_id),
        verdict=verdict if verdict in queries.VERDICT_LABELS else "failed",
        audits=audits,
        not_passed=[a.student_no for a in audits if a.verdict != "passed"],
        most_missing=queries.most_missing(audits),
        missing_text=queries.missing_text,
        VERDICT_LABELS=queries.VERDICT_LABELS,
        fmt=fmt,
    )


@router.post(f"{BASE}/runs/{{run_id}}/step")
async def run_step(
    request: Request, session: SessionDep, principal: Manager, run_id: int
) -> Response:
    """One more chunk of the run; the progress partial polls this until it is finished."""
    await queries.run_or_404(session, run_id)
    run = await actions.do_run_step(session, principal, run_id)
    response = render(request, "academic/graduation/partials/progress.html", run=run)
    if run is not None and run.state == "finished":
        response.headers["HX-Refresh"] = "true"  # the page shows the results once all is done
    return response


@router.get(f"{BASE}/runs/{{run_id}}/results.xlsx")
async def run_results(session: ReadSessionDep, principal: Manager, run_id: int) -> Response:
    run = await queries.run_or_404(session, run_id)
    data = queries.results_workbook(await queries.audits_of(session, run.id))
    return xlsx_response(data, f"{run.grade}级毕业审核结果.xlsx", f"graduation-audit-{run.id}.xlsx")
