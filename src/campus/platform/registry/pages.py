"""Pages of the service center: services, a service's instances, an instance's health history,
and the registry credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, render
from campus.platform.access.service import require
from campus.platform.registry import actions, queries
from campus.platform.registry.permissions import CREDENTIAL_MANAGE, SERVICE_READ
from campus.platform.registry.schemas import CredentialIn, CredentialIssued
from campus.platform.registry.store import StoreDep

router = APIRouter(tags=["registry-pages"])

CREDENTIALS = "/registry/credentials"


def _helpers() -> dict[str, Any]:
    return {"fmt": clock.fmt, "now": clock.now()}


@router.get("/registry/services", dependencies=[require(SERVICE_READ)])
async def services_page(request: Request, session: ReadSessionDep, instances: StoreDep) -> Response:
    services = await queries.list_services(session, instances)
    index = await instances.change_index(session)
    return render(request, "registry/services.html", services=services, index=index)


@router.get("/registry/services/{name}", dependencies=[require(SERVICE_READ)])
async def service_page(
    request: Request, name: str, session: ReadSessionDep, instances: StoreDep
) -> Response:
    found = await queries.get_service_instances(session, instances, name)
    return render(request, "registry/service.html", service=name, instances=found, **_helpers())


@router.get("/registry/instances/{instance_id}", dependencies=[require(SERVICE_READ)])
async def instance_page(
    request: Request, instance_id: str, session: ReadSessionDep, instances: StoreDep
) -> Response:
    instance = await queries.get_instance(session, instances, instance_id)
    history = await queries.health_history(session, instance_id)
    return render(
        request, "registry/instance.html", instance=instance, history=history, **_helpers()
    )


async def _credentials(
    request: Request,
    session: AsyncSession,
    status: int = 200,
    issued: CredentialIssued | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "registry/credentials.html",
        status,
        credentials=await queries.list_credentials(session),
        issued=issued,
        errors=errors or {},
        form=form or {},
        fmt=clock.fmt,
    )


@router.get(CREDENTIALS, dependencies=[require(CREDENTIAL_MANAGE)])
async def credentials_page(request: Request, session: ReadSessionDep) -> Response:
    return await _credentials(request, session)


@router.post(CREDENTIALS, dependencies=[require(CREDENTIAL_MANAGE)])
async def create_credential_submit(
    request: Request,
    session: SessionDep,
    owner: str = Form(""),
    description: str = Form(""),
) -> Response:
    form = {"owner": owner, "description": description}
    try:
        body = CredentialIn(owner=owner, description=description)
        async with session.begin_nested():
            issued = await actions.do_create_credential(session, body)
    except (Problem, ValidationError) as exc:
        return await _credentials(request, session, 422, errors=form_errors(exc), form=form)
    return await _credentials(request, session, 201, issued=issued)


@router.post(CREDENTIALS + "/{credential_id}/revoke", dependencies=[require(CREDENTIAL_MANAGE)])
async def revoke_credential_submit(
    request: Request, credential_id: int, session: SessionDep
) -> Response:
    try:
        async with session.begin_nested():
            await actions.do_revoke_credential(session, credential_id)
    except Problem as problem:
        return back_with_problem(request, CREDENTIALS, problem)
    response = go_to(request, CREDENTIALS)
    flash(request, response, _("凭据已吊销，使用它的实例将无法再注册和续约"))
    return response
