"""Fixtures for the monitoring center's tests: dead letters made the real way (a handler that
fails every attempt), and audit entries with known times."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit
from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Dispatcher, RetryPolicy
from campus.kernel.events import DeadLetter, Event
from campus.kernel.manifest import EventHandler
from campus.kernel.runtime import Runtime

EFFECT = "test.monitor.effect"


async def _no_wait(_seconds: float) -> None:
    return None


@dataclass
class BrokenHandler:
    """A handler that fails while ``broken`` is set and otherwise records its effect."""

    runtime: Runtime
    name: str = field(default_factory=lambda: f"test.monitor.{uuid.uuid4().hex[:8]}")
    pattern: str = "campus_test.#"
    broken: bool = True

    @property
    def handler(self) -> EventHandler:
        async def handle(session: AsyncSession, event: Event) -> None:
            if self.broken:
                raise ValueError(f"宿舍 {event.payload.get('room')} 不存在")
            audit.record(session, EFFECT, "event", event.id)

        return EventHandler(self.name, self.pattern, handle)

    async def dead_letter(self, name: str = "campus_test.room.assigned", **payload: Any) -> int:
        """Deliver an event until it is dead-lettered; returns the letter's id."""
        event = Event(name=name, payload=payload or {"room": "A-101"})
        dispatcher = Dispatcher(self.runtime.db, RetryPolicy(max_attempts=2), sleep=_no_wait)
        await dispatcher.deliver(self.handler, event)
        async with self.runtime.db.read() as session:
            letter_id = await session.scalar(
                select(DeadLetter.id).where(
                    DeadLetter.handler == self.name, DeadLetter.event_id == event.id
                )
            )
        assert letter_id is not None
        return int(letter_id)

    async def effects(self) -> int:
        async with self.runtime.db.read() as session:
            count = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == EFFECT)
            )
        return int(count or 0)


@pytest.fixture
def broken(db: Runtime) -> Iterator[BrokenHandler]:
    """A failing handler this process knows (registered on its bus, so it can be replayed)."""
    handler = BrokenHandler(db)
    known = list(db.bus.handlers)
    db.bus.register([*known, handler.handler])
    yield handler
    db.bus.register(known)


@pytest.fixture
async def letter(broken: BrokenHandler) -> AsyncIterator[int]:
    yield await broken.dead_letter()


async def add_audit_entries(runtime: Runtime, *entries: dict[str, Any]) -> None:
    async with runtime.db.transaction() as session:
        for values in entries:
            session.add(AuditEntry(**values))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
