"""JSON API of moderation: /api/v1/messaging/moderation/... — the word list, the report
queue and the retention setting for moderators; one's own blocks for everyone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import require, signed_in
from campus.platform.messaging.moderation import actions, queries
from campus.platform.messaging.moderation.schemas import (
    BlockOut,
    Decision,
    ReportDecided,
    ReportPage,
    ReportStatus,
    RetentionIn,
    WordIn,
    WordLevel,
    WordPage,
)
from campus.platform.messaging.permissions import MODERATION_MANAGE

router = APIRouter(prefix="/api/v1/messaging/moderation", tags=["messaging-moderation"])
Moderator = Annotated[Principal, require(MODERATION_MANAGE)]
SignedIn = Annotated[Principal, signed_in()]


@router.get("/words", response_model=WordPage, summary="敏感词列表")
async def list_words(
    session: ReadSessionDep,
    _p: Moderator,
    paging: PageParamsDep,
    q: Annotated[str | None, Query(max_length=60)] = None,
    level: WordLevel | None = None,
) -> WordPage:
    return await queries.words(session, paging, q.strip() if q else None, level)


@router.post("/words", summary="添加敏感词（已有的词改为新级别）")
async def add_words(body: WordIn, session: SessionDep, principal: Moderator) -> dict[str, int]:
    return {"changed": await actions.check_add_words(session, principal, body)}


@router.delete("/words/{word_id}", status_code=204, summary="删除敏感词")
async def delete_word(word_id: int, session: SessionDep, _p: Moderator) -> Response:
    await actions.check_delete_word(session, word_id)
    return Response(status_code=204)


@router.get("/reports", response_model=ReportPage, summary="举报队列")
async def list_reports(
    session: ReadSessionDep,
    _p: Moderator,
    paging: PageParamsDep,
    status: ReportStatus | None = "pending",
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> ReportPage:
    return await queries.reports(session, paging, status, kind)


@router.post(
    "/reports/{report_id}/decision",
    response_model=ReportDecided,
    summary="处理举报：删除内容或驳回（同一内容的待处理举报一并处理）",
)
async def decide_report(
    report_id: int, body: Decision, session: SessionDep, principal: Moderator
) -> ReportDecided:
    return await actions.check_decide(session, principal, report_id, body)


@router.get("/retention", response_model=RetentionIn, summary="聊天记录保留天数")
async def get_retention(session: ReadSessionDep, _p: Moderator) -> RetentionIn:
    return RetentionIn(days=await queries.retention_days(session))


@router.put("/retention", response_model=RetentionIn, summary="设置聊天记录保留天数")
async def set_retention(
    body: RetentionIn, session: SessionDep, principal: Moderator
) -> RetentionIn:
    await actions.set_retention_days(session, principal, body.days)
    return body


@router.get("/blocks", response_model=list[BlockOut], summary="我屏蔽的人")
async def my_blocks(session: ReadSessionDep, principal: SignedIn) -> list[BlockOut]:
    return await queries.blocks_of(session, principal.person_id)


@router.put("/blocks/{person_id}", status_code=204, summary="屏蔽此人（其不能再单聊我）")
async def block(person_id: int, session: SessionDep, principal: SignedIn) -> Response:
    await actions.check_block(session, principal.person_id, person_id)
    return Response(status_code=204)


@router.delete("/blocks/{person_id}", status_code=204, summary="取消屏蔽")
async def unblock(person_id: int, session: SessionDep, principal: SignedIn) -> Response:
    await actions.do_unblock(session, principal.person_id, person_id)
    return Response(status_code=204)
