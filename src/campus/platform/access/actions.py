"""Writes of the permission center."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit
from campus.kernel.cache import Cache
from campus.kernel.errors import NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import events
from campus.platform.access.models import Grant, Role
from campus.platform.access.service import forget_permissions


async def do_ensure_role(
    session: AsyncSession, code: str, name: str, permissions: list[str], *, builtin: bool = True
) -> int:
    """Create the role or bring its name and codes up to date; returns its id."""
    role = await session.scalar(select(Role).where(Role.code == code))
    if role is None:
        role = Role(code=code, name=name, permissions=sorted(permissions), builtin=builtin)
        session.add(role)
        await session.flush()
        audit.record(session, "access.role.create", "role", role.id, after={"code": code})
    elif role.permissions != sorted(permissions) or role.name != name:
        before = {"name": role.name, "permissions": role.permissions}
        role.name, role.permissions = name, sorted(permissions)
        audit.record(
            session,
            "access.role.update",
            "role",
            role.id,
            before=before,
            after={"name": name, "permissions": role.permissions},
        )
    return role.id


async def do_grant(session: AsyncSession, cache: Cache, person_id: int, role_code: str) -> None:
    role_id = await session.scalar(select(Role.id).where(Role.code == role_code))
    if role_id is None:
        raise NotFound(_("角色 {code} 不存在", code=role_code))
    exists = await session.scalar(
        select(Grant.id).where(Grant.person_id == person_id, Grant.role_id == role_id)
    )
    if exists is None:
        session.add(Grant(person_id=person_id, role_id=role_id))
        audit.record(session, "access.grant.create", "person", person_id, after={"role": role_code})
        await emit(session, events.GRANT_CHANGED, events.GrantChanged(person_id=person_id))
    await forget_permissions(cache, person_id)
