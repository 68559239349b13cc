"""Front-channel logout: whichever way the SSO session ends in the browser (RP-initiated logout,
the portal's sign-out, CAS logout), the page that ends it frames the front-channel logout URI
of each client signed in during that session — with iss and sid — and only those, under a CSP
that lets it frame their origins; then it moves on."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt

from tests.platform.auth.oidc.conftest import (
    AFTER_LOGOUT,
    ISSUER,
    LOGOUT,
    Register,
    jwks,
    sign_in_to,
)

SPA = "https://spa.example.edu.cn/logged-out?from=sso"
OTHER = "https://board.example.edu.cn/fc-logout"


def frames_of(response: httpx.Response) -> list[dict[str, list[str]]]:
    """The query of each logout frame, with its address under ``url``."""
    found = []
    for src in re.findall(r'<iframe src="([^"]+)"', response.text):
        url = html.unescape(src)
        parts = urlsplit(url)
        found.append(
            {"url": [f"{parts.scheme}://{parts.netloc}{parts.path}"], **parse_qs(parts.query)}
        )
    return found


async def sid_of(client: httpx.AsyncClient, token: dict[str, Any]) -> str:
    decoded = jwt.decode(token["id_token"], await jwks(client), algorithms=["RS256"])
    return str(decoded.claims["sid"])


async def test_rp_initiated_logout_frames_the_clients_of_the_session_then_returns(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    spa = relying_party(await register(frontchannel_logout_uri=SPA))
    token, _auth = await sign_in_to(browser, spa)
    await sign_in_to(browser, relying_party(await register()))  # no front-channel URI
    await register(frontchannel_logout_uri=OTHER)  # not signed in to in this session
    response = await browser.get(
        LOGOUT,
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": AFTER_LOGOUT,
            "state": "s1",
        },
    )
    assert response.status_code == 200 and 'data-testid="oidc-frontchannel"' in response.text
    frames = frames_of(response)
    assert len(frames) == 1
    assert frames[0]["url"] == ["https://spa.example.edu.cn/logged-out"]
    assert frames[0]["from"] == ["sso"], "the URI's own query is kept"
    assert frames[0]["iss"] == [ISSUER]
    assert frames[0]["sid"] == [await sid_of(browser, token)], "the sid of the ID token"
    policy = response.headers["content-security-policy"]
    assert policy.endswith("frame-src https://spa.example.edu.cn")
    assert "frame-ancestors 'none'" in policy, "the rest of the policy is kept"
    assert f'url={html.escape(AFTER_LOGOUT)}?state=s1"' in response.text.replace("&#34;", '"')
    assert (await browser.get("/api/v1/auth/me")).status_code == 401


async def test_logout_without_a_redirect_frames_them_on_the_signed_out_page(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register(frontchannel_logout_uri=OTHER)
    token, _auth = await sign_in_to(browser, relying_party(registered))
    response = await browser.get(LOGOUT, params={"id_token_hint": token["id_token"]})
    assert response.status_code == 200 and 'data-testid="oidc-logged-out"' in response.text
    assert [f["url"] for f in frames_of(response)] == [[OTHER]]
    assert "frame-src https://board.example.edu.cn" in response.headers["content-security-policy"]


async def test_the_portals_sign_out_and_cas_logout_frame_them_too(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    registered = await register(frontchannel_logout_uri=SPA)
    portal = await login_as("student")
    await sign_in_to(portal, relying_party(registered))
    response = await portal.post("/logout", data={"csrf_token": portal.cookies["campus_csrf"]})
    assert response.status_code == 200, response.text
    assert len(frames_of(response)) == 1 and "url=/login" in response.text
    assert (await portal.get("/api/v1/auth/me")).status_code == 401

    cas = await login_as("student")
    await sign_in_to(cas, relying_party(registered))
    response = await cas.get("/cas/logout")
    assert response.status_code == 200 and len(frames_of(response)) == 1
    assert (await cas.get("/api/v1/auth/me")).status_code == 401


async def test_without_front_channel_clients_sign_out_is_a_plain_redirect(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    await sign_in_to(browser, relying_party(await register()))
    response = await browser.post("/logout", data={"csrf_token": browser.cookies["campus_csrf"]})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "frame-src" not in response.headers.get("content-security-policy", "")


@pytest.mark.parametrize(
    ("uri", "reason"),
    [("http://spa.example.edu.cn/out", "https"), ("https://spa.example.edu.cn/out#x", "#")],
)
async def test_a_front_channel_uri_that_cannot_be_used_is_refused(
    admin: httpx.AsyncClient, uri: str, reason: str
) -> None:
    body = {"name": "单页应用", "redirect_uris": ["https://spa.example.edu.cn/cb"]}
    response = await admin.post(
        "/api/v1/auth/oidc/clients", json={**body, "frontchannel_logout_uri": uri}
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors[0]["field"] == "frontchannel_logout_uri" and reason in errors[0]["reason"]


async def test_discovery_says_front_channel_logout_is_supported(anon: httpx.AsyncClient) -> None:
    metadata = (await anon.get("/.well-known/openid-configuration")).json()
    assert metadata["frontchannel_logout_supported"] is True
    assert metadata["frontchannel_logout_session_supported"] is True
