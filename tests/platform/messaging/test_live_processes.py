"""Two processes, one Redis: each delivers the other's frames to its own connections (what two
web servers behind a load balancer do). Skipped when no Redis answers on localhost."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from campus.kernel.cache import RedisCache
from campus.platform.messaging import live

REDIS_URL = os.environ.get("CAMPUS_TEST_LIVE_REDIS_URL", "redis://127.0.0.1:6379/15")
CHILD = Path(__file__).with_name("live_child.py")
ROOT = Path(__file__).resolve().parents[3]


async def redis_or_skip() -> RedisCache:
    cache = RedisCache(REDIS_URL)
    try:
        await asyncio.wait_for(cache.ping(), 2)
    except Exception as exc:
        await cache.close()
        pytest.skip(f"no Redis at {REDIS_URL}: {exc!r}")
    return cache


async def test_two_processes_deliver_to_each_others_connections(monkeypatch: Any) -> None:
    cache = await redis_or_skip()
    # A channel of this test's own: Redis channels are shared by every database number.
    channel = f"messaging.live.test.{uuid.uuid4().hex}"
    monkeypatch.setattr(live, "CHANNEL", channel)
    runtime: Any = SimpleNamespace(cache=cache)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        REDIS_URL,
        channel,
        "7001",
        "7002",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with live.connect(runtime, 7002) as mine:
            assert child.stdout is not None
            ready = await asyncio.wait_for(child.stdout.readline(), 20)
            assert ready.strip() == b"ready", await child.stderr.read()  # type: ignore[union-attr]
            await live.send(runtime, [7001], {"type": "notification", "id": 1, "title": "跨进程"})
            received = json.loads(await asyncio.wait_for(child.stdout.readline(), 10))
            assert received == {"type": "notification", "id": 1, "title": "跨进程"}
            reply = await asyncio.wait_for(mine.queue.get(), 10)
            assert reply == {"type": "reply", "from": 7001}
        assert await asyncio.wait_for(child.wait(), 10) == 0
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        await live.close(runtime)
        await cache.close()
