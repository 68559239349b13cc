"""JSON API of course offering: /api/v1/academic/sections/…, /api/v1/academic/offering/….
Thin: parse, authorise, call one action or query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from campus.domains.academic.offering import actions, excel, queries
from campus.domains.academic.offering.schemas import (
    MergeIn,
    OfferingGenerate,
    OfferingReport,
    SectionCreate,
    SectionOut,
    SectionUpdate,
    SplitIn,
    TeacherImportReport,
)
from campus.domains.academic.permissions import OFFERING_MANAGE
from campus.domains.academic.programmes.queries import term_or_404
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import PayloadTooLarge
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic", tags=["academic"])
UPLOAD_LIMIT = 5 * 1024 * 1024


@router.get("/sections", response_model=list[SectionOut], summary="学期的教学班（开课列表）")
async def list_sections(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int,
    college_id: int | None = None,
    course_id: int | None = None,
    teacher_id: int | None = None,
    unassigned: bool = False,
    class_id: int | None = None,
    q: Annotated[str | None, Query(max_length=40, description="课程名称或教学班编号")] = None,
) -> list[SectionOut]:
    await term_or_404(session, term_id)
    q = (q or "").strip() or None
    f = queries.SectionFilter(college_id, course_id, teacher_id, unassigned, class_id, q)
    return await queries.sections_out(session, await queries.section_rows(session, term_id, f))


@router.get("/sections.xlsx", summary="学期的教学班导出为 Excel")
async def export_sections(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    term_id: int,
) -> Response:
    term = await term_or_404(session, term_id)
    rows = await queries.section_rows(session, term_id, queries.SectionFilter())
    data = excel.sections_workbook(term.name, await queries.sections_out(session, rows))
    return xlsx_response(data, f"{term.name}教学班.xlsx", f"sections-{term.code}.xlsx")


@router.post(
    "/sections/teachers.xlsx", response_model=TeacherImportReport, summary="从 Excel 导入任课教师"
)
async def import_teachers(
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    term_id: int,
    file: Annotated[UploadFile, File(description="导出的教学班表，填好主讲/辅讲教师工号")],
) -> TeacherImportReport:
    await term_or_404(session, term_id)
    data = await file.read(UPLOAD_LIMIT + 1)
    if len(data) > UPLOAD_LIMIT:
        raise PayloadTooLarge(_("文件不能超过 5 MB"))
    rows = excel.teacher_rows(data)
    updated = await actions.check_assign_teachers(session, principal, term_id, rows)
    return TeacherImportReport(updated=updated, errors=[])


@router.get("/sections/mine", response_model=list[SectionOut], summary="我的教学班（任课教师）")
async def my_sections(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int,
) -> list[SectionOut]:
    await term_or_404(session, term_id)
    f = queries.SectionFilter(teacher_id=principal.person_id)
    return await queries.sections_out(session, await queries.section_rows(session, term_id, f))


@router.post("/sections", response_model=SectionOut, status_code=201, summary="新开教学班")
async def create_section(
    body: SectionCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> SectionOut:
    section_id = await actions.check_create(session, principal, body)
    return await queries.section_out(session, await queries.section_or_404(session, section_id))


@router.get("/sections/{section_id}", response_model=SectionOut, summary="教学班详情")
async def get_section(
    section_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> SectionOut:
    return await queries.section_out(session, await queries.section_or_404(session, section_id))


@router.patch("/sections/{section_id}", response_model=SectionOut, summary="修改教学班")
async def update_section(
    section_id: int,
    body: SectionUpdate,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> SectionOut:
    await actions.check_update(session, principal, section_id, body)
    return await queries.section_out(session, await queries.section_or_404(session, section_id))


@router.delete("/sections/{section_id}", status_code=204, summary="删除教学班")
async def delete_section(
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> Response:
    await actions.check_delete(session, principal, section_id)
    return Response(status_code=204)


@router.post(
    "/sections/merge", response_model=SectionOut, summary="合班：把同一课程的教学班合成一个"
)
async def merge_sections(
    body: MergeIn,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> SectionOut:
    section_id = await actions.check_merge(session, principal, body.section_ids)
    return await queries.section_out(session, await queries.section_or_404(session, section_id))


@router.post(
    "/sections/{section_id}/split",
    response_model=list[SectionOut],
    summary="拆班：按班级分组拆成多个教学班",
)
async def split_section(
    section_id: int,
    body: SplitIn,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> list[SectionOut]:
    ids = await actions.check_split(session, principal, section_id, body)
    return [
        await queries.section_out(session, await queries.section_or_404(session, i)) for i in ids
    ]


@router.post(
    "/offering/generate",
    response_model=OfferingReport,
    summary="按教学计划开课（只补缺少的教学班）",
)
async def generate_offering(
    body: OfferingGenerate,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
) -> OfferingReport:
    return await actions.check_generate(session, principal, body)
