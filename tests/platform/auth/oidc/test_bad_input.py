"""Bad input: each gets the OAuth error JSON or an error page, is audited, and grants nothing."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from sqlalchemy import update

from campus.kernel import clock
from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc.models import AuthorizationCode
from tests.platform.auth.oidc.conftest import (
    INTROSPECT,
    REDIRECT,
    TOKEN,
    USERINFO,
    Register,
    audit_actions,
    authorize,
    sign_in_to,
)


def _authorize_url(client_id: str, redirect_uri: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": "s-1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
        **extra,
    }
    return "/oauth/authorize?" + urlencode(params)


async def test_wrong_redirect_uri_is_never_followed(
    login_as: Any, register: Register, runtime: Runtime
) -> None:
    browser = await login_as("student")
    registered = await register()
    for wrong in (
        "https://evil.example.com/callback",
        REDIRECT + "/extra",
        REDIRECT + "?x=1",
        REDIRECT.replace("https", "http"),
    ):
        response = await browser.get(
            _authorize_url(registered.client_id, wrong), headers={"Accept": "text/html"}
        )
        assert response.status_code == 400, wrong
        assert "location" not in response.headers
        assert 'data-testid="oidc-error"' in response.text
        assert "回调地址" in response.text
    entries = await audit_actions(runtime, "auth.oidc.authorize.refused")
    assert [e.after for e in entries if e.target_id == registered.client_id][-1] == {
        "error": "invalid_redirect_uri"
    }


async def test_unknown_or_disabled_client_gets_an_error_page(
    login_as: Any, register: Register, admin: httpx.AsyncClient
) -> None:
    browser = await login_as("student")
    response = await browser.get(_authorize_url("no-such-app", REDIRECT))
    assert response.status_code == 400 and "location" not in response.headers
    registered = await register()
    disabled = await admin.patch(
        f"/api/v1/auth/oidc/clients/{registered.client_id}", json={"active": False}
    )
    assert disabled.status_code == 200
    response = await browser.get(_authorize_url(registered.client_id, REDIRECT))
    assert response.status_code == 400 and "location" not in response.headers


async def test_bad_parameters_go_back_to_the_client_as_oauth_errors(
    login_as: Any, register: Register
) -> None:
    browser = await login_as("student")
    registered = await register(allowed_scopes=["openid", "profile"])
    cases = {
        "unsupported_response_type": {"response_type": "token"},
        "invalid_scope": {"scope": "openid email"},
        "invalid_request": {"code_challenge_method": "plain"},
        "request_not_supported": {"request": "eyJ.e30."},
    }
    for error, extra in cases.items():
        response = await browser.get(_authorize_url(registered.client_id, REDIRECT, **extra))
        assert response.status_code == 302, error
        location = response.headers["location"]
        assert location.startswith(REDIRECT + "?"), location
        assert f"error={error}" in location and "state=s-1" in location


async def test_public_client_must_use_pkce(login_as: Any, register: Register) -> None:
    browser = await login_as("student")
    registered = await register(client_type="public")
    url = _authorize_url(
        registered.client_id, REDIRECT, code_challenge="", code_challenge_method=""
    )
    response = await browser.get(url)
    assert response.status_code == 302
    assert "error=invalid_request" in response.headers["location"]


async def test_pkce_mismatch_is_refused_and_the_code_still_cannot_be_stolen(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    auth = await authorize(browser, rp)
    with pytest.raises(OAuthError) as mismatch:
        await rp.fetch_token(TOKEN, authorization_response=auth.location, code_verifier="x" * 43)
    assert mismatch.value.error == "invalid_grant"
    entries = await audit_actions(runtime, "auth.oidc.token.refused")
    assert entries[-1].after and entries[-1].after["error"] == "invalid_grant"
    # The right verifier still works: the failed attempt consumed nothing.
    token = await rp.fetch_token(
        TOKEN, authorization_response=auth.location, code_verifier=auth.verifier
    )
    assert token["access_token"]


async def test_replayed_code_is_refused_and_revokes_what_it_gave(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, auth = await sign_in_to(browser, rp)
    with pytest.raises(OAuthError) as replayed:
        await rp.fetch_token(
            TOKEN, authorization_response=auth.location, code_verifier=auth.verifier
        )
    assert replayed.value.error == "invalid_grant"
    described = await rp.introspect_token(INTROSPECT, token=token["access_token"])
    assert described.json()["active"] is False
    with pytest.raises(OAuthError):
        await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])


async def test_expired_code_is_refused(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    auth = await authorize(browser, rp)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(AuthorizationCode).values(expires_at=clock.now() - timedelta(seconds=1))
        )
    with pytest.raises(OAuthError) as expired:
        await rp.fetch_token(
            TOKEN, authorization_response=auth.location, code_verifier=auth.verifier
        )
    assert expired.value.error == "invalid_grant"


async def test_code_with_another_redirect_uri_is_refused(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register(redirect_uris=[REDIRECT, "https://rp.example.edu.cn/other"])
    rp = relying_party(registered)
    auth = await authorize(browser, rp)
    rp.redirect_uri = "https://rp.example.edu.cn/other"
    with pytest.raises(OAuthError) as refused:
        await rp.fetch_token(
            TOKEN, authorization_response=auth.location, code_verifier=auth.verifier
        )
    assert refused.value.error == "invalid_grant"


async def test_wrong_client_secret_and_unknown_client_are_invalid_client(
    register: Register, app: Any, runtime: Runtime
) -> None:
    registered = await register()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        wrong = await http.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(registered.client_id, "wrong-secret"),
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        assert wrong.headers["www-authenticate"].startswith("Basic")
        assert wrong.headers["cache-control"] == "no-store"
        unknown = await http.post(
            TOKEN,
            data={"grant_type": "client_credentials", "client_id": "ghost", "client_secret": "x"},
        )
        assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_client"
        nothing = await http.post(TOKEN, data={"grant_type": "client_credentials"})
        assert nothing.status_code == 401 and nothing.json()["error"] == "invalid_client"
        twice = await http.post(
            TOKEN,
            data={"grant_type": "client_credentials", "client_secret": "x"},
            auth=(registered.client_id, registered.secret or ""),
        )
        assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"
    refused = await audit_actions(runtime, "auth.oidc.token.refused")
    assert any(e.target_id == registered.client_id for e in refused)
    assert any(e.target_id == "ghost" for e in refused)


def _tamper(token: str, **changes: Any) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_tampered_access_token_is_worthless(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    admin = await login_as("admin")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    admin_id = str((await admin.get("/api/v1/auth/me")).json()["person_id"])
    forged = _tamper(token["access_token"], sub=admin_id)
    response = await browser.get(USERINFO, headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert (await rp.introspect_token(INTROSPECT, token=forged)).json() == {"active": False}
    unsigned = ".".join(
        [
            base64.urlsafe_b64encode(b'{"alg":"none","typ":"at+jwt"}').rstrip(b"=").decode(),
            forged.split(".")[1],
            "",
        ]
    )
    response = await browser.get(USERINFO, headers={"Authorization": f"Bearer {unsigned}"})
    assert response.status_code == 401
    assert [e for e in await audit_actions(runtime, "auth.oidc.userinfo.refused")]


async def test_id_token_is_not_accepted_as_an_access_token(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    response = await browser.get(USERINFO, headers={"Authorization": f"Bearer {token['id_token']}"})
    assert response.status_code == 401
