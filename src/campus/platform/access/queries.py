"""Reads of the permission center: roles, grants, and the two explanations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, paginate
from campus.platform.access import index
from campus.platform.access.models import Grant, Role
from campus.platform.access.registry import Registry, registry
from campus.platform.access.schemas import (
    CodeHolders,
    GrantOut,
    GrantPage,
    HeldPermission,
    Holder,
    ModulePermissions,
    OrgUnitRef,
    PermissionOut,
    PersonBrief,
    PersonPermissions,
    RoleOut,
    Where,
)
from campus.platform.access.scopes import ANCHORED, SCOPE_LABELS, WILDCARD, ScopeKind
from campus.platform.users import labels as user_labels
from campus.platform.users import service as users
from campus.platform.users.schemas import OrgTreeNode

PEOPLE_SHOWN = 200


# ---------------------------------------------------------------- codes and roles


def permission_groups(known: Registry | None = None) -> list[ModulePermissions]:
    """The registered codes, grouped by the module declaring them."""
    known = known or registry()
    return [
        ModulePermissions(
            module=module.name,
            module_title=str(module.title),
            permissions=[
                PermissionOut(
                    code=p.code,
                    title=str(p.title),
                    module=p.module,
                    module_title=str(p.module_title),
                )
                for p in declared
            ],
        )
        for module, declared in known.modules
    ]


async def roles(session: AsyncSession) -> list[RoleOut]:
    rows = await session.execute(select(Grant.role_id, func.count()).group_by(Grant.role_id))
    counts = {role_id: int(count) for role_id, count in rows.all()}
    found = await session.scalars(select(Role).order_by(Role.builtin.desc(), Role.code))
    return [role_out(role, counts.get(role.id, 0)) for role in found]


def role_out(role: Role, grant_count: int = 0) -> RoleOut:
    return RoleOut(
        id=role.id,
        code=role.code,
        name=role.name,
        description=role.description or "",
        permissions=list(role.permissions),
        builtin=role.builtin,
        grant_count=grant_count,
    )


async def role(session: AsyncSession, role_id: int) -> RoleOut:
    found = await session.get(Role, role_id)
    if found is None:
        raise NotFound(_("角色 {id} 不存在", id=role_id))
    count = await session.scalar(select(func.count()).where(Grant.role_id == role_id))
    return role_out(found, int(count or 0))


async def role_by_code(session: AsyncSession, code: str) -> RoleOut | None:
    found = await session.scalar(select(Role).where(Role.code == code))
    return None if found is None else role_out(found)


# ---------------------------------------------------------------- grants


@dataclass(frozen=True)
class GrantFilter:
    role: str | None = None
    person_id: int | None = None
    position_kind: str | None = None
    org_unit_id: int | None = None
    scope: ScopeKind | None = None


def _grants_select(f: GrantFilter) -> Select[Any]:
    # Typed loosely, as ``paginate`` takes any select.
    stmt = cast(Select[Any], select(Grant, Role).join(Role, Role.id == Grant.role_id))
    if f.role:
        stmt = stmt.where(Role.code == f.role)
    if f.person_id is not None:
        stmt = stmt.where(Grant.person_id == f.person_id)
    if f.position_kind:
        stmt = stmt.where(Grant.position_kind == f.position_kind)
    if f.org_unit_id is not None:
        stmt = stmt.where(Grant.org_unit_id == f.org_unit_id)
    if f.scope is not None:
        stmt = stmt.where(Grant.scope == f.scope.value)
    return stmt.order_by(Grant.id.desc())


async def grants_page(session: AsyncSession, f: GrantFilter, params: PageParams) -> GrantPage:
    found = await paginate(session, _grants_select(f), params.page, params.page_size)
    rows = [(row[0], row[1]) for row in found.items]
    described = await describe_grants(session, rows)
    return found.into(GrantPage, lambda row: described[row[0].id])


async def grant(session: AsyncSession, grant_id: int) -> GrantOut:
    row = (
        await session.execute(
            select(Grant, Role).join(Role, Role.id == Grant.role_id).where(Grant.id == grant_id)
        )
    ).first()
    if row is None:
        raise NotFound(_("授权 {id} 不存在", id=grant_id))
    return (await describe_grants(session, [(row[0], row[1])]))[grant_id]


class UnitNames:
    """Org unit names by id, read once per request (the tree is small)."""

    def __init__(self, tree: Sequence[OrgTreeNode]) -> None:
        self.names: dict[int, str] = {}
        stack = list(tree)
        while stack:
            node = stack.pop()
            self.names[node.id] = node.name
            stack.extend(node.children)

    @classmethod
    async def load(cls, session: AsyncSession) -> UnitNames:
        return cls(await users.org_tree(session))

    def ref(self, org_unit_id: int) -> OrgUnitRef:
        return OrgUnitRef(id=org_unit_id, name=self.names.get(org_unit_id, f"#{org_unit_id}"))

    def joined(self, ids: Iterable[int]) -> str:
        return "、".join(self.ref(i).name for i in sorted(ids))


def where_text(scope: ScopeKind, units: str) -> str:
    label = str(SCOPE_LABELS[scope])
    return f"{label}：{units}" if units else label


def grant_where(grant: Grant, names: UnitNames) -> str:
    scope = ScopeKind(grant.scope)
    if scope is ScopeKind.CUSTOM:
        return where_text(scope, names.joined(grant.custom_org_unit_ids or []))
    if scope in ANCHORED:
        units = names.ref(grant.org_unit_id).name if grant.org_unit_id else str(_("任职单位"))
        return where_text(scope, units)
    return where_text(scope, "")


def position_title(kind: str | None) -> str | None:
    return None if kind is None else str(_(user_labels.POSITION_TITLES.get(kind, kind)))


async def describe_grants(
    session: AsyncSession, rows: Sequence[tuple[Grant, Role]]
) -> dict[int, GrantOut]:
    people = await users.get_people(
        session, sorted({g.person_id for g, _r in rows if g.person_id is not None})
    )
    names = await UnitNames.load(session)
    described: dict[int, GrantOut] = {}
    for grant, role in rows:
        person = people.get(grant.person_id) if grant.person_id is not None else None
        scope = ScopeKind(grant.scope)
        described[grant.id] = GrantOut(
            id=grant.id,
            role=role.code,
            role_name=role.name,
            person_id=grant.person_id,
            person_name=person.name if person else None,
            person_number=person.number if person else None,
            position_kind=grant.position_kind,
            position_title=position_title(grant.position_kind),
            scope=scope,
            scope_label=str(SCOPE_LABELS[scope]),
            org_unit=names.ref(grant.org_unit_id) if grant.org_unit_id is not None else None,
            custom_org_units=[names.ref(i) for i in sorted(grant.custom_org_unit_ids or [])],
            where=grant_where(grant, names),
            created_at=grant.created_at,
        )
    return described


# ---------------------------------------------------------------- "what can this person do"


async def person_permissions(session: AsyncSession, person_id: int) -> PersonPermissions:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("人员 {id} 不存在", id=person_id))
    anchors = await index.post_anchors(session, person_id)
    held = await index.held_by(session, person_id)
    names = await UnitNames.load(session)
    known = registry()
    by_code: dict[str, list[Where]] = {}
    for item in held:
        where = _where_for(item, anchors, names)
        for code in item.role.permissions:
            by_code.setdefault(code, []).append(where)
    positions = [
        f"{position_title(p.kind)}（{names.ref(p.org_unit_id).name}）"
        if p.org_unit_id
        else (position_title(p.kind) or p.kind)
        for p in await users.positions_of(session, person_id)
    ]
    return PersonPermissions(
        person=PersonBrief(id=person.id, name=person.name, number=person.number),
        positions=sorted(set(positions)),
        roles=sorted({h.role.code for h in held}),
        everything=WILDCARD in by_code,
        permissions=[
            HeldPermission(
                code=code,
                title=str(_("全部权限")) if code == WILDCARD else known.title_of(code),
                module=known.by_code[code].module if code in known else "",
                where=wheres,
            )
            for code, wheres in sorted(by_code.items(), key=lambda kv: _code_order(kv[0], known))
        ],
    )


def _code_order(code: str, known: Registry) -> tuple[int, str]:
    if code == WILDCARD:
        return (0, code)
    return (1, code) if code in known else (2, code)


def _where_for(item: index.Held, anchors: dict[str, set[int]], names: UnitNames) -> Where:
    grant, scope = item.grant, ScopeKind(item.grant.scope)
    if scope in ANCHORED and grant.org_unit_id is None:
        units = anchors.get(grant.position_kind or "", set())
        text = where_text(scope, names.joined(units) or str(_("无任职单位")))
    else:
        text = grant_where(grant, names)
    via = (
        str(_("本人授权"))
        if grant.person_id is not None
        else str(_("岗位：{title}", title=position_title(grant.position_kind)))
    )
    return Where(
        scope=scope,
        scope_label=str(SCOPE_LABELS[scope]),
        where=text,
        grant_id=grant.id,
        role=item.role.code,
        role_name=item.role.name,
        via=via,
    )


# ---------------------------------------------------------------- "who can do this, where"


async def code_holders(session: AsyncSession, code: str) -> CodeHolders:
    known = registry()
    if code not in known:
        raise NotFound(_("权限代码 {code} 未注册", code=code))
    carrying = [
        r
        for r in await session.scalars(select(Role))
        if code in r.permissions or WILDCARD in r.permissions
    ]
    rows: list[tuple[Grant, Role]] = []
    if carrying:
        by_id = {r.id: r for r in carrying}
        grants = await session.scalars(
            select(Grant).where(Grant.role_id.in_(list(by_id))).order_by(Grant.id)
        )
        rows = [(g, by_id[g.role_id]) for g in grants]
    described = await describe_grants(session, rows)
    holders: dict[int, list[int]] = {}
    for grant, _role in rows:
        if grant.person_id is not None:
            holders.setdefault(grant.person_id, []).append(grant.id)
        elif grant.position_kind is not None:
            for person_id in await users.holder_ids(session, grant.position_kind):
                holders.setdefault(person_id, []).append(grant.id)
    shown = sorted(holders)[:PEOPLE_SHOWN]
    people = await users.get_people(session, shown)
    return CodeHolders(
        code=code,
        title=known.title_of(code),
        roles=sorted(r.code for r in carrying),
        grants=[described[g.id] for g, _r in rows],
        people=[
            Holder(
                person=PersonBrief(id=pid, name=people[pid].name, number=people[pid].number),
                grant_ids=holders[pid],
            )
            for pid in shown
            if pid in people
        ],
        people_total=len(holders),
    )
