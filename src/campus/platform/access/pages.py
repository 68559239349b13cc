"""Pages of the permission center: roles, grants, registered codes and the two explanations
("what can this person do", "who can do this, where")."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, PageParamsDep
from campus.kernel.templating import errors_of, errors_of_validation, flash, is_htmx, render
from campus.platform.access import actions, queries
from campus.platform.access.permissions import ROLE_MANAGE, ROLE_READ
from campus.platform.access.registry import registry
from campus.platform.access.schemas import GrantCreate, RoleCreate, RoleUpdate
from campus.platform.access.scopes import SCOPE_LABELS, WILDCARD, ScopeKind
from campus.platform.access.service import require
from campus.platform.users import labels as user_labels
from campus.platform.users import service as users

router = APIRouter(tags=["access-pages"])


def _common(principal: Principal) -> dict[str, Any]:
    return {
        "can_manage": principal.can(ROLE_MANAGE),
        "scope_labels": SCOPE_LABELS,
        "position_titles": user_labels.POSITION_TITLES,
        "wildcard": WILDCARD,
    }


async def _units(session: AsyncSession) -> list[tuple[int, str, int]]:
    """Every org unit as (id, name, depth), each followed by the units below it."""
    ordered: list[tuple[int, str, int]] = []

    def visit(nodes: list[Any], depth: int) -> None:
        for node in nodes:
            ordered.append((node.id, node.name, depth))
            visit(node.children, depth + 1)

    visit(await users.org_tree(session), 0)
    return ordered


@router.get("/access", dependencies=[require(ROLE_READ)])
async def access_home() -> Response:
    return RedirectResponse("/access/roles", status_code=303)


# ---------------------------------------------------------------- roles


@router.get("/access/roles")
async def roles_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
) -> Response:
    return render(
        request,
        "access/roles.html",
        roles=await queries.roles(session),
        titles=registry(),
        **_common(principal),
    )


def _role_form(
    request: Request,
    principal: Principal,
    *,
    role: Any,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "access/role_form.html",
        422 if errors else 200,
        role=role,
        values=values,
        errors=errors or {},
        groups=queries.permission_groups(),
        known=registry(),
        **_common(principal),
    )


@router.get("/access/roles/new")
async def new_role_page(
    request: Request, principal: Annotated[Principal, require(ROLE_MANAGE)]
) -> Response:
    values = {"code": "", "name": "", "description": "", "permissions": []}
    return _role_form(request, principal, role=None, values=values)


@router.post("/access/roles/new")
async def new_role_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(ROLE_MANAGE)],
    code: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=400)] = "",
    permissions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {
        "code": code,
        "name": name,
        "description": description,
        "permissions": permissions or [],
    }
    try:
        body = RoleCreate(**values)
        role_id = await actions.check_create_role(session, body)
    except ValidationError as exc:
        return _role_form(
            request, principal, role=None, values=values, errors=errors_of_validation(exc)
        )
    except Problem as problem:
        if problem.status == 404:
            raise
        return _role_form(request, principal, role=None, values=values, errors=errors_of(problem))
    response = RedirectResponse(f"/access/roles/{role_id}", status_code=303)
    flash(request, response, _("角色“{name}”已创建", name=body.name))
    return response


@router.get("/access/roles/{role_id}")
async def role_page(
    request: Request,
    role_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
) -> Response:
    role = await queries.role(session, role_id)
    values = role.model_dump()
    return _role_form(request, principal, role=role, values=values)


@router.post("/access/roles/{role_id}")
async def role_submit(
    request: Request,
    role_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(ROLE_MANAGE)],
    name: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=400)] = "",
    permissions: Annotated[list[str] | None, Form()] = None,
) -> Response:
    role = await queries.role(session, role_id)
    values = {**role.model_dump(), "name": name, "description": description}
    codes = None if WILDCARD in role.permissions else (permissions or [])
    if codes is not None:
        values["permissions"] = codes
    try:
        body = RoleUpdate(name=name, description=description, permissions=codes)
        await actions.check_update_role(session, rt.cache, role_id, body)
    except ValidationError as exc:
        return _role_form(
            request, principal, role=role, values=values, errors=errors_of_validation(exc)
        )
    except Problem as problem:
        if problem.status == 404:
            raise
        return _role_form(request, principal, role=role, values=values, errors=errors_of(problem))
    response = RedirectResponse(f"/access/roles/{role_id}", status_code=303)
    flash(request, response, _("角色“{name}”已保存", name=name))
    return response


@router.post("/access/roles/{role_id}/delete", dependencies=[require(ROLE_MANAGE)])
async def role_delete(
    request: Request, role_id: int, session: SessionDep, rt: RuntimeDep
) -> Response:
    role = await queries.role(session, role_id)
    try:
        await actions.check_delete_role(session, rt.cache, role_id)
    except Problem as problem:
        if problem.status == 404:
            raise
        response = RedirectResponse(f"/access/roles/{role_id}", status_code=303)
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    response = RedirectResponse("/access/roles", status_code=303)
    flash(request, response, _("角色“{name}”已删除", name=role.name))
    return response


# ---------------------------------------------------------------- grants


def _optional_int(value: str | None, field: str) -> int | None:
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit():
        raise InvalidInput.on(field, _("应为整数"))
    return int(value)


def _grant_filter(
    role: str | None,
    position_kind: str | None,
    scope: str | None,
    org_unit_id: str | None,
    person_id: str | None,
) -> queries.GrantFilter:
    if scope and scope not in {kind.value for kind in ScopeKind}:
        raise InvalidInput.on("scope", _("应为以下之一：{expected}", expected="、".join(ScopeKind)))
    return queries.GrantFilter(
        role=role or None,
        person_id=_optional_int(person_id, "person_id"),
        position_kind=position_kind or None,
        org_unit_id=_optional_int(org_unit_id, "org_unit_id"),
        scope=ScopeKind(scope) if scope else None,
    )


@router.get("/access/grants")
async def grants_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
    paging: PageParamsDep,
    role: Annotated[str | None, Query(max_length=60)] = None,
    position_kind: Annotated[str | None, Query(max_length=30)] = None,
    scope: Annotated[str | None, Query(max_length=12)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=20)] = None,
    person_id: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    f = _grant_filter(role, position_kind, scope, org_unit_id, person_id)
    return await _grants_view(request, session, principal, f, paging.page, paging.page_size)


async def _grants_view(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    f: queries.GrantFilter,
    page: int,
    page_size: int,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    result = await queries.grants_page(session, f, PageParams(page=page, page_size=page_size))
    params = {
        "role": f.role,
        "position_kind": f.position_kind,
        "scope": f.scope.value if f.scope else None,
        "org_unit_id": f.org_unit_id,
        "person_id": f.person_id,
    }
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    values = {
        "result": result,
        "f": f,
        "query": query,
        "roles": await queries.roles(session),
        "units": await _units(session),
        "form": form or {"scope": "subtree"},
        "errors": errors or {},
        **_common(principal),
    }
    if is_htmx(request) and form is None:
        return render(request, "access/partials/grants_table.html", **values)
    return render(request, "access/grants.html", 422 if errors else 200, **values)


@router.post("/access/grants/new")
async def grant_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(ROLE_MANAGE)],
    role: Annotated[str, Form(max_length=60)] = "",
    subject: Annotated[str, Form(max_length=10)] = "person",
    person: Annotated[str, Form(max_length=60)] = "",
    position_kind: Annotated[str, Form(max_length=30)] = "",
    scope: Annotated[str, Form(max_length=12)] = "",
    org_unit_id: Annotated[str, Form(max_length=20)] = "",
    custom_org_unit_ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {
        "role": role,
        "subject": subject,
        "person": person,
        "position_kind": position_kind,
        "scope": scope,
        "org_unit_id": org_unit_id,
        "custom_org_unit_ids": custom_org_unit_ids or [],
    }
    try:
        body = await _grant_body(session, form)
        await actions.check_grant(session, rt.cache, body)
    except ValidationError as exc:
        return await _grants_view(
            request,
            session,
            principal,
            queries.GrantFilter(),
            1,
            20,
            form=form,
            errors=errors_of_validation(exc),
        )
    except Problem as problem:
        return await _grants_view(
            request,
            session,
            principal,
            queries.GrantFilter(),
            1,
            20,
            form=form,
            errors=errors_of(problem),
        )
    response = RedirectResponse("/access/grants", status_code=303)
    flash(request, response, _("已授权"))
    return response


async def _grant_body(session: AsyncSession, form: dict[str, Any]) -> GrantCreate:
    """The grant the form describes; the person is named by number, phone or email."""
    person_id = None
    if form["subject"] == "person":
        login = str(form["person"]).strip()
        if not login:
            raise InvalidInput.on("person", _("请填写学号、工号、手机号或邮箱"))
        found = await users.find_person_by_login(session, login)
        if found is None:
            raise InvalidInput.on("person", _("找不到学号/工号为 {login} 的人员", login=login))
        person_id = found.id
    units = [_optional_int(v, "custom_org_unit_ids") for v in form["custom_org_unit_ids"]]
    return GrantCreate(
        role=form["role"],
        person_id=person_id,
        position_kind=(form["position_kind"] or None) if form["subject"] == "position" else None,
        scope=form["scope"],
        org_unit_id=_optional_int(form["org_unit_id"], "org_unit_id"),
        custom_org_unit_ids=[u for u in units if u is not None],
    )


@router.post("/access/grants/{grant_id}/revoke", dependencies=[require(ROLE_MANAGE)])
async def grant_revoke(
    request: Request, grant_id: int, session: SessionDep, rt: RuntimeDep
) -> Response:
    # htmx reloads the page the list is on (keeping its filters); the message shows there.
    response: Response = (
        Response(status_code=200, headers={"HX-Refresh": "true"})
        if is_htmx(request)
        else RedirectResponse("/access/grants", status_code=303)
    )
    try:
        await actions.check_revoke(session, rt.cache, grant_id)
    except Problem as problem:
        if problem.status == 404:
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("授权已撤销"))
    return response


# ---------------------------------------------------------------- codes and explanations


@router.get("/access/codes", dependencies=[require(ROLE_READ)])
async def codes_page(request: Request) -> Response:
    return render(request, "access/codes.html", groups=queries.permission_groups())


@router.get("/access/codes/{code}")
async def code_page(
    request: Request,
    code: str,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
) -> Response:
    holders = await queries.code_holders(session, code)
    return render(request, "access/code.html", holders=holders, **_common(principal))


@router.get("/access/people")
async def people_lookup(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
    login: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    error = None
    if login and login.strip():
        found = await users.find_person_by_login(session, login)
        if found is not None:
            return RedirectResponse(f"/access/people/{found.id}", status_code=303)
        error = str(_("找不到学号/工号为 {login} 的人员", login=login.strip()))
    return render(
        request, "access/people.html", 422 if error else 200, login=login or "", error=error
    )


@router.get("/access/people/{person_id}")
async def person_page(
    request: Request,
    person_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ROLE_READ)],
) -> Response:
    explained = await queries.person_permissions(session, person_id)
    return render(request, "access/person.html", explained=explained, **_common(principal))
