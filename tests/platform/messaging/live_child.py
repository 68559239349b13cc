"""A second process for test_live_processes.py: its own live hub on the same Redis. It
connects a person, prints "ready", waits for one frame, prints it, then sends a reply frame to
another person (who is connected in the parent process) and exits."""

from __future__ import annotations

import asyncio
import json
import sys
from types import SimpleNamespace
from typing import Any

from campus.kernel.cache import RedisCache
from campus.platform.messaging import live


async def main(url: str, channel: str, listen_as: int, reply_to: int) -> None:
    live.CHANNEL = channel
    runtime: Any = SimpleNamespace(cache=RedisCache(url))
    async with live.connect(runtime, listen_as) as connection:
        print("ready", flush=True)
        frame = await asyncio.wait_for(connection.queue.get(), 20)
        print(json.dumps(frame, ensure_ascii=False), flush=True)
        await live.send(runtime, [reply_to], {"type": "reply", "from": listen_as})
    await live.close(runtime)
    await runtime.cache.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
