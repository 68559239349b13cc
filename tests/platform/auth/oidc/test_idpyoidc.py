"""A second, independent relying-party library drives the provider: idpyoidc (the OpenID
Foundation's Python implementation). It discovers the provider, sends the browser to the
authorization endpoint with PKCE, exchanges the code, verifies the ID token against the JWKS
it fetched, and reads userinfo — all over real HTTP to the app served on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import requests

from tests.platform.auth.oidc.conftest import AFTER_LOGOUT, REDIRECT, Register, served

idpyoidc = pytest.importorskip("idpyoidc")
from cryptojwt.key_jar import KeyJar  # noqa: E402
from idpyoidc.client.defaults import DEFAULT_OIDC_SERVICES  # noqa: E402
from idpyoidc.client.rp_handler import RPHandler  # noqa: E402


def _relying_party(issuer: str, client_id: str, secret: str) -> RPHandler:
    configs = {
        issuer: {
            "issuer": issuer,
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [AFTER_LOGOUT],
            "client_type": "oidc",
            "client_authn_methods": ["client_secret_basic"],
            "preference": {
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "campus"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            },
            "add_ons": {
                "pkce": {
                    "function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
                    "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"},
                }
            },
        }
    }
    services = {
        **DEFAULT_OIDC_SERVICES,
        "end_session": {"class": "idpyoidc.client.oidc.end_session.EndSession"},
    }
    return RPHandler(
        base_url="https://rp.example.edu.cn",
        client_configs=configs,
        services=services,
        keyjar=KeyJar(),
        httpc=requests.request,
        httpc_params={"timeout": 10},
    )


def _sign_in(issuer: str, client_id: str, secret: str, cookie: str) -> dict[str, Any]:
    """What a relying party built on idpyoidc does, with a signed-in browser in between."""
    rp = _relying_party(issuer, client_id, secret)
    url = rp.begin(issuer_id=issuer, req_args={"scope": "openid profile email campus"})
    browser = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
    assert browser.status_code == 302, browser.text
    location = browser.headers["location"]
    assert location.startswith(REDIRECT)
    response = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    result = dict(rp.finalize(issuer, response))
    assert "error" not in result, result
    refreshed = rp.refresh_access_token(result["state"])
    result["refreshed"] = refreshed.to_dict()
    logout = rp.logout(result["state"], post_logout_redirect_uri=AFTER_LOGOUT)
    ended = requests.get(
        logout["url"], headers={"Cookie": cookie}, allow_redirects=False, timeout=10
    )
    result["logout"] = (ended.status_code, ended.headers.get("location", ""))
    return result


async def test_idpyoidc_relying_party_signs_in_with_code_and_pkce(
    login_as: Any, register: Register, app: Any, demo: Any
) -> None:
    browser: httpx.AsyncClient = await login_as("student")
    registered = await register()
    cookie = f"campus_session={browser.cookies['campus_session']}"
    async with served(app) as issuer:
        result = await asyncio.to_thread(
            _sign_in, issuer, registered.client_id, registered.secret or "", cookie
        )
    student = next(x for x in demo.logins if x.role == "student")
    id_token = result["id_token"]
    assert id_token["iss"] == issuer
    assert id_token["aud"] == [registered.client_id]
    assert id_token["preferred_username"] == student.login
    assert result["userinfo"]["student_no"] == student.login
    assert result["userinfo"]["sub"] == id_token["sub"]
    assert result["token"]
    assert result["refreshed"]["access_token"] != result["token"]
    assert result["refreshed"]["refresh_token"]
    status, location = result["logout"]
    assert status == 302 and location.startswith(AFTER_LOGOUT + "?state=")
    assert (await browser.get("/api/v1/auth/me")).status_code == 401
