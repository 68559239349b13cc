"""Fixtures of the community's tests: boards of the test's own (made through the API), people
made in the permission center's test tree, clients signed in as them, and helpers to post, to
upload pictures and to count what the module wrote."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.domains.community import models
from campus.kernel.audit import AuditEntry
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.platform.access.conftest import (  # noqa: F401 (fixtures)
    SignIn,
    Tree,
    admin,
    assert_problem,
    sign_in,
    staff_in,
    student_in,
    tree,
    unique,
)

__all__ = ["HTML", "HTMX", "SignIn", "Tree", "assert_problem", "staff_in", "student_in"]

API = "/api/v1/community"
HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}


def png_bytes(size: int = 2) -> bytes:
    """A real (tiny) PNG picture."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * size for _ in range(size))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def upload(
    client: httpx.AsyncClient, name: str = "photo.png", data: bytes | None = None
) -> str:
    files = {"file": (name, io.BytesIO(data if data is not None else png_bytes()), "image/png")}
    response = await client.post("/api/v1/files", files=files)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def make_board(manager: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("code", unique("b").lower().replace("_", "-"))
    body.setdefault("name", "测试板块")
    response = await manager.post(f"{API}/boards", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def set_moderators(manager: httpx.AsyncClient, board_id: int, person_ids: list[int]) -> None:
    response = await manager.put(
        f"{API}/boards/{board_id}/moderators", json={"person_ids": person_ids}
    )
    assert response.status_code == 200, response.text


async def create_post(client: httpx.AsyncClient, board_id: int, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "测试帖子")
    body.setdefault("body", "正文内容")
    response = await client.post(f"{API}/posts", json={"board_id": board_id, **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def comment(client: httpx.AsyncClient, post_id: int, **body: Any) -> dict[str, Any]:
    body.setdefault("body", "评论")
    response = await client.post(f"{API}/posts/{post_id}/comments", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass
class Person:
    id: int
    name: str
    client: httpx.AsyncClient


@dataclass
class Scene:
    """A board (general, anonymous allowed) with its moderator, and two students."""

    board: dict[str, Any]
    moderator: Person
    alice: Person
    bob: Person


@pytest.fixture
async def scene(admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn) -> Scene:  # noqa: F811
    board = await make_board(admin, name="树洞", allow_anonymous=True)
    people = []
    for name in ("欧阳晓雪", "司马长风"):
        person = await student_in(admin, tree, name=name)
        people.append(Person(person["id"], person["name"], await sign_in(person)))
    staff = await staff_in(admin, tree, tree.college_a)
    moderator = Person(staff["id"], staff["name"], await sign_in(staff))
    await set_moderators(admin, board["id"], [moderator.id])
    return Scene(board, moderator, people[0], people[1])


async def counts(db: Runtime) -> dict[str, int]:
    """Rows of the module's tables, the audit log (refusals left out) and the outbox."""
    async with db.db.read() as session:

        async def count(model: Any, *where: Any) -> int:
            stmt = select(func.count()).select_from(model)
            if where:
                stmt = stmt.where(*where)
            return int(await session.scalar(stmt) or 0)

        tables = (
            models.Board,
            models.Moderator,
            models.Post,
            models.Comment,
            models.PostLike,
            models.CommentLike,
            models.Follow,
            models.Ban,
            models.Report,
        )
        found = {m.__tablename__: await count(m) for m in tables}
        found["outbox"] = await count(OutboxRow)
        found["audit"] = await count(AuditEntry, AuditEntry.action != "access.denied")
        return found


async def outbox(db: Runtime, name: str) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == name).order_by(OutboxRow.id)
        )
        return [dict(p) for p in rows]


async def inbox_titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get("/api/v1/messaging/inbox?page_size=50")
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]
