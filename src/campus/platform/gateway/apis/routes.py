"""JSON API of the API catalog, under /api/v1/gateway/apis: open to every signed-in developer;
refreshing it now is the gateway administrators'."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.platform.access.service import require, signed_in
from campus.platform.gateway import proxy
from campus.platform.gateway.apis import actions, queries
from campus.platform.gateway.permissions import MANAGE
from campus.platform.gateway.schemas import (
    ApiOperationOut,
    ApiSourceDetail,
    ApiSourceOut,
    RefreshOut,
)

router = APIRouter(prefix="/api/v1/gateway/apis", tags=["api-catalog"])
Version = Annotated[int | None, Query(ge=1, description="版本 id；不填为当前版本")]


@router.get(
    "",
    response_model=list[ApiSourceOut],
    dependencies=[signed_in()],
    summary="API 目录：每个服务的 OpenAPI 文档、当前版本、接口数与最近一次读取",
)
async def list_sources(session: ReadSessionDep) -> list[ApiSourceOut]:
    return await queries.list_sources(session)


@router.get(
    "/search",
    response_model=list[ApiOperationOut],
    dependencies=[signed_in()],
    summary="按路径、说明、标签或 operationId 搜索各服务当前版本的接口（最多 100 条）",
)
async def search(
    session: ReadSessionDep, q: Annotated[str, Query(min_length=1, max_length=60)]
) -> list[ApiOperationOut]:
    return await queries.search(session, q.strip())


@router.post(
    "/refresh",
    response_model=RefreshOut,
    dependencies=[require(MANAGE)],
    summary="立即重新读取所有服务的文档（内容变化时保存为新版本）",
)
async def refresh(rt: RuntimeDep) -> RefreshOut:
    report = await actions.refresh(rt, proxy.client())
    return RefreshOut(
        checked=report.checked, new_versions=report.new_versions, failed=report.failed
    )


@router.get("/{name}", response_model=ApiSourceDetail, dependencies=[signed_in()])
async def detail(name: str, session: ReadSessionDep, version: Version = None) -> ApiSourceDetail:
    return await queries.detail(session, name, version)


@router.get(
    "/{name}/openapi.json",
    dependencies=[signed_in()],
    summary="某服务某版本的 OpenAPI 文档原文",
)
async def document(name: str, session: ReadSessionDep, version: Version = None) -> Any:
    return await queries.document(session, name, version)
