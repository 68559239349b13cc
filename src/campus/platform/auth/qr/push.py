"""The desktop's view of its challenge as Server-Sent Events, fed by the cache's pub/sub.

One event per state change, no polling: the stream waits on the challenge's channel and wakes
only when a phone acts, when the QR code expires, or to send a keep-alive comment through
proxies. It ends with the first final state (confirmed, denied, expired). A confirmation carries
the one-time exchange token; the stream is only opened for the browser the challenge is bound to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from campus.kernel.runtime import Runtime
from campus.platform.auth.qr import challenges
from campus.platform.auth.qr.challenges import FINAL_STATES, QrState, Snapshot

KEEPALIVE_SECONDS = 15.0
# How long a browser waits before reconnecting after the connection dropped.
RETRY_MILLISECONDS = 3000


async def state_events(rt: Runtime, secret: str, digest: str) -> AsyncIterator[str]:
    """The challenge's states as SSE frames, from the current one to the first final one."""
    async with challenges.listen(rt.cache, digest) as messages:
        # Subscribed before the first read: no change between the read and the wait is lost.
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        sent: QrState | None = None
        waiting: asyncio.Future[bytes] | None = None
        try:
            while True:
                snapshot = await challenges.load(rt.cache, secret)
                state, data = _desktop_view(rt, snapshot)
                if state != sent:
                    yield _frame(data)
                    sent = state
                if state in FINAL_STATES or snapshot is None:
                    return
                if waiting is None:
                    waiting = asyncio.ensure_future(anext(messages))
                timeout = min(KEEPALIVE_SECONDS, snapshot.challenge.expires_at - challenges.now())
                done, _ = await asyncio.wait({waiting}, timeout=max(0.0, timeout))
                if waiting in done:
                    waiting.result()
                    waiting = None
                elif timeout >= KEEPALIVE_SECONDS:
                    yield ": keep-alive\n\n"
        finally:
            # A pending read is left running across timeouts (cancelling a Redis read midway
            # would drop the connection) and stopped only here.
            if waiting is not None:
                waiting.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await waiting


def _desktop_view(rt: Runtime, snapshot: Snapshot | None) -> tuple[QrState, dict[str, Any]]:
    """The state as the desktop should act on it, with the exchange token once confirmed."""
    if snapshot is None:
        return QrState.EXPIRED, {"state": QrState.EXPIRED.value}
    now = challenges.now()
    state = snapshot.state(now)
    if state is QrState.CONFIRMED and (snapshot.used or not snapshot.exchange_open(now)):
        # Confirmed too long ago, or already redeemed: nothing left to do but ask again.
        state = QrState.EXPIRED
    data: dict[str, Any] = {"state": state.value}
    if state is QrState.CONFIRMED and snapshot.decision is not None:
        data["exchange"] = challenges.exchange_token(
            rt.settings.secret_key, snapshot.challenge.digest, snapshot.decision.nonce
        )
    elif state in (QrState.PENDING, QrState.SCANNED):
        data["expires_in"] = max(0, int(snapshot.challenge.expires_at - now))
    return state, data


def _frame(data: dict[str, Any]) -> str:
    return f"event: state\ndata: {json.dumps(data)}\n\n"
