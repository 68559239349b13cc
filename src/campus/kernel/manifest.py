"""The module manifest: what a module is called, needs and contributes.

The app factory mounts what manifests declare; nothing is registered anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Route

from campus.kernel.context import Principal
from campus.kernel.i18n import LazyText

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from campus.kernel.events import Event


@dataclass(frozen=True)
class Permission:
    code: str
    title: LazyText


@dataclass(frozen=True)
class MenuEntry:
    title: LazyText
    path: str
    permission: str | None = None
    icon: str = "circle"
    order: int = 100
    # Offered again in the home page's 常用 row: the pages people open every day on a phone.
    shortcut: bool = False
    # A personal page for students only ("student") or for teachers and staff only ("staff"):
    # 我的成绩 means nothing to a teacher, 成绩录入 nothing to a student.
    audience: str | None = None

    def open_to(self, principal: Principal | None) -> bool:
        """Whether the menu offers this entry to the principal: the entry's permission, if
        it names one, held, and the entry's audience, if it has one, the principal's (a
        principal whose audience is not known is offered both)."""
        if principal is None:
            return self.permission is None and self.audience is None
        if self.audience is not None and principal.audience not in (None, self.audience):
            return False
        return self.permission is None or principal.can(self.permission)


HandlerFunc = Callable[["AsyncSession", "Event"], Awaitable[None]]


@dataclass(frozen=True)
class EventHandler:
    """Reacts to events whose name matches ``pattern`` (``*`` matches one dotted part).

    ``when`` looks at the payload before any transaction is opened, for a handler that cares
    about a few of the events its pattern names (OA about its own approvals among all)."""

    name: str
    pattern: str
    func: HandlerFunc
    when: Callable[[Event], bool] | None = None

    def wants(self, event: Event) -> bool:
        return self.when is None or self.when(event)


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every_seconds: float
    func: Callable[[], Awaitable[None]]


SeedFunc = Callable[[Any], Awaitable[None]]


@dataclass(frozen=True)
class Module:
    name: str
    title: LazyText
    package: str
    depends: tuple[str, ...] = ()
    routers: tuple[APIRouter, ...] = ()
    pages: tuple[APIRouter, ...] = ()
    permissions: tuple[Permission, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    handlers: tuple[EventHandler, ...] = ()
    jobs: tuple[ScheduledJob, ...] = ()
    seed: SeedFunc | None = None
    seed_order: int = 100
    data_objects: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def directory(self) -> Path:
        module = importlib.import_module(self.package)
        assert module.__file__ is not None
        return Path(module.__file__).parent

    def api_routes(self) -> list[APIRoute]:
        """Every route this module mounts (JSON API and pages), with its full path."""
        return [
            route
            for router in (*self.routers, *self.pages)
            for route in router.routes
            if isinstance(route, APIRoute)
        ]

    def plain_routes(self) -> list[Route]:
        """The plain Starlette routes it mounts beside them (hot paths that skip FastAPI's
        dependency machinery; each endpoint declares its permission itself)."""
        return [
            route
            for router in (*self.routers, *self.pages)
            for route in router.routes
            if isinstance(route, Route) and not isinstance(route, APIRoute)
        ]

    @property
    def templates(self) -> Path | None:
        path = self.directory / "templates"
        return path if path.is_dir() else None


def discover(packages: Iterable[str]) -> list[Module]:
    """Every ``MODULE`` found in a ``manifest.py`` directly below the given packages."""
    found: list[Module] = []
    for package_name in packages:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__):
            if not info.ispkg:
                continue
            try:
                manifest = importlib.import_module(f"{package_name}.{info.name}.manifest")
            except ModuleNotFoundError as exc:
                if exc.name == f"{package_name}.{info.name}.manifest":
                    continue
                raise
            found.append(manifest.MODULE)
    return found


def select(modules: list[Module], wanted: set[str] | None) -> list[Module]:
    """The wanted modules with everything they depend on, in dependency order."""
    by_name = {m.name: m for m in modules}
    if wanted is not None:
        unknown = wanted - by_name.keys()
        if unknown:
            raise ValueError(f"unknown modules: {', '.join(sorted(unknown))}")
    ordered: list[Module] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen:
            return
        if name in path:
            raise ValueError(f"module dependency cycle: {' -> '.join((*path, name))}")
        if name not in by_name:
            raise ValueError(f"module {path[-1]} depends on unknown module {name}")
        for dep in by_name[name].depends:
            visit(dep, (*path, name))
        seen.add(name)
        ordered.append(by_name[name])

    for module in sorted(modules, key=lambda m: m.name):
        if wanted is None or module.name in wanted:
            visit(module.name, ())
    return ordered
