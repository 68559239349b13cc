"""Fixtures for the OpenID Connect provider's tests: clients registered through the admin API,
relying parties built on Authlib's own OAuth 2 client, a signed-in browser, and the event
handlers run as the worker would run them."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.bus import Dispatcher
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.auth.oidc import service as oidc

ISSUER = "http://testserver"
AUTHORIZE = f"{ISSUER}/oauth/authorize"
TOKEN = f"{ISSUER}/oauth/token"
USERINFO = f"{ISSUER}/oauth/userinfo"
INTROSPECT = f"{ISSUER}/oauth/introspect"
REVOKE = f"{ISSUER}/oauth/revoke"
LOGOUT = f"{ISSUER}/oauth/logout"
REDIRECT = "https://rp.example.edu.cn/callback"
AFTER_LOGOUT = "https://rp.example.edu.cn/bye"


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """An ASGI app on a free 127.0.0.1 port, served from this event loop (so the app under
    test keeps using the test's rolled-back transaction); yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn has no "started" event to await)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@dataclass(frozen=True)
class Registered:
    client_id: str
    secret: str | None
    redirect_uri: str
    body: dict[str, Any]


Register = Callable[..., Awaitable[Registered]]


@pytest.fixture
async def admin(login_as: Any) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def register(admin: httpx.AsyncClient) -> Register:
    """``await register(first_party=True, ...)`` registers a client through the admin API."""

    async def make(**fields: Any) -> Registered:
        body = {
            "name": "测试应用",
            "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": [AFTER_LOGOUT],
            "allowed_scopes": ["openid", "profile", "email", "campus"],
            "first_party": True,
            **fields,
        }
        response = await admin.post("/api/v1/auth/oidc/clients", json=body)
        assert response.status_code == 201, response.text
        data = response.json()
        redirect = body["redirect_uris"][0] if body["redirect_uris"] else ""
        return Registered(data["client_id"], data["client_secret"], redirect, data)

    return make


@pytest.fixture
async def relying_party(app: Any) -> AsyncIterator[Callable[..., AsyncOAuth2Client]]:
    """Authlib's OAuth 2 client, talking to the app in process."""
    made: list[AsyncOAuth2Client] = []

    def make(
        registered: Registered, scope: str = "openid profile email campus"
    ) -> AsyncOAuth2Client:
        rp = AsyncOAuth2Client(
            client_id=registered.client_id,
            client_secret=registered.secret,
            scope=scope,
            redirect_uri=registered.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic" if registered.secret else "none",
            transport=httpx.ASGITransport(app=app),
            base_url=ISSUER,
        )
        made.append(rp)
        return rp

    yield make
    for rp in made:
        await rp.aclose()


@dataclass(frozen=True)
class Authorization:
    location: str
    verifier: str
    nonce: str
    state: str

    @property
    def params(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}


async def authorize(
    browser: httpx.AsyncClient, rp: AsyncOAuth2Client, **extra: str
) -> Authorization:
    """The browser goes to the authorization endpoint and comes back with the redirect."""
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    url, state = rp.create_authorization_url(
        AUTHORIZE, code_verifier=verifier, nonce=nonce, **extra
    )
    response = await browser.get(url)
    assert response.status_code == 302, response.text
    return Authorization(response.headers["location"], verifier, nonce, state)


async def sign_in_to(
    browser: httpx.AsyncClient, rp: AsyncOAuth2Client, **extra: str
) -> tuple[dict[str, Any], Authorization]:
    """Code + PKCE end to end: the tokens the relying party ends up with."""
    auth = await authorize(browser, rp, **extra)
    assert auth.location.startswith(str(rp.redirect_uri)), auth.location
    token = await rp.fetch_token(
        TOKEN, authorization_response=auth.location, code_verifier=auth.verifier
    )
    return dict(token), auth


async def jwks(client: httpx.AsyncClient) -> KeySet:
    response = await client.get("/oauth/jwks")
    assert response.status_code == 200
    return KeySet.import_key_set(response.json())


async def verified_id_token(
    client: httpx.AsyncClient, token: dict[str, Any], client_id: str, nonce: str
) -> CodeIDToken:
    """The ID token, checked the way Authlib's own client library checks one."""
    decoded = jwt.decode(token["id_token"], await jwks(client), algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={
            "iss": {"essential": True, "value": ISSUER},
            "aud": {"essential": True, "value": client_id},
        },
        params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate()
    return claims


@dataclass(frozen=True)
class Audited:
    action: str
    target_id: str | None
    actor_id: int | None
    after: dict[str, Any] | None


async def audit_actions(runtime: Runtime, prefix: str) -> list[Audited]:
    """The audit entries whose action starts with ``prefix``, oldest first."""
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.id)
        )
        return [Audited(r.action, r.target_id, r.actor_id, r.after) for r in rows]


async def outbox_events(runtime: Runtime, event_name: str) -> list[Event]:
    """The unsent events named ``event_name``, oldest first."""
    async with runtime.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow)
            .where(OutboxRow.name == event_name, OutboxRow.sent_at.is_(None))
            .order_by(OutboxRow.id)
        )
        return [row.to_event() for row in rows]


async def run_handlers(runtime: Runtime, event_name: str) -> int:
    """Deliver the unsent events named ``event_name`` to this sub-package's handlers, as the
    worker does; returns how many events there were."""
    events = await outbox_events(runtime, event_name)
    dispatcher = Dispatcher(runtime.db)
    for event in events:
        for handler in oidc.HANDLERS:
            if handler.pattern == event_name:
                await dispatcher.run_once(handler, event)
    return len(events)
