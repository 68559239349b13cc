"""Reactions to the outcome of a grade correction's approval in the workflow engine. Each runs
in its own transaction; a repeated or stale outcome changes nothing (the correction must still
be pending for that very instance, and is claimed by its state)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.grades import actions
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.workflow import events as workflow_events
from campus.platform.workflow import service as workflow

log = structlog.get_logger(__name__)

DEFAULT_NOTES = {"rejected": "审批未通过", "withdrawn": "申请人撤回了申请"}


def _outcome_of(event: Event) -> tuple[int, str | None] | None:
    payload = event.payload
    if payload.get("source") != actions.CORRECTION_SOURCE:
        return None
    instance_id = payload.get("instance_id")
    if not isinstance(instance_id, int):
        return None
    key = payload.get("business_key")
    return instance_id, key if isinstance(key, str) else None


def of_grades(event: Event) -> bool:
    return _outcome_of(event) is not None


async def on_approved(session: AsyncSession, event: Event) -> None:
    outcome = _outcome_of(event)
    if outcome is None:
        return
    correction = await actions.pending_correction(session, outcome[1], outcome[0])
    if correction is None:
        log.info("grade_correction_outcome_ignored", instance_id=outcome[0], key=outcome[1])
        return
    await actions.do_apply_correction(session, correction)


async def _close(session: AsyncSession, event: Event, state: str) -> None:
    outcome = _outcome_of(event)
    if outcome is None:
        return
    correction = await actions.pending_correction(session, outcome[1], outcome[0])
    if correction is None:
        log.info("grade_correction_outcome_ignored", instance_id=outcome[0], key=outcome[1])
        return
    note = await workflow.ending_comment(session, outcome[0]) or DEFAULT_NOTES[state]
    await actions.do_close_correction(session, correction, state, note)


async def on_rejected(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "rejected")


async def on_withdrawn(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "withdrawn")


HANDLERS = (
    EventHandler(
        "academic.grade_correction_approved",
        workflow_events.INSTANCE_APPROVED,
        on_approved,
        of_grades,
    ),
    EventHandler(
        "academic.grade_correction_rejected",
        workflow_events.INSTANCE_REJECTED,
        on_rejected,
        of_grades,
    ),
    EventHandler(
        "academic.grade_correction_withdrawn",
        workflow_events.INSTANCE_WITHDRAWN,
        on_withdrawn,
        of_grades,
    ),
)
