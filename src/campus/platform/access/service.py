"""The permission center's public interface: route guards, data scopes and decisions.

- Every route declares what it requires: ``require("code")``, ``signed_in()`` or ``public()``.
  A refusal is a 403 problem and an ``access.denied`` audit entry.
- A list reads only what the reader's grants reach: ``scope_filter(principal, "code",
  Table.org_unit_id, Table.person_id)`` is the WHERE clause for it.
- One object is checked with ``allows(principal, "code", org_path, person_id)``; the module
  owning the object wraps that in its ``access_*`` function (``users.access_person``…), and
  refuses with ``raise await denied(...)`` so that the refusal is audited too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import structlog
from fastapi import Depends, Request
from prometheus_client import Counter
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, context, runtime
from campus.kernel.cache import Cache
from campus.kernel.context import Principal
from campus.kernel.errors import Forbidden, Unauthenticated
from campus.kernel.i18n import LazyText, _
from campus.platform.access import index
from campus.platform.access.models import Role
from campus.platform.access.scopes import NOWHERE, PersonReach, Reach, compile_reach
from campus.platform.users import service as users

log = structlog.get_logger(__name__)

PUBLIC = "public"
SIGNED_IN = "signed-in"
DENIED = "access.denied"
# Audit entries of refusals per person and minute; a flood beyond is counted, not written.
DENIAL_AUDIT_LIMIT = 30

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

DENIALS = Counter("campus_access_denied", "Requests refused for want of a permission", ["code"])


# ---------------------------------------------------------------- route guards


def _guard(code: str) -> Callable[..., Any]:
    async def check(request: Request) -> Principal | None:
        principal = context.current().principal
        if code == PUBLIC:
            return principal
        if principal is None:
            raise Unauthenticated(_("请先登录"))
        if code != SIGNED_IN and not principal.can(code):
            message = _("您没有“{code}”权限", code=code)
            raise await denied(
                principal, code, message, method=request.method, path=request.url.path
            )
        return principal

    check.campus_permission = code  # type: ignore[attr-defined]
    return check


def require(code: str) -> Any:
    """A route dependency: the signed-in principal must hold ``code`` (somewhere)."""
    return Depends(_guard(code))


def signed_in() -> Any:
    """A route dependency: any signed-in person."""
    return Depends(_guard(SIGNED_IN))


def public() -> Any:
    """A route dependency declaring on purpose that no sign-in is needed."""
    return Depends(_guard(PUBLIC))


def public_endpoint(endpoint: Endpoint) -> Endpoint:
    """Declares on purpose that a plain Starlette endpoint (a hot path without FastAPI's
    dependencies) needs no sign-in, as ``public()`` does for a FastAPI route."""
    endpoint.campus_permission = PUBLIC  # type: ignore[attr-defined]
    return endpoint


def declared_permission(dependency: Callable[..., Any]) -> str | None:
    return getattr(dependency, "campus_permission", None)


async def denied(
    principal: Principal,
    code: str,
    message: LazyText | str,
    *,
    method: str | None = None,
    path: str | None = None,
    target_type: str = "permission",
    target_id: object | None = None,
) -> Forbidden:
    """The 403 to raise for a refusal, once the refusal is in the audit log.

    The entry is written in a transaction of its own: the request's transaction is rolled
    back by the very error being raised."""
    DENIALS.labels(code).inc()
    after: dict[str, Any] = {"code": code, "reason": str(message)}
    if path is not None:
        after.update(method=method, path=path)
    try:
        rt = runtime.current()
        quota = await rt.cache.hit(f"access:denied:{principal.person_id}", DENIAL_AUDIT_LIMIT, 60)
        if quota.allowed:
            async with rt.db.transaction() as session:
                audit.record(
                    session,
                    DENIED,
                    target_type,
                    code if target_id is None else target_id,
                    after=after,
                )
        else:
            log.warning("access_denials_not_audited", person_id=principal.person_id, code=code)
    except Exception:
        # The refusal stands even when it cannot be written down.
        log.exception("access_denial_audit_failed", code=code)
    return Forbidden(message)


# ---------------------------------------------------------------- decisions


async def permissions_of(session: AsyncSession, cache: Cache, person_id: int) -> frozenset[str]:
    """The codes a person holds anywhere, through their own grants and their posts'."""
    return (await index.load(session, cache, person_id)).codes


async def reach_index(session: AsyncSession, cache: Cache, person_id: int) -> PersonReach:
    """Every code a person holds and where it reaches (what ``scope_filter`` compiles)."""
    return await index.load(session, cache, person_id)


async def roles_of(session: AsyncSession, person_id: int) -> list[str]:
    """The codes of the roles a person holds, directly or through a post."""
    return sorted({held.role.code for held in await index.held_by(session, person_id)})


async def forget_permissions(cache: Cache, person_id: int) -> None:
    """Drop the person's cached decisions in every process (after a change of their grants)."""
    await index.forget(cache, [person_id])


def reach(principal: Principal | None, code: str) -> Reach:
    """Where ``code`` reaches for the principal: nowhere without the code. The principal's
    entry was loaded with it (``permissions_of``), so this reads memory only."""
    if principal is None or not principal.can(code):
        return NOWHERE
    entry = index.LOCAL.get(principal.person_id)
    if entry is None:
        log.warning("access_entry_missing", person_id=principal.person_id, code=code)
        return NOWHERE
    return entry.reach(code)


def scope_filter(
    principal: Principal | None,
    code: str,
    org_unit_column: Any,
    person_column: Any | None = None,
) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows ``code`` reaches for the principal: true for a scope
    of all; ``org_unit_column`` equal to, in, or below the granted org units; for a scope of
    self, ``person_column`` equal to the principal (no rows without a person column); false
    without the code."""
    return compile_reach(
        reach(principal, code),
        principal.person_id if principal is not None else 0,
        org_unit_column,
        person_column,
        users.org_subtree_clause,
    )


def allows(
    principal: Principal | None,
    code: str,
    org_path: Sequence[int],
    person_id: int | None = None,
) -> bool:
    """Whether ``code`` reaches one object: ``org_path`` is its org unit's path from the root
    (the unit itself last); ``person_id`` is whom it is about, when it is about a person."""
    if principal is None:
        return False
    return reach(principal, code).covers(principal.person_id, org_path, person_id)


def reach_includes(principal: Principal | None, wider: str, narrower: str) -> bool:
    """Whether ``wider`` reaches everything ``narrower`` does (e.g. may the reader see phones
    on every row of a list they may read)."""
    return reach(principal, wider).includes(reach(principal, narrower))


async def holders_of_role(
    session: AsyncSession, role_code: str, org_path: Sequence[int]
) -> list[int]:
    """Who holds the role ``role_code`` (themselves or through a post) with a scope that covers
    the org unit whose path, root first, is ``org_path`` — e.g. the finance officers who may
    handle an applicant of that college. Each person once, in grant order."""
    found: dict[int, None] = {}
    for person_id, grant in await index.role_grants(session, role_code):
        anchors = await index.post_anchors(session, person_id) if grant.position_kind else {}
        if index.reach_of_grant(grant, anchors).covers(person_id, org_path):
            found.setdefault(person_id, None)
    return list(found)


async def role_names(session: AsyncSession) -> dict[str, str]:
    """Every role's code and name, built-in roles first (for pickers and checks of codes)."""
    rows = await session.execute(
        select(Role.code, Role.name).order_by(Role.builtin.desc(), Role.code)
    )
    return {code: name for code, name in rows.all()}


async def role_holder_ids(session: AsyncSession, role_code: str) -> list[int]:
    """Everyone holding the role, themselves or through a post, wherever it reaches."""
    return sorted({person_id for person_id, _grant in await index.role_grants(session, role_code)})
