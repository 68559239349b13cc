"""Portal pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from campus.kernel import context
from campus.kernel.templating import render
from campus.platform.access.service import public

router = APIRouter(tags=["portal"])


@router.get("/", dependencies=[public()])
async def home(request: Request) -> Response:
    if context.current().principal is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "portal/home.html")
