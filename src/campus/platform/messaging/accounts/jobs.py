"""Scheduled work of subscription push: publishing the posts whose scheduled time has come."""

from __future__ import annotations

import structlog

from campus.kernel import runtime
from campus.kernel.manifest import ScheduledJob
from campus.platform.messaging.accounts import actions

log = structlog.get_logger(__name__)

DUE_EVERY_SECONDS = 15.0


async def publish_due_posts() -> None:
    """One transaction per run: each due post is published with its event and live frame."""
    rt = runtime.current()
    async with rt.db.transaction() as session:
        published = await actions.do_publish_due(session, rt)
    if published:
        log.info("messaging_posts_published_on_schedule", count=published)


PUBLISH_DUE = ScheduledJob("messaging.accounts.publish_due", DUE_EVERY_SECONDS, publish_due_posts)
JOBS = (PUBLISH_DUE,)
