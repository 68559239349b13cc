"""The permission center's public interface: route guards and permission look-ups.

Every route declares what it requires with ``require("code")`` or ``public()``; object-level
reads go through ``access_*`` functions in the module that owns the object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Depends
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import context
from campus.kernel.cache import Cache
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, Unauthenticated
from campus.kernel.i18n import _
from campus.platform.access.models import Grant, Role

PERMISSION_CACHE_TTL = 300.0
PUBLIC = "public"
SIGNED_IN = "signed-in"


def _guard(code: str) -> Callable[[], Principal | None]:
    def check() -> Principal | None:
        principal = context.current().principal
        if code == PUBLIC:
            return principal
        if principal is None:
            raise Unauthenticated(_("请先登录"))
        if code != SIGNED_IN and not principal.can(code):
            raise Forbidden(_("您没有“{code}”权限", code=code))
        return principal

    check.campus_permission = code  # type: ignore[attr-defined]
    return check


def require(code: str) -> Any:
    """A route dependency: the signed-in principal must hold ``code``."""
    return Depends(_guard(code))


def signed_in() -> Any:
    """A route dependency: any signed-in person."""
    return Depends(_guard(SIGNED_IN))


def public() -> Any:
    """A route dependency declaring on purpose that no sign-in is needed."""
    return Depends(_guard(PUBLIC))


def declared_permission(dependency: Callable[..., Any]) -> str | None:
    return getattr(dependency, "campus_permission", None)


def _cache_key(person_id: int) -> str:
    return f"access:perms:{person_id}"


async def permissions_of(session: AsyncSession, cache: Cache, person_id: int) -> frozenset[str]:
    """The permission codes a person holds through their roles (cached, invalidated on change)."""
    cached = await cache.get(_cache_key(person_id))
    if cached is not None:
        return frozenset(json.loads(cached))
    rows = await session.scalars(
        select(Role.permissions)
        .join(Grant, Grant.role_id == Role.id)
        .where(Grant.person_id == person_id)
    )
    codes = frozenset(code for perms in rows for code in perms)
    await cache.set(_cache_key(person_id), json.dumps(sorted(codes)).encode(), PERMISSION_CACHE_TTL)
    return codes


async def roles_of(session: AsyncSession, person_id: int) -> list[str]:
    rows = await session.scalars(
        select(Role.code).join(Grant, Grant.role_id == Role.id).where(Grant.person_id == person_id)
    )
    return sorted(rows)


async def forget_permissions(cache: Cache, person_id: int) -> None:
    await cache.delete(_cache_key(person_id))
