"""JSON API of notices: /api/v1/oa/notices/... Thin: parse, authorise, call one action or
query, answer with schemas."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, excel, people
from campus.domains.oa.notices import actions, queries
from campus.domains.oa.notices.access import NoticeAccess, access_notice
from campus.domains.oa.permissions import NOTICE_PUBLISH
from campus.domains.oa.schemas import (
    NoticeCreate,
    NoticeOut,
    NoticePage,
    NoticeUpdate,
    ReceiptPage,
    ReceiptSummary,
    Withdraw,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParamsDep
from campus.platform.access.service import require, signed_in
from campus.platform.files import service as files

router = APIRouter(prefix="/api/v1/oa/notices", tags=["oa"])
ReceiptState = Literal["read", "unread"]


async def reader_or_404(session: AsyncSession, principal: Principal) -> people.Reader:
    reader = await people.reader_of(session, principal.person_id)
    if reader is None:
        raise NotFound(_("您的人员信息不存在"))
    return reader


async def notice_out(session: AsyncSession, principal: Principal, notice_id: int) -> NoticeOut:
    notice, _level = await access_notice(session, principal, notice_id)
    return await queries.notice_out(session, notice, principal.person_id)


@router.get("", response_model=NoticePage, summary="我的通知：发给我的通知公告，置顶在前")
async def my_notices(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    unread: bool = False,
    expired: Annotated[bool, Query(description="包括已过期的")] = False,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> NoticePage:
    reader = await reader_or_404(session, principal)
    f = queries.InboxFilter(unread=unread, expired=expired, q=q.strip() if q else None)
    return await queries.my_notices(session, reader, f, paging)


@router.get("/managed", response_model=NoticePage, summary="我发布的（及有管理权限单位的）通知公告")
async def managed_notices(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    status: Literal["draft", "published", "withdrawn"] | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> NoticePage:
    return await queries.managed_notices(
        session, principal, paging, status, q.strip() if q else None
    )


@router.post("", response_model=NoticeOut, status_code=201, summary="起草通知（草稿）")
async def create_notice(
    body: NoticeCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> NoticeOut:
    notice_id = await actions.check_create_notice(session, principal, body)
    return await notice_out(session, principal, notice_id)


@router.get("/{notice_id}", response_model=NoticeOut, summary="通知详情")
async def get_notice(
    notice_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> NoticeOut:
    return await notice_out(session, principal, notice_id)


@router.patch("/{notice_id}", response_model=NoticeOut, summary="修改草稿")
async def update_notice(
    notice_id: int,
    body: NoticeUpdate,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> NoticeOut:
    await actions.check_update_notice(session, principal, notice_id, body)
    return await notice_out(session, principal, notice_id)


@router.delete("/{notice_id}", status_code=204, summary="删除草稿")
async def delete_notice(
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> Response:
    await actions.check_delete_notice(session, principal, notice_id)
    return Response(status_code=204)


@router.post("/{notice_id}/publish", response_model=NoticeOut, summary="发布")
async def publish_notice(
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> NoticeOut:
    await actions.check_publish(session, principal, notice_id)
    return await notice_out(session, principal, notice_id)


@router.post("/{notice_id}/withdraw", response_model=NoticeOut, summary="撤回已发布的通知")
async def withdraw_notice(
    notice_id: int,
    body: Withdraw,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> NoticeOut:
    await actions.check_withdraw(session, principal, notice_id, body.reason)
    return await notice_out(session, principal, notice_id)


@router.post("/{notice_id}/read", response_model=NoticeOut, summary="标记为已读（回执）")
async def read_notice(
    notice_id: int, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> NoticeOut:
    notice, _level = await access_notice(session, principal, notice_id)
    reader = await reader_or_404(session, principal)
    if notice.status == "published" and await queries.is_addressed(session, notice.id, reader):
        await actions.do_mark_read(session, notice, reader)
    return await notice_out(session, principal, notice_id)


@router.get("/{notice_id}/attachments/{file_id}", summary="下载附件")
async def notice_attachment(
    notice_id: int,
    file_id: str,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    notice, _level = await access_notice(session, principal, notice_id)
    opened = await attachments.download(
        rt, session, notice.attachments or [], file_id, "notice", notice.id
    )
    return files.download_response(opened)


# ---------------------------------------------------------------- read receipts


async def receipts_of(
    session: AsyncSession, principal: Principal, notice_id: int
) -> tuple[queries.Receipts, str]:
    notice, level = await access_notice(session, principal, notice_id)
    if level not in (NoticeAccess.PUBLISHER, NoticeAccess.MANAGER):
        raise Forbidden(_("只有发布人或管理人员可以查看阅读情况"))
    if notice.status == "draft":
        raise NotFound(_("草稿尚未发布，没有阅读情况"))
    return await queries.receipts(session, notice), notice.title


@router.get("/{notice_id}/receipts", response_model=ReceiptSummary, summary="阅读回执：按单位统计")
async def notice_receipts(
    notice_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> ReceiptSummary:
    found, _title = await receipts_of(session, principal, notice_id)
    return found.summary()


@router.get(
    "/{notice_id}/receipts/people", response_model=ReceiptPage, summary="阅读回执：已读/未读名单"
)
async def notice_receipt_people(
    notice_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    state: ReceiptState | None = None,
    org_unit_id: int | None = None,
) -> ReceiptPage:
    found, _title = await receipts_of(session, principal, notice_id)
    rows = found.people(state, org_unit_id)
    window = rows[paging.offset : paging.offset + paging.page_size]
    return Page.of(window, len(rows), paging).into(ReceiptPage, lambda r: r)


@router.get("/{notice_id}/receipts.xlsx", summary="阅读回执导出为 Excel")
async def notice_receipts_xlsx(
    notice_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    found, title = await receipts_of(session, principal, notice_id)
    data = excel.receipts_workbook(title, found.summary(), found.people())
    return xlsx_response(data, f"{title}-阅读情况.xlsx", f"notice-{notice_id}-receipts.xlsx")
