"""Reactions to other modules' events: the outcome of a document's approval (发文审批) in the
workflow engine. Each runs in its own transaction; a repeated or stale outcome changes nothing
(the document must still be waiting for that very instance)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.documents import actions
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.workflow import events as workflow_events
from campus.platform.workflow import service as workflow

log = structlog.get_logger(__name__)

DEFAULT_REASONS = {
    "rejected": "审批未通过",
    "withdrawn": "拟稿人撤回了审批",
}


async def on_approved(session: AsyncSession, event: Event) -> None:
    outcome = workflow.outcome_of(event, actions.SOURCE)
    if outcome is None:
        return
    document = await actions.reviewing_document(session, outcome.business_key, outcome.instance_id)
    if document is None:
        log.info("oa_outcome_ignored", instance_id=outcome.instance_id, key=outcome.business_key)
        return
    await actions.do_approve(session, document)


async def _return(session: AsyncSession, event: Event, outcome_name: str) -> None:
    outcome = workflow.outcome_of(event, actions.SOURCE)
    if outcome is None:
        return
    document = await actions.reviewing_document(session, outcome.business_key, outcome.instance_id)
    if document is None:
        log.info("oa_outcome_ignored", instance_id=outcome.instance_id, key=outcome.business_key)
        return
    reason = (
        await workflow.ending_comment(session, outcome.instance_id) or DEFAULT_REASONS[outcome_name]
    )
    await actions.do_return(session, document, outcome_name, reason)


async def on_rejected(session: AsyncSession, event: Event) -> None:
    await _return(session, event, "rejected")


async def on_withdrawn(session: AsyncSession, event: Event) -> None:
    await _return(session, event, "withdrawn")


def _of_oa(event: Event) -> bool:
    return workflow.outcome_of(event, actions.SOURCE) is not None


HANDLERS = (
    EventHandler("oa.document_approved", workflow_events.INSTANCE_APPROVED, on_approved, _of_oa),
    EventHandler("oa.document_rejected", workflow_events.INSTANCE_REJECTED, on_rejected, _of_oa),
    EventHandler("oa.document_withdrawn", workflow_events.INSTANCE_WITHDRAWN, on_withdrawn, _of_oa),
)
