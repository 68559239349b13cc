"""The parts one process runs on, built once from the settings and shared by its modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from campus.kernel.cache import Cache, create_cache
from campus.kernel.config import Settings
from campus.kernel.db import Database
from campus.kernel.manifest import Module
from campus.kernel.storage import Storage, create_storage

if TYPE_CHECKING:
    from campus.kernel.bus import Bus
    from campus.kernel.templating import Templates


@dataclass
class Runtime:
    settings: Settings
    db: Database
    cache: Cache
    bus: Bus
    modules: list[Module] = field(default_factory=list)
    templates: Templates | None = None
    # Built from the settings, so that a storage URL that cannot be served stops the start-up.
    storage: Storage = field(init=False)

    def __post_init__(self) -> None:
        self.storage = create_storage(self.settings.storage_url)

    @classmethod
    def create(cls, settings: Settings, modules: list[Module]) -> Runtime:
        from campus.kernel.bus import create_bus

        return cls(
            settings=settings,
            db=Database(settings.database_url),
            cache=create_cache(settings.redis_url),
            bus=create_bus(settings.broker_url),
            modules=modules,
        )

    def module(self, name: str) -> Module:
        for module in self.modules:
            if module.name == name:
                return module
        raise KeyError(name)

    async def close(self) -> None:
        await self.bus.close()
        await self.cache.close()
        await self.db.dispose()


_current: Runtime | None = None


def set_current(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    """The process's runtime, for code that has no request at hand (handlers, jobs, CLI)."""
    if _current is None:
        raise RuntimeError("no runtime: the app factory or the CLI creates one")
    return _current
