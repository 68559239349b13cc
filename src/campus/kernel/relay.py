"""The outbox relay: publishes committed outbox rows to the bus and marks them sent."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)


async def relay_once(runtime: Runtime, batch: int = 200) -> int:
    """Publish up to ``batch`` unsent events in order; returns how many were published."""
    async with runtime.db.transaction() as session:
        rows = (
            await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.sent_at.is_(None))
                .order_by(OutboxRow.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            await runtime.bus.publish(row.to_event())
            row.sent_at = clock.now()
    return len(rows)


class BackgroundRelay:
    def __init__(self, runtime: Runtime, interval: float = 0.2) -> None:
        self.runtime = runtime
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def _run(self) -> None:
        while True:
            try:
                published = await relay_once(self.runtime)
            except Exception:
                log.exception("relay_failed")
                published = 0
            if not published:
                await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def start_background_relay(runtime: Runtime) -> BackgroundRelay:
    relay = BackgroundRelay(runtime)
    relay.start()
    return relay
