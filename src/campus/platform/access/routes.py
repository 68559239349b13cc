"""JSON API of the permission center: /api/v1/access/... Thin: parse, authorise, call one
action or query, answer with schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.pagination import PageParamsDep
from campus.platform.access import actions, queries
from campus.platform.access.permissions import ROLE_MANAGE, ROLE_READ
from campus.platform.access.schemas import (
    CodeHolders,
    GrantCreate,
    GrantOut,
    GrantPage,
    ModulePermissions,
    PersonPermissions,
    RoleCreate,
    RoleOut,
    RoleUpdate,
)
from campus.platform.access.scopes import ScopeKind
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/access", tags=["access"])


@router.get(
    "/permissions",
    response_model=list[ModulePermissions],
    dependencies=[require(ROLE_READ)],
    summary="已注册的权限代码，按模块分组",
)
async def list_permissions() -> list[ModulePermissions]:
    return queries.permission_groups()


@router.get(
    "/permissions/{code}/holders",
    response_model=CodeHolders,
    dependencies=[require(ROLE_READ)],
    summary="谁能做这件事、在哪里：带有该权限的授权及其人员",
)
async def code_holders(code: str, session: ReadSessionDep) -> CodeHolders:
    return await queries.code_holders(session, code)


@router.get(
    "/roles", response_model=list[RoleOut], dependencies=[require(ROLE_READ)], summary="角色列表"
)
async def list_roles(session: ReadSessionDep) -> list[RoleOut]:
    return await queries.roles(session)


@router.post(
    "/roles",
    response_model=RoleOut,
    status_code=201,
    dependencies=[require(ROLE_MANAGE)],
    summary="新建角色",
)
async def create_role(body: RoleCreate, session: SessionDep) -> RoleOut:
    return await queries.role(session, await actions.check_create_role(session, body))


@router.get(
    "/roles/{role_id}", response_model=RoleOut, dependencies=[require(ROLE_READ)], summary="角色"
)
async def get_role(role_id: int, session: ReadSessionDep) -> RoleOut:
    return await queries.role(session, role_id)


@router.patch(
    "/roles/{role_id}",
    response_model=RoleOut,
    dependencies=[require(ROLE_MANAGE)],
    summary="修改角色的名称、说明或权限",
)
async def update_role(
    role_id: int, body: RoleUpdate, session: SessionDep, rt: RuntimeDep
) -> RoleOut:
    await actions.check_update_role(session, rt.cache, role_id, body)
    return await queries.role(session, role_id)


@router.delete(
    "/roles/{role_id}",
    status_code=204,
    dependencies=[require(ROLE_MANAGE)],
    summary="删除角色（内置角色和仍有授权的角色不能删除）",
)
async def delete_role(role_id: int, session: SessionDep, rt: RuntimeDep) -> Response:
    await actions.check_delete_role(session, rt.cache, role_id)
    return Response(status_code=204)


@router.get(
    "/grants", response_model=GrantPage, dependencies=[require(ROLE_READ)], summary="授权列表"
)
async def list_grants(
    session: ReadSessionDep,
    paging: PageParamsDep,
    role: Annotated[str | None, Query(max_length=60)] = None,
    person_id: int | None = None,
    position_kind: Annotated[str | None, Query(max_length=30)] = None,
    org_unit_id: int | None = None,
    scope: ScopeKind | None = None,
) -> GrantPage:
    f = queries.GrantFilter(role, person_id, position_kind, org_unit_id, scope)
    return await queries.grants_page(session, f, paging)


@router.post(
    "/grants",
    response_model=GrantOut,
    status_code=201,
    dependencies=[require(ROLE_MANAGE)],
    summary="授权：把角色授予人员或岗位，限定数据范围",
)
async def create_grant(body: GrantCreate, session: SessionDep, rt: RuntimeDep) -> GrantOut:
    return await queries.grant(session, await actions.check_grant(session, rt.cache, body))


@router.delete(
    "/grants/{grant_id}",
    status_code=204,
    dependencies=[require(ROLE_MANAGE)],
    summary="撤销授权",
)
async def revoke_grant(grant_id: int, session: SessionDep, rt: RuntimeDep) -> Response:
    await actions.check_revoke(session, rt.cache, grant_id)
    return Response(status_code=204)


@router.get(
    "/people/{person_id}/permissions",
    response_model=PersonPermissions,
    dependencies=[require(ROLE_READ)],
    summary="这个人能做什么：每个权限的范围与来源授权",
)
async def person_permissions(person_id: int, session: ReadSessionDep) -> PersonPermissions:
    return await queries.person_permissions(session, person_id)


@router.get("/me", response_model=PersonPermissions, summary="我能做什么")
async def my_permissions(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> PersonPermissions:
    return await queries.person_permissions(session, principal.person_id)
