"""JSON API of training programmes and teaching plans: /api/v1/academic/programmes/…,
/api/v1/academic/plans/…. Thin: parse, authorise, call one action or query."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import PROGRAMME_MANAGE
from campus.domains.academic.programmes import actions, queries
from campus.domains.academic.programmes.access import access_programme, visible
from campus.domains.academic.programmes.schemas import (
    CopyToCohort,
    PlanGenerate,
    PlanItemOut,
    PlanReport,
    ProgrammeContent,
    ProgrammeCreate,
    ProgrammeDiff,
    ProgrammeOut,
    ProgrammeSummary,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(prefix="/api/v1/academic", tags=["academic"])


async def _out(session: AsyncSession, principal: Principal, programme_id: int) -> ProgrammeOut:
    programme = await access_programme(session, principal, programme_id)
    return await queries.programme_out(session, programme)


@router.get("/programmes", response_model=list[ProgrammeSummary], summary="培养方案列表")
async def list_programmes(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    college_id: int | None = None,
    major_id: int | None = None,
    cohort: int | None = None,
    status: Literal["draft", "published"] | None = None,
) -> list[ProgrammeSummary]:
    f = queries.ProgrammeFilter(college_id, major_id, cohort, status)
    return await queries.list_programmes(session, f, visible(principal))


@router.post(
    "/programmes", response_model=ProgrammeOut, status_code=201, summary="新建培养方案（草稿）"
)
async def create_programme(
    body: ProgrammeCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> ProgrammeOut:
    programme_id = await actions.check_create(session, principal, body)
    return await _out(session, principal, programme_id)


@router.get("/programmes/{programme_id}", response_model=ProgrammeOut, summary="培养方案详情")
async def get_programme(
    programme_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> ProgrammeOut:
    return await _out(session, principal, programme_id)


@router.put("/programmes/{programme_id}", response_model=ProgrammeOut, summary="修改草稿的全部内容")
async def replace_programme(
    programme_id: int,
    body: ProgrammeContent,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> ProgrammeOut:
    await actions.check_replace(session, principal, programme_id, body)
    return await _out(session, principal, programme_id)


@router.delete("/programmes/{programme_id}", status_code=204, summary="删除草稿")
async def delete_programme(
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    await actions.check_delete(session, principal, programme_id)
    return Response(status_code=204)


@router.post("/programmes/{programme_id}/publish", response_model=ProgrammeOut, summary="发布")
async def publish_programme(
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> ProgrammeOut:
    await actions.check_publish(session, principal, programme_id)
    return await _out(session, principal, programme_id)


@router.post(
    "/programmes/{programme_id}/versions",
    response_model=ProgrammeOut,
    status_code=201,
    summary="在此版本上建立新版本（草稿）",
)
async def new_version(
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> ProgrammeOut:
    new_id = await actions.check_new_version(session, principal, programme_id)
    return await _out(session, principal, new_id)


@router.post(
    "/programmes/{programme_id}/copy",
    response_model=ProgrammeOut,
    status_code=201,
    summary="复制到另一年级（草稿）",
)
async def copy_programme(
    programme_id: int,
    body: CopyToCohort,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> ProgrammeOut:
    new_id = await actions.check_copy(session, principal, programme_id, body.cohort)
    return await _out(session, principal, new_id)


@router.get(
    "/programmes/{programme_id}/compare/{other_id}",
    response_model=ProgrammeDiff,
    summary="比较两个版本：增删改的课程组与课程",
)
async def compare_programmes(
    programme_id: int,
    other_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> ProgrammeDiff:
    left = await _out(session, principal, programme_id)
    right = await _out(session, principal, other_id)
    return queries.compare(left, right)


async def my_programme_out(session: AsyncSession, principal: Principal) -> ProgrammeOut:
    me = await users.get_person_ref(session, principal.person_id)
    found = await users.get_class(session, me.class_id) if me and me.class_id else None
    if found is None:
        raise NotFound(_("您没有所在的行政班，无法确定培养方案"))
    programme = await queries.effective_programme(session, found.org_unit_id, found.grade)
    if programme is None:
        raise NotFound(_("您所在专业和年级还没有发布培养方案"))
    return await queries.programme_out(session, programme)


@router.get(
    "/my/programme", response_model=ProgrammeOut, summary="我的培养方案（按所在班级的专业和年级）"
)
async def my_programme(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> ProgrammeOut:
    return await my_programme_out(session, principal)


# ---------------------------------------------------------------- teaching plans


@router.post(
    "/plans/generate", response_model=PlanReport, summary="按培养方案生成学期教学计划（可重复执行）"
)
async def generate_plan(
    body: PlanGenerate,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> PlanReport:
    return await actions.check_generate_plan(session, principal, body.term_id)


@router.get(
    "/plans", response_model=list[PlanItemOut], summary="学期教学计划（按学院、专业、班级）"
)
async def plan(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int,
    college_id: int | None = None,
    major_id: int | None = None,
    class_id: int | None = None,
) -> list[PlanItemOut]:
    await queries.term_or_404(session, term_id)
    f = queries.PlanFilter(college_id, major_id, class_id)
    return await queries.plan_items(session, term_id, f)
