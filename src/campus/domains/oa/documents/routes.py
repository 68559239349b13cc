"""JSON API of documents (发文) and the 收文 inbox: /api/v1/oa/documents, /api/v1/oa/inbox."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, excel
from campus.domains.oa.documents import actions, queries
from campus.domains.oa.documents.access import access_document
from campus.domains.oa.permissions import DOCUMENT_DRAFT, DOCUMENT_MANAGE, DOCUMENT_SEAL
from campus.domains.oa.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentPage,
    DocumentUpdate,
    InboxPage,
    PrefixIn,
    PrefixOut,
    ReceiptPage,
    ReceiptSummary,
    SealIn,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParamsDep
from campus.platform.access.service import require, signed_in
from campus.platform.files import service as files

router = APIRouter(prefix="/api/v1/oa", tags=["oa"])
Box = Literal["all", "mine", "office"]


async def document_out(
    session: AsyncSession, principal: Principal, document_id: int
) -> DocumentOut:
    document, _level = await access_document(session, principal, document_id)
    return await queries.document_out(session, document, principal.person_id)


@router.get("/documents", response_model=DocumentPage, summary="公文列表：我拟的、我管理和用印的")
async def list_documents(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    box: Box = "all",
    status: Literal["draft", "reviewing", "approved", "sealed", "distributed"] | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> DocumentPage:
    f = queries.DocumentFilter(box=box, status=status, q=q.strip() if q else None)
    return await queries.documents_page(session, principal, f, paging)


@router.post("/documents", response_model=DocumentOut, status_code=201, summary="拟稿")
async def create_document(
    body: DocumentCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> DocumentOut:
    document_id = await actions.check_create_document(session, principal, body)
    return await document_out(session, principal, document_id)


@router.get("/documents/{document_id}", response_model=DocumentOut, summary="公文详情")
async def get_document(
    document_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> DocumentOut:
    return await document_out(session, principal, document_id)


@router.patch("/documents/{document_id}", response_model=DocumentOut, summary="修改草稿")
async def update_document(
    document_id: int,
    body: DocumentUpdate,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> DocumentOut:
    await actions.check_update_document(session, principal, document_id, body)
    return await document_out(session, principal, document_id)


@router.delete("/documents/{document_id}", status_code=204, summary="删除未送审的草稿")
async def delete_document(
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> Response:
    await actions.check_delete_document(session, principal, document_id)
    return Response(status_code=204)


@router.post(
    "/documents/{document_id}/submit", response_model=DocumentOut, summary="送审（发文审批流程）"
)
async def submit_document(
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> DocumentOut:
    await actions.check_submit(session, principal, document_id)
    return await document_out(session, principal, document_id)


@router.post("/documents/{document_id}/seal", response_model=DocumentOut, summary="用印")
async def seal_document(
    document_id: int,
    body: SealIn,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_SEAL)],
) -> DocumentOut:
    await actions.check_seal(session, principal, document_id, body.seal_name)
    return await document_out(session, principal, document_id)


@router.post(
    "/documents/{document_id}/distribute", response_model=DocumentOut, summary="分发到收文人"
)
async def distribute_document(
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_SEAL)],
) -> DocumentOut:
    await actions.check_distribute(session, principal, document_id)
    return await document_out(session, principal, document_id)


@router.get("/documents/{document_id}/attachments/{file_id}", summary="下载附件")
async def document_attachment(
    document_id: int,
    file_id: str,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    document, _level = await access_document(session, principal, document_id)
    opened = await attachments.download(
        rt, session, document.attachments or [], file_id, "document", document.id
    )
    return files.download_response(opened)


# ---------------------------------------------------------------- distribution progress


async def progress_of(
    session: AsyncSession, principal: Principal, document_id: int
) -> tuple[queries.Progress, str]:
    document, level = await access_document(session, principal, document_id)
    if not level.sees_progress:
        raise Forbidden(_("只有拟稿人和办公室可以查看分发进度"))
    return await queries.progress(session, document.id), document.number or document.title


@router.get(
    "/documents/{document_id}/receipts",
    response_model=ReceiptSummary,
    summary="分发进度：按单位统计已读",
)
async def document_receipts(
    document_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> ReceiptSummary:
    found, _title = await progress_of(session, principal, document_id)
    return found.summary


@router.get(
    "/documents/{document_id}/receipts/people",
    response_model=ReceiptPage,
    summary="分发进度：收文人名单",
)
async def document_receipt_people(
    document_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    state: Literal["read", "unread"] | None = None,
) -> ReceiptPage:
    found, _title = await progress_of(session, principal, document_id)
    rows = [r for r in found.rows if state is None or (state == "read") == (r.read_at is not None)]
    window = rows[paging.offset : paging.offset + paging.page_size]
    return Page.of(window, len(rows), paging).into(ReceiptPage, lambda r: r)


@router.get("/documents/{document_id}/receipts.xlsx", summary="分发进度导出为 Excel")
async def document_receipts_xlsx(
    document_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    found, title = await progress_of(session, principal, document_id)
    data = excel.receipts_workbook(title, found.summary, found.rows)
    return xlsx_response(data, f"{title}-签收情况.xlsx", f"document-{document_id}-receipts.xlsx")


# ---------------------------------------------------------------- 收文 inbox


@router.get("/inbox", response_model=InboxPage, summary="收文：分发给我的公文")
async def my_inbox(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    unread: bool = False,
) -> InboxPage:
    return await queries.inbox(session, principal.person_id, paging, unread=unread)


@router.post("/inbox/{document_id}/read", response_model=DocumentOut, summary="签收（标记已读）")
async def read_document(
    document_id: int, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> DocumentOut:
    document, _level = await access_document(session, principal, document_id)
    if await queries.receipt_of(session, document.id, principal.person_id) is None:
        raise NotFound(_("这份公文没有分发给您"))
    await actions.do_mark_read(session, document.id, principal.person_id)
    return await document_out(session, principal, document_id)


# ---------------------------------------------------------------- 发文字号 prefixes


@router.get(
    "/prefixes",
    response_model=list[PrefixOut],
    dependencies=[require(DOCUMENT_MANAGE)],
    summary="发文字号前缀（范围内各单位）",
)
async def list_prefixes(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[PrefixOut]:
    return await queries.prefixes(session, principal)


@router.put("/prefixes/{org_unit_id}", response_model=PrefixOut, summary="设置单位的发文字号前缀")
async def set_prefix(
    org_unit_id: int,
    body: PrefixIn,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_MANAGE)],
) -> PrefixOut:
    await actions.check_set_prefix(session, principal, org_unit_id, body.prefix)
    found = await queries.prefixes(session, principal)
    return next(p for p in found if p.org_unit_id == org_unit_id)
