"""JSON API and event stream of QR-code login: /api/v1/auth/qr/..."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from campus.kernel.deps import RuntimeDep, SessionDep
from campus.kernel.errors import NotFound, Problem, problem_response
from campus.kernel.runtime import Runtime
from campus.platform.access.service import public
from campus.platform.auth.pages import STEP_PAGES, safe_next
from campus.platform.auth.qr import actions, challenges, push
from campus.platform.auth.qr.challenges import Challenge
from campus.platform.auth.qr.image import qr_svg
from campus.platform.auth.qr.schemas import TOKEN_PATTERN, ChallengeOut, ExchangeIn, ExchangeOut
from campus.platform.auth.service import set_session_cookie

router = APIRouter(prefix="/api/v1/auth/qr", tags=["auth-qr"])

# Binds a challenge to the browser that asked for it: a leaked QR URL is useless elsewhere.
BROWSER_COOKIE = "campus_qr_browser"
CONFIRM_PATH = "/qr/confirm"

ChallengePath = Annotated[str, Path(min_length=16, max_length=64, pattern=TOKEN_PATTERN)]


def browser_secret_of(request: Request) -> str:
    """This browser's binding secret: the cookie's, or a new one when it has none (yet)."""
    current = request.cookies.get(BROWSER_COOKIE, "")
    if 32 <= len(current) <= 64 and current.replace("-", "").replace("_", "").isalnum():
        return current
    return challenges.new_secret()


def remember_browser(response: Response, rt: Runtime, browser_secret: str) -> None:
    response.set_cookie(
        BROWSER_COOKIE,
        browser_secret,
        httponly=True,
        samesite="strict",
        secure=rt.settings.environment == "production",
        path="/",
    )


def confirm_url(request: Request, secret: str) -> str:
    return f"{str(request.base_url).rstrip('/')}{CONFIRM_PATH}?c={secret}"


def events_path(secret: str) -> str:
    return f"{router.prefix}/challenges/{secret}/events"


async def new_challenge(
    request: Request, rt: Runtime, next_path: str
) -> tuple[str, str, Challenge]:
    """Create a challenge for this browser; returns its secret, the browser's and the record."""
    browser_secret = browser_secret_of(request)
    secret, challenge = await actions.do_create_challenge(
        rt,
        browser_secret=browser_secret,
        user_agent=request.headers.get("user-agent", ""),
        next_path=safe_next(next_path),
    )
    return secret, browser_secret, challenge


@router.post("/challenges", response_model=ChallengeOut, status_code=201, dependencies=[public()])
async def create_challenge(
    request: Request, response: Response, rt: RuntimeDep, next: str = "/"
) -> ChallengeOut:
    secret, browser_secret, challenge = await new_challenge(request, rt, next)
    remember_browser(response, rt, browser_secret)
    url = confirm_url(request, secret)
    return ChallengeOut(
        challenge=secret,
        confirm_url=url,
        events_url=events_path(secret),
        expires_in=int(challenge.expires_at - challenge.created_at),
        svg=qr_svg(url),
    )


@router.get(
    "/challenges/{challenge}/events",
    dependencies=[public()],
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def challenge_events(request: Request, rt: RuntimeDep, challenge: ChallengePath) -> Response:
    """The challenge's state pushed as Server-Sent Events (event ``state``, JSON data)."""
    snapshot = await challenges.load(rt.cache, challenge)
    if snapshot is None:
        raise NotFound(actions.UNKNOWN_CHALLENGE)
    actions.check_bound_browser(snapshot, request.cookies.get(BROWSER_COOKIE))
    await actions.check_stream_allowed(rt, snapshot.challenge)
    return StreamingResponse(
        push.state_events(rt, challenge, snapshot.challenge.digest),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/exchange", response_model=ExchangeOut, dependencies=[public()])
async def exchange(
    body: ExchangeIn, request: Request, response: Response, session: SessionDep, rt: RuntimeDep
) -> ExchangeOut | Response:
    """Trade the one-time token pushed after the phone's confirmation for a session cookie."""
    result = await actions.do_exchange(
        session,
        rt,
        body.challenge,
        body.token,
        browser_secret=request.cookies.get(BROWSER_COOKIE),
        user_agent=request.headers.get("user-agent"),
    )
    if isinstance(result, Problem):
        return problem_response(result, request)
    opened, next_path = result
    set_session_cookie(response, opened, rt.settings)
    # A step still to take (change an initial password, enrol a second factor) comes first.
    step_page = STEP_PAGES.get(opened.pending or "")
    if step_page:
        next_path = f"{step_page}?{urlencode({'next': next_path})}"
    return ExchangeOut(redirect=next_path)
