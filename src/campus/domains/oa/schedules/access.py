"""Who may see one event: its organiser and the people invited to it. Nobody else learns that
it exists (a 404, as for an id that was never used)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.models import CalendarEvent
from campus.domains.oa.schedules import queries
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _


async def access_event(session: AsyncSession, principal: Principal, event_id: int) -> CalendarEvent:
    event = await session.get(CalendarEvent, event_id)
    if event is None or not await may_see(session, principal, event):
        raise NotFound(_("日程 {id} 不存在", id=event_id))
    return event


async def may_see(session: AsyncSession, principal: Principal, event: CalendarEvent) -> bool:
    if event.owner_id == principal.person_id:
        return True
    return await queries.invitation_of(session, event.id, principal.person_id) is not None
