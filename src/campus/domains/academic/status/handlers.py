"""Reactions to the outcome of a change request's approval in the workflow engine. Each runs in
its own transaction; a repeated or stale outcome changes nothing (the request must still be
pending for that very instance, and is claimed by its state)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.status import actions, processes
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.workflow import events as workflow_events
from campus.platform.workflow import service as workflow

log = structlog.get_logger(__name__)

DEFAULT_NOTES = {"rejected": "审批未通过", "withdrawn": "申请人撤回了申请"}


def of_status(event: Event) -> bool:
    return workflow.outcome_of(event, processes.SOURCE) is not None


async def on_approved(session: AsyncSession, event: Event) -> None:
    outcome = workflow.outcome_of(event, processes.SOURCE)
    if outcome is None:
        return
    change = await actions.pending_change(session, outcome.business_key, outcome.instance_id)
    if change is None:
        log.info(
            "status_outcome_ignored", instance_id=outcome.instance_id, key=outcome.business_key
        )
        return
    await actions.do_apply_change(session, change, event.actor_id)


async def _close(session: AsyncSession, event: Event, outcome_name: str) -> None:
    outcome = workflow.outcome_of(event, processes.SOURCE)
    if outcome is None:
        return
    change = await actions.pending_change(session, outcome.business_key, outcome.instance_id)
    if change is None:
        log.info(
            "status_outcome_ignored", instance_id=outcome.instance_id, key=outcome.business_key
        )
        return
    note = (
        await workflow.ending_comment(session, outcome.instance_id) or DEFAULT_NOTES[outcome_name]
    )
    await actions.do_close_change(session, change, outcome_name, note)


async def on_rejected(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "rejected")


async def on_withdrawn(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "withdrawn")


HANDLERS = (
    EventHandler(
        "academic.status_approved", workflow_events.INSTANCE_APPROVED, on_approved, of_status
    ),
    EventHandler(
        "academic.status_rejected", workflow_events.INSTANCE_REJECTED, on_rejected, of_status
    ),
    EventHandler(
        "academic.status_withdrawn", workflow_events.INSTANCE_WITHDRAWN, on_withdrawn, of_status
    ),
)
