"""Single sign-on in a real browser: a person signs in once at Campus and reaches two
different registered applications without signing in again; signing out at one of them
ends the Campus session, and the other is told over its back channel.

The two applications are tiny Starlette apps started here on free 127.0.0.1 ports, each a
relying party built on Authlib's Starlette client (discovery, code + PKCE, ID token checked
against the JWKS). They are registered as clients through Campus's own administration API:
the library as the university's own system, the LMS as a third party that asks for consent.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from authlib.integrations.starlette_client import OAuth
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page, expect
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.e2e.live import DemoLogin, LiveServer

pytestmark = pytest.mark.browser


@dataclass
class RelyingParty:
    """One application: where it listens and what it has seen."""

    name: str
    port: int
    logout_tokens: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_socket() -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _app(rp: RelyingParty, issuer: str, client_id: str, secret: str, scope: str) -> Starlette:
    oauth = OAuth()
    oauth.register(
        name="campus",
        client_id=client_id,
        client_secret=secret,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": scope, "code_challenge_method": "S256"},
    )
    campus: Any = oauth.campus

    async def home(request: Request) -> Response:
        user = request.session.get("user")
        if user is None:
            return HTMLResponse(
                f'<h1>{rp.name}</h1><a href="/login" id="login">统一身份认证登录</a>'
            )
        who = f"{user['name']}（{user['preferred_username']}）"
        logout = '<a href="/logout" id="logout">退出</a>'
        return HTMLResponse(f'<h1>{rp.name}</h1><p id="user">已登录：{who}</p>{logout}')

    async def login(request: Request) -> Response:
        return await campus.authorize_redirect(request, f"{rp.base_url}/callback")

    async def callback(request: Request) -> Response:
        token = await campus.authorize_access_token(request)
        request.session["user"] = dict(token["userinfo"])
        request.session["id_token"] = token["id_token"]
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        metadata = await campus.load_server_metadata()
        id_token = request.session.pop("id_token", "")
        request.session.clear()
        query = httpx.QueryParams(
            {"id_token_hint": id_token, "post_logout_redirect_uri": f"{rp.base_url}/", "state": "x"}
        )
        return RedirectResponse(f"{metadata['end_session_endpoint']}?{query}", status_code=303)

    async def backchannel(request: Request) -> Response:
        form = await request.form()
        rp.logout_tokens.append(str(form["logout_token"]))
        return Response(status_code=200)

    return Starlette(
        routes=[
            Route("/", home),
            Route("/login", login),
            Route("/callback", callback),
            Route("/logout", logout),
            Route("/backchannel", backchannel, methods=["POST"]),
        ],
        # Both applications live on 127.0.0.1, where cookies ignore the port: distinct names.
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=secrets.token_hex(16),
                session_cookie=f"rp_{rp.port}",
            )
        ],
    )


@contextmanager
def _serving(app: Starlette, sock: socket.socket) -> Iterator[None]:
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _admin_api(server: LiveServer, admin: DemoLogin) -> httpx.Client:
    client = httpx.Client(base_url=server.base_url, timeout=15)
    client.get("/login")
    client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
    response = client.post(
        "/api/v1/auth/login", json={"login": admin.login, "password": admin.password}
    )
    assert response.status_code == 200, response.text
    return client


def _register(
    api: httpx.Client, rp: RelyingParty, *, first_party: bool, scopes: list[str]
) -> dict[str, Any]:
    response = api.post(
        "/api/v1/auth/oidc/clients",
        json={
            "name": rp.name,
            "first_party": first_party,
            "redirect_uris": [f"{rp.base_url}/callback"],
            "post_logout_redirect_uris": [f"{rp.base_url}/"],
            "allowed_scopes": scopes,
            "backchannel_logout_uri": f"{rp.base_url}/backchannel",
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def applications(server: LiveServer) -> Iterator[tuple[RelyingParty, RelyingParty]]:
    admin = server.login("admin")
    library_sock, lms_sock = _free_socket(), _free_socket()
    library = RelyingParty("图书馆系统（测试）", library_sock.getsockname()[1])
    lms = RelyingParty("学在云教学平台（测试）", lms_sock.getsockname()[1])
    api = _admin_api(server, admin)
    try:
        library_client = _register(
            api, library, first_party=True, scopes=["openid", "profile", "campus"]
        )
        lms_client = _register(api, lms, first_party=False, scopes=["openid", "profile"])
    finally:
        api.close()
    library_app = _app(
        library,
        server.base_url,
        library_client["client_id"],
        library_client["client_secret"],
        "openid profile campus",
    )
    lms_app = _app(
        lms, server.base_url, lms_client["client_id"], lms_client["client_secret"], "openid profile"
    )
    with _serving(library_app, library_sock), _serving(lms_app, lms_sock):
        yield library, lms


def test_one_sign_in_reaches_two_applications(
    page: Page, server: LiveServer, applications: tuple[RelyingParty, RelyingParty]
) -> None:
    library, lms = applications
    student = server.login("student")
    visited: list[str] = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))

    # The library sends the browser to Campus, which asks for the password once.
    page.goto(library.base_url + "/")
    page.locator("#login").click()
    expect(page.get_by_label("账号")).to_be_visible()
    assert page.url.startswith(server.base_url + "/login?next=")
    page.get_by_label("账号").fill(student.login)
    page.get_by_label("密码").fill(student.password)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#user")).to_contain_text(student.name)
    assert page.url.startswith(library.base_url)

    # The LMS, a third party, asks for consent, but not for the password.
    logins_before = sum(1 for url in visited if "/login?" in url and server.base_url in url)
    page.goto(lms.base_url + "/")
    page.locator("#login").click()
    consent = page.get_by_test_id("oidc-consent")
    expect(consent).to_be_visible()
    expect(consent).to_contain_text(lms.name)
    page.get_by_test_id("oidc-allow").click()
    expect(page.locator("#user")).to_contain_text(student.name)
    assert page.url.startswith(lms.base_url)
    logins_after = sum(1 for url in visited if "/login?" in url and server.base_url in url)
    assert logins_after == logins_before, "no second password prompt"

    # Signing out at the LMS ends the Campus session; the library hears it on its back channel.
    page.locator("#logout").click()
    expect(page.locator("#login")).to_be_visible()
    assert page.url.startswith(lms.base_url)
    deadline = time.monotonic() + 20
    while not library.logout_tokens and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert library.logout_tokens, "the library got a back-channel logout token"
    keys = KeySet.import_key_set(httpx.get(server.base_url + "/oauth/jwks").json())
    token = jwt.decode(library.logout_tokens[0], keys, algorithms=["RS256"])
    assert token.header["typ"] == "logout+jwt"
    assert token.claims["iss"] == server.base_url
    assert "http://schemas.openid.net/event/backchannel-logout" in token.claims["events"]

    # Back at the library's sign-in, Campus asks for the password again.
    page.goto(library.base_url + "/")
    page.context.clear_cookies(name=f"rp_{library.port}")
    page.goto(library.base_url + "/")
    page.locator("#login").click()
    expect(page.get_by_label("账号")).to_be_visible()
