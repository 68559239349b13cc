"""Fixtures of the chat tests: people made in the user center's test campus (classmates in one
class, a teacher), signed in; helpers for the chat API and for running the module's handlers
as the worker does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.messaging.im.handlers import HANDLERS
from campus.platform.messaging.im.models import Message
from campus.platform.messaging.moderation import filter as word_filter
from tests.platform.users.conftest import (  # noqa: F401 (fixtures)
    Campus,
    admin,
    campus,
    create_person,
    sign_in,
    staff_body,
    student_body,
)

IM = "/api/v1/messaging/im"
MOD = "/api/v1/messaging/moderation"


@dataclass
class Person:
    id: int
    name: str
    client: httpx.AsyncClient
    record: dict[str, Any]


@pytest.fixture(autouse=True)
async def fresh_word_filter(db: Runtime) -> None:
    """Each test compiles the word list it sees (rows of earlier tests were rolled back)."""
    word_filter._compiled = None


async def make_person(
    by: httpx.AsyncClient, where: Campus, signer: Any, kind: str = "student", **over: Any
) -> Person:
    """A person made in the test campus by the administrator ``by``, signed in by ``signer``."""
    body = student_body(where, **over) if kind == "student" else staff_body(where, **over)
    record = await create_person(by, body)
    client = await signer(record)
    return Person(record["id"], record["name"], client, record)


@pytest.fixture
async def alice(admin: httpx.AsyncClient, campus: Campus, sign_in: Any) -> Person:  # noqa: F811
    return await make_person(admin, campus, sign_in, name="爱丽丝")


@pytest.fixture
async def bob(admin: httpx.AsyncClient, campus: Campus, sign_in: Any) -> Person:  # noqa: F811
    return await make_person(admin, campus, sign_in, name="鲍勃")


@pytest.fixture
async def carol(admin: httpx.AsyncClient, campus: Campus, sign_in: Any) -> Person:  # noqa: F811
    return await make_person(admin, campus, sign_in, name="卡萝尔")


def cid() -> str:
    return uuid.uuid4().hex


async def direct(a: Person, b: Person) -> int:
    response = await a.client.post(f"{IM}/conversations/direct", json={"person_id": b.id})
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def send(
    who: Person, conversation_id: int, text: str = "你好", expect: int = 200, **more: Any
) -> dict[str, Any]:
    body = {"id": more.pop("id", cid()), "text": text, **more}
    response = await who.client.post(f"{IM}/conversations/{conversation_id}/messages", json=body)
    assert response.status_code == expect, response.text
    return dict(response.json())


async def group(owner: Person, *members: Person, name: str = "学习小组") -> int:
    response = await owner.client.post(
        f"{IM}/conversations/groups",
        json={"name": name, "members": [m.id for m in members]},
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def history(who: Person, conversation_id: int, **params: Any) -> dict[str, Any]:
    response = await who.client.get(f"{IM}/conversations/{conversation_id}/messages", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def message_count(db: Runtime, conversation_id: int | None = None) -> int:
    async with db.db.read() as session:
        stmt = select(func.count()).select_from(Message)
        if conversation_id is not None:
            stmt = stmt.where(Message.conversation_id == conversation_id)
        return int(await session.scalar(stmt) or 0)


async def outbox_events(db: Runtime, name: str) -> list[Event]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [row.to_event() for row in rows]


async def deliver(db: Runtime, handler_name: str, event: Event) -> None:
    """Hand an event to one of the chats' handlers as the worker does (own transaction)."""
    found = next(h for h in HANDLERS if h.name == handler_name)
    await Dispatcher(db.db).run_once(found, event)


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if field is not None:
        fields = [e["field"] for e in response.json().get("errors", [])]
        assert field in fields, response.json()
