"""Scheduled work of chats: the retention policy. Messages older than the configured number of
days (a moderation setting; 0 keeps them for ever) are deleted in batches, each batch in its
own transaction, and their files detached so the file service sweeps them."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, runtime
from campus.kernel.manifest import ScheduledJob
from campus.platform.files import service as files
from campus.platform.messaging.im.actions import FILE_MODULE, file_key
from campus.platform.messaging.im.models import Message
from campus.platform.messaging.moderation.queries import retention_days

log = structlog.get_logger(__name__)

RETENTION_EVERY_SECONDS = 3600.0
RETENTION_BATCH = 1000
# One run deletes at most this many batches, so a first run on years of history does not hold
# the worker; the next run continues.
RETENTION_MAX_BATCHES = 50


async def purge_batch(session: AsyncSession, days: int, batch: int = RETENTION_BATCH) -> int:
    """Delete up to ``batch`` messages older than ``days``; returns how many went."""
    cutoff = clock.now() - timedelta(days=days)
    rows = (
        await session.execute(
            select(Message.id, Message.file_id)
            .where(Message.created_at < cutoff)
            .order_by(Message.id)
            .limit(batch)
        )
    ).all()
    if not rows:
        return 0
    for message_id, file_id in rows:
        if file_id:
            await files.unbind(session, FILE_MODULE, file_key(message_id))
    await session.execute(delete(Message).where(Message.id.in_([r[0] for r in rows])))
    audit.record(
        session,
        "messaging.im.retention",
        "msg_im_message",
        after={"deleted": len(rows), "older_than_days": days},
    )
    return len(rows)


async def apply_retention() -> None:
    await purge_expired()


async def purge_expired() -> int:
    """Apply the retention policy now; returns how many messages were deleted."""
    rt = runtime.current()
    async with rt.db.read() as session:
        days = await retention_days(session)
    if days <= 0:
        return 0
    total = 0
    for _batch in range(RETENTION_MAX_BATCHES):
        async with rt.db.transaction() as session:
            deleted = await purge_batch(session, days)
        total += deleted
        if deleted < RETENTION_BATCH:
            break
    if total:
        log.info("im_retention_applied", deleted=total, days=days)
    return total


RETENTION = ScheduledJob("messaging.im.retention", RETENTION_EVERY_SECONDS, apply_retention)
JOBS = (RETENTION,)
