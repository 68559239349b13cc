"""The app center's public interface: the apps one person may open, in the order the portal's
home grid shows them (favourites, then the most used, then the rest)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.manifest import Module
from campus.platform.appcenter import catalog
from campus.platform.appcenter.schemas import AppCard

__all__ = ["AppCard", "home_apps", "search_apps"]


async def home_apps(
    session: AsyncSession, modules: Iterable[Module], principal: Principal
) -> list[AppCard]:
    return await catalog.catalog(session, modules, principal)


async def search_apps(
    session: AsyncSession, modules: Iterable[Module], principal: Principal, term: str
) -> list[AppCard]:
    """The apps this person may open whose name, description or pinyin initials contain
    ``term`` — module entries, external systems and third-party apps alike."""
    cards = await catalog.catalog(session, modules, principal)
    return [card for card in cards if catalog.matches(card, term)]
