"""Admin API of the API center: /api/v1/gateway/... (services, routes, consumers, credentials,
the request log and the Kong export)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, PayloadTooLarge
from campus.kernel.i18n import _
from campus.platform.access.service import require
from campus.platform.gateway import actions, kong, queries, stats
from campus.platform.gateway import kong_import as kong_import_module
from campus.platform.gateway.permissions import MANAGE, READ
from campus.platform.gateway.schemas import (
    ConsumerIn,
    ConsumerOut,
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    LimitsIn,
    MinuteOut,
    OAuthClientIssued,
    RouteIn,
    RouteOut,
    ServiceIn,
    ServiceOut,
)

router = APIRouter(prefix="/api/v1/gateway", tags=["gateway"])
KONG_MAX_BYTES = 2 * 1024 * 1024


@router.get("/services", response_model=list[ServiceOut], dependencies=[require(READ)])
async def list_services(session: ReadSessionDep) -> list[ServiceOut]:
    return await queries.list_services(session)


@router.post(
    "/services",
    response_model=ServiceOut,
    status_code=201,
    dependencies=[require(MANAGE)],
    summary="新建网关服务：注册中心服务名或固定上游地址二选一",
)
async def create_service(body: ServiceIn, session: SessionDep, rt: RuntimeDep) -> ServiceOut:
    return await actions.do_create_service(session, rt.cache, body)


@router.delete("/services/{name}", status_code=204, dependencies=[require(MANAGE)])
async def delete_service(name: str, session: SessionDep, rt: RuntimeDep) -> Response:
    await actions.do_delete_service(session, rt.cache, name)
    return Response(status_code=204)


@router.get("/routes", response_model=list[RouteOut], dependencies=[require(READ)])
async def list_routes(session: ReadSessionDep) -> list[RouteOut]:
    return await queries.list_routes(session)


@router.post(
    "/routes",
    response_model=RouteOut,
    status_code=201,
    dependencies=[require(MANAGE)],
    summary="新建路由：/gw/<服务>/<路径前缀>…，方法、鉴权、分组 ACL、限流",
)
async def create_route(body: RouteIn, session: SessionDep, rt: RuntimeDep) -> RouteOut:
    return await actions.do_create_route(session, rt.cache, body)


@router.delete("/routes/{name}", status_code=204, dependencies=[require(MANAGE)])
async def delete_route(name: str, session: SessionDep, rt: RuntimeDep) -> Response:
    await actions.do_delete_route(session, rt.cache, name)
    return Response(status_code=204)


@router.get("/consumers", response_model=list[ConsumerOut], dependencies=[require(READ)])
async def list_consumers(session: ReadSessionDep) -> list[ConsumerOut]:
    return await queries.list_consumers(session)


@router.post(
    "/consumers", response_model=ConsumerOut, status_code=201, dependencies=[require(MANAGE)]
)
async def create_consumer(body: ConsumerIn, session: SessionDep, rt: RuntimeDep) -> ConsumerOut:
    return await actions.do_create_consumer(session, rt.cache, body)


@router.put(
    "/consumers/{username}/limits",
    response_model=ConsumerOut,
    dependencies=[require(MANAGE)],
    summary="调整消费者的每分钟限流与每日配额（null 为不限）",
)
async def set_limits(
    username: str, body: LimitsIn, session: SessionDep, rt: RuntimeDep
) -> ConsumerOut:
    return await actions.do_set_limits(session, rt.cache, username, body)


@router.post(
    "/consumers/{username}/oauth-client",
    response_model=OAuthClientIssued,
    status_code=201,
    dependencies=[require(MANAGE)],
    summary="为消费者注册 OAuth 客户端（客户端凭据方式），其访问令牌即可调用网关；密钥只返回一次",
)
async def bind_oauth_client(
    username: str, session: SessionDep, rt: RuntimeDep
) -> OAuthClientIssued:
    return await actions.do_bind_oauth_client(session, rt.cache, username, username)


@router.post(
    "/consumers/{username}/credentials",
    response_model=CredentialIssued,
    status_code=201,
    dependencies=[require(MANAGE)],
    summary="签发凭据：API 密钥或 HMAC 密钥，密钥只在此返回一次",
)
async def issue_credential(
    username: str, body: CredentialIn, session: SessionDep, rt: RuntimeDep
) -> CredentialIssued:
    return await actions.do_issue_credential(session, rt, username, body)


@router.post(
    "/credentials/{credential_id}/revoke",
    response_model=CredentialOut,
    dependencies=[require(MANAGE)],
)
async def revoke_credential(
    credential_id: int, session: SessionDep, rt: RuntimeDep
) -> CredentialOut:
    return await actions.do_revoke_credential(session, rt.cache, credential_id)


@router.get(
    "/log",
    response_model=list[MinuteOut],
    dependencies=[require(READ)],
    summary="请求日志：按分钟、路由、消费者与状态类别汇总，新的在前（本进程待写入的计数先写入）",
)
async def request_log(
    rt: RuntimeDep, minutes: Annotated[int, Query(ge=1, le=10080)] = 60
) -> list[MinuteOut]:
    await stats.flush(rt)  # this process's pending counts first
    async with rt.db.read() as session:
        return await queries.recent_minutes(session, clock.now() - timedelta(minutes=minutes))


@router.post(
    "/kong.yaml",
    status_code=201,
    summary="导入 Kong 声明式配置（导出格式）：服务、路由、消费者、分组、限流、订阅；全成或全不写",
)
async def kong_import(
    request: Request, session: SessionDep, rt: RuntimeDep, me: Annotated[Principal, require(MANAGE)]
) -> dict[str, int]:
    body = await request.body()
    if len(body) > KONG_MAX_BYTES:
        raise PayloadTooLarge(_("配置不能超过 {n} 字节", n=KONG_MAX_BYTES))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput.on("document", _("配置应为 UTF-8 文本")) from exc
    plan = kong_import_module.parse(text, me.person_id)
    return await kong_import_module.apply(session, rt.cache, plan)


@router.get(
    "/kong.yaml",
    response_class=PlainTextResponse,
    dependencies=[require(READ)],
    summary="Kong 声明式配置（_format_version 3.0），所有实体带上 tag",
)
async def kong_config(
    rt: RuntimeDep, tag: Annotated[str, Query(pattern=kong.TAG_PATTERN)] = "campus"
) -> PlainTextResponse:
    return PlainTextResponse(await kong.export(rt, tag), media_type="application/yaml")
