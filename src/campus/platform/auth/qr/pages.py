"""Pages of QR-code login: the QR panel on the login page (desktop) and the confirmation page
the QR code leads to (phone)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from campus.kernel.context import Principal
from campus.kernel.deps import RuntimeDep, SessionDep
from campus.kernel.errors import TooManyRequests
from campus.kernel.templating import render
from campus.platform.access.service import public, signed_in
from campus.platform.auth.devices import describe
from campus.platform.auth.qr import actions, challenges
from campus.platform.auth.qr.challenges import QrState
from campus.platform.auth.qr.image import qr_svg
from campus.platform.auth.qr.routes import (
    confirm_url,
    events_path,
    new_challenge,
    remember_browser,
)
from campus.platform.auth.qr.schemas import TOKEN_PATTERN

router = APIRouter(tags=["auth-qr-pages"])

# China Standard Time has no daylight saving: a fixed offset needs no time-zone database.
CHINA_TIME = timezone(timedelta(hours=8))

SCRIPT = Path(__file__).with_name("static") / "qr-login.js"
ChallengeQuery = Annotated[str, Query(min_length=16, max_length=64, pattern=TOKEN_PATTERN)]
ChallengeForm = Annotated[str, Form(min_length=16, max_length=64, pattern=TOKEN_PATTERN)]


@router.get("/qr/panel", dependencies=[public()])
async def qr_panel(request: Request, rt: RuntimeDep, next: str = "/") -> Response:
    """A fresh QR code for the login page (an htmx partial)."""
    try:
        secret, browser_secret, challenge = await new_challenge(request, rt, next)
    except TooManyRequests as exc:
        return render(request, "auth/qr/panel.html", 429, error=str(exc.detail), next=next)
    url = confirm_url(request, secret)
    response = render(
        request,
        "auth/qr/panel.html",
        challenge=secret,
        confirm_url=url,
        events_url=events_path(secret),
        svg=Markup(qr_svg(url)),  # noqa: S704 (segno's own SVG of our URL)
        expires_in=int(challenge.expires_at - challenge.created_at),
        next=challenge.next,
        error=None,
    )
    remember_browser(response, rt, browser_secret)
    return response


@router.get("/qr/qr-login.js", dependencies=[public()])
async def qr_script() -> Response:
    """The login page's script that follows the QR code's state (CSP allows no inline script)."""
    return Response(
        SCRIPT.read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/qr/confirm")
async def confirm_page(
    request: Request,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    c: ChallengeQuery,
) -> Response:
    """What the QR code opens on a signed-in phone: who is asking, and confirm or deny."""
    snapshot = await actions.do_scan(rt, c, principal)
    challenge = snapshot.challenge
    return render(
        request,
        "auth/qr/confirm.html",
        challenge=c,
        ip=challenge.ip or "—",
        device=describe(challenge.user_agent),
        user_agent=challenge.user_agent,
        asked_at=datetime.fromtimestamp(challenge.created_at, CHINA_TIME).strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        expires_in=max(0, int(challenge.expires_at - challenges.now())),
    )


@router.post("/qr/confirm")
async def confirm_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    c: ChallengeForm,
    decision: Annotated[Literal["confirm", "deny"], Form()],
) -> Response:
    state = await actions.do_decide(session, rt, c, principal, confirm=decision == "confirm")
    return render(request, "auth/qr/decided.html", confirmed=state is QrState.CONFIRMED)
