"""Scheduled work of the notifications core: sending the external deliveries that are due
(new ones, those held by quiet hours once the quiet period ends, retries after a failure)."""

from __future__ import annotations

import structlog

from campus.kernel import runtime as runtime_module
from campus.kernel.manifest import ScheduledJob
from campus.kernel.runtime import Runtime
from campus.platform.messaging import actions, channels

log = structlog.get_logger(__name__)

DELIVERIES_EVERY_SECONDS = 5.0


async def send_due(runtime: Runtime, limit: int | None = None) -> int:
    """Send what is due; returns how many sends were attempted.

    Three short transactions, none open while a channel talks to its server: claim a batch
    (leased as "sending"), send, record each outcome. A worker that dies mid-batch leaves its
    lease to expire; the batch is then sent again (at least once)."""
    settings = channels.messaging_settings()
    adapters = channels.adapters(runtime.settings)
    async with runtime.db.transaction() as session:
        claimed = await actions.do_claim_due(session, limit or settings.delivery_batch)
        batch = [(d.id, d.channel, d.address, d.content) for d in claimed]
    if not batch:
        return 0
    outcomes: dict[int, str | None] = {}
    for delivery_id, channel, address, content in batch:
        adapter = adapters.get(channel)
        subject, _sep, text = content.partition("\n")
        try:
            if adapter is None:
                raise RuntimeError(f"channel {channel} is not configured")
            await adapter.send(address, channels.Outgoing(subject, text))
            outcomes[delivery_id] = None
        except Exception as exc:
            log.warning("messaging_delivery_failed", delivery_id=delivery_id, error=repr(exc))
            outcomes[delivery_id] = repr(exc)
    async with runtime.db.transaction() as session:
        await actions.do_record_outcomes(
            session, outcomes, settings.delivery_max_attempts, settings.delivery_retry_seconds
        )
    return len(batch)


async def send_deliveries() -> None:
    sent = await send_due(runtime_module.current())
    if sent:
        log.info("messaging_deliveries_sent", count=sent)


DELIVERIES = ScheduledJob("messaging.deliveries", DELIVERIES_EVERY_SECONDS, send_deliveries)
JOBS = (DELIVERIES,)
