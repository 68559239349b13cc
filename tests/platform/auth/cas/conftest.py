"""Fixtures of the CAS tests: a tiny HTTP receiver on 127.0.0.1 that plays a CAS client
application (it records logout requests and proxy callbacks), registered CAS services, and
helpers that walk the browser side of /cas/login."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.auth.cas.live_cas import Live, live_servers


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]


@dataclass
class Receiver:
    """A CAS client application's back end: answers with the queued statuses (200 when the
    queue is empty) and records every request it gets."""

    base_url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/app/") -> str:
        return self.base_url + path

    def next_status(self) -> int:
        with self.lock:
            return self.statuses.pop(0) if self.statuses else 200

    def record(self, received: Received) -> None:
        with self.lock:
            self.requests.append(received)

    def posts(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "POST"]

    def gets(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.method == "GET"]


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            receiver.record(Received(method, parts.path, parse_qs(parts.query), parse_qs(body)))
            status = receiver.next_status()
            self.send_response(status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(receiver))
    receiver.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Two live Campus servers on one prepared database (see live_cas.py)."""
    with live_servers(Path(tmp_path_factory.mktemp("cas-live"))) as servers:
        yield servers


@pytest.fixture
def http_callbacks(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the local receiver (plain http) act as a proxy callback, as a test deployment may."""
    monkeypatch.setattr(runtime.settings, "cas_callback_schemes", "https,http")


Register = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def register(admin: httpx.AsyncClient) -> AsyncIterator[Register]:
    """``await register(url_pattern=..., **fields)`` registers a service through the API."""
    count = 0

    async def make(**fields: Any) -> dict[str, Any]:
        nonlocal count
        count += 1
        body = {
            "name": f"测试应用 {count}",
            "match_kind": "prefix",
            "released_attributes": ["name", "number", "person_type", "roles"],
            **fields,
        }
        response = await admin.post("/api/v1/auth/cas/services", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    yield make


async def service_ticket(client: httpx.AsyncClient, service: str, **params: str) -> str:
    """Walk /cas/login as a signed-in browser and return the ticket it is redirected with."""
    response = await client.get("/cas/login", params={"service": service, **params})
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(service), location
    ticket = parse_qs(urlsplit(location).query)["ticket"][0]
    assert ticket.startswith("ST-")
    return ticket


@pytest.fixture
async def db(db: Runtime) -> Runtime:
    """tests/conftest.py's rolled-back ``db``, its transaction started with a read.

    On SQLite (pysqlite) that outer transaction only exists once a statement has run: a first
    SAVEPOINT would otherwise open and, on RELEASE, commit for real what a test's first request
    writes. A read through a session leaves the transaction open.
    """
    async with db.db.read() as session:
        await session.execute(select(1))
    return db
