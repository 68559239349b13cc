"""JSON API of the monitoring center: /api/v1/monitor/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.kernel.pagination import Page
from campus.platform.access.service import require
from campus.platform.monitor import actions, queries
from campus.platform.monitor.permissions import AUDIT_READ, DEAD_LETTER_READ, DEAD_LETTER_REPLAY
from campus.platform.monitor.schemas import (
    AuditEntryOut,
    AuditFilter,
    DeadLetterDetail,
    DeadLetterFilter,
    DeadLetterOut,
)

router = APIRouter(prefix="/api/v1/monitor", tags=["monitor"])


@router.get(
    "/dead-letters",
    response_model=Page[DeadLetterOut],
    dependencies=[require(DEAD_LETTER_READ)],
    summary="死信事件列表",
)
async def list_dead_letters(
    session: ReadSessionDep, filters: Annotated[DeadLetterFilter, Query()]
) -> Page[DeadLetterOut]:
    return await queries.list_dead_letters(session, filters)


@router.get(
    "/dead-letters/{letter_id}",
    response_model=DeadLetterDetail,
    dependencies=[require(DEAD_LETTER_READ)],
    summary="一条死信事件：事件全文与最后的错误",
)
async def get_dead_letter(
    letter_id: int, session: ReadSessionDep, rt: RuntimeDep
) -> DeadLetterDetail:
    return await queries.get_dead_letter(session, letter_id, actions.handler_known(rt))


@router.post(
    "/dead-letters/{letter_id}/replay",
    response_model=DeadLetterDetail,
    dependencies=[require(DEAD_LETTER_REPLAY)],
    summary="重放死信事件：再次交给它的处理器，成功后标记为已重放",
)
async def replay_dead_letter(letter_id: int, rt: RuntimeDep) -> DeadLetterDetail:
    # No request transaction here: the replay runs in the handler's own transaction.
    return await actions.do_replay(rt, letter_id)


@router.get(
    "/audit",
    response_model=Page[AuditEntryOut],
    dependencies=[require(AUDIT_READ)],
    summary="审计日志查询",
)
async def list_audit(
    session: ReadSessionDep, filters: Annotated[AuditFilter, Query()]
) -> Page[AuditEntryOut]:
    return await queries.list_audit(session, filters)
