"""Reactions of the grades: to the outcome of a grade correction's approval in the workflow
engine, and to a lowered academic-warning threshold. Each runs in its own transaction; a
repeated or stale outcome changes nothing (the correction must still be pending for that very
instance, and is claimed by its state)."""

from __future__ import annotations

from decimal import Decimal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events as academic_events
from campus.domains.academic.grades import actions
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.workflow import events as workflow_events
from campus.platform.workflow import service as workflow

log = structlog.get_logger(__name__)

DEFAULT_NOTES = {"rejected": "审批未通过", "withdrawn": "申请人撤回了申请"}


def of_grades(event: Event) -> bool:
    return workflow.outcome_of(event, actions.CORRECTION_SOURCE) is not None


async def on_approved(session: AsyncSession, event: Event) -> None:
    outcome = workflow.outcome_of(event, actions.CORRECTION_SOURCE)
    if outcome is None:
        return
    correction = await actions.pending_correction(
        session, outcome.business_key, outcome.instance_id
    )
    if correction is None:
        log.info(
            "grade_correction_outcome_ignored",
            instance_id=outcome.instance_id,
            key=outcome.business_key,
        )
        return
    await actions.do_apply_correction(session, correction)


async def _close(session: AsyncSession, event: Event, state: str) -> None:
    outcome = workflow.outcome_of(event, actions.CORRECTION_SOURCE)
    if outcome is None:
        return
    correction = await actions.pending_correction(
        session, outcome.business_key, outcome.instance_id
    )
    if correction is None:
        log.info(
            "grade_correction_outcome_ignored",
            instance_id=outcome.instance_id,
            key=outcome.business_key,
        )
        return
    note = await workflow.ending_comment(session, outcome.instance_id) or DEFAULT_NOTES[state]
    await actions.do_close_correction(session, correction, state, note)


async def on_policy_changed(session: AsyncSession, event: Event) -> None:
    """A lowered warning threshold warns those now over it (in the relay, not in the
    registrar's request: it reads every failed student's results)."""
    change = academic_events.GradePolicyChanged.model_validate(event.payload)
    if change.previous_warning_credits is None:
        return
    lowered_from = Decimal(change.previous_warning_credits)
    threshold = Decimal(change.warning_credits)
    if threshold < lowered_from:
        warned = await actions.do_warnings_after_lowering(
            session, lowered_from, threshold, f"policy:{event.id}"
        )
        log.info("academic_warnings_after_lowering", warned=warned, threshold=str(threshold))


async def on_rejected(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "rejected")


async def on_withdrawn(session: AsyncSession, event: Event) -> None:
    await _close(session, event, "withdrawn")


HANDLERS = (
    EventHandler(
        "academic.grade_warnings_after_policy",
        academic_events.GRADE_POLICY_CHANGED,
        on_policy_changed,
    ),
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
