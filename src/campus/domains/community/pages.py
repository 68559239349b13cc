"""Pages of the community shared by its parts: the home (boards and the campus feed), the page
script and style, and what every page template gets (labels, time formats, the body renderer).
The pages are the mobile app's community tab: one column on a phone, two on a desk."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from campus.domains.community import labels, text
from campus.domains.community.boards import queries as board_queries
from campus.domains.community.moderation import queries as moderation_queries
from campus.domains.community.posts import queries as post_queries
from campus.domains.community.schemas import Sort
from campus.domains.community.times import ago
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import is_htmx, render
from campus.platform.access.service import public, signed_in

router = APIRouter(tags=["community-pages"])
STATIC = Path(__file__).with_name("static")
ASSETS = {"community.js": "text/javascript", "community.css": "text/css"}
FEED_PAGE_SIZE = 15


def common() -> dict[str, Any]:
    """Values every page of the module renders with."""
    return {
        "fmt": fmt,
        "ago": ago,
        "render_text": text.render,
        "excerpt": text.excerpt,
        "labels": labels,
    }


def safe_back(target: str | None, default: str) -> str:
    """Where a form may send the browser back to: a page of this module, never another host."""
    if not target or not target.startswith("/community") or "//" in target or "\\" in target:
        return default
    return target


@router.get("/community/static/{name}", dependencies=[public()])
async def asset(name: str) -> Response:
    """The module's script and style (CSP allows no inline script)."""
    if name not in ASSETS:
        return Response(status_code=404)
    return Response(
        (STATIC / name).read_bytes(),
        media_type=ASSETS[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/community")
async def home(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    sort: Annotated[Sort, Query()] = "hot",
) -> Response:
    """Boards on top, then the whole campus's posts, hottest or newest first."""
    viewer = await post_queries.viewer_of(session, principal)
    paging = paging.model_copy(update={"page_size": FEED_PAGE_SIZE})
    posts = await post_queries.feed(session, viewer, paging, sort=sort)
    more = f"/community?sort={sort}&page={posts.page + 1}"
    if is_htmx(request):
        return render(
            request, "community/partials/post_rows.html", posts=posts, more=more, **common()
        )
    boards = await board_queries.boards_for(session, principal)
    return render(
        request,
        "community/home.html",
        boards=boards,
        posts=posts,
        sort=sort,
        more=more,
        moderates=viewer.moderated is None or bool(viewer.moderated),
        pending=await moderation_queries.pending_count(session, viewer),
        **common(),
    )
