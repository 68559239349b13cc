"""Through a real socket: a tiny ASGI app served by uvicorn on a free loopback port, reached by
the gateway's own upstream transport; request and response bodies streamed both ways, a small
answer read whole, a slow answer, a streamed body over the limit, a closed port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn

from campus.platform.gateway import balancer, snapshot, stats, upstream
from tests.platform.gateway.conftest import Setup

CHUNK = b"0123456789abcdef" * 4096  # 64 KiB


async def upstream_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """/upload answers how many bytes it received; /download streams 16 chunks of 64 KiB;
    /slow answers after a second; anything else a small JSON answer with its length."""
    if scope["type"] != "http":
        return
    if scope["path"].endswith("/slow"):
        await asyncio.sleep(1.0)
    if scope["path"].endswith("/upload"):
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = str(size).encode()
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if not scope["path"].endswith("/download"):
        small = b'{"ok": true}'
        length = str(len(small)).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", length)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": small})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for _ in range(16):
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def served() -> AsyncIterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(upstream_app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn has no "started" event to await)
        await asyncio.sleep(0.02)
    upstream.use_transport(None)  # the gateway's own transport, on a real socket
    balancer.reset()
    snapshot.forget()
    stats.reset()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    await upstream.close()


async def test_bodies_stream_through_a_real_upstream(
    served: str, admin: httpx.AsyncClient, caller: httpx.AsyncClient
) -> None:
    setup = Setup(admin)
    name = await setup.open_service(url=served, max_body_bytes=2_000_000)

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield CHUNK

    response = await caller.post(f"/gw/{name}/upload", content=upload())
    assert response.status_code == 200, response.text
    assert response.text == str(20 * len(CHUNK))
    download = await caller.get(f"/gw/{name}/download")
    assert download.status_code == 200
    assert download.content == CHUNK * 16


async def test_a_small_answer_a_slow_one_and_a_streamed_body_over_the_limit(
    served: str, admin: httpx.AsyncClient, caller: httpx.AsyncClient
) -> None:
    setup = Setup(admin)
    service = await setup.service(url=served, max_body_bytes=100_000, retries=0)
    await setup.route(
        service["name"], path_prefix="/slow", public=True, timeout_ms=200, strip_prefix=False
    )
    await setup.route(service["name"], public=True)
    name = service["name"]
    small = await caller.get(f"/gw/{name}/items")
    assert small.status_code == 200
    assert small.json() == {"ok": True}
    assert small.headers["content-length"] == str(len(small.content))
    slow = await caller.get(f"/gw/{name}/slow")
    assert slow.status_code == 504, slow.text
    assert "响应超时" in slow.json()["detail"]

    async def upload() -> AsyncIterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(20):
            yield CHUNK

    too_large = await caller.post(f"/gw/{name}/upload", content=upload())
    assert too_large.status_code == 413, too_large.text
    assert "100000" in too_large.json()["detail"]


async def test_a_closed_port_is_a_502(admin: httpx.AsyncClient, caller: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    upstream.use_transport(None)
    balancer.reset()
    snapshot.forget()
    try:
        name = await Setup(admin).open_service(url=f"http://127.0.0.1:{port}", retries=1)
        response = await caller.get(f"/gw/{name}/x")
        assert response.status_code == 502, response.text
        assert "拒绝连接" in response.json()["detail"]
    finally:
        await upstream.close()
