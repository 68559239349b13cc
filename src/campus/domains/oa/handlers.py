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


# Timeline entries whose comment says why an instance ended without approval.
def _outcome_of(event: Event) -> tuple[int, str | None] | None:
    """The instance and business key of an outcome of an OA process, or None."""
    payload = event.payload
    if payload.get("source") != actions.SOURCE:
        return None
    instance_id = payload.get("instance_id")
    if not isinstance(instance_id, int):
        return None
    key = payload.get("business_key")
    return instance_id, key if isinstance(key, str) else None


async def on_approved(session: AsyncSession, event: Event) -> None:
    outcome = _outcome_of(event)
    if outcome is None:
        return
    document = await actions.reviewing_document(session, outcome[1], outcome[0])
    if document is None:
        log.info("oa_outcome_ignored", instance_id=outcome[0], key=outcome[1])
        return
    await actions.do_approve(session, document)


async def _return(session: AsyncSession, event: Event, outcome_name: str) -> None:
    outcome = _outcome_of(event)
    if outcome is None:
        return
    document = await actions.reviewing_document(session, outcome[1], outcome[0])
    if document is None:
        log.info("oa_outcome_ignored", instance_id=outcome[0], key=outcome[1])
        return
    reason = await workflow.ending_comment(session, outcome[0]) or DEFAULT_REASONS[outcome_name]
    await actions.do_return(session, document, outcome_name, reason)


async def on_rejected(session: AsyncSession, event: Event) -> None:
    await _return(session, event, "rejected")


async def on_withdrawn(session: AsyncSession, event: Event) -> None:
    await _return(session, event, "withdrawn")


def _of_oa(event: Event) -> bool:
    return _outcome_of(event) is not None


HANDLERS = (
    EventHandler("oa.document_approved", workflow_events.INSTANCE_APPROVED, on_approved, _of_oa),
    EventHandler("oa.document_rejected", workflow_events.INSTANCE_REJECTED, on_rejected, _of_oa),
    EventHandler("oa.document_withdrawn", workflow_events.INSTANCE_WITHDRAWN, on_withdrawn, _of_oa),
)
