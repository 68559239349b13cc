"""Fixtures of the notifications tests: the user center's test campus (a college, a major, a
class; people made to measure, signed in), and helpers to send, read the inbox and run the
module's handlers as the worker does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.messaging.handlers import HANDLERS
from campus.platform.users import service as users
from tests.conftest import LoginAs
from tests.platform.auth.conftest import (  # noqa: F401 (fixtures used by the tests here)
    Mailbox,
    settings_for_test,
    smtp_server,
)
from tests.platform.users.conftest import (  # noqa: F401 (fixtures used by the tests here)
    Campus,
    admin,
    campus,
    create_person,
    sign_in,
    staff_body,
    student_body,
)

SEND = "/api/v1/messaging/notifications"
INBOX = "/api/v1/messaging/inbox"


async def person_id_of(db: Runtime, demo: SeedContext, role: str) -> int:
    login = next(x for x in demo.logins if x.role == role)
    async with db.db.read() as session:
        person = await users.find_person_by_login(session, login.login)
    assert person is not None
    return person.id


@pytest.fixture
async def student(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("student")


async def send(client: httpx.AsyncClient, expect: int = 201, **body: Any) -> dict[str, Any]:
    body.setdefault("category", "system")
    response = await client.post(SEND, json=body)
    assert response.status_code == expect, response.text
    return dict(response.json())


async def inbox(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get(INBOX, params={"page_size": 200, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def inbox_ids(client: httpx.AsyncClient, **params: Any) -> list[int]:
    return [item["id"] for item in (await inbox(client, **params))["items"]]


async def outbox_events(db: Runtime, name: str) -> list[Event]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [row.to_event() for row in rows]


def handler(name: str) -> Any:
    return next(h for h in HANDLERS if h.name == name)


async def deliver(db: Runtime, handler_name: str, event: Event) -> None:
    """Hand an event to one of the module's handlers as the worker does (own transaction)."""
    await Dispatcher(db.db).run_once(handler(handler_name), event)


async def plan(db: Runtime, *notification_ids: int) -> None:
    """Plan the external deliveries of these notifications, as the worker would."""
    for event in await outbox_events(db, "messaging.notification.sent"):
        if event.payload["notification_id"] in notification_ids:
            await deliver(db, "messaging.plan_deliveries", event)
