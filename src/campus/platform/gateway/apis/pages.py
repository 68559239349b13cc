"""Pages of the API catalog (API目录), in the developer platform: every service's document with
its current version and a search over all operations; one service's operations by tag, its
versions and what each changed."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from campus.kernel import clock
from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.kernel.i18n import _
from campus.kernel.templating import flash, go_to, render
from campus.platform.access.service import require, signed_in
from campus.platform.gateway import proxy
from campus.platform.gateway.apis import actions, queries
from campus.platform.gateway.pages import may_manage
from campus.platform.gateway.permissions import MANAGE
from campus.platform.gateway.schemas import ApiOperationOut

router = APIRouter(tags=["api-catalog-pages"])
PAGE = "/developer/apis"


@router.get(PAGE, dependencies=[signed_in()])
async def catalog_page(
    request: Request,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    term = q.strip()
    return render(
        request,
        "gateway/apis/index.html",
        sources=await queries.list_sources(session),
        results=await queries.search(session, term) if term else None,
        q=term,
        can_refresh=may_manage(),
        fmt=clock.fmt,
    )


@router.post(PAGE + "/refresh", dependencies=[require(MANAGE)])
async def refresh_submit(request: Request, rt: RuntimeDep) -> Response:
    report = await actions.refresh(rt, proxy.client())
    response = go_to(request, PAGE)
    message = _(
        "已读取 {n} 个服务的文档：{new} 个有新版本，{bad} 个读取失败",
        n=report.checked,
        new=len(report.new_versions),
        bad=len(report.failed),
    )
    flash(request, response, message, "warning" if report.failed else "success")
    return response


def _by_tag(operations: list[ApiOperationOut]) -> dict[str, list[ApiOperationOut]]:
    groups: dict[str, list[ApiOperationOut]] = defaultdict(list)
    for operation in operations:
        groups[operation.tags[0] if operation.tags else ""].append(operation)
    return dict(sorted(groups.items()))


@router.get(PAGE + "/{name}", dependencies=[signed_in()])
async def source_page(
    request: Request,
    name: str,
    session: ReadSessionDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    found = await queries.detail(session, name, version)
    return render(
        request,
        "gateway/apis/source.html",
        detail=found,
        groups=_by_tag(found.operations),
        shown=version or (found.changes.version_id if found.changes else None),
        fmt=clock.fmt,
    )
