"""The API center's page: services (with their healthy instances), routes and consumers, a
form creating a consumer and one issuing a credential (shown once), revoke buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock, context, shown_once
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, render
from campus.platform.access.service import require
from campus.platform.gateway import actions, balancer, queries
from campus.platform.gateway.permissions import MANAGE, READ
from campus.platform.gateway.schemas import ConsumerIn, CredentialIn, CredentialIssued, ServiceOut
from campus.platform.registry import service as registry

router = APIRouter(tags=["gateway-pages"])

PAGE = "/gateway"


@dataclass(frozen=True)
class ServiceState:
    service: ServiceOut
    instances: int | None  # healthy instances in the registry; None for a fixed URL
    open_breakers: int


async def _states(rt: Runtime, services: list[ServiceOut]) -> list[ServiceState]:
    states = []
    for service in services:
        if service.registry_service is None:
            broken = int(balancer.is_open(service.url or ""))
            states.append(ServiceState(service, None, broken))
            continue
        found = await registry.discover(
            rt, service.registry_service, module=service.registry_module
        )
        broken = sum(balancer.is_open(i.id) for i in found)
        states.append(ServiceState(service, len(found), broken))
    return states


async def _page(
    request: Request,
    rt: Runtime,
    session: AsyncSession,
    status: int = 200,
    issued: CredentialIssued | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "gateway/index.html",
        status,
        services=await _states(rt, await queries.list_services(session)),
        routes=await queries.list_routes(session),
        consumers=await queries.list_consumers(session),
        issued=issued,
        errors=errors or {},
        form=form or {},
        fmt=clock.fmt,
        can_manage=may_manage(),
    )


def may_manage() -> bool:
    """Whether the signed-in person may change the gateway (forms and buttons shown)."""
    principal = context.current().principal
    return principal is not None and principal.can(MANAGE)


@router.get(PAGE, dependencies=[require(READ)])
async def gateway_page(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    shown: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    issued = (await shown_once.shown(rt, shown)).get("issued")
    return await _page(request, rt, session, issued=issued and CredentialIssued(**issued))


@router.post(PAGE + "/consumers", dependencies=[require(MANAGE)])
async def create_consumer_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    username: str = Form(""),
    description: str = Form(""),
    groups: str = Form(""),
    rate_limit_per_minute: str = Form(""),
) -> Response:
    form = {
        "username": username,
        "description": description,
        "groups": groups,
        "rate_limit_per_minute": rate_limit_per_minute,
    }
    try:
        body = ConsumerIn.model_validate(
            {
                "username": username,
                "description": description,
                "groups": [g.strip() for g in groups.replace("，", ",").split(",") if g.strip()],
                "rate_limit_per_minute": rate_limit_per_minute.strip() or None,
            }
        )
        async with session.begin_nested():
            await actions.do_create_consumer(session, rt.cache, body)
    except (Problem, ValidationError) as exc:
        return await _page(request, rt, session, 422, errors=form_errors(exc), form=form)
    response = go_to(request, PAGE)
    flash(request, response, _("已创建消费者“{name}”", name=body.username))
    return response


@router.post(PAGE + "/consumers/{username}/credentials", dependencies=[require(MANAGE)])
async def issue_credential_submit(
    request: Request, username: str, session: SessionDep, rt: RuntimeDep, kind: str = Form("key")
) -> Response:
    try:
        body = CredentialIn.model_validate({"kind": kind})
        async with session.begin_nested():
            issued = await actions.do_issue_credential(session, rt, username, body)
    except (Problem, ValidationError) as exc:
        return await _page(request, rt, session, 422, errors=form_errors(exc))
    payload = {"issued": issued.model_dump(mode="json")}
    return await shown_once.go_to_showing(request, rt, PAGE, payload)


@router.post(PAGE + "/credentials/{credential_id}/revoke", dependencies=[require(MANAGE)])
async def revoke_credential_submit(
    request: Request, credential_id: int, session: SessionDep, rt: RuntimeDep
) -> Response:
    try:
        async with session.begin_nested():
            await actions.do_revoke_credential(session, rt.cache, credential_id)
    except Problem as problem:
        return back_with_problem(request, PAGE, problem)
    response = go_to(request, PAGE)
    flash(request, response, _("凭据已吊销，用它的调用将被拒绝"))
    return response
