"""Portal pages: the home page and the language switch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import context
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import SUPPORTED_LOCALES, _
from campus.kernel.runtime import Runtime
from campus.kernel.templating import render
from campus.kernel.web import LOCALE_COOKIE
from campus.platform.access.service import public, signed_in
from campus.platform.appcenter import service as appcenter
from campus.platform.users import service as users
from campus.platform.workflow import service as workflow
from campus.web.layouts.shell import login_url, safe_path
from campus.web.portal.tiles import matching_entries, module_tiles, shortcuts

router = APIRouter(tags=["portal"])

LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600
# The home grid's apps: four rows on a phone, three on a desktop. A person's favourites and
# most used come first; the rest (an administrator has some seventy) are one tap away in 全部应用.
HOME_GRID_SIZE = 12


@router.get("/", dependencies=[public()])
async def home(request: Request, rt: RuntimeDep, session: ReadSessionDep) -> Response:
    principal = context.current().principal
    if principal is None:
        return RedirectResponse(login_url("/"), status_code=303)
    tiles = module_tiles(rt.modules, principal)
    # The app grid comes from the app center when this process serves it.
    serves_appcenter = any(module.name == "appcenter" for module in rt.modules)
    apps = await appcenter.home_apps(session, rt.modules, principal) if serves_appcenter else None
    # The to-do center belongs to the workflow module; a process serving without it shows none.
    serves_workflow = any(module.name == "workflow" for module in rt.modules)
    todos = await workflow.todo_counts(session, principal.person_id) if serves_workflow else None
    return render(
        request,
        "portal/home.html",
        tiles=tiles,
        apps=apps[:HOME_GRID_SIZE] if apps is not None else None,
        app_count=len(apps or ()),
        shortcuts=shortcuts(rt.modules, principal),
        todos=todos,
    )


@router.get("/locale/{code}", dependencies=[public()])
async def switch_locale(code: str, rt: RuntimeDep, next: str = "/") -> Response:
    """Remember the interface language in a cookie and go back to the page it was chosen on."""
    if code not in SUPPORTED_LOCALES:
        raise NotFound(_("不支持的语言：{code}", code=code))
    response = RedirectResponse(safe_path(next), status_code=303)
    response.set_cookie(
        LOCALE_COOKIE,
        code,
        max_age=LOCALE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=rt.settings.environment == "production",
        path="/",
    )
    return response


SEARCH_LIMIT = 20


@dataclass(frozen=True)
class FoundApp:
    title: str
    url: str
    icon: str
    subtitle: str


async def _matching_apps(
    session: AsyncSession, rt: Runtime, principal: Principal | None, term: str
) -> list[FoundApp]:
    """The app center's apps (stored ones included) when this process serves it, else the
    menu entries."""
    if principal is not None and any(m.name == "appcenter" for m in rt.modules):
        cards = await appcenter.search_apps(session, rt.modules, principal, term)
        return [FoundApp(c.name, c.open_url, c.icon, c.description) for c in cards]
    return [
        FoundApp(str(entry.title), entry.path, entry.icon, str(module_title))
        for module_title, entry in matching_entries(rt.modules, principal, term)
    ]


@router.get("/search", name="search", dependencies=[signed_in()])
async def search(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    q: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """The header's search: the applications and, for those who may look people up, people."""
    principal = context.current().principal
    term = q.strip()
    apps = await _matching_apps(session, rt, principal, term) if term else []
    people = (
        await users.search_people_for(session, principal, term, SEARCH_LIMIT)
        if term and principal is not None
        else []
    )
    return render(
        request,
        "portal/search.html",
        q=term,
        apps=apps,
        people=people,
        people_searched=users.may_search_people(principal),
    )
