"""The messaging center's public interface. Other modules call these; they take and return
schemas, never ORM objects.

- ``notify(session, runtime, NotificationIn(...))`` sends a notification (or emit the event
  ``messaging.notify_requested`` with the same payload, from a module that must not depend on
  messaging).
- ``live.send / send_all / push_after_commit / connect`` (``campus.platform.messaging.live``)
  push frames to open pages and sockets.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.runtime import Runtime
from campus.platform.messaging import actions, queries
from campus.platform.messaging.schemas import Audience, NotificationIn, Priority

__all__ = ["Audience", "NotificationIn", "Priority", "notify", "unread_count"]


async def notify(session: AsyncSession, runtime: Runtime, item: NotificationIn) -> int:
    """Store the notification and deliver it: the inbox at once (a campus-wide one is read
    per person, a targeted one gets a row per recipient, written in batches), a live push
    after the commit, and e-mail/SMS/WeCom per each person's preferences and quiet hours.
    Returns its id; with a ``source`` already delivered, that notification's id.

    Raises the kernel's ``InvalidInput`` (422, naming the field) for an unknown template or
    variable, unknown recipients, an empty audience or an expiry in the past."""
    return await actions.notify(session, runtime, item)


async def unread_count(session: AsyncSession, person_id: int) -> int:
    """How many notifications of the person's inbox are unread (what the bell shows)."""
    return await queries.unread_count(session, await queries.reader_of(session, person_id))


# Moderation (sensitive words, reports, blocks) and chat relations, shared with other modules.
from campus.platform.messaging.im.contacts import register_relation  # noqa: E402
from campus.platform.messaging.moderation.service import (  # noqa: E402
    REPORT_DECIDED,
    ReportDecided,
    Screened,
    check_clean,
    is_blocked,
    report,
    screen_text,
    settle_reports,
)

__all__ += [
    "REPORT_DECIDED",
    "ReportDecided",
    "Screened",
    "check_clean",
    "is_blocked",
    "register_relation",
    "report",
    "screen_text",
    "settle_reports",
]
