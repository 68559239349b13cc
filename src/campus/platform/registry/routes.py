"""JSON API of the service center: /api/v1/registry/...

Instances authenticate with their owner's registry token (``Authorization: Bearer crg_…``):
register, heartbeat, deregister. Discovery and the change stream take a registry token or a
signed-in person holding ``registry.service.read``; the admin API takes the permissions.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from campus.kernel import context
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, Unauthenticated
from campus.kernel.i18n import _
from campus.platform.access.service import denied, public, require
from campus.platform.registry import actions, queries, store
from campus.platform.registry.permissions import CREDENTIAL_MANAGE, SERVICE_READ
from campus.platform.registry.schemas import (
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    Discovery,
    HealthCheckOut,
    InstanceIn,
    InstanceOut,
    LeaseOut,
    Registered,
    Reset,
    ServiceSummary,
)
from campus.platform.registry.store import StoreDep

router = APIRouter(prefix="/api/v1/registry", tags=["registry"])

# Instances call these with a bearer token, never with a browser's cookies: no CSRF check.
CSRF_EXEMPT = ("/api/v1/registry/instances",)
DEFAULT_WAIT_SECONDS = 30.0
MAX_WAIT_SECONDS = 300.0
WAIT = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m)?$")
INDEX_HEADER = "X-Registry-Index"


async def _owner(request: Request, session: SessionDep) -> str:
    credential = await actions.authenticate(session, request.headers.get("authorization"))
    return credential.owner


OwnerDep = Annotated[str, Depends(_owner)]


async def _watcher(request: Request) -> None:
    """A registry token, or a signed-in person holding registry.service.read."""
    authorization = request.headers.get("authorization")
    if authorization:
        async with request.app.state.runtime.db.read() as session:
            await actions.authenticate(session, authorization)
        return
    principal = context.current().principal
    if principal is None:
        raise Unauthenticated(_("请先登录或提供服务注册令牌"))
    if not principal.can(SERVICE_READ):
        message = _("您没有“{code}”权限", code=SERVICE_READ)
        raise await denied(principal, SERVICE_READ, message, method="GET", path=request.url.path)


_watcher.campus_permission = SERVICE_READ  # type: ignore[attr-defined]


def wait_seconds(wait: str | None) -> float:
    """``30s``, ``500ms``, ``2m`` or plain seconds, at most MAX_WAIT_SECONDS."""
    if wait is None:
        return DEFAULT_WAIT_SECONDS
    match = WAIT.match(wait.strip())
    if match is None:
        raise InvalidInput.on("wait", _("等待时间格式不正确，应如 30s、500ms 或 2m"))
    scale = {"ms": 0.001, "m": 60.0}.get(match.group(2) or "s", 1.0)
    seconds = float(match.group(1)) * scale
    if seconds > MAX_WAIT_SECONDS:
        raise InvalidInput.on("wait", _("等待时间不能超过 {n} 秒", n=int(MAX_WAIT_SECONDS)))
    return seconds


# ---------------------------------------------------------------- instances (registry token)


@router.post(
    "/instances",
    response_model=Registered,
    status_code=201,
    dependencies=[public()],
    summary="注册实例（服务注册令牌）：同一实例 id 再次注册即更新并续约",
)
async def register(
    body: InstanceIn, owner: OwnerDep, session: SessionDep, instances: StoreDep
) -> Registered:
    return await actions.do_register(session, instances, owner, body)


@router.put(
    "/instances/{instance_id}/heartbeat",
    response_model=LeaseOut,
    dependencies=[public()],
    summary="心跳续约：租约已过期或实例已下线时返回 404，实例应重新注册",
)
async def heartbeat(
    instance_id: str, owner: OwnerDep, session: SessionDep, instances: StoreDep
) -> LeaseOut:
    return await actions.do_heartbeat(session, instances, owner, instance_id)


@router.delete(
    "/instances/{instance_id}",
    status_code=204,
    dependencies=[public()],
    summary="注销实例",
)
async def deregister(
    instance_id: str, owner: OwnerDep, session: SessionDep, instances: StoreDep
) -> Response:
    await actions.do_deregister(session, instances, owner, instance_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- discovery and watching


@router.get(
    "/services/{name}/instances",
    response_model=Discovery,
    dependencies=[Depends(_watcher)],
    summary="服务发现：健康且租约有效的实例；带 index 时长轮询，变更序号超过 index 即返回",
)
async def discover(
    name: str,
    rt: RuntimeDep,
    instances: StoreDep,
    response: Response,
    namespace: Annotated[str | None, Query(max_length=30)] = None,
    module: Annotated[str | None, Query(max_length=60)] = None,
    index: Annotated[int | None, Query(ge=0, description="上次得到的变更序号")] = None,
    wait: Annotated[str | None, Query(description="最长等待，如 30s；默认 30s")] = None,
) -> Discovery:
    if index is not None:
        await instances.wait_past(index, wait_seconds(wait))
    async with rt.db.read() as session:
        now = await instances.change_index(session)
        found = await queries.instances_of(
            session, instances, name, only_available=True, namespace=namespace, module=module
        )
    response.headers[INDEX_HEADER] = str(now)
    return Discovery(service=name, index=now, instances=found)


@router.get(
    "/watch",
    dependencies=[Depends(_watcher)],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
    summary="变更流（SSE）：每个变更一条 change 事件，id 为变更序号",
)
async def watch_changes(
    rt: RuntimeDep,
    instances: StoreDep,
    service: Annotated[str | None, Query(max_length=60)] = None,
    index: Annotated[int | None, Query(ge=0, description="从此变更序号之后开始")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    start = index
    if last_event_id and last_event_id.isdigit():
        start = int(last_event_id)
    if start is None:
        async with rt.db.read() as session:
            start = await instances.change_index(session)
    return StreamingResponse(
        change_frames(instances, start, service),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def change_frames(
    instances: store.InstanceStore, after: int, service: str | None
) -> AsyncIterator[str]:
    yield f": watching from {after}\n\n"
    async for change in instances.follow(after, service):
        if change is None:
            yield ": keepalive\n\n"
            continue
        data = json.dumps(change.model_dump(mode="json"), ensure_ascii=False)
        if isinstance(change, Reset):  # the history asked for is gone: read afresh
            yield f"id: {change.index}\nevent: reset\ndata: {data}\n\n"
        else:
            yield f"id: {change.index}\nevent: change\ndata: {data}\n\n"


# ---------------------------------------------------------------- administration


@router.get(
    "/services",
    response_model=list[ServiceSummary],
    dependencies=[require(SERVICE_READ)],
    summary="服务列表：实例数与健康实例数",
)
async def list_services(session: ReadSessionDep, instances: StoreDep) -> list[ServiceSummary]:
    return await queries.list_services(session, instances)


@router.get(
    "/services/{name}",
    response_model=list[InstanceOut],
    dependencies=[require(SERVICE_READ)],
    summary="一个服务的全部实例（含不健康与租约过期未清除的）",
)
async def service_instances(
    name: str, session: ReadSessionDep, instances: StoreDep
) -> list[InstanceOut]:
    return await queries.get_service_instances(session, instances, name)


@router.get(
    "/instances/{instance_id}",
    response_model=InstanceOut,
    dependencies=[require(SERVICE_READ)],
    summary="一个实例",
)
async def get_instance(
    instance_id: str, session: ReadSessionDep, instances: StoreDep
) -> InstanceOut:
    return await queries.get_instance(session, instances, instance_id)


@router.get(
    "/instances/{instance_id}/health",
    response_model=list[HealthCheckOut],
    dependencies=[require(SERVICE_READ)],
    summary="实例的健康检查记录，新的在前",
)
async def instance_health(
    instance_id: str, session: ReadSessionDep, instances: StoreDep
) -> list[HealthCheckOut]:
    await queries.get_instance(session, instances, instance_id)
    return await queries.health_history(session, instance_id)


@router.get(
    "/credentials",
    response_model=list[CredentialOut],
    dependencies=[require(CREDENTIAL_MANAGE)],
    summary="服务注册凭据列表",
)
async def list_credentials(session: ReadSessionDep) -> list[CredentialOut]:
    return await queries.list_credentials(session)


@router.post(
    "/credentials",
    response_model=CredentialIssued,
    status_code=201,
    dependencies=[require(CREDENTIAL_MANAGE)],
    summary="创建服务注册凭据：令牌只在此返回一次，库中只存其散列",
)
async def create_credential(body: CredentialIn, session: SessionDep) -> CredentialIssued:
    return await actions.do_create_credential(session, body)


@router.post(
    "/credentials/{credential_id}/revoke",
    response_model=CredentialOut,
    dependencies=[require(CREDENTIAL_MANAGE)],
    summary="吊销服务注册凭据",
)
async def revoke_credential(credential_id: int, session: SessionDep) -> CredentialOut:
    return await actions.do_revoke_credential(session, credential_id)
