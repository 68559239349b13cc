"""Refresh-token rotation and reuse detection, introspection (RFC 7662), revocation (RFC 7009),
client credentials and userinfo, through Authlib's OAuth 2 client."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError

from campus.kernel.runtime import Runtime
from tests.platform.auth.oidc.conftest import (
    INTROSPECT,
    REVOKE,
    TOKEN,
    USERINFO,
    Register,
    audit_actions,
    sign_in_to,
)


async def _introspect(rp: Any, token: str, hint: str | None = None) -> dict[str, Any]:
    response = await rp.introspect_token(INTROSPECT, token=token, token_type_hint=hint)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _userinfo(app_client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await app_client.get(USERINFO, headers={"Authorization": f"Bearer {access_token}"})


async def test_refresh_rotates_the_refresh_token(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    refreshed = await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert refreshed["access_token"] != token["access_token"]
    assert "id_token" in refreshed
    again = await rp.refresh_token(TOKEN, refresh_token=refreshed["refresh_token"])
    assert again["refresh_token"] not in (token["refresh_token"], refreshed["refresh_token"])
    # The old access tokens stay valid until they expire; rotation concerns refresh tokens.
    assert (await _introspect(rp, token["access_token"]))["active"] is True


async def test_reused_refresh_token_revokes_the_whole_family(
    login_as: Any, register: Register, relying_party: Any, runtime: Runtime
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    refreshed = await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])

    with pytest.raises(OAuthError) as reused:
        await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    assert reused.value.error == "invalid_grant"
    # The legitimate holder's newer tokens die with the family: someone had a copy.
    with pytest.raises(OAuthError) as newer:
        await rp.refresh_token(TOKEN, refresh_token=refreshed["refresh_token"])
    assert newer.value.error == "invalid_grant"
    assert (await _introspect(rp, refreshed["access_token"]))["active"] is False
    assert (await _userinfo(browser, refreshed["access_token"])).status_code == 401
    assert [e.action for e in await audit_actions(runtime, "auth.oidc.refresh.reused")]


async def test_refresh_cannot_widen_the_scope_but_can_narrow_it(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register(), scope="openid profile")
    token, _auth = await sign_in_to(browser, rp)
    with pytest.raises(OAuthError) as widened:
        await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"], scope="openid email")
    assert widened.value.error == "invalid_scope"
    narrowed = await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"], scope="openid")
    assert narrowed["scope"] == "openid"


async def test_refresh_token_of_another_client_is_refused(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    mine = relying_party(await register(name="甲"))
    theirs = relying_party(await register(name="乙"))
    token, _auth = await sign_in_to(browser, mine)
    with pytest.raises(OAuthError) as refused:
        await theirs.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    assert refused.value.error == "invalid_grant"
    # Still usable by its own client.
    await mine.refresh_token(TOKEN, refresh_token=token["refresh_token"])


async def test_introspection_describes_access_and_refresh_tokens(
    login_as: Any, register: Register, relying_party: Any, demo: Any
) -> None:
    browser = await login_as("teacher")
    registered = await register()
    rp = relying_party(registered)
    token, _auth = await sign_in_to(browser, rp)
    access = await _introspect(rp, token["access_token"], "access_token")
    teacher = next(x for x in demo.logins if x.role == "teacher")
    assert access["active"] is True
    assert access["client_id"] == registered.client_id
    assert access["username"] == teacher.login
    assert access["scope"] == "openid profile email campus"
    assert access["token_type"] == "Bearer"
    assert access["exp"] > access["iat"]
    refresh = await _introspect(rp, token["refresh_token"], "refresh_token")
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert (await _introspect(rp, "not-a-token"))["active"] is False


async def test_a_resource_server_introspects_tokens_of_other_clients_but_not_their_refresh_tokens(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register(name="应用"))
    resource_server = relying_party(await register(name="资源服务器"))
    token, _auth = await sign_in_to(browser, rp)
    assert (await _introspect(resource_server, token["access_token"]))["active"] is True
    assert (await _introspect(resource_server, token["refresh_token"]))["active"] is False


async def test_public_clients_may_not_introspect(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register(client_type="public"))
    token, _auth = await sign_in_to(browser, rp)
    response = await rp.introspect_token(INTROSPECT, token=token["access_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


async def test_revoking_an_access_token_stops_it_and_nothing_else(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    response = await rp.revoke_token(
        REVOKE, token=token["access_token"], token_type_hint="access_token"
    )
    assert response.status_code == 200
    assert (await _introspect(rp, token["access_token"]))["active"] is False
    assert (await _userinfo(browser, token["access_token"])).status_code == 401
    refreshed = await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    assert (await _userinfo(browser, refreshed["access_token"])).status_code == 200


async def test_revoking_a_refresh_token_revokes_its_family(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    token, _auth = await sign_in_to(browser, rp)
    response = await rp.revoke_token(REVOKE, token=token["refresh_token"])
    assert response.status_code == 200
    assert (await _introspect(rp, token["access_token"]))["active"] is False
    with pytest.raises(OAuthError):
        await rp.refresh_token(TOKEN, refresh_token=token["refresh_token"])
    # Revoking an unknown or already revoked token is not an error (RFC 7009 §2.2).
    assert (await rp.revoke_token(REVOKE, token=token["refresh_token"])).status_code == 200
    assert (await rp.revoke_token(REVOKE, token="unknown")).status_code == 200


async def test_a_client_cannot_revoke_another_clients_token(
    login_as: Any, register: Register, relying_party: Any
) -> None:
    browser = await login_as("student")
    mine = relying_party(await register(name="甲"))
    theirs = relying_party(await register(name="乙"))
    token, _auth = await sign_in_to(browser, mine)
    response = await theirs.revoke_token(REVOKE, token=token["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert (await _introspect(mine, token["access_token"]))["active"] is True


async def test_client_credentials_give_a_token_about_the_client_itself(
    register: Register, relying_party: Any, anon: httpx.AsyncClient
) -> None:
    registered = await register(
        grant_types=["client_credentials"], redirect_uris=[], allowed_scopes=["campus"]
    )
    rp = relying_party(registered, scope="campus")
    token = await rp.fetch_token(TOKEN, grant_type="client_credentials")
    assert "refresh_token" not in token and "id_token" not in token
    described = await _introspect(rp, token["access_token"])
    assert described["active"] is True and described["sub"] == registered.client_id
    assert "username" not in described
    # There is no person behind the token: userinfo has nothing to say.
    response = await _userinfo(anon, token["access_token"])
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    with pytest.raises(OAuthError) as refused:
        await rp.fetch_token(TOKEN, grant_type="client_credentials", scope="openid")
    assert refused.value.error == "invalid_scope"


async def test_grant_types_are_limited_to_what_the_client_registered(
    register: Register, relying_party: Any
) -> None:
    rp = relying_party(await register())
    with pytest.raises(OAuthError) as refused:
        await rp.fetch_token(TOKEN, grant_type="client_credentials")
    assert refused.value.error == "unauthorized_client"
    with pytest.raises(OAuthError) as unknown:
        await rp.fetch_token(TOKEN, grant_type="password", username="x", password="y")
    assert unknown.value.error == "unsupported_grant_type"


async def test_userinfo_needs_a_bearer_token(anon: httpx.AsyncClient) -> None:
    response = await anon.get(USERINFO)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = await anon.post(USERINFO, headers={"Authorization": "Bearer abc.def.ghi"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
