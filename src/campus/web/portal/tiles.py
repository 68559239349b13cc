"""The home page's grid: one tile per enabled module the person may open."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from campus.kernel.context import Principal
from campus.kernel.i18n import LazyText
from campus.kernel.manifest import MenuEntry, Module


@dataclass(frozen=True)
class ModuleTile:
    name: str
    title: LazyText
    entry: MenuEntry


def module_tiles(modules: Iterable[Module], principal: Principal | None) -> list[ModuleTile]:
    """Each module's first menu entry this person may open; modules with none are left out.

    The home page itself ("/") is no tile: it is where the grid is shown.
    """
    tiles = []
    for module in modules:
        entries = sorted(module.menu, key=lambda e: e.order)
        entry = next((e for e in entries if e.path != "/" and e.open_to(principal)), None)
        if entry is not None:
            tiles.append(ModuleTile(module.name, module.title, entry))
    return sorted(tiles, key=lambda t: (t.entry.order, t.name))


def shortcuts(modules: Iterable[Module], principal: Principal | None) -> list[MenuEntry]:
    """The menu entries marked as shortcuts that this person may open, in menu order."""
    found = [
        entry
        for module in modules
        for entry in module.menu
        if entry.shortcut and entry.open_to(principal)
    ]
    return sorted(found, key=lambda e: e.order)


def matching_entries(
    modules: Iterable[Module], principal: Principal | None, term: str
) -> list[tuple[LazyText, MenuEntry]]:
    """Menu entries this person may open whose title or module title contains ``term``
    (in the language shown), each with its module's title."""
    needle = term.casefold()
    found = []
    for module in modules:
        for entry in sorted(module.menu, key=lambda e: e.order):
            text = f"{entry.title} {module.title}".casefold()
            if needle in text and entry.open_to(principal):
                found.append((module.title, entry))
    return found
