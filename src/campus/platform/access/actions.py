"""Writes of the permission center: ``check_*`` validates everything first, then calls ``do_*``.

Every change is audited, announced by an event carrying whom it concerns, and drops those
people's cached decisions at once (the event's handler drops them again after the commit, in
case a request rebuilt them from the state before it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.cache import Cache
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import events, index
from campus.platform.access.models import Grant, Role
from campus.platform.access.registry import registry
from campus.platform.access.schemas import GrantCreate, RoleCreate, RoleUpdate
from campus.platform.access.scopes import ANCHORED, WILDCARD, ScopeKind
from campus.platform.users import labels as user_labels
from campus.platform.users import service as users

RoleChange = Literal["created", "updated", "deleted"]

# ---------------------------------------------------------------- who a change concerns


async def people_of_grants(session: AsyncSession, grants: Iterable[Grant]) -> set[int]:
    """Everyone the grants apply to: their own people and every holder of their posts."""
    people: set[int] = set()
    kinds: set[str] = set()
    for grant in grants:
        if grant.person_id is not None:
            people.add(grant.person_id)
        elif grant.position_kind is not None:
            kinds.add(grant.position_kind)
    for kind in sorted(kinds):
        people.update(await users.holder_ids(session, kind))
    return people


async def forget_holders(
    session: AsyncSession, cache: Cache, person_ids: Iterable[int], kinds: Iterable[str]
) -> None:
    people = set(person_ids)
    for kind in set(kinds):
        people.update(await users.holder_ids(session, kind))
    await index.forget(cache, people)


# ---------------------------------------------------------------- roles


def check_codes(codes: Iterable[str]) -> list[str]:
    """The codes, sorted and once each, when every one of them is registered."""
    wanted = sorted(set(codes))
    known = registry()
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise InvalidInput.on("permissions", _("未知的权限代码：{codes}", codes="、".join(unknown)))
    return wanted


async def check_create_role(session: AsyncSession, body: RoleCreate) -> int:
    codes = check_codes(body.permissions)
    if await session.scalar(select(Role.id).where(Role.code == body.code)) is not None:
        raise Conflict.on("code", _("角色代码 {code} 已存在", code=body.code))
    return await do_create_role(session, body.code, body.name, body.description, codes)


async def do_create_role(
    session: AsyncSession,
    code: str,
    name: str,
    description: str,
    codes: list[str],
    *,
    builtin: bool = False,
) -> int:
    role = Role(code=code, name=name, description=description, permissions=codes, builtin=builtin)
    session.add(role)
    await session.flush()
    audit.record(session, "access.role.create", "role", role.id, after=_role_state(role))
    await emit(
        session,
        events.ROLE_CHANGED,
        events.RoleChanged(role_id=role.id, code=code, change="created"),
    )
    return role.id


async def role_or_404(session: AsyncSession, role_id: int) -> Role:
    role = await session.get(Role, role_id)
    if role is None:
        raise NotFound(_("角色 {id} 不存在", id=role_id))
    return role


async def check_update_role(
    session: AsyncSession, cache: Cache, role_id: int, body: RoleUpdate
) -> None:
    role = await role_or_404(session, role_id)
    codes = None
    if body.permissions is not None:
        if WILDCARD in role.permissions:
            raise Conflict.on(
                "permissions", _("该角色拥有全部权限，其权限不能修改，以免无人能管理系统")
            )
        codes = check_codes(body.permissions)
    await do_update_role(session, cache, role, body.name, body.description, codes)


async def do_update_role(
    session: AsyncSession,
    cache: Cache,
    role: Role,
    name: str | None,
    description: str | None,
    codes: list[str] | None,
) -> None:
    before = _role_state(role)
    if name is not None:
        role.name = name
    if description is not None:
        role.description = description
    if codes is not None:
        role.permissions = codes
    after = _role_state(role)
    if after == before:
        return
    audit.record(session, "access.role.update", "role", role.id, before=before, after=after)
    await _role_changed(session, cache, role, "updated")


async def check_delete_role(session: AsyncSession, cache: Cache, role_id: int) -> None:
    role = await role_or_404(session, role_id)
    if role.builtin:
        raise Conflict(_("内置角色不能删除"))
    grants = await session.scalar(select(func.count()).where(Grant.role_id == role.id))
    if grants:
        raise Conflict(_("该角色仍有 {n} 条授权，请先撤销", n=grants))
    await do_delete_role(session, cache, role)


async def do_delete_role(session: AsyncSession, cache: Cache, role: Role) -> None:
    audit.record(session, "access.role.delete", "role", role.id, before=_role_state(role))
    await _role_changed(session, cache, role, "deleted")
    await session.delete(role)
    await session.flush()


async def _role_changed(
    session: AsyncSession, cache: Cache, role: Role, change: RoleChange
) -> None:
    grants = list(await session.scalars(select(Grant).where(Grant.role_id == role.id)))
    people = sorted({g.person_id for g in grants if g.person_id is not None})
    kinds = sorted({g.position_kind for g in grants if g.position_kind is not None})
    await emit(
        session,
        events.ROLE_CHANGED,
        events.RoleChanged(
            role_id=role.id,
            code=role.code,
            change=change,
            person_ids=people,
            position_kinds=kinds,
        ),
    )
    await forget_holders(session, cache, people, kinds)


def _role_state(role: Role) -> dict[str, object]:
    return {
        "code": role.code,
        "name": role.name,
        "description": role.description,
        "permissions": list(role.permissions),
    }


async def do_ensure_role(
    session: AsyncSession,
    code: str,
    name: str,
    permissions: list[str],
    *,
    builtin: bool = True,
    description: str = "",
) -> int:
    """Create the role or bring its name and codes up to date; returns its id. For seeds and
    tests, which name codes the running modules declare (or ``*``)."""
    role = await session.scalar(select(Role).where(Role.code == code))
    if role is None:
        return await do_create_role(
            session, code, name, description, sorted(set(permissions)), builtin=builtin
        )
    codes = sorted(set(permissions))
    if role.permissions != codes or role.name != name:
        before = _role_state(role)
        role.name, role.permissions = name, codes
        audit.record(
            session, "access.role.update", "role", role.id, before=before, after=_role_state(role)
        )
    return role.id


# ---------------------------------------------------------------- grants


async def check_grant(session: AsyncSession, cache: Cache, body: GrantCreate) -> int:
    """Validate a grant in full (role, subject, scope and its org units), refuse a duplicate,
    then write it."""
    role = await session.scalar(select(Role).where(Role.code == body.role))
    if role is None:
        raise InvalidInput.on("role", _("角色 {code} 不存在", code=body.role))
    await _check_subject(session, body)
    custom = await _check_scope(session, body)
    grant = Grant(
        role_id=role.id,
        person_id=body.person_id,
        position_kind=body.position_kind,
        scope=body.scope.value,
        org_unit_id=body.org_unit_id,
        custom_org_unit_ids=custom,
    )
    if await _same_grant(session, grant) is not None:
        raise Conflict.on("role", _("相同的授权已存在"))
    return await do_grant_row(session, cache, grant, role)


async def _check_subject(session: AsyncSession, body: GrantCreate) -> None:
    if (body.person_id is None) == (body.position_kind is None):
        raise InvalidInput.on("person_id", _("请指定授权对象：人员或岗位，二者选一"))
    if body.person_id is not None:
        if await users.get_person_ref(session, body.person_id) is None:
            raise InvalidInput.on("person_id", _("人员 {id} 不存在", id=body.person_id))
    elif body.position_kind not in user_labels.POSITION_TITLES:
        raise InvalidInput.on("position_kind", _("岗位类别 {kind} 不存在", kind=body.position_kind))


async def _check_scope(session: AsyncSession, body: GrantCreate) -> list[int]:
    """The custom org units, sorted, once the scope's org units are known to fit it."""
    scope = body.scope
    if scope is not ScopeKind.CUSTOM and body.custom_org_unit_ids:
        raise InvalidInput.on("custom_org_unit_ids", _("只有“指定单位”范围才列出单位"))
    if scope in ANCHORED:
        if body.org_unit_id is None and body.person_id is not None:
            raise InvalidInput.on("org_unit_id", _("该数据范围需要指定组织机构"))
    elif body.org_unit_id is not None:
        raise InvalidInput.on("org_unit_id", _("该数据范围不需要指定组织机构"))
    if body.org_unit_id is not None:
        await _check_unit(session, "org_unit_id", body.org_unit_id)
    if scope is not ScopeKind.CUSTOM:
        return []
    units = sorted(set(body.custom_org_unit_ids))
    if not units:
        raise InvalidInput.on("custom_org_unit_ids", _("请至少选择一个单位"))
    for unit in units:
        await _check_unit(session, "custom_org_unit_ids", unit)
    return units


async def _check_unit(session: AsyncSession, field: str, org_unit_id: int) -> None:
    if await users.get_org_unit(session, org_unit_id) is None:
        raise InvalidInput.on(field, _("组织机构 {id} 不存在", id=org_unit_id))


async def _same_grant(session: AsyncSession, grant: Grant) -> Grant | None:
    stmt = select(Grant).where(Grant.role_id == grant.role_id, Grant.scope == grant.scope)
    stmt = stmt.where(
        Grant.person_id.is_(None) if grant.person_id is None else Grant.person_id == grant.person_id
    )
    stmt = stmt.where(
        Grant.position_kind.is_(None)
        if grant.position_kind is None
        else Grant.position_kind == grant.position_kind
    )
    stmt = stmt.where(
        Grant.org_unit_id.is_(None)
        if grant.org_unit_id is None
        else Grant.org_unit_id == grant.org_unit_id
    )
    for found in await session.scalars(stmt):
        if sorted(found.custom_org_unit_ids or []) == sorted(grant.custom_org_unit_ids or []):
            return found
    return None


async def do_grant_row(session: AsyncSession, cache: Cache, grant: Grant, role: Role) -> int:
    grant.created_at = clock.now()
    grant.created_by = context.actor_id()
    session.add(grant)
    await session.flush()
    audit.record(session, "access.grant.create", "grant", grant.id, after=_grant_state(grant, role))
    await emit(
        session,
        events.GRANT_CHANGED,
        events.GrantChanged(
            grant_id=grant.id,
            change="created",
            role=role.code,
            person_id=grant.person_id,
            position_kind=grant.position_kind,
        ),
    )
    await index.forget(cache, await people_of_grants(session, [grant]))
    return grant.id


async def do_grant(
    session: AsyncSession,
    cache: Cache,
    person_id: int,
    role_code: str,
    *,
    scope: ScopeKind = ScopeKind.ALL,
    org_unit_id: int | None = None,
) -> int:
    """Give a person a role (for seeds and tests, which pass known values); an identical grant
    that exists already is kept. Returns the grant's id."""
    role = await session.scalar(select(Role).where(Role.code == role_code))
    if role is None:
        raise NotFound(_("角色 {code} 不存在", code=role_code))
    grant = Grant(
        role_id=role.id,
        person_id=person_id,
        scope=scope.value,
        org_unit_id=org_unit_id,
        custom_org_unit_ids=[],
    )
    same = await _same_grant(session, grant)
    if same is not None:
        return same.id
    return await do_grant_row(session, cache, grant, role)


async def do_grant_position(
    session: AsyncSession,
    cache: Cache,
    position_kind: str,
    role_code: str,
    *,
    scope: ScopeKind,
    org_unit_id: int | None = None,
) -> int:
    """Give every holder of a kind of post a role (for seeds); idempotent like ``do_grant``."""
    role = await session.scalar(select(Role).where(Role.code == role_code))
    if role is None:
        raise NotFound(_("角色 {code} 不存在", code=role_code))
    grant = Grant(
        role_id=role.id,
        position_kind=position_kind,
        scope=scope.value,
        org_unit_id=org_unit_id,
        custom_org_unit_ids=[],
    )
    same = await _same_grant(session, grant)
    if same is not None:
        return same.id
    return await do_grant_row(session, cache, grant, role)


async def check_revoke(session: AsyncSession, cache: Cache, grant_id: int) -> None:
    grant = await session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(_("授权 {id} 不存在", id=grant_id))
    role = await session.get(Role, grant.role_id)
    assert role is not None  # the foreign key holds
    administrator = WILDCARD in role.permissions and grant.scope == ScopeKind.ALL.value
    if administrator and not await _other_administrators(session, grant):
        raise Conflict(_("这是最后一条全部权限的授权，撤销后将无人能管理系统"))
    await do_revoke(session, cache, grant, role)


async def _other_administrators(session: AsyncSession, grant: Grant) -> int:
    """School-wide grants of every code to a person, other than ``grant`` (a post grant may
    have no holder, so it does not count)."""
    wildcard = [r.id for r in await session.scalars(select(Role)) if WILDCARD in r.permissions]
    found = await session.scalar(
        select(func.count())
        .select_from(Grant)
        .where(
            Grant.id != grant.id,
            Grant.scope == ScopeKind.ALL.value,
            Grant.person_id.is_not(None),
            Grant.role_id.in_(wildcard),
        )
    )
    return int(found or 0)


async def do_revoke(session: AsyncSession, cache: Cache, grant: Grant, role: Role) -> None:
    people = await people_of_grants(session, [grant])
    audit.record(
        session, "access.grant.revoke", "grant", grant.id, before=_grant_state(grant, role)
    )
    await emit(
        session,
        events.GRANT_CHANGED,
        events.GrantChanged(
            grant_id=grant.id,
            change="revoked",
            role=role.code,
            person_id=grant.person_id,
            position_kind=grant.position_kind,
        ),
    )
    await session.delete(grant)
    await session.flush()
    await index.forget(cache, people)


def _grant_state(grant: Grant, role: Role) -> dict[str, object]:
    return {
        "role": role.code,
        "person_id": grant.person_id,
        "position_kind": grant.position_kind,
        "scope": grant.scope,
        "org_unit_id": grant.org_unit_id,
        "custom_org_unit_ids": list(grant.custom_org_unit_ids or []),
    }
