"""Helpers for QR-code login tests: more than one anonymous browser, the steps of the flow over
HTTP, and an event stream read while the server is still sending it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from campus.kernel.runtime import Runtime
from tests.conftest import _client

EXCHANGE = "/api/v1/auth/qr/exchange"


@dataclass(frozen=True)
class Started:
    """A challenge as the desktop received it."""

    challenge: str
    confirm_url: str
    events_url: str

    @property
    def confirm_path(self) -> str:
        return f"/qr/confirm?c={self.challenge}"


NewBrowser = Callable[[], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def new_browser(app, db: Runtime) -> AsyncIterator[NewBrowser]:  # type: ignore[no-untyped-def]
    """``await new_browser()``: another anonymous browser with its own cookies."""
    clients: list[httpx.AsyncClient] = []

    async def make() -> httpx.AsyncClient:
        client = await _client(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def start(desktop: httpx.AsyncClient, next_path: str = "/") -> Started:
    response = await desktop.post("/api/v1/auth/qr/challenges", params={"next": next_path})
    assert response.status_code == 201, response.text
    body = response.json()
    return Started(body["challenge"], body["confirm_url"], body["events_url"])


async def scan(phone: httpx.AsyncClient, started: Started) -> httpx.Response:
    """The phone opens the QR code's URL, as its browser would."""
    return await phone.get(started.confirm_path, headers={"Accept": "text/html"})


async def decide(phone: httpx.AsyncClient, started: Started, decision: str) -> httpx.Response:
    """The phone submits the confirmation form (its CSRF field included)."""
    form = {
        "c": started.challenge,
        "decision": decision,
        "csrf_token": phone.cookies.get("campus_csrf") or "",
    }
    return await phone.post("/qr/confirm", data=form, headers={"Accept": "text/html"})


async def exchange(desktop: httpx.AsyncClient, started: Started, token: str) -> httpx.Response:
    return await desktop.post(EXCHANGE, json={"challenge": started.challenge, "token": token})


class EventStream:
    """A Server-Sent Events response, read while the app is still sending it.

    httpx's ASGI transport hands a response over only once the app has finished with it, so a
    test that must see one event before causing the next drives the ASGI app directly.
    """

    def __init__(self, app: Any, path: str, client: httpx.AsyncClient) -> None:
        cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        self._app = app
        self._scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"accept", b"text/event-stream"),
                (b"accept-language", b"zh-CN"),
                (b"cookie", cookie.encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._disconnected = asyncio.Event()
        self._request_sent = False
        self._buffer = ""
        self._ended = False
        self._task: asyncio.Task[None] | None = None
        self._head: asyncio.Future[None] | None = None
        self.status = 0
        self.headers: dict[str, str] = {}

    async def __aenter__(self) -> EventStream:
        self._head = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(asyncio.shield(self._head), 5)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._disconnected.set()
        assert self._task is not None
        try:
            await asyncio.wait_for(self._task, 5)
        except TimeoutError:
            self._task.cancel()

    async def _run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        finally:
            self._chunks.put_nowait(None)

    async def _receive(self) -> dict[str, Any]:
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            assert self._head is not None
            self._head.set_result(None)
        elif message["type"] == "http.response.body":
            if message.get("body"):
                self._chunks.put_nowait(message["body"])
            if not message.get("more_body"):
                self._chunks.put_nowait(None)

    async def _frame(self, within: float) -> str | None:
        while "\n\n" not in self._buffer:
            if self._ended:
                return None
            chunk = await asyncio.wait_for(self._chunks.get(), within)
            if chunk is None:
                self._ended = True
            else:
                self._buffer += chunk.decode()
        frame, self._buffer = self._buffer.split("\n\n", 1)
        return frame

    async def next_event(self, within: float = 5.0) -> dict[str, Any] | None:
        """The data of the next ``state`` event; None once the server has ended the stream."""
        while True:
            frame = await self._frame(within)
            if frame is None:
                return None
            lines = frame.split("\n")
            data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
            if data:
                assert "event: state" in lines, frame
                parsed: dict[str, Any] = json.loads("\n".join(data))
                return parsed

    async def body(self, within: float = 5.0) -> str:
        """Everything sent until the end (for a refusal, the problem+json)."""
        text = self._buffer
        while not self._ended:
            chunk = await asyncio.wait_for(self._chunks.get(), within)
            if chunk is None:
                self._ended = True
            else:
                text += chunk.decode()
        self._buffer = ""
        return text


OpenStream = Callable[[httpx.AsyncClient, str], EventStream]


@pytest.fixture
def open_stream(app) -> OpenStream:  # type: ignore[no-untyped-def]
    """``async with open_stream(browser, events_url) as events:`` follows a challenge."""

    def make(client: httpx.AsyncClient, path: str) -> EventStream:
        return EventStream(app, path, client)

    return make


async def confirmed_token(
    open_stream: OpenStream, desktop: httpx.AsyncClient, phone: httpx.AsyncClient, started: Started
) -> str:
    """Scan and confirm on the phone; the exchange token the desktop's stream then delivers."""
    assert (await scan(phone, started)).status_code == 200
    assert (await decide(phone, started, "confirm")).status_code == 200
    async with open_stream(desktop, started.events_url) as events:
        event = await events.next_event()
    assert event is not None and event["state"] == "confirmed", event
    token: str = event["exchange"]
    return token
