"""CAS single sign-on in a real browser (Debian's Chromium through Playwright): a person opens
the library, signs in once on the Campus login page, then opens the OA system and gets in
without typing the password again; signing out through /cas/logout returns to the library and
both applications receive their back-channel logout request. A single-page application signed
in over OpenID Connect is signed out by the browser itself: the logout page frames its
front-channel logout URI.

The two applications are the local receiver (tests/platform/auth/cas/conftest.py), registered
through the administration API of live Campus servers; their tickets are validated with
python-cas, as the applications' own back ends would.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from cas import CASClient, SingleLogoutMixin
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.live import CHROMIUM, launch_chromium
from tests.platform.auth.cas.conftest import Receiver
from tests.platform.auth.cas.live_cas import Live, register

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Closed at the end of the module: while it runs, Playwright's loop is marked running."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: browser tests need Debian's chromium")
    playwright = sync_playwright().start()
    try:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()


@pytest.fixture
def page(browser: Browser, live: Live) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live.urls[0], locale="zh-CN", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def ticket_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ticket"][0]


def test_sign_in_once_and_reach_two_applications(
    page: Page, live: Live, receiver: Receiver
) -> None:
    library, oa = receiver.url("/lib/"), receiver.url("/oa/")
    register(
        live, name=f"图书馆 {receiver.base_url}", url_pattern=library, released_attributes=["name"]
    )
    register(live, name=f"OA {receiver.base_url}", url_pattern=oa)
    student = live.login("student")

    page.goto(f"/cas/login?service={library}")
    assert urlsplit(page.url).path == "/login"
    page.get_by_label("账号").fill(student["login"])
    page.get_by_label("密码").fill(student["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{library}?ticket=ST-*")
    lib_ticket = ticket_in(page.url)
    client = CASClient(version=3, service_url=library, server_url=f"{live.urls[0]}/cas/")
    user, attributes, _iou = client.verify_ticket(lib_ticket)
    assert user == student["login"]
    assert attributes["name"] == student["name"]
    assert attributes["isFromNewLogin"] == "true"

    page.goto(f"{live.urls[0]}/cas/login?service={oa}")
    page.wait_for_url(f"{oa}?ticket=ST-*")
    oa_ticket = ticket_in(page.url)
    oa_client = CASClient(version=2, service_url=oa, server_url=f"{live.urls[1]}/cas/")
    assert oa_client.verify_ticket(oa_ticket)[0] == student["login"], "no second password"

    page.goto(f"{live.urls[0]}/cas/logout?service={library}")
    page.wait_for_url(library)
    deadline = time.monotonic() + 20
    pending = {lib_ticket, oa_ticket}
    while pending and time.monotonic() < deadline:
        for request in receiver.posts():
            document = request.form["logoutRequest"][0]
            pending = {
                t for t in pending if not SingleLogoutMixin.verify_logout_request(document, t)
            }
        time.sleep(0.1)
    assert not pending, f"no logout request for {pending}:\n{live.log_tail()}"
    page.goto(f"{live.urls[0]}/cas/login?service={oa}")
    assert urlsplit(page.url).path == "/login", "the SSO session is over"


def test_signing_out_frames_a_single_page_apps_front_channel_logout(
    page: Page, live: Live, receiver: Receiver
) -> None:
    callback, front = receiver.url("/spa/callback"), receiver.url("/spa/signed-out")
    admin = live.signed_in("admin")
    made = admin.post(
        f"{live.urls[0]}/api/v1/auth/oidc/clients",
        json={
            "name": f"单页应用 {receiver.base_url}",
            "client_type": "public",
            "first_party": True,
            "redirect_uris": [callback],
            "frontchannel_logout_uri": front,
        },
        timeout=30,
    )
    assert made.status_code == 201, made.text
    client_id = made.json()["client_id"]
    student = live.login("student")
    page.goto("/login")
    page.get_by_label("账号").fill(student["login"])
    page.get_by_label("密码").fill(student["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": callback,
        "scope": "openid",
        "state": "s",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
    }
    page.goto(f"/oauth/authorize?{urlencode(query)}")
    page.wait_for_url(f"{callback}?*")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    tokens = requests.post(
        f"{live.urls[0]}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=30,
    )
    assert tokens.status_code == 200, tokens.text

    page.goto("/cas/logout")
    page.wait_for_url("**/login")  # after the frames had their moment
    framed = [r for r in receiver.gets() if r.path == "/spa/signed-out"]
    assert len(framed) == 1, f"{receiver.gets()}\n{live.log_tail()}"
    assert framed[0].query["iss"] and framed[0].query["sid"]
