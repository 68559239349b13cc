"""Telling people what happened to them in the community (a comment on their post, a reply,
their post hidden, a ban) through the messaging center's notifications, category 校园社区.

Sent in the request's transaction: a refused or failed write notifies nobody. A notification
the messaging center refuses (say, its recipient has left the university) is logged and left
out, inside a savepoint, so that it never refuses the comment or the moderation it tells of."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.text import excerpt
from campus.kernel import runtime
from campus.kernel.errors import Problem
from campus.platform.messaging import service as messaging

CATEGORY = "community"
log = structlog.get_logger(__name__)


async def person(
    session: AsyncSession,
    person_id: int,
    title: str,
    body: str = "",
    *,
    link: str | None = None,
    source: str | None = None,
) -> None:
    item = messaging.NotificationIn(
        title=excerpt(title, 200),
        body=excerpt(body, 500),
        link=link,
        category=CATEGORY,
        audience=messaging.Audience(person_ids=[person_id]),
        source=source,
    )
    try:
        async with session.begin_nested():
            await messaging.notify(session, runtime.current(), item)
    except Problem as problem:
        log.warning("community_notification_refused", person_id=person_id, detail=str(problem))
