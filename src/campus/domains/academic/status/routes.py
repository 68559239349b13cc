"""JSON API of student status (学籍): /api/v1/academic/status/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from campus.domains.academic.permissions import STATUS_MANAGE, STATUS_READ
from campus.domains.academic.status import actions, excel, queries
from campus.domains.academic.status.access import (
    access_change,
    access_own_record,
    access_record,
)
from campus.domains.academic.status.models import GraduationBatch
from campus.domains.academic.status.schemas import (
    BatchCreate,
    BatchOut,
    ChangeCreate,
    ChangeKind,
    ChangeOut,
    ChangePage,
    ChangeState,
    RecordCreate,
    RecordDetail,
    RecordPage,
    Status,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/status", tags=["academic-status"])

Q = Annotated[str | None, Query(max_length=40)]


def record_filter(
    q: str | None,
    college_id: int | None,
    major_id: int | None,
    status: str | None,
    grade: int | None,
) -> queries.RecordFilter:
    return queries.RecordFilter(
        q=(q or "").strip() or None,
        college_id=college_id,
        major_id=major_id,
        status=status,
        grade=grade,
    )


@router.get("/records", response_model=RecordPage, summary="学籍查询（数据范围内）")
async def list_records(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_READ)],
    paging: PageParamsDep,
    q: Q = None,
    college_id: int | None = None,
    major_id: int | None = None,
    status: Status | None = None,
    grade: Annotated[int | None, Query(ge=1950, le=2100)] = None,
) -> RecordPage:
    f = record_filter(q, college_id, major_id, status, grade)
    return await queries.records_page(session, principal, f, paging)


@router.get("/records/export.xlsx", summary="导出学生名册（Excel）")
async def export_records(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_READ)],
    q: Q = None,
    college_id: int | None = None,
    major_id: int | None = None,
    status: Status | None = None,
    grade: Annotated[int | None, Query(ge=1950, le=2100)] = None,
) -> Response:
    f = record_filter(q, college_id, major_id, status, grade)
    rows = await queries.roster(session, principal, f)
    return xlsx_response(excel.roster(rows), "学生名册.xlsx", "roster.xlsx")


@router.post("/records", response_model=RecordDetail, status_code=201, summary="建立学籍")
async def open_record(
    body: RecordCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> RecordDetail:
    person_id = await actions.check_open_record(session, principal, body)
    record = await access_record(session, principal, person_id)
    return await queries.record_detail(session, record)


@router.get("/me", response_model=RecordDetail, summary="我的学籍")
async def my_record(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> RecordDetail:
    record = await access_own_record(session, principal)
    return await queries.record_detail(session, record)


@router.get("/records/{person_id}", response_model=RecordDetail, summary="学籍详情与异动记录")
async def get_record(
    person_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> RecordDetail:
    record = await access_record(session, principal, person_id)
    return await queries.record_detail(session, record)


@router.get("/changes", response_model=ChangePage, summary="学籍异动申请（数据范围内）")
async def list_changes(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_READ)],
    paging: PageParamsDep,
    state: ChangeState | None = None,
    kind: ChangeKind | None = None,
    q: Q = None,
) -> ChangePage:
    f = queries.ChangeFilter(state=state, kind=kind, q=(q or "").strip() or None)
    return await queries.changes_page(session, principal, f, paging)


@router.post("/changes", response_model=ChangeOut, status_code=201, summary="提交学籍异动申请")
async def file_change(
    body: ChangeCreate, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> ChangeOut:
    change_id = await actions.check_file(session, principal, body)
    return await change_out(session, principal, change_id)


@router.get("/changes/{change_id}", response_model=ChangeOut, summary="学籍异动申请详情")
async def get_change(
    change_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> ChangeOut:
    return await change_out(session, principal, change_id)


async def change_out(session: ReadSessionDep, principal: Principal, change_id: int) -> ChangeOut:
    change, record = await access_change(session, principal, change_id)
    names = await queries.names_of(session, [change.target_major_id], [change.target_class_id])
    return queries.change_out(change, record, names)


@router.post("/batches", response_model=BatchOut, status_code=201, summary="批量毕业/结业")
async def start_batch(
    body: BatchCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> BatchOut:
    batch_id = await actions.check_start_batch(session, principal, body)
    batch = await _batch(session, batch_id)
    return BatchOut.model_validate(batch)


@router.get("/batches/{batch_id}", response_model=BatchOut, summary="批次进度")
async def get_batch(
    batch_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> BatchOut:
    return BatchOut.model_validate(await _batch(session, batch_id))


@router.post("/batches/{batch_id}/step", response_model=BatchOut, summary="办理批次的下一部分")
async def step_batch(
    batch_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(STATUS_MANAGE)],
) -> BatchOut:
    batch = await _batch(session, batch_id)
    await actions.do_batch_step(session, principal, batch)
    return BatchOut.model_validate(batch)


async def _batch(session: ReadSessionDep, batch_id: int) -> GraduationBatch:
    batch = await queries.batch(session, batch_id)
    if batch is None:
        raise NotFound(_("批次 {id} 不存在", id=batch_id))
    return batch
