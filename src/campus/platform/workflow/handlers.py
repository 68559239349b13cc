"""Scheduled work of the workflow engine: steps past their time limit get their timeout rule
applied (a reminder, escalation, or an automatic decision)."""

from __future__ import annotations

import structlog
from sqlalchemy import select

from campus.kernel import clock, runtime
from campus.kernel.manifest import ScheduledJob
from campus.platform.workflow import actions
from campus.platform.workflow.models import Task

log = structlog.get_logger(__name__)

OVERDUE_EVERY_SECONDS = 60.0
OVERDUE_BATCH = 200


async def handle_overdue() -> None:
    """Each overdue task in its own transaction, so that one failing does not hold up others."""
    rt = runtime.current()
    async with rt.db.read() as session:
        due = list(
            await session.scalars(
                select(Task.id)
                .where(actions.overdue_before(clock.now()))
                .order_by(Task.due_at)
                .limit(OVERDUE_BATCH)
            )
        )
    for task_id in due:
        try:
            async with rt.db.transaction() as session:
                await actions.do_handle_overdue(session, task_id)
        except Exception:
            log.exception("overdue_task_failed", task_id=task_id)
    if due:
        log.info("overdue_tasks_handled", count=len(due))


OVERDUE = ScheduledJob("workflow.overdue", OVERDUE_EVERY_SECONDS, handle_overdue)
JOBS = (OVERDUE,)
