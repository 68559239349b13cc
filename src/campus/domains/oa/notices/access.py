"""Who may read one notice, and how much of it: every read of one notice goes through
``access_notice``."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import people
from campus.domains.oa.models import Notice
from campus.domains.oa.notices import queries
from campus.domains.oa.permissions import NOTICE_MANAGE
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users


class NoticeAccess(StrEnum):
    PUBLISHER = "publisher"  # wrote it: edits the draft, withdraws, sees the receipts
    MANAGER = "manager"  # oa.notice.manage reaches its issuing unit: withdraws, sees receipts
    READER = "reader"  # it is published and addressed to them


async def notice_or_404(session: AsyncSession, notice_id: int) -> Notice:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise NotFound(_("通知 {id} 不存在", id=notice_id))
    return notice


async def level_of(
    session: AsyncSession, principal: Principal, notice: Notice
) -> NoticeAccess | None:
    if notice.publisher_id == principal.person_id:
        return NoticeAccess.PUBLISHER
    directory = await users.org_directory(session)
    if access.allows(principal, NOTICE_MANAGE, directory.path(notice.org_unit_id)):
        return NoticeAccess.MANAGER
    if notice.status != "published":
        return None
    reader = await people.reader_of(session, principal.person_id, directory)
    if reader is not None and await queries.is_addressed(session, notice.id, reader):
        return NoticeAccess.READER
    return None


async def access_notice(
    session: AsyncSession, principal: Principal, notice_id: int
) -> tuple[Notice, NoticeAccess]:
    """The notice and the principal's access to it; a refusal is a 403 in the audit log."""
    notice = await notice_or_404(session, notice_id)
    level = await level_of(session, principal, notice)
    if level is None:
        raise await access.denied(
            principal,
            "oa.notice.read",
            _("这条通知不是发给您的"),
            target_type="notice",
            target_id=notice_id,
        )
    return notice, level
