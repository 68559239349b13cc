"""Fixtures of the subscription-push tests: the user center's test campus (a college with a major
and a class, a second college), people made there and signed in, service accounts made through
the API, and helpers to count what the module stored and to run its handlers and job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.messaging.accounts import models
from campus.platform.messaging.accounts.handlers import HANDLERS
from tests.platform.users.conftest import (
    Campus,
    SignIn,
    create_person,
    staff_body,
    student_body,
    unique,
)

ACCOUNTS = "/api/v1/messaging/accounts"
POSTS = "/api/v1/messaging/posts"
FEED = "/api/v1/messaging/feed"
PUSH = "/api/v1/messaging/push"
HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}
MANAGE = "messaging.account.manage"


@dataclass
class Person:
    id: int
    client: httpx.AsyncClient


async def student(
    admin: httpx.AsyncClient, sign_in: SignIn, campus: Campus, **overrides: Any
) -> Person:
    person = await create_person(admin, student_body(campus, **overrides))
    return Person(person["id"], await sign_in(person))


async def staff(
    admin: httpx.AsyncClient, sign_in: SignIn, campus: Campus, *codes: str, **overrides: Any
) -> Person:
    person = await create_person(admin, staff_body(campus, **overrides))
    return Person(person["id"], await sign_in(person, *codes))


async def create_account(admin: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("code", unique("acct").lower())
    body.setdefault("name", unique("服务号"))
    response = await admin.post(ACCOUNTS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def publish(client: httpx.AsyncClient, account_id: int, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "测试文章")
    body.setdefault("body", "正文")
    response = await client.post(f"{ACCOUNTS}/{account_id}/posts", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def feed_titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(FEED, params={"page_size": 200})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def counts(db: Runtime) -> dict[str, int]:
    """Rows of the module's tables, the outbox and the audit log (refusals not counted)."""
    async with db.db.read() as session:

        async def count(model: Any, *where: Any) -> int:
            stmt = select(func.count()).select_from(model)
            return int(await session.scalar(stmt.where(*where) if where else stmt) or 0)

        tables = (
            models.Account,
            models.AccountEditor,
            models.Subscription,
            models.Post,
            models.PostRead,
            models.PostLike,
            models.PushSubscription,
        )
        found = {m.__tablename__: await count(m) for m in tables}
        found["outbox"] = await count(OutboxRow)
        found["audit"] = await count(AuditEntry, AuditEntry.action != "access.denied")
        return found


async def outbox_events(db: Runtime, name: str) -> list[Event]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [row.to_event() for row in rows]


async def run_webpush_handler(db: Runtime, event: Event) -> None:
    """Hand a published post's event to the Web Push handler, as the worker does."""
    await Dispatcher(db.db).run_once(HANDLERS[0], event)


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors", [])], body
    return body
