"""Real servers for the chat socket's tests: the app served by uvicorn on 127.0.0.1 inside the
test's event loop (so the test, the server and the database share one loop), clients signed
in over HTTP, and a small WebSocket client that collects frames."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from campus.entrypoints.http import create_app
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.platform.messaging import live

PATH = "/api/v1/messaging/im/ws"


@dataclass
class Served:
    runtime: Runtime
    base_url: str
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + PATH


@asynccontextmanager
async def serve(settings: Settings, runtime: Runtime) -> AsyncIterator[Served]:
    app = create_app(settings, runtime)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # No lifespan: the test owns the runtime (the app's shutdown would close it).
    config = uvicorn.Config(app, lifespan="off", log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server._serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield Served(runtime, f"http://127.0.0.1:{port}", server, task)
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        await live.close(runtime)
        sock.close()


async def sign_in(base_url: str, login: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30)
    await client.get("/login")
    client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
    response = await client.post("/api/v1/auth/login", json={"login": login, "password": password})
    assert response.status_code == 200, response.text
    return client


def cookie_header(client: httpx.AsyncClient) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


@dataclass
class Socket:
    """One open chat socket and the frames it has received."""

    connection: ClientConnection
    frames: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    reader: asyncio.Task[None] | None = None
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def _read(self) -> None:
        try:
            # A closed socket ends the reader.
            with contextlib.suppress(Exception):
                async for raw in self.connection:
                    self.frames.put_nowait(json.loads(raw))
        finally:
            self.closed.set()

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, within: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(within):
            return await self.frames.get()

    async def expect(self, kind: str, within: float = 5.0) -> dict[str, Any]:
        """The next frame of this type; frames of other types before it are dropped."""
        async with asyncio.timeout(within):
            while True:
                frame = await self.frames.get()
                if frame.get("type") == kind:
                    return frame

    async def drain(self, quiet: float = 0.4) -> list[dict[str, Any]]:
        """Every frame until none has come for ``quiet`` seconds."""
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(self.frames.get(), quiet))
            except TimeoutError:
                return got

    async def sync(self, since: dict[int, int] | None = None, **more: Any) -> list[dict[str, Any]]:
        """Send ``sync`` and return the frames up to ``synced``."""
        await self.send(
            {"type": "sync", "since": {str(k): v for k, v in (since or {}).items()}, **more}
        )
        got = []
        async with asyncio.timeout(10):
            while True:
                frame = await self.frames.get()
                if frame.get("type") == "synced":
                    return got
                got.append(frame)

    async def close(self) -> None:
        await self.connection.close()
        if self.reader is not None:
            await self.reader


@asynccontextmanager
async def open_socket(
    served: Served, client: httpx.AsyncClient | None, **options: Any
) -> AsyncIterator[Socket]:
    headers = {"Cookie": cookie_header(client)} if client is not None else {}
    async with connect(
        served.ws_url, additional_headers=headers, proxy=None, open_timeout=10, **options
    ) as connection:
        sock = Socket(connection)
        sock.reader = asyncio.create_task(sock._read())
        try:
            yield sock
        finally:
            await connection.close()
            await sock.reader
