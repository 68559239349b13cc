"""The gateway's client towards upstreams: one aiohttp session per process (keep-alive pools per
upstream, its C parser), behind a small interface the proxy needs and tests can stand in for.

An answer whose ``Content-Length`` is at most WHOLE_BYTES (or that has no body) is read whole
before the proxy answers, so it goes out as one message; a larger or unknown-length one is
streamed through. Failures come out as the three kinds the proxy tells apart: the connection
could not be made (refused, or timed out), the answer did not come in time, or the connection
broke.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp

WHOLE_BYTES = 64 * 1024  # answers up to this size are read at once rather than streamed
KEEPALIVE_SECONDS = 4.0  # idle upstream connections are closed before a 5 s server timeout
MAX_CONNECTIONS = 1000
NO_BODY_STATUSES = frozenset({204, 304})
# aiohttp would add these to what the caller sent; a proxy passes the caller's own.
NOT_ADDED = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")

Body = bytes | AsyncIterable[bytes]


class UpstreamError(Exception):
    """The upstream could not be reached or did not answer properly."""


class ConnectFailed(UpstreamError):
    """No connection: refused, unreachable, or not made within the connect timeout."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class TimedOut(UpstreamError):
    """Connected, but the answer did not come within the read timeout."""


class Broken(UpstreamError):
    """The connection broke, or the upstream's answer was not valid HTTP."""


@dataclass
class Answer:
    """An upstream's answer: its status and raw headers, and its body either whole (``body``)
    or to be streamed (``chunks``); ``release`` gives the connection back (or drops it)."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes | None = None
    chunks: AsyncIterator[bytes] | None = None
    release: Callable[[], Awaitable[None]] = field(default=lambda: _nothing())


async def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Outgoing:
    """A request on its way upstream: the caller's, with the gateway's headers and timeouts."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: Body | None
    connect_timeout: float
    read_timeout: float


class Transport(Protocol):
    async def send(self, request: Outgoing) -> Answer: ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """One ``aiohttp.ClientSession`` for the event loop it is used on (made on first use)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                skip_auto_headers=NOT_ADDED,
                timeout=aiohttp.ClientTimeout(total=None),
            )
            self._loop = loop
        return self._session

    async def send(self, request: Outgoing) -> Answer:
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=request.connect_timeout, sock_read=request.read_timeout
        )
        try:
            response = await self._current().request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.body or None,
                timeout=timeout,
                allow_redirects=False,
            )
        except aiohttp.ClientError as exc:
            raise _translated(exc) from exc
        except TimeoutError as exc:
            raise TimedOut(str(exc)) from exc
        try:
            return await _answer(request.method, response)
        except BaseException:
            response.close()
            raise

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


async def _answer(method: str, response: aiohttp.ClientResponse) -> Answer:
    headers = list(response.raw_headers)
    length = response.content_length
    whole = (
        method == "HEAD"
        or response.status in NO_BODY_STATUSES
        or (length is not None and length <= WHOLE_BYTES)
    )
    if whole:
        try:
            body = await response.read()
        except aiohttp.ClientError as exc:
            raise _translated(exc) from exc
        except TimeoutError as exc:
            raise TimedOut(str(exc)) from exc
        finally:
            response.release()
        return Answer(response.status, headers, body=body)

    async def chunks() -> AsyncIterator[bytes]:
        async for chunk in response.content.iter_any():
            yield chunk

    async def release() -> None:
        response.release()

    return Answer(response.status, headers, chunks=chunks(), release=release)


def _translated(exc: aiohttp.ClientError) -> UpstreamError:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectFailed(str(exc), timed_out=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectFailed(str(exc), timed_out=False)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return TimedOut(str(exc))
    return Broken(str(exc))


_transport: Transport | None = None


def transport() -> Transport:
    global _transport
    if _transport is None:
        _transport = AiohttpTransport()
    return _transport


def use_transport(replacement: Transport | None) -> None:
    """Put another transport in (tests stand one in for the upstreams); None makes a fresh one."""
    global _transport
    _transport = replacement


async def close() -> None:
    """Close the shared session (the process is ending)."""
    global _transport
    if _transport is not None:
        await _transport.close()
        _transport = None
