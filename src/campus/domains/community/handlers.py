"""Reactions to other modules' events: a moderator of the messaging center's shared report
queue decided on community content. Each runs in its own transaction; a repeated decision
changes nothing (the content is hidden once, the mirrored reports closed once)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.moderation import actions
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.messaging import service as messaging

KINDS: dict[str, actions.TargetKind] = {"community.post": "post", "community.comment": "comment"}


async def on_report_decided(session: AsyncSession, event: Event) -> None:
    decision = messaging.ReportDecided.model_validate(event.payload)
    kind = KINDS.get(decision.target_kind)
    # ``by_owner``: the community settled the shared reports itself and has acted already.
    if kind is None or decision.by_owner or not decision.target_id.isdigit():
        return
    await actions.on_shared_decision(
        session,
        kind,
        int(decision.target_id),
        decision.action,
        decision.moderator_id,
        decision.note,
    )


HANDLERS = (
    EventHandler("community.on_report_decided", messaging.REPORT_DECIDED, on_report_decided),
)
