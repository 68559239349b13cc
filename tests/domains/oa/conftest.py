"""Fixtures of the collaborative office's tests: the permission center's test tree (college A with
a major and a class, college B), people made in it through the user center's API, clients
signed in with chosen grants, and helpers to read what the module wrote."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from campus.domains.oa import models
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.access.scopes import ScopeKind
from tests.platform.access.conftest import (  # noqa: F401 (fixtures)
    SignIn,
    Tree,
    admin,
    assert_problem,
    sign_in,
    staff_in,
    student_in,
    tree,
)

__all__ = [
    "HTML",
    "HTMX",
    "ScopeKind",
    "SignIn",
    "Tree",
    "assert_problem",
    "oa_counts",
    "outbox_payloads",
    "staff_in",
    "student_in",
]

HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}
NOTICES = "/api/v1/oa/notices"
EVENTS = "/api/v1/oa/events"
DOCUMENTS = "/api/v1/oa/documents"


async def publish(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    """Create a notice and publish it; returns it as published."""
    body.setdefault("title", "测试通知")
    body.setdefault("body", "正文")
    response = await client.post(NOTICES, json=body)
    assert response.status_code == 201, response.text
    notice_id = response.json()["id"]
    response = await client.post(f"{NOTICES}/{notice_id}/publish")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def outbox_payloads(db: Runtime, name: str, **match: Any) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [dict(p) for p in rows if all(p.get(k) == v for k, v in match.items())]


async def oa_counts(db: Runtime) -> dict[str, int]:
    """How many rows the module's tables, the audit log and the outbox hold (to prove a refused
    request wrote nothing; the audited refusal itself is not counted)."""
    async with db.db.read() as session:

        async def count(model: Any) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        tables = (
            models.Notice,
            models.NoticeTarget,
            models.NoticeRead,
            models.CalendarEvent,
            models.Invitation,
            models.Reminder,
            models.Document,
            models.DocumentReceipt,
        )
        found = {m.__tablename__: await count(m) for m in tables}
        found["outbox"] = await count(OutboxRow)
        found["audit"] = int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action != "access.denied")
            )
            or 0
        )
        return found
