"""What the page shell shows: the menu entries a person may see, the search page if one is
mounted, and same-site paths that are safe to redirect to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from starlette.routing import BaseRoute, Route

from campus.kernel.context import Principal
from campus.kernel.i18n import LazyText
from campus.kernel.manifest import MenuEntry, Module

SEARCH_ROUTE = "search"


def visible_entries(entries: Iterable[MenuEntry], principal: Principal | None) -> list[MenuEntry]:
    return [entry for entry in entries if entry.open_to(principal)]


@dataclass(frozen=True)
class NavGroup:
    """One item of the main navigation: a module's entries this person may open."""

    title: LazyText
    icon: str
    entries: list[MenuEntry]

    def is_active(self, path: str) -> bool:
        return any(is_active(entry, path) for entry in self.entries)


def nav_groups(modules: Iterable[Module], principal: Principal | None) -> list[NavGroup]:
    """The main navigation, a group per module (a module's several entries share a drop-down,
    so the bar stays one line however many modules a university enables)."""
    groups = []
    for module in modules:
        entries = sorted(visible_entries(module.menu, principal), key=lambda e: e.order)
        if entries:
            groups.append(NavGroup(module.title, entries[0].icon, entries))
    return sorted(groups, key=lambda g: g.entries[0].order)


def is_active(entry: MenuEntry, path: str) -> bool:
    """The entry the current page belongs to: its own path or a page below it."""
    if entry.path == "/":
        return path == "/"
    return path == entry.path or path.startswith(entry.path.rstrip("/") + "/")


def page_route_path(routes: Iterable[BaseRoute], name: str) -> str | None:
    """The path of the GET page route called ``name`` among ``routes`` (the modules' page
    routers' routes); a route under /api/ or with path parameters does not count."""
    for route in routes:
        if (
            isinstance(route, Route)
            and route.name == name
            and not route.path.startswith("/api/")
            and "{" not in route.path
            and (route.methods is None or "GET" in route.methods)
        ):
            return route.path
    return None


def safe_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site may be redirected to: no open redirects to other hosts."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    return target


def login_url(next_path: str) -> str:
    return "/login?" + urlencode({"next": safe_path(next_path)})
