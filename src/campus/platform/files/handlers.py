"""Scheduled work of the file service: the hourly sweep of abandoned uploads and deleted files."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from campus.kernel import clock, runtime
from campus.kernel.db import Database
from campus.kernel.manifest import ScheduledJob
from campus.kernel.storage import Storage
from campus.platform.files import actions

log = structlog.get_logger(__name__)

SWEEP_EVERY_SECONDS = 3600.0


@dataclass(frozen=True)
class SweepReport:
    expired: int  # uploads bound to nothing for a day, now marked deleted
    purged: int  # records deleted long enough ago, now removed
    blobs_removed: int  # contents no record had any more


async def sweep_files(db: Database, storage: Storage) -> SweepReport:
    """Mark abandoned uploads deleted, then remove the records deleted more than an hour ago
    and the blobs nothing refers to any more (each batch in its own transaction; a blob only
    after the transaction that dropped its last record has committed)."""
    now = clock.now()
    expired = 0
    while True:
        async with db.transaction() as session:
            batch = await actions.do_expire_orphans(session, now)
        expired += batch
        if batch < actions.SWEEP_BATCH:
            break
    purged = removed = 0
    grace = actions.BLOB_GRACE.total_seconds()
    while True:
        async with db.transaction() as session:
            batch, keys = await actions.do_purge_deleted(session, now)
        purged += batch
        for key in keys:
            removed += await storage.delete(key, untouched_for=grace)
        if batch < actions.SWEEP_BATCH:
            break
    return SweepReport(expired, purged, removed)


async def sweep() -> None:
    rt = runtime.current()
    report = await sweep_files(rt.db, rt.storage)
    if report.expired or report.purged:
        log.info(
            "files_swept",
            expired=report.expired,
            purged=report.purged,
            blobs_removed=report.blobs_removed,
        )


SWEEP = ScheduledJob("files.sweep", SWEEP_EVERY_SECONDS, sweep)
