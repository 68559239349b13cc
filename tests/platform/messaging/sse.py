"""A server-sent-events client driving the ASGI app directly (httpx's test transport waits for
the whole body, which a live stream never ends): it reads events as they are sent and
disconnects on leaving the block."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx

LIVE = "/api/v1/messaging/live"


@dataclass
class SseEvent:
    event: str
    data: Any
    id: str | None = None


@dataclass
class SseStream:
    app: Any
    client: httpx.AsyncClient
    last_event_id: int | None = None
    path: str = LIVE  # the stream to open
    status: int | None = None
    comments: list[str] = field(default_factory=list)
    _chunks: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    _gone: asyncio.Event = field(default_factory=asyncio.Event)
    _buffer: str = ""
    _task: asyncio.Task[None] | None = None

    def _scope(self) -> dict[str, Any]:
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies.jar)
        headers = [(b"cookie", cookie.encode()), (b"accept", b"text/event-stream")]
        if self.last_event_id is not None:
            headers.append((b"last-event-id", str(self.last_event_id).encode()))
        path, _sep, query = self.path.partition("?")
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }

    async def __aenter__(self) -> SseStream:
        requested = False

        async def receive() -> dict[str, Any]:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
            elif message["type"] == "http.response.body" and message.get("body"):
                await self._chunks.put(message["body"])

        self._task = asyncio.create_task(self.app(self._scope(), receive, send))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._gone.set()
        assert self._task is not None
        await asyncio.wait_for(self._task, 5)

    async def started(self, seconds: float = 3.0) -> None:
        """Waits for the stream's first bytes: from then on the server is listening."""
        chunk = await asyncio.wait_for(self._chunks.get(), seconds)
        self._buffer += chunk.decode()

    async def next(self, seconds: float = 3.0) -> SseEvent:
        """The next event (comments are collected in ``comments``)."""
        while True:
            if "\n\n" in self._buffer:
                block, self._buffer = self._buffer.split("\n\n", 1)
                parsed = self._parse(block)
                if parsed is not None:
                    return parsed
                continue
            chunk = await asyncio.wait_for(self._chunks.get(), seconds)
            self._buffer += chunk.decode()

    async def next_of(self, event: str, seconds: float = 3.0) -> SseEvent:
        while True:
            found = await self.next(seconds)
            if found.event == event:
                return found

    async def quiet(self, event: str, wait: float = 0.3) -> None:
        """No event of this type arrives within ``wait`` seconds."""
        try:
            found = await self.next_of(event, wait)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {event}: {found}")

    def _parse(self, block: str) -> SseEvent | None:
        name, data, event_id = "message", None, None
        for line in block.splitlines():
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line.startswith("id: "):
                event_id = line[4:]
        return None if data is None else SseEvent(name, data, event_id)
