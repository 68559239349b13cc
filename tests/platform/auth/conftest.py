"""Fixtures of the authentication center's tests: people of the demo university with a
password of the test's choosing, browsers (clients) signed in as them, a local SMTP server, the
outbox and audit entries a test caused, and settings changed for one test."""

from __future__ import annotations

import asyncio
import email.policy
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.platform.auth import service as auth_service
from campus.platform.auth import totp
from campus.platform.auth.models import (
    AuthSession,
    Credential,
    RecoveryCode,
    ResetCode,
    Totp,
)
from campus.platform.users.models import Identity, Person, Position
from tests.conftest import _client
from tests.serving import free_port

PASSWORD = "Kx7#mvQ2pLw9"
_next_person = itertools.count()


@dataclass
class Account:
    person_id: int
    login: str
    password: str
    phone: str | None
    email: str | None
    # The TOTP seed, once the test has enrolled one; the last time step used.
    seed: str | None = None
    step_offset: int = field(default=0)

    def next_code(self) -> str:
        """A fresh TOTP code: each call moves one step on (a code is accepted once only)."""
        assert self.seed, "enrol first"
        code = totp.code_at(self.seed, time.time() + 30 * self.step_offset)
        self.step_offset += 1
        return code


MakeAccount = Callable[..., Awaitable[Account]]
Browser = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_account(db: Runtime, demo: SeedContext) -> MakeAccount:
    """``await make_account()``: a student (``staff=True``: a member of staff) of the demo
    university nobody else in the run uses,
    with the password ``PASSWORD`` (or the one given), not must-change unless asked, and a
    clean slate: no sessions, lockout, second factor or codes (writes may outlive a test on
    SQLite, so every account starts from a known state)."""
    demo_logins = {x.login for x in demo.logins}

    async def make(
        password: str = PASSWORD, *, must_change: bool = False, staff: bool = False
    ) -> Account:
        async with db.db.transaction() as session:
            rows = await session.execute(
                select(Identity.value, Person.id, Person.phone, Person.email)
                .join(Person, Person.id == Identity.person_id)
                .where(
                    Identity.kind == ("staff_no" if staff else "student_no"),
                    Identity.value.not_in(demo_logins),
                    Person.status == "active",
                    # Nobody's counselor, dean or head: other tests' approvals stay theirs.
                    ~exists().where(Position.person_id == Person.id),
                )
                .order_by(Identity.value.desc())
                .offset(next(_next_person))
                .limit(1)
            )
            number, person_id, phone, email = rows.one()
            assert number not in demo_logins
            await _clean_slate(session, person_id)
            await auth_service.set_password(session, person_id, password, must_change=must_change)
        return Account(person_id, number, password, phone, email)

    return make


async def _clean_slate(session: AsyncSession, person_id: int) -> None:
    for table in (AuthSession, Totp, RecoveryCode, ResetCode, Credential):
        await session.execute(delete(table).where(table.person_id == person_id))


@pytest.fixture
async def browser(app, db: Runtime) -> AsyncIterator[Browser]:  # type: ignore[no-untyped-def]
    """``await browser()``: a fresh anonymous client with its own cookies;
    ``await browser(account)``: one signed in as the account (JSON login, no second factor);
    ``user_agent=`` names the device."""
    clients: list[httpx.AsyncClient] = []

    async def make(
        account: Account | None = None, *, remember: bool = False, user_agent: str | None = None
    ) -> httpx.AsyncClient:
        client = await _client(app)
        if user_agent:
            client.headers["User-Agent"] = user_agent
        clients.append(client)
        if account is not None:
            response = await sign_in(client, account, remember=remember)
            assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        await client.aclose()


async def sign_in(
    client: httpx.AsyncClient, account: Account, *, remember: bool = False
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login",
        json={"login": account.login, "password": account.password, "remember": remember},
    )


def form(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """A form body with the page's CSRF field, as a browser posts it."""
    return {"csrf_token": client.cookies["campus_csrf"], **fields}


async def events(db: Runtime, name: str, **match: Any) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [dict(p) for p in rows if all(p.get(k) == v for k, v in match.items())]


async def audits(db: Runtime, action: str, target_id: object | None = None) -> list[AuditEntry]:
    # A transaction (not a read): its commit leaves the entries' attributes loaded.
    async with db.db.transaction() as session:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        if target_id is not None:
            query = query.where(AuditEntry.target_id == str(target_id))
        return list(await session.scalars(query))


@pytest.fixture
def settings_for_test(runtime: Runtime) -> Iterator[Callable[..., None]]:
    """``settings_for_test(lockout_failures=3)``: changes the running app's settings for one
    test; they are restored afterwards."""
    saved: dict[str, Any] = {}

    def change(**values: Any) -> None:
        for name, value in values.items():
            saved.setdefault(name, getattr(runtime.settings, name))
            setattr(runtime.settings, name, value)

    yield change
    for name, value in saved.items():
        setattr(runtime.settings, name, value)


# ---------------------------------------------------------------- a local SMTP server


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)

    async def wait_for(self, count: int = 1, seconds: float = 5.0) -> list[Message]:
        deadline = time.monotonic() + seconds
        # The server runs in a thread of its own: polling is the simple way to wait for it.
        while len(self.messages) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.messages


class _Collect:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=email.policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.box.messages.append(message)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings_for_test: Callable[..., None]) -> Iterator[Mailbox]:
    """An SMTP server on 127.0.0.1 (aiosmtpd, in its own thread); the app sends to it."""
    box = Mailbox("127.0.0.1", free_port())
    controller = Controller(_Collect(box), hostname=box.host, port=box.port)
    controller.start()
    settings_for_test(
        smtp_host=box.host, smtp_port=box.port, smtp_security="none", smtp_timeout_seconds=5.0
    )
    try:
        yield box
    finally:
        controller.stop()
