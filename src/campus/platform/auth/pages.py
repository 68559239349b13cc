"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from campus.kernel.deps import RuntimeDep, SessionDep
from campus.kernel.errors import TooManyRequests
from campus.kernel.templating import render
from campus.platform.access.service import public
from campus.platform.auth import actions
from campus.platform.auth.routes import set_session_cookie
from campus.platform.auth.sessions import SESSION_COOKIE

router = APIRouter(tags=["auth-pages"])


def safe_next(target: str | None) -> str:
    """Only same-site paths may follow a login: no open redirects."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login", dependencies=[public()])
async def login_page(request: Request, next: str = "/") -> Response:
    return render(request, "auth/login.html", next=safe_next(next), error=None, login="")


@router.post("/login", dependencies=[public()])
async def login_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    login: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    target = safe_next(next)
    if not login or not password:
        return render(
            request, "auth/login.html", 422, next=target, login=login, error="请输入账号和密码"
        )
    try:
        result = await actions.do_login(session, rt, login, password)
    except TooManyRequests as exc:
        return render(
            request, "auth/login.html", 429, next=target, login=login, error=str(exc.detail)
        )
    if result is None:
        return render(
            request,
            "auth/login.html",
            401,
            next=target,
            login=login,
            error=str(actions.LOGIN_FAILED),
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(
        response,
        result[0],
        rt.settings.session_max_age_seconds,
        rt.settings.environment == "production",
    )
    return response


@router.post("/logout", dependencies=[public()])
async def logout_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await actions.do_logout(session, rt, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
