"""The client registry (JSON API and pages) and signing-key rotation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from authlib.integrations.base_client.errors import OAuthError
from joserfc import jwt
from sqlalchemy import select

from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import actions
from campus.platform.auth.oidc.models import Client, SigningKey
from campus.platform.auth.oidc.tokens import digest
from tests.platform.auth.oidc.conftest import (
    INTROSPECT,
    REDIRECT,
    TOKEN,
    USERINFO,
    Register,
    audit_actions,
    jwks,
    sign_in_to,
)


async def test_secret_is_shown_once_and_stored_as_a_digest(
    register: Register, admin: httpx.AsyncClient, runtime: Runtime
) -> None:
    registered = await register(client_id="lib-test")
    assert registered.client_id == "lib-test" and registered.secret
    shown = (await admin.get("/api/v1/auth/oidc/clients/lib-test")).json()
    assert "client_secret" not in shown and "secret_hash" not in shown
    async with runtime.db.read() as session:
        stored = await session.scalar(
            select(Client.secret_hash).where(Client.client_id == "lib-test")
        )
    assert stored == digest(registered.secret) and registered.secret not in str(stored)
    assert [e for e in await audit_actions(runtime, "auth.oidc.client.create")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"redirect_uris": ["http://app.example.edu.cn/cb"]}, "redirect_uris.0"),
        ({"redirect_uris": ["https://app.example.edu.cn/cb#frag"]}, "redirect_uris.0"),
        ({"redirect_uris": ["https://user:pw@app.example.edu.cn/cb"]}, "redirect_uris.0"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"allowed_scopes": ["openid", "admin"]}, "allowed_scopes"),
        ({"client_type": "public", "grant_types": ["client_credentials"]}, "grant_types"),
        ({"grant_types": ["refresh_token"]}, "grant_types"),
        ({"backchannel_logout_uri": "ftp://x.example/"}, "backchannel_logout_uri"),
        ({"client_id": "有空 格"}, "client_id"),
    ],
)
async def test_bad_registrations_are_refused_with_the_field(
    admin: httpx.AsyncClient, fields: dict[str, Any], field: str
) -> None:
    body = {"name": "坏应用", "redirect_uris": [REDIRECT], **fields}
    response = await admin.post("/api/v1/auth/oidc/clients", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not [
        c for c in (await admin.get("/api/v1/auth/oidc/clients")).json() if c["name"] == "坏应用"
    ]


async def test_loopback_http_and_native_schemes_are_accepted(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        "/api/v1/auth/oidc/clients",
        json={
            "name": "移动端",
            "client_type": "public",
            "redirect_uris": ["http://127.0.0.1:8765/cb", "cn.edu.example.campus:/oauth"],
        },
    )
    assert response.status_code == 201, response.text


async def test_duplicate_client_id_is_a_conflict(
    register: Register, admin: httpx.AsyncClient
) -> None:
    await register(client_id="dup-app")
    response = await admin.post(
        "/api/v1/auth/oidc/clients",
        json={"client_id": "dup-app", "name": "x", "redirect_uris": [REDIRECT]},
    )
    assert response.status_code == 409


async def test_only_administrators_manage_clients(login_as: Any, register: Register) -> None:
    registered = await register()
    student = await login_as("student")
    assert (await student.get("/api/v1/auth/oidc/clients")).status_code == 403
    assert (await student.post("/api/v1/auth/oidc/clients", json={"name": "x"})).status_code == 403
    assert (
        await student.post(f"/api/v1/auth/oidc/clients/{registered.client_id}/secret")
    ).status_code == 403
    assert (await student.post("/api/v1/auth/oidc/keys/rotate")).status_code == 403
    assert (await student.get("/auth/oidc/clients")).status_code == 403


async def test_new_secret_replaces_the_old_one(
    register: Register, admin: httpx.AsyncClient, relying_party: Any
) -> None:
    registered = await register(
        grant_types=["client_credentials"], redirect_uris=[], allowed_scopes=[]
    )
    old = relying_party(registered, scope="")
    await old.fetch_token(TOKEN, grant_type="client_credentials")
    response = await admin.post(f"/api/v1/auth/oidc/clients/{registered.client_id}/secret")
    new_secret = response.json()["client_secret"]
    assert new_secret and new_secret != registered.secret
    with pytest.raises(OAuthError) as refused:
        await old.fetch_token(TOKEN, grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    old.client_secret = new_secret
    assert (await old.fetch_token(TOKEN, grant_type="client_credentials"))["access_token"]


async def test_disabling_a_client_kills_its_tokens(
    login_as: Any, register: Register, admin: httpx.AsyncClient, relying_party: Any
) -> None:
    browser = await login_as("student")
    registered = await register()
    token, _auth = await sign_in_to(browser, relying_party(registered))
    response = await admin.patch(
        f"/api/v1/auth/oidc/clients/{registered.client_id}", json={"active": False, "name": "停用"}
    )
    assert response.status_code == 200 and response.json()["active"] is False
    userinfo = await browser.get(
        USERINFO, headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert userinfo.status_code == 401


async def test_update_validates_like_creation(register: Register, admin: httpx.AsyncClient) -> None:
    registered = await register()
    response = await admin.patch(
        f"/api/v1/auth/oidc/clients/{registered.client_id}",
        json={"redirect_uris": ["https://ok.example.edu.cn/cb", "javascript:alert(1)"]},
    )
    assert response.status_code == 422
    unchanged = (await admin.get(f"/api/v1/auth/oidc/clients/{registered.client_id}")).json()
    assert unchanged["redirect_uris"] == [REDIRECT]


async def test_demo_clients_are_seeded(admin: httpx.AsyncClient) -> None:
    clients = {c["client_id"]: c for c in (await admin.get("/api/v1/auth/oidc/clients")).json()}
    assert clients["library"]["name"] == "图书馆系统" and clients["library"]["first_party"] is True
    assert clients["vendor-lms"]["first_party"] is False


async def test_rotation_keeps_old_tokens_verifiable(
    login_as: Any,
    register: Register,
    relying_party: Any,
    admin: httpx.AsyncClient,
    runtime: Runtime,
) -> None:
    browser = await login_as("student")
    rp = relying_party(await register())
    before, _auth = await sign_in_to(browser, rp)
    old_kid = jwt.decode(before["access_token"], await jwks(browser), algorithms=["RS256"]).header[
        "kid"
    ]

    rotated = await admin.post("/api/v1/auth/oidc/keys/rotate")
    assert rotated.status_code == 201
    new_kid = rotated.json()["kid"]
    assert new_kid != old_kid
    published = {k["kid"] for k in (await browser.get("/oauth/jwks")).json()["keys"]}
    assert {old_kid, new_kid} <= published

    after = await rp.refresh_token(TOKEN, refresh_token=before["refresh_token"])
    assert (
        jwt.decode(after["access_token"], await jwks(browser), algorithms=["RS256"]).header["kid"]
        == new_kid
    )
    # A token signed with the retired key is still good until it expires.
    assert (await rp.introspect_token(INTROSPECT, token=before["access_token"])).json()["active"]
    listed = {k["kid"]: k for k in (await admin.get("/api/v1/auth/oidc/keys")).json()}
    assert listed[old_kid]["status"] == "retired" and listed[old_kid]["published_until"]
    assert listed[new_kid]["status"] == "active"

    # Once every token it signed has expired, the retired key leaves the JWKS.
    async with runtime.db.transaction() as session:
        await actions.do_purge_expired(session, keep_retired_keys=timedelta(0))
    assert old_kid not in {k["kid"] for k in (await browser.get("/oauth/jwks")).json()["keys"]}


async def test_private_keys_are_encrypted_at_rest(
    runtime: Runtime, admin: httpx.AsyncClient
) -> None:
    await admin.post("/api/v1/auth/oidc/keys/rotate")
    async with runtime.db.read() as session:
        stored = list(await session.scalars(select(SigningKey.private_key_encrypted)))
    assert len(stored) >= 2
    for sealed in stored:
        assert sealed.startswith("v1.")
        assert "PRIVATE KEY" not in sealed


def test_a_different_site_secret_cannot_decrypt_a_key() -> None:
    from campus.platform.auth.oidc import keys

    sealed = keys.encrypt_private_key(b"pem bytes", "kid-1", "secret-one")
    assert keys.decrypt_private_key(sealed, "kid-1", "secret-one") == b"pem bytes"
    with pytest.raises(keys.KeyUnavailable):
        keys.decrypt_private_key(sealed, "kid-1", "secret-two")
    with pytest.raises(keys.KeyUnavailable):
        keys.decrypt_private_key(sealed, "kid-2", "secret-one")


async def test_admin_pages_list_create_edit_and_rotate(admin: httpx.AsyncClient) -> None:
    listing = await admin.get("/auth/oidc/clients")
    assert listing.status_code == 200 and "图书馆系统" in listing.text
    form = await admin.get("/auth/oidc/clients/new")
    assert form.status_code == 200 and 'data-testid="oidc-client-form"' in form.text
    created = await admin.post(
        "/auth/oidc/clients/new",
        data={
            "client_id": "page-app",
            "name": "页面登记的应用",
            "client_type": "confidential",
            "redirect_uris": "https://page.example.edu.cn/cb\n",
            "allowed_scopes": ["openid", "profile"],
            "grant_types": ["authorization_code", "refresh_token"],
        },
    )
    assert created.status_code == 200
    secret = re.search(r'data-testid="oidc-client-secret">([^<]+)<', created.text)
    assert secret and len(secret.group(1)) >= 40
    bad = await admin.post(
        "/auth/oidc/clients/page-app",
        data={
            "name": "页面登记的应用",
            "redirect_uris": "http://not-loopback.example/cb",
            "allowed_scopes": ["openid"],
            "grant_types": ["authorization_code"],
            "active": "on",
        },
    )
    assert bad.status_code == 422 and 'data-testid="error-redirect_uris"' in bad.text
    saved = await admin.post(
        "/auth/oidc/clients/page-app",
        data={
            "name": "改名后的应用",
            "redirect_uris": "https://page.example.edu.cn/cb",
            "allowed_scopes": ["openid"],
            "grant_types": ["authorization_code"],
            "active": "on",
        },
    )
    assert saved.status_code == 303
    assert "改名后的应用" in (await admin.get("/auth/oidc/clients/page-app")).text
    keys_page = await admin.get("/auth/oidc/keys")
    assert keys_page.status_code == 200 and 'data-testid="oidc-key-row"' in keys_page.text
    rotated = await admin.post("/auth/oidc/keys/rotate")
    assert rotated.status_code == 303
