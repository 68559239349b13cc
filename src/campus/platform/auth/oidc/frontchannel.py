"""Front-channel logout (OpenID Connect Front-Channel Logout 1.0): the page that signs a person
out loads, in hidden frames, the ``frontchannel_logout_uri`` of every client that signed them
in during the session, with ``iss`` and ``sid``; a client whose session lives in the browser
(a single-page app, a cookie only the browser holds) clears it there. The frames carry the
client's cookies only where the browser sends them to a frame: same-site clients
(``*.example.edu.cn`` beside ``sso.example.edu.cn``) always; others depend on the browser's
third-party cookie rules, which is why back-channel logout stays the reliable way."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.templating import render
from campus.kernel.web import CONTENT_SECURITY_POLICY
from campus.platform.auth.oidc import queries, tokens

# How long the page waits for the frames before it moves on (they load in parallel).
WAIT_SECONDS = 2


async def logout_frames(session: AsyncSession, secret_key: str, session_id: str) -> list[str]:
    """The front-channel logout URLs of the active clients signed in during ``session_id``,
    read before the session ends (its grants are revoked then)."""
    grants = await queries.live_grants_of_session(session, session_id)
    issuers = {grant.client_id: grant.issuer for grant in grants}
    sid = tokens.public_sid(secret_key, session_id)
    return [
        _with_query(client.frontchannel_logout_uri, iss=issuers[client.client_id], sid=sid)
        for client in sorted(
            await queries.clients_by_ids(session, set(issuers)), key=lambda c: c.client_id
        )
        if client.frontchannel_logout_uri and client.active
    ]


def _with_query(uri: str, **params: str) -> str:
    joiner = "&" if urlsplit(uri).query else "?"
    return f"{uri}{joiner}{urlencode(params)}"


def frame_policy(frames: list[str]) -> str:
    """The site's CSP, letting a page frame the origins of ``frames`` and no others."""
    origins = sorted({f"{p.scheme}://{p.netloc}" for p in map(urlsplit, frames)})
    return f"{CONTENT_SECURITY_POLICY}; frame-src {' '.join(origins)}"


def frames_page(request: Request, frames: list[str], next_url: str) -> Response:
    """The page that loads ``frames`` and then moves on to ``next_url``."""
    response = render(
        request, "auth/oidc/redirect.html", frames=frames, location=next_url, wait=WAIT_SECONDS
    )
    response.headers["content-security-policy"] = frame_policy(frames)
    return response
