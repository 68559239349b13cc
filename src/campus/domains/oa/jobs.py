"""Scheduled work of the collaborative office: announcing meeting reminders as they fall due."""

from __future__ import annotations

import structlog

from campus.domains.oa.schedules import actions
from campus.kernel import runtime
from campus.kernel.manifest import ScheduledJob

log = structlog.get_logger(__name__)

REMINDERS_EVERY_SECONDS = 60.0


async def announce_reminders() -> None:
    """One transaction per run: every due reminder is claimed and its event emitted together."""
    async with runtime.current().db.transaction() as session:
        announced = await actions.do_announce_due_reminders(session)
    if announced:
        log.info("oa_reminders_announced", count=announced)


REMINDERS = ScheduledJob("oa.schedule.reminders", REMINDERS_EVERY_SECONDS, announce_reminders)
JOBS = (REMINDERS,)
