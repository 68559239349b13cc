"""JSON API of the course catalogue: /api/v1/academic/courses. Everyone signed in reads it;
``academic.course.manage`` writes the courses of the departments it reaches."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from campus.domains.academic.catalog import actions, queries
from campus.domains.academic.catalog.access import course_or_404
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.permissions import COURSE_MANAGE
from campus.domains.academic.rooms.routes import read_upload
from campus.domains.academic.schemas import CourseIn, CourseOut, CoursePage, ImportReport
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.pagination import PageParamsDep
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/courses", tags=["academic"])


def course_filter(
    principal: Principal | None,
    q: str | None,
    org_unit_id: int | None,
    active: bool | None,
    mine: bool,
) -> queries.CourseFilter:
    within = access.scope_filter(principal, COURSE_MANAGE, Course.org_unit_id) if mine else None
    return queries.CourseFilter(
        q=(q or "").strip() or None, org_unit_id=org_unit_id, active=active, within=within
    )


Q = Annotated[str | None, Query(max_length=60, description="按课程代码或名称搜索")]
Mine = Annotated[bool, Query(description="只列我能维护的课程")]


@router.get("", response_model=CoursePage, summary="课程库：搜索与筛选")
async def list_courses(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    q: Q = None,
    org_unit_id: int | None = None,
    active: bool | None = None,
    mine: Mine = False,
) -> CoursePage:
    f = course_filter(principal, q, org_unit_id, active, mine)
    return await queries.course_page(session, f, paging)


@router.get("/export.xlsx", summary="课程导出为 Excel")
async def export_courses(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    q: Q = None,
    org_unit_id: int | None = None,
    active: bool | None = None,
    mine: Mine = False,
) -> Response:
    f = course_filter(principal, q, org_unit_id, active, mine)
    return xlsx_response(await actions.export(session, f), "课程库.xlsx", "courses.xlsx")


@router.get("/import-template.xlsx", dependencies=[require(COURSE_MANAGE)], summary="课程导入模板")
async def courses_template() -> Response:
    return xlsx_response(actions.template(), "课程导入模板.xlsx", "courses-template.xlsx")


@router.post(
    "/import", response_model=ImportReport, summary="从 Excel 导入课程（有一行错误则全部不导入）"
)
async def import_courses(
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
    file: Annotated[UploadFile, File(description="按导入模板填写的 .xlsx 文件")],
) -> ImportReport:
    data = await read_upload(file, rt.settings.max_upload_bytes)
    return await actions.check_import(session, principal, data)


@router.post("", response_model=CourseOut, status_code=201, summary="新建课程")
async def create_course(
    body: CourseIn, session: SessionDep, principal: Annotated[Principal, require(COURSE_MANAGE)]
) -> CourseOut:
    course = await actions.check_create_course(session, principal, body)
    return (await queries.courses_out(session, [course.id]))[course.id]


@router.get(
    "/{course_id}", response_model=CourseOut, dependencies=[signed_in()], summary="课程详情"
)
async def get_course(course_id: int, session: ReadSessionDep) -> CourseOut:
    course = await course_or_404(session, course_id)
    return (await queries.courses_out(session, [course.id]))[course.id]


@router.put("/{course_id}", response_model=CourseOut, summary="修改课程")
async def update_course(
    course_id: int,
    body: CourseIn,
    session: SessionDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
) -> CourseOut:
    await actions.check_update_course(session, principal, course_id, body)
    return (await queries.courses_out(session, [course_id]))[course_id]


@router.delete("/{course_id}", status_code=204, summary="删除课程")
async def delete_course(
    course_id: int, session: SessionDep, principal: Annotated[Principal, require(COURSE_MANAGE)]
) -> Response:
    await actions.check_delete_course(session, principal, course_id)
    return Response(status_code=204)
