"""JSON API of grades (成绩): /api/v1/academic/grades/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from campus.domains.academic.grades import actions, excel, policy, queries, results
from campus.domains.academic.grades.access import (
    access_overseen_sheet,
    access_own_sheet,
    access_policy,
    access_sheet,
)
from campus.domains.academic.grades.schemas import (
    CorrectionIn,
    CorrectionOut,
    EntriesIn,
    MyResults,
    PolicyIn,
    PolicyOut,
    RankRow,
    ReturnIn,
    SetupIn,
    SheetOut,
    SheetRow,
    SheetState,
    StatsOut,
)
from campus.domains.academic.permissions import GRADE_PUBLISH, GRADE_REVIEW
from campus.domains.academic.programmes.queries import current_term, term_or_404
from campus.domains.academic.rooms.routes import read_upload
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/grades", tags=["academic-grades"])

GpaScaleKey = Annotated[str, Query(pattern=r"^(4\.0|5\.0)$")]


async def _term_id(session: ReadSessionDep, term_id: int | None) -> int | None:
    term = await term_or_404(session, term_id) if term_id else await current_term(session)
    return None if term is None else term.id


@router.get("/mine", response_model=list[SheetRow], summary="我任课教学班的成绩单")
async def my_sheets(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int | None = None,
) -> list[SheetRow]:
    found = await _term_id(session, term_id)
    if found is None:
        return []
    return await queries.sheet_rows(session, found, teacher_id=principal.person_id)


@router.get("/sheets", response_model=list[SheetRow], summary="待审核/发布的成绩单（范围内）")
async def overseen_sheets(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int | None = None,
    state: SheetState | None = None,
) -> list[SheetRow]:
    found = await _term_id(session, term_id)
    if found is None:
        return []
    return await queries.sheet_rows(session, found, principal=principal, state=state)


@router.get("/sections/{section_id}", response_model=SheetOut, summary="教学班成绩单")
async def get_sheet(
    section_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> SheetOut:
    section = await access_sheet(session, principal, section_id)
    return await queries.sheet_out(session, section)


@router.put("/sections/{section_id}/setup", response_model=SheetOut, summary="设置成绩构成与记分制")
async def setup_sheet(
    section_id: int,
    body: SetupIn,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> SheetOut:
    section = await access_own_sheet(session, principal, section_id)
    await actions.check_setup(session, principal, section, body)
    return await queries.sheet_out(session, section)


@router.put("/sections/{section_id}/entries", response_model=SheetOut, summary="录入成绩")
async def save_entries(
    section_id: int,
    body: EntriesIn,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> SheetOut:
    section = await access_own_sheet(session, principal, section_id)
    await actions.check_entries(session, principal, section, body.entries)
    return await queries.sheet_out(session, section)


@router.get("/sections/{section_id}/sheet.xlsx", summary="下载成绩单（Excel）")
async def download_sheet(
    section_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    section = await access_sheet(session, principal, section_id)
    sheet = await queries.sheet_out(session, section)
    return xlsx_response(excel.workbook(sheet), f"成绩_{section.code}.xlsx", "grades.xlsx")


@router.post(
    "/sections/{section_id}/sheet.xlsx", response_model=SheetOut, summary="上传成绩单（Excel）"
)
async def upload_sheet(
    section_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    file: Annotated[UploadFile, File()],
) -> SheetOut:
    section = await access_own_sheet(session, principal, section_id)
    data = await read_upload(file, rt.settings.max_upload_bytes)
    sheet = await queries.sheet_out(session, section)
    await excel.check_upload(session, principal, section, sheet, data)
    return await queries.sheet_out(session, section)


@router.post("/sections/{section_id}/submit", response_model=SheetOut, summary="提交成绩")
async def submit_sheet(
    section_id: int, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> SheetOut:
    section = await access_own_sheet(session, principal, section_id)
    await actions.check_submit(session, principal, section)
    return await queries.sheet_out(session, section)


@router.post("/sections/{section_id}/review", response_model=SheetOut, summary="学院审核通过")
async def review_sheet(
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_REVIEW)],
) -> SheetOut:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_REVIEW)
    await actions.check_review(session, principal, section)
    return await queries.sheet_out(session, section)


@router.post("/sections/{section_id}/return", response_model=SheetOut, summary="学院退回成绩")
async def return_sheet(
    section_id: int,
    body: ReturnIn,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_REVIEW)],
) -> SheetOut:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_REVIEW)
    await actions.check_return(session, principal, section, body.reason, "submitted")
    return await queries.sheet_out(session, section)


@router.post("/sections/{section_id}/publish", response_model=SheetOut, summary="教务处发布成绩")
async def publish_sheet(
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> SheetOut:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_PUBLISH)
    await actions.check_publish(session, principal, section)
    return await queries.sheet_out(session, section)


@router.post("/sections/{section_id}/withdraw", response_model=SheetOut, summary="教务处退回成绩")
async def withdraw_sheet(
    section_id: int,
    body: ReturnIn,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> SheetOut:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_PUBLISH)
    await actions.check_return(session, principal, section, body.reason, "reviewed")
    return await queries.sheet_out(session, section)


@router.get("/sections/{section_id}/stats", response_model=StatsOut, summary="教学班成绩统计")
async def sheet_stats(
    section_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> StatsOut:
    section = await access_sheet(session, principal, section_id)
    return queries.stats_of(await queries.sheet_out(session, section))


@router.get("/me", response_model=MyResults, summary="我的成绩（已发布）与绩点")
async def my_results(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    scale: GpaScaleKey = "4.0",
) -> MyResults:
    return await results.my_results(session, principal.person_id, scale)


@router.get("/ranking", response_model=list[RankRow], summary="绩点排名（专业或班级）")
async def ranking(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
    major_id: int | None = None,
    class_id: int | None = None,
    grade: Annotated[int | None, Query(ge=1950, le=2100)] = None,
    scale: GpaScaleKey = "4.0",
) -> list[RankRow]:
    return await results.ranking(session, principal, major_id, class_id, scale, grade)


@router.post(
    "/sections/{section_id}/corrections",
    response_model=CorrectionOut,
    status_code=201,
    summary="申请成绩更正（发布后，经教务处审批）",
)
async def file_correction(
    section_id: int,
    body: CorrectionIn,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> CorrectionOut:
    section = await access_own_sheet(session, principal, section_id)
    correction = await actions.check_correction(session, principal, section, body)
    return CorrectionOut.model_validate(correction)


@router.get(
    "/sections/{section_id}/corrections",
    response_model=list[CorrectionOut],
    summary="教学班的成绩更正申请",
)
async def list_corrections(
    section_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[CorrectionOut]:
    section = await access_sheet(session, principal, section_id)
    return [
        CorrectionOut.model_validate(c) for c in await queries.corrections_of(session, section.id)
    ]


@router.get(
    "/policy", response_model=PolicyOut, summary="成绩规则（绩点表、补考与重修规则、预警线）"
)
async def get_policy(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> PolicyOut:
    return await policy.policy_out(session)


@router.put("/policy", response_model=PolicyOut, summary="修改成绩规则（教务处）")
async def put_policy(
    body: PolicyIn,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> PolicyOut:
    access_policy(principal)
    return policy.out_of_row(await actions.check_policy(session, principal, body))
