"""JSON API of the monitoring center: /api/v1/monitor/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.kernel.pagination import Page
from campus.platform.access.service import require
from campus.platform.monitor import actions, queries
from campus.platform.monitor.permissions import (
    AUDIT_READ,
    DEAD_LETTER_READ,
    DEAD_LETTER_REPLAY,
    OVERVIEW_READ,
)
from campus.platform.monitor.schemas import (
    AuditEntryOut,
    AuditFilter,
    DeadLetterDetail,
    DeadLetterFilter,
    DeadLetterOut,
    ErrorFilter,
    HealthOut,
    RecentErrorsOut,
    TrafficFilter,
    TrafficOut,
)
from campus.platform.monitor.traffic import TRAFFIC

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


@router.get(
    "/health",
    response_model=HealthOut,
    dependencies=[require(OVERVIEW_READ)],
    summary="健康：本进程的数据库、缓存、消息总线，以及每个注册的服务实例",
)
async def get_health(session: ReadSessionDep, rt: RuntimeDep) -> HealthOut:
    return await queries.health(rt, session)


@router.get(
    "/traffic",
    response_model=TrafficOut,
    dependencies=[require(OVERVIEW_READ)],
    summary="本进程最近几分钟各路由的请求数、5xx 比例与延迟（p50/p95）",
)
async def get_traffic(filters: Annotated[TrafficFilter, Query()]) -> TrafficOut:
    return queries.traffic(TRAFFIC, filters)


@router.get(
    "/errors",
    response_model=RecentErrorsOut,
    dependencies=[require(OVERVIEW_READ)],
    summary="本进程最近的服务器错误（5xx 与未处理异常），从新到旧",
)
async def get_recent_errors(filters: Annotated[ErrorFilter, Query()]) -> RecentErrorsOut:
    return queries.recent_errors(TRAFFIC, filters.limit)
