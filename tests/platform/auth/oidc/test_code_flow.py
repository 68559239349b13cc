"""Authorization code + PKCE, driven by Authlib's OAuth 2 client against the app."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt

from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from tests.platform.auth.oidc.conftest import (
    ISSUER,
    TOKEN,
    USERINFO,
    Register,
    audit_actions,
    authorize,
    jwks,
    sign_in_to,
    verified_id_token,
)


async def test_discovery_is_valid_metadata_for_a_configured_https_issuer(
    anon: httpx.AsyncClient, runtime: Runtime
) -> None:
    runtime.settings.oidc_issuer = "https://sso.example.edu.cn"
    try:
        response = await anon.get("/.well-known/openid-configuration")
    finally:
        runtime.settings.oidc_issuer = None
    assert response.status_code == 200
    document = response.json()
    OpenIDProviderMetadata(document).validate()
    assert document["issuer"] == "https://sso.example.edu.cn"
    assert document["token_endpoint"] == "https://sso.example.edu.cn/oauth/token"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "campus" in document["scopes_supported"]
    assert document["backchannel_logout_supported"] is True


async def test_discovery_without_configuration_uses_the_request_url(
    anon: httpx.AsyncClient,
) -> None:
    document = (await anon.get("/.well-known/openid-configuration")).json()
    assert document["issuer"] == ISSUER
    assert document["jwks_uri"] == f"{ISSUER}/oauth/jwks"


async def test_jwks_publishes_public_rsa_keys_only(anon: httpx.AsyncClient) -> None:
    keys = (await anon.get("/oauth/jwks")).json()["keys"]
    assert keys, "the seed creates a signing key"
    for key in keys:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & key.keys(), "no private parts"


async def test_code_flow_with_pkce_gives_verified_tokens_and_campus_claims(
    login_as: Any, register: Register, relying_party: Any, demo: SeedContext
) -> None:
    browser = await login_as("student")
    registered = await register()
    rp = relying_party(registered)
    token, auth = await sign_in_to(browser, rp)
    assert auth.params["state"] == auth.state
    assert auth.params["iss"] == ISSUER
    assert {"access_token", "refresh_token", "id_token"} <= token.keys()
    assert token["token_type"].lower() == "bearer"

    claims = await verified_id_token(browser, token, registered.client_id, auth.nonce)
    student = next(x for x in demo.logins if x.role == "student")
    assert claims["preferred_username"] == student.login
    assert claims["name"] == student.name
    assert claims["person_type"] in ("undergraduate", "postgraduate")
    assert claims["student_no"] == student.login
    assert "student" in claims["roles"]
    assert claims["org_unit"]["name"]
    assert claims["sid"] and claims["auth_time"] <= claims["iat"]
    assert claims["amr"]

    # The access token is a JWT any resource server verifies locally against the JWKS.
    access = jwt.decode(token["access_token"], await jwks(browser), algorithms=["RS256"])
    assert access.header["typ"] == "at+jwt"
    assert access.claims["sub"] == claims["sub"]
    assert access.claims["client_id"] == registered.client_id
    assert access.claims["scope"] == "openid profile email campus"

    info = (await rp.get(USERINFO)).json()
    assert info["sub"] == claims["sub"]
    assert info["student_no"] == student.login
    assert info["roles"] == claims["roles"]


async def test_scopes_limit_the_released_claims(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("teacher")
    registered = await register()
    rp = relying_party(registered, scope="openid")
    token, auth = await sign_in_to(browser, rp)
    claims = await verified_id_token(browser, token, registered.client_id, auth.nonce)
    assert "name" not in claims and "roles" not in claims and "email" not in claims
    info = (await rp.get(USERINFO)).json()
    assert set(info) == {"sub"}


async def test_anonymous_browser_signs_in_first_and_comes_back(
    anon: httpx.AsyncClient, register: Register, relying_party: Any, demo: SeedContext
) -> None:
    registered = await register()
    rp = relying_party(registered)
    url, _state = rp.create_authorization_url(
        "/oauth/authorize", code_verifier="v" * 50, nonce="n-1"
    )
    response = await anon.get(url)
    assert response.status_code == 303
    login_location = response.headers["location"]
    assert login_location.startswith("/login?next=")
    back = parse_qs(urlsplit(login_location).query)["next"][0]
    assert back.startswith("/oauth/authorize?")

    teacher = next(x for x in demo.logins if x.role == "teacher")
    response = await anon.post(
        "/login",
        data={
            "login": teacher.login,
            "password": teacher.password,
            "next": back,
            "csrf_token": anon.headers["X-CSRF-Token"],
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == back
    response = await anon.get(back)
    assert response.status_code == 302
    assert response.headers["location"].startswith(registered.redirect_uri + "?code=")


async def test_a_browser_after_the_login_form_gets_a_page_that_moves_on(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    """Chromium applies the login page's CSP form-action to the redirects after the form,
    so a redirect chain that started with a form ends in a page, not a cross-site 302."""
    browser = await login_as("student")
    rp = relying_party(await register())
    url, _state = rp.create_authorization_url(
        "/oauth/authorize", code_verifier="v" * 50, nonce="n-1"
    )
    response = await browser.get(
        url, headers={"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 200
    assert 'http-equiv="refresh"' in response.text
    assert "https://rp.example.edu.cn/callback?code=" in response.text


async def test_prompt_none_without_a_session_answers_login_required(
    anon: httpx.AsyncClient, register: Register, relying_party: Any
) -> None:
    rp = relying_party(await register())
    auth = await authorize(anon, rp, prompt="none")
    assert auth.params["error"] == "login_required"
    assert auth.params["state"] == auth.state


async def test_public_client_signs_in_with_pkce_and_no_secret(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register(client_type="public", name="移动校园")
    assert registered.secret is None
    rp = relying_party(registered)
    token, auth = await sign_in_to(browser, rp)
    await verified_id_token(browser, token, registered.client_id, auth.nonce)
    refreshed = await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]


async def test_authorization_is_audited(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    registered = await register()
    await sign_in_to(browser, relying_party(registered))
    entries = await audit_actions(runtime, "auth.oidc.authorize")
    assert any(e.target_id == registered.client_id and e.actor_id for e in entries)
