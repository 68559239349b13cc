"""A relay process that is killed (SIGKILL, no clean-up of any kind) after the bus has accepted
the first N events of its batch and before it could mark any row sent. test_outbox_crash.py
runs it as ``python -m tests.kernel.outbox_child DB_URL BROKER_URL EXCHANGE PREFIX HANDLER
PATTERN N``.

With the in-process bus this process also runs the handler (it consumes what it publishes);
with RabbitMQ it only publishes, and the test's consumer handles the messages.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence

from campus.kernel.bus import Bus, Dispatcher, InProcessBus, PublishReport, RabbitBus
from campus.kernel.db import Database
from campus.kernel.events import Event
from campus.kernel.relay import relay_batch
from tests.kernel.eventing import FAST_RETRIES, effect_handler


class DiesWhilePublishing(Bus):
    def __init__(self, inner: Bus, survive: int) -> None:
        super().__init__()
        self.inner = inner
        self.survive = survive

    async def publish(self, event: Event) -> None:
        await self.inner.publish(event)

    async def publish_many(self, events: Sequence[Event]) -> PublishReport:
        if self.survive:
            report = await self.inner.publish_many(events[: self.survive])
            assert report.error is None, report.error
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: the process is dead")


async def main(argv: list[str]) -> None:
    db_url, broker_url, exchange, prefix, name, pattern, survive = argv
    db = Database(db_url)
    handler = effect_handler(name, pattern)
    bus: Bus
    if broker_url.startswith("amqp"):
        bus = RabbitBus(broker_url, exchange=exchange, queue_prefix=prefix)
        bus.register([handler])
        await bus.start()
    else:
        bus = InProcessBus()
        bus.register([handler])
        await bus.consume(Dispatcher(db, FAST_RETRIES))
    await relay_batch(db, DiesWhilePublishing(bus, int(survive)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
    sys.exit(3)  # the relay returned: it was meant to die
