"""JSON API of the authentication center: /api/v1/auth/..."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response

from campus.kernel.context import Principal
from campus.kernel.deps import RuntimeDep, SessionDep
from campus.kernel.errors import Unauthenticated, problem_response
from campus.platform.access import service as access
from campus.platform.access.service import public, signed_in
from campus.platform.auth import actions
from campus.platform.auth.schemas import LoginIn, MeOut
from campus.platform.auth.sessions import SESSION_COOKIE

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


def set_session_cookie(response: Response, token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


@router.post("/login", response_model=MeOut, dependencies=[public()])
async def login(
    body: LoginIn, request: Request, response: Response, session: SessionDep, rt: RuntimeDep
) -> MeOut | Response:
    result = await actions.do_login(session, rt, body.login, body.password)
    if result is None:
        return problem_response(Unauthenticated(actions.LOGIN_FAILED), request)
    token, data = result
    set_session_cookie(
        response,
        token,
        rt.settings.session_max_age_seconds,
        rt.settings.environment == "production",
    )
    perms = await access.permissions_of(session, rt.cache, data.person_id)
    return MeOut(
        person_id=data.person_id, name=data.name, login=data.login, permissions=sorted(perms)
    )


@router.post("/logout", status_code=204, dependencies=[signed_in()])
async def logout(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    await actions.do_logout(session, rt, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=MeOut)
async def me(principal: Annotated[Principal, signed_in()]) -> MeOut:
    return MeOut(
        person_id=principal.person_id,
        name=principal.name,
        login=principal.login,
        permissions=sorted(principal.permissions),
    )
