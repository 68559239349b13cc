"""The catalog one person sees: the running modules' menu entries they may open and the stored
apps whose roles and org units include them, favourites first, then the most used, then the
rest in order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.i18n import _
from campus.kernel.manifest import Module
from campus.platform.access import service as access
from campus.platform.appcenter import queries
from campus.platform.appcenter.models import App
from campus.platform.appcenter.schemas import AppCard, AppUsageOut, icon_url
from campus.platform.users import service as users

MODULE_PREFIX = "m."


@dataclass(frozen=True)
class Viewer:
    """Whom the catalog is for: their roles and their org unit with the units above it."""

    principal: Principal
    roles: frozenset[str]
    org_path: frozenset[int]


async def viewer(session: AsyncSession, principal: Principal) -> Viewer:
    roles = await access.roles_of(session, principal.person_id)
    path = await users.org_path_of(session, principal.person_id)
    return Viewer(principal, frozenset(roles), frozenset(path))


def initials(name: str) -> str:
    """Pinyin initials of a name, lower case (图书馆 → tsg); other characters kept."""
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower()


def open_url(code: str) -> str:
    return f"/apps/{code}/open"


def module_code(module: str, path: str) -> str:
    """``m.<module>.<path>``: /hall/tasks of workflow is m.workflow.hall.tasks."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", path.strip("/").replace("/", "."))
    return f"{MODULE_PREFIX}{module}.{slug}"


def module_apps(modules: Iterable[Module], principal: Principal) -> list[AppCard]:
    """Every menu entry of the running modules this person may open (the home page excepted)."""
    cards = []
    for module in modules:
        for entry in module.menu:
            if entry.path == "/" or not entry.open_to(principal):
                continue
            code = module_code(module.name, entry.path)
            name = str(entry.title)
            cards.append(
                AppCard(
                    code=code,
                    name=name,
                    kind="module",
                    description=str(module.title),
                    category=str(_("校内应用")),
                    icon=entry.icon,
                    url=entry.path,
                    open_url=open_url(code),
                    module=module.name,
                    initials=initials(name),
                    order=entry.order,
                )
            )
    return cards


def all_names(modules: Iterable[Module], apps: Iterable[App]) -> dict[str, tuple[str, str]]:
    """Code -> (name, kind) of every app there is: each module's menu entries (whoever may
    open them) and the stored apps."""
    names = {
        module_code(module.name, entry.path): (str(entry.title), "module")
        for module in modules
        for entry in module.menu
        if entry.path != "/"
    }
    for app in apps:
        names[app.code] = (app.name, "external" if app.kind == "external" else "link")
    return names


async def usage(session: AsyncSession, modules: Iterable[Module]) -> list[AppUsageOut]:
    """Every app's use, most used first; an app no longer there is named by its code."""
    names = all_names(modules, await queries.all_apps(session))
    return [
        AppUsageOut(
            code=code,
            name=names.get(code, (code, "removed"))[0],
            kind=names.get(code, (code, "removed"))[1],
            people=people,
            uses=uses,
            last_used_at=last,
        )
        for code, people, uses, last in await queries.usage_by_app(session)
    ]


def may_see(app: App, who: Viewer) -> bool:
    """An enabled app whose roles (none: all) and org units (none: all) include the viewer."""
    if not app.enabled:
        return False
    if app.roles and not who.roles.intersection(app.roles):
        return False
    return not app.org_unit_ids or bool(who.org_path.intersection(app.org_unit_ids))


def stored_card(app: App) -> AppCard:
    return AppCard(
        code=app.code,
        name=app.name,
        kind="external" if app.kind == "external" else "link",
        description=app.description,
        category=app.category,
        icon=app.icon,
        icon_url=icon_url(app.code, app.icon_file_id),
        url=app.url,
        open_url=open_url(app.code),
        initials=initials(app.name),
        order=app.order,
    )


async def visible_apps(
    session: AsyncSession, modules: Iterable[Module], who: Viewer
) -> list[AppCard]:
    """Every app this person may see, unordered, without their favourites and counts."""
    stored = [stored_card(app) for app in await queries.enabled_apps(session) if may_see(app, who)]
    return module_apps(modules, who.principal) + stored


async def catalog(
    session: AsyncSession, modules: Iterable[Module], principal: Principal
) -> list[AppCard]:
    """The person's apps with their favourites and counts: favourites first (the latest
    starred first), then by use, then by order and name."""
    who = await viewer(session, principal)
    cards = await visible_apps(session, modules, who)
    starred = await queries.favourites_of(session, principal.person_id)
    uses = await queries.uses_of(session, principal.person_id)
    rank = {code: n for n, code in enumerate(starred)}
    for card in cards:
        card.favourite = card.code in rank
        card.uses = uses.get(card.code, 0)
    return sorted(
        cards,
        key=lambda c: (rank.get(c.code, len(rank)), -c.uses, c.order, c.name),
    )


def matches(card: AppCard, term: str) -> bool:
    """Name, description or pinyin initials contain the term (case-insensitive)."""
    needle = term.casefold()
    text = f"{card.name} {card.description}".casefold()
    return needle in text or needle in card.initials


def categories(cards: Iterable[AppCard]) -> list[str]:
    return sorted({card.category for card in cards})


async def find_visible(
    session: AsyncSession, modules: Iterable[Module], principal: Principal, code: str
) -> AppCard | None:
    """The app of this code if this person may see it; None otherwise (as if it did not exist)."""
    if code.startswith(MODULE_PREFIX):
        return next((c for c in module_apps(modules, principal) if c.code == code), None)
    app = await queries.app_by_code(session, code)
    if app is None or not may_see(app, await viewer(session, principal)):
        return None
    return stored_card(app)
