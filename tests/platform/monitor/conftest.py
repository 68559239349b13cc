"""Fixtures for the monitoring center's tests: dead letters made the real way (a handler that
fails every attempt), audit entries with known times, the traffic ring on a still clock and an
administrator who sees 500s as answers."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit
from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Dispatcher, RetryPolicy
from campus.kernel.events import DeadLetter, Event
from campus.kernel.manifest import EventHandler
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.monitor.traffic import TRAFFIC, Traffic

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


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Traffic:
    """This process's traffic ring with its clock held still, so that every request of the
    test falls into one minute and the window does not move under the assertions."""
    moment = time.time()
    monkeypatch.setattr(TRAFFIC, "clock", lambda: moment)
    return TRAFFIC


@pytest.fixture
async def admin_seeing_500s(
    app, db: Runtime, demo: SeedContext
) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The administrator's client, receiving the 500 of an unhandled exception as a browser
    would instead of re-raising it into the test."""
    login = next(x for x in demo.logins if x.role == "admin")
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
        headers={"Accept-Language": "zh-CN"},
    )
    await client.get("/login")
    client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
    response = await client.post(
        "/api/v1/auth/login", json={"login": login.login, "password": login.password}
    )
    assert response.status_code == 200, response.text
    yield client
    await client.aclose()
