"""Who may read one programme: a published one is open to everyone signed in; a draft only to
those whose ``academic.programme.manage`` reaches its major."""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import PROGRAMME_MANAGE
from campus.domains.academic.programmes import queries
from campus.domains.academic.programmes.models import Programme
from campus.kernel.context import Principal
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory


def visible(principal: Principal | None) -> ColumnElement[bool]:
    """Published programmes, and the drafts within the reader's reach."""
    return or_(
        Programme.status == "published",
        access.scope_filter(principal, PROGRAMME_MANAGE, Programme.major_id),
    )


def may_edit(principal: Principal | None, programme: Programme, tree: OrgDirectory) -> bool:
    return access.allows(principal, PROGRAMME_MANAGE, tree.path(programme.major_id))


async def access_programme(
    session: AsyncSession, principal: Principal, programme_id: int
) -> Programme:
    programme = await queries.programme_or_404(session, programme_id)
    if programme.status == "published":
        return programme
    tree = await users.org_directory(session)
    if not may_edit(principal, programme, tree):
        raise await access.denied(
            principal,
            PROGRAMME_MANAGE,
            _("培养方案草稿只对维护人员可见"),
            target_type="programme",
            target_id=programme_id,
        )
    return programme
