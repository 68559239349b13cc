"""Helpers for the file service's tests: signed-in clients with their person ids, uploads of
unique content (the store outlives each test's rolled-back transaction, so no two tests share
bytes), and a look at what the store holds."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.kernel.storage import LocalStorage
from campus.platform.users import service as users
from tests.conftest import LoginAs

FILES = "/api/v1/files"
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def pdf_bytes(size: int = 256) -> bytes:
    """A PDF-looking content of ``size`` bytes that no other upload has."""
    head = b"%PDF-1.7\n" + secrets.token_hex(16).encode() + b"\n"
    return head + b"0" * max(0, size - len(head))


@dataclass
class User:
    client: httpx.AsyncClient
    person_id: int

    async def upload(
        self, name: str, content: bytes, content_type: str = "application/octet-stream"
    ) -> httpx.Response:
        return await self.client.post(FILES, files={"file": (name, content, content_type)})

    async def uploaded(self, name: str = "申请材料.pdf", content: bytes | None = None) -> str:
        """Upload a file that must be accepted; returns its id."""
        response = await self.upload(name, content if content is not None else pdf_bytes())
        assert response.status_code == 201, response.text
        return str(response.json()["id"])


@pytest.fixture
async def sign_in(login_as: LoginAs, demo: SeedContext, db: Runtime):  # type: ignore[no-untyped-def]
    async def make(role: str) -> User:
        client = await login_as(role)
        login = next(x for x in demo.logins if x.role == role).login
        async with db.db.read() as session:
            person = await users.find_person_by_login(session, login)
        assert person is not None
        return User(client, person.id)

    return make


def store_of(runtime: Runtime) -> LocalStorage:
    assert isinstance(runtime.storage, LocalStorage)
    return runtime.storage


def stored_files(runtime: Runtime) -> set[Path]:
    """Every file in the store, temporary ones included."""
    root = store_of(runtime).root
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


async def audit_count(runtime: Runtime, action: str, target_id: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    async with runtime.db.read() as session:
        return int(await session.scalar(query) or 0)
