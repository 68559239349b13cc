"""Consent for third-party clients; RP-initiated logout; the SSO session's end reaching the
tokens and, over the back channel, the relying parties."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from campus.kernel.bus import Dispatcher, Outcome, RetryPolicy
from campus.kernel.runtime import Runtime
from campus.platform.auth.events import SESSION_ENDED
from campus.platform.auth.oidc import service as oidc
from campus.platform.auth.oidc.events import BACKCHANNEL_LOGOUT
from campus.platform.auth.oidc.handlers import BackchannelLogoutFailed
from tests.platform.auth.oidc.conftest import (
    AFTER_LOGOUT,
    INTROSPECT,
    ISSUER,
    LOGOUT,
    TOKEN,
    Register,
    audit_actions,
    jwks,
    outbox_events,
    run_handlers,
    served,
    sign_in_to,
)


def _hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


async def test_third_party_client_asks_for_consent_once_per_scope_set(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    registered = await register(first_party=False, name="学在云")
    rp = relying_party(registered, scope="openid profile")
    url, _state = rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)
    page = await browser.get(url)
    assert page.status_code == 200 and 'data-testid="oidc-consent"' in page.text
    assert "学在云" in page.text
    fields = _hidden_fields(page.text)
    assert fields["client_id"] == registered.client_id

    allowed = await browser.post("/oauth/consent", data={**fields, "decision": "allow"})
    assert allowed.status_code == 303
    assert allowed.headers["location"].startswith(registered.redirect_uri + "?code=")
    assert [e for e in await audit_actions(runtime, "auth.oidc.consent")]

    # Remembered: the same scopes go straight through…
    again = await browser.get(
        rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    assert again.status_code == 302 and "code=" in again.headers["location"]
    # …a new scope is asked for again.
    rp.scope = "openid profile email"
    wider = await browser.get(
        rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    assert wider.status_code == 200 and 'data-testid="oidc-consent"' in wider.text


async def test_denied_consent_returns_access_denied_and_no_code(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register(first_party=False)
    rp = relying_party(registered, scope="openid")
    page = await browser.get(
        rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    denied = await browser.post(
        "/oauth/consent", data={**_hidden_fields(page.text), "decision": "deny"}
    )
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query
    # Nothing was remembered.
    page = await browser.get(
        rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    assert 'data-testid="oidc-consent"' in page.text


async def test_consent_form_without_csrf_token_is_refused(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register(first_party=False)
    rp = relying_party(registered, scope="openid")
    page = await browser.get(
        rp.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    fields = {k: v for k, v in _hidden_fields(page.text).items() if k != "csrf_token"}
    del browser.headers["X-CSRF-Token"]
    forged = await browser.post("/oauth/consent", data={**fields, "decision": "allow"})
    assert forged.status_code == 403
    # The authorization endpoint takes forms from any site, but a decision is not one of
    # its parameters: the person is asked.
    sneaked = await browser.post("/oauth/authorize", data={**fields, "decision": "allow"})
    assert sneaked.status_code == 200 and 'data-testid="oidc-consent"' in sneaked.text


async def test_first_party_client_skips_consent_and_prompt_none_needs_it_for_third_parties(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    first = relying_party(await register(first_party=True), scope="openid")
    third = relying_party(await register(first_party=False), scope="openid")
    ok = await browser.get(
        first.create_authorization_url("/oauth/authorize", code_verifier="v" * 50)[0]
    )
    assert ok.status_code == 302 and "code=" in ok.headers["location"]
    silent = await browser.get(
        third.create_authorization_url("/oauth/authorize", code_verifier="v" * 50, prompt="none")[0]
    )
    assert "error=consent_required" in silent.headers["location"]


async def test_logout_with_id_token_hint_ends_the_session_and_returns_to_the_client(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    response = await browser.get(
        LOGOUT,
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": AFTER_LOGOUT,
            "state": "bye-1",
        },
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"{AFTER_LOGOUT}?state=bye-1"
    assert (await browser.get("/api/v1/auth/me")).status_code == 401
    # Tokens of the ended session stop working at once, before any handler has run.
    described = await rp.introspect_token(INTROSPECT, token=token["access_token"])
    assert described.json()["active"] is False
    with pytest.raises(OAuthError):
        await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])


async def test_logout_to_an_unregistered_address_is_refused_and_signs_nobody_out(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    response = await browser.get(
        LOGOUT,
        params={
            "id_token_hint": token["id_token"],
            "post_logout_redirect_uri": "https://evil.example/",
        },
    )
    assert response.status_code == 400 and "location" not in response.headers
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    assert [e for e in await audit_actions(runtime, "auth.oidc.logout.refused")]


async def test_logout_without_a_hint_asks_the_person_first(
    login_as: Any, register: Register
) -> None:
    browser = await login_as("student")
    registered = await register()
    page = await browser.get(
        LOGOUT,
        params={"client_id": registered.client_id, "post_logout_redirect_uri": AFTER_LOGOUT},
    )
    assert page.status_code == 200 and 'data-testid="oidc-logout-confirm"' in page.text
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    fields = _hidden_fields(page.text)
    done = await browser.post("/oauth/confirm-logout", data={**fields, "decision": "logout"})
    assert done.status_code == 303 and done.headers["location"] == AFTER_LOGOUT
    assert (await browser.get("/api/v1/auth/me")).status_code == 401


async def test_forged_id_token_hint_is_refused(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    header, payload, signature = token["id_token"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    response = await browser.get(LOGOUT, params={"id_token_hint": forged})
    assert response.status_code == 400
    assert (await browser.get("/api/v1/auth/me")).status_code == 200


# ---------------------------------------------------------------- back-channel logout


@contextlib.asynccontextmanager
async def _receiver(status: int = 200) -> AsyncIterator[tuple[str, list[str]]]:
    """A relying party's back-channel endpoint on a free 127.0.0.1 port."""
    received: list[str] = []

    async def backchannel(request: Request) -> Response:
        form = await request.form()
        received.append(str(form["logout_token"]))
        return Response(status_code=status)

    app = Starlette(routes=[Route("/backchannel", backchannel, methods=["POST"])])
    async with served(app) as base:
        yield f"{base}/backchannel", received


async def test_ended_session_revokes_tokens_and_notifies_the_back_channel(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    async with _receiver() as (uri, received):
        registered = await register(backchannel_logout_uri=uri)
        silent = await register(name="无后台通道")
        rp = relying_party(registered)
        token, _auth = await sign_in_to(browser, rp)
        await sign_in_to(browser, relying_party(silent))
        id_claims = jwt.decode(token["id_token"], await jwks(browser), algorithms=["RS256"]).claims

        assert (await browser.post("/api/v1/auth/logout")).status_code == 204
        assert await run_handlers(runtime, SESSION_ENDED) == 1
        assert await run_handlers(runtime, BACKCHANNEL_LOGOUT) == 1, "only the client that asked"

    assert len(received) == 1
    logout = jwt.decode(received[0], await jwks(browser), algorithms=["RS256"])
    assert logout.header["typ"] == "logout+jwt"
    claims = logout.claims
    assert claims["iss"] == ISSUER and claims["aud"] == registered.client_id
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims
    revoked = await audit_actions(runtime, "auth.oidc.grant.revoke")
    assert {e.after["reason"] for e in revoked if e.after} >= {"session_ended"}
    assert [e for e in await audit_actions(runtime, "auth.oidc.backchannel_logout")]


async def test_a_failing_back_channel_is_retried_then_dead_lettered(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    async with _receiver(status=500) as (uri, received):
        rp = relying_party(await register(backchannel_logout_uri=uri))
        await sign_in_to(browser, rp)
        await browser.post("/api/v1/auth/logout")
        await run_handlers(runtime, SESSION_ENDED)
        handler = next(h for h in oidc.HANDLERS if h.pattern == BACKCHANNEL_LOGOUT)
        [event] = await outbox_events(runtime, BACKCHANNEL_LOGOUT)
        with pytest.raises(BackchannelLogoutFailed):
            await Dispatcher(runtime.db).run_once(handler, event)
        policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
        outcome = await Dispatcher(runtime.db, policy).deliver(handler, event)
    assert outcome is Outcome.DEAD_LETTERED
    assert len(received) == 4, "one try, then three attempts with backoff"
