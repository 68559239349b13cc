"""The collaborative office's public interface, for the portal and other modules. Functions take
ids and return schemas, never ORM objects.

- ``access_notice`` / ``access_document`` / ``access_event``: every object-level read of this
  module goes through them (a refusal is an audited 403, or a 404 for an event).
- ``unread_notices`` / ``unread_documents`` / ``pending_invitations``: what a person has waiting.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import people
from campus.domains.oa.documents import queries as document_queries
from campus.domains.oa.documents.access import DocumentAccess, access_document
from campus.domains.oa.notices import queries as notice_queries
from campus.domains.oa.notices.access import NoticeAccess, access_notice
from campus.domains.oa.schedules import queries as schedule_queries
from campus.domains.oa.schedules.access import access_event
from campus.domains.oa.schemas import InvitationItem, NoticeListItem
from campus.kernel import clock
from campus.kernel.pagination import PageParams

__all__ = [
    "DocumentAccess",
    "NoticeAccess",
    "access_document",
    "access_event",
    "access_notice",
    "latest_notices",
    "pending_invitations",
    "unread_documents",
    "unread_notices",
]


async def unread_notices(session: AsyncSession, person_id: int) -> int:
    """How many current notices addressed to the person they have not opened."""
    reader = await people.reader_of(session, person_id)
    return 0 if reader is None else await notice_queries.unread_count(session, reader)


async def latest_notices(
    session: AsyncSession, person_id: int, limit: int = 5
) -> list[NoticeListItem]:
    """The person's current notices, pinned first, each marked read or unread."""
    reader = await people.reader_of(session, person_id)
    if reader is None:
        return []
    page = await notice_queries.my_notices(
        session, reader, notice_queries.InboxFilter(), PageParams(page=1, page_size=limit)
    )
    return page.items


async def unread_documents(session: AsyncSession, person_id: int) -> int:
    """How many documents distributed to the person they have not read (收文)."""
    page = await document_queries.inbox(session, person_id, PageParams(page=1, page_size=1))
    return page.unread


async def pending_invitations(session: AsyncSession, person_id: int) -> list[InvitationItem]:
    """Meeting invitations the person has not answered, for meetings still to come."""
    return await schedule_queries.invitations_of(
        session, person_id, since=clock.now(), pending_only=True
    )
