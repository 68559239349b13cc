"""The page shell through HTTP: headers, navigation, error pages for browsers, flash messages,
the web app manifest."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import URLSafeSerializer

from campus.kernel.errors import Forbidden, install_error_handlers
from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.kernel.templating import flash, render
from campus.platform.access.service import signed_in
from campus.web.layouts.errors import html_error_page
from tests.conftest import LoginAs

HTML = {"Accept": "text/html,application/xhtml+xml"}


async def test_pages_carry_the_security_headers(login_as: LoginAs) -> None:
    client = await login_as("admin")
    for path in ("/", "/login"):
        response = await client.get(path)
        assert response.status_code == 200, path
        headers = response.headers
        assert "script-src 'self' 'unsafe-eval'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


async def test_pages_load_no_inline_script(login_as: LoginAs) -> None:
    """The CSP forbids inline scripts: every <script> must come from /static."""
    client = await login_as("admin")
    html = (await client.get("/")).text
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, "the layout loads Tabler, htmx and Alpine"
    for attributes, body in scripts:
        assert 'src="/static/' in attributes
        assert body.strip() == ""
    assert re.search(r"<[^>]*\son[a-z]+\s*=", html) is None, "no inline event handlers"


async def test_header_shows_user_menu_with_logout_form_and_language_links(
    login_as: LoginAs, demo: SeedContext
) -> None:
    client = await login_as("admin")
    html = (await client.get("/")).text
    admin = next(x for x in demo.logins if x.role == "admin")
    assert f'data-testid="user-name">{admin.name}<' in html
    logout = re.search(r'<form method="post" action="/logout">(.*?)</form>', html, re.S)
    assert logout is not None
    assert f'name="csrf_token" value="{client.cookies["campus_csrf"]}"' in logout.group(1)
    assert 'href="/locale/en?next=/"' in html
    assert '<meta name="theme-color" content="#066fd1">' in html
    assert '<link rel="manifest" href="/static/manifest.webmanifest">' in html


async def test_navigation_lists_only_entries_the_person_may_open(
    anon: httpx.AsyncClient, login_as: LoginAs, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.templates is not None
    modules = [
        Module("home_t", _("首页"), "campus", menu=(MenuEntry(_("首页"), "/", icon="home"),)),
        Module(
            "open_t", _("公开"), "campus", menu=(MenuEntry(_("公开页面"), "/open-test", order=1),)
        ),
        Module(
            "admin_t",
            _("管理"),
            "campus",
            menu=(
                MenuEntry(_("管理页面"), "/admin-test", permission="test.manage", order=2),
                MenuEntry(_("管理报表"), "/admin-report", permission="test.manage", order=3),
            ),
        ),
    ]
    monkeypatch.setitem(runtime.templates.env.globals, "modules", modules)

    # An anonymous visitor sees the shell on error pages: public entries only.
    anonymous = (await anon.get("/open-test/missing", headers=HTML)).text
    nav = _main_nav(anonymous)
    assert 'href="/open-test"' in nav
    assert 'href="/admin-test"' not in nav
    assert 'aria-current="page"' in nav.split('href="/open-test"')[1].split("</li>")[0]

    admin = await login_as("admin")
    nav = _main_nav((await admin.get("/")).text)
    assert 'href="/admin-test"' in nav
    assert "管理页面" in nav
    # A module's several entries share one drop-down named after the module.
    group = nav.split('data-testid="nav-group"')[1]
    assert "管理" in group and 'href="/admin-test"' in group and 'href="/admin-report"' in group
    assert 'data-testid="nav-toggle"' in (await admin.get("/")).text


@pytest.mark.parametrize(
    ("login", "offered", "not_offered"),
    [
        ("student", ("/academic/grades/me", "/academic/selection/me"), ("/academic/grades",)),
        ("teacher", ("/academic/grades", "/academic/my/sections"), ("/academic/grades/me",)),
        ("admin", ("/academic/grades", "/academic/grades/ranking"), ("/academic/selection/me",)),
    ],
)
async def test_students_and_teachers_are_offered_their_own_pages_only(
    login_as: LoginAs, login: str, offered: tuple[str, ...], not_offered: tuple[str, ...]
) -> None:
    client = await login_as(login)
    nav = _main_nav((await client.get("/academic/calendar")).text)
    apps = (await client.get("/apps")).text
    for path in offered:
        assert f'href="{path}"' in nav, path
        assert f'"{path}"' in apps, path
    for path in not_offered:
        assert f'href="{path}"' not in nav, path
        assert f'"{path}"' not in apps, path


def _main_nav(html: str) -> str:
    match = re.search(r'<ul class="navbar-nav" data-testid="main-nav".*?</ul>', html, re.S)
    assert match is not None, "the page has a main navigation"
    return match.group(0)


async def test_search_box_only_when_a_search_page_is_mounted(
    login_as: LoginAs, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.templates is not None
    client = await login_as("admin")
    expected = runtime.templates.env.globals["search_path"]
    html = (await client.get("/")).text
    if expected is None:
        assert 'data-testid="search-box"' not in html
    monkeypatch.setitem(runtime.templates.env.globals, "search_path", "/search")
    html = (await client.get("/")).text
    form = re.search(r'<form action="/search" method="get" role="search".*?</form>', html, re.S)
    assert form is not None
    assert 'name="q"' in form.group(0)


async def test_unknown_page_shows_a_chinese_error_page_to_browsers(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-testid="error-page" data-status="404"' in response.text
    assert "页面不存在" in response.text
    assert 'href="/"' in response.text
    # Security headers stay on error pages.
    assert response.headers["x-frame-options"] == "DENY"


async def test_error_page_in_english_when_chosen(anon: httpx.AsyncClient) -> None:
    anon.cookies.set("campus_locale", "en")
    response = await anon.get("/no-such-page", headers=HTML)
    assert response.status_code == 404
    assert "Page not found" in response.text


async def test_json_clients_keep_getting_problem_json(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/no-such-page", headers={"Accept": "application/json"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("application/problem+json")

    # /api/ answers problem+json even to a browser.
    api = await anon.get("/api/v1/auth/me", headers=HTML)
    assert api.status_code == 401
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["title"] == "请先登录"


async def test_wrong_method_on_a_page_is_an_error_page(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/logout", headers=HTML)
    assert response.status_code == 405
    assert 'data-status="405"' in response.text
    assert "POST" in response.headers["allow"]


async def test_web_app_manifest_and_icons_are_served(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/static/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#066fd1"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        icon_response = await anon.get(icon["src"])
        assert icon_response.status_code == 200, icon["src"]
        assert icon_response.headers["content-type"] == icon["type"]
    for asset in (
        "/static/campus.css",
        "/static/vendor/tabler/tabler.min.css",
        "/static/vendor/tabler/tabler.min.js",
        "/static/vendor/tabler-icons/tabler-icons.min.css",
        "/static/vendor/tabler-icons/fonts/tabler-icons.woff2",
    ):
        assert (await anon.get(asset)).status_code == 200, asset


# A small app with the real error handlers, templates and runtime, for the failures no page of
# the real app produces yet (a page that needs sign-in, a page that forbids) and for flashes.
probe = APIRouter()


@probe.get("/private", dependencies=[signed_in()])
async def private_page() -> Response:
    return Response("secret")


@probe.post("/private-form", dependencies=[signed_in()])
async def private_form() -> Response:
    return Response("saved")


@probe.get("/forbidden")
async def forbidden_page() -> Response:
    raise Forbidden(_("您没有“{code}”权限", code="test.secret"))


@probe.post("/save")
async def save(request: Request) -> Response:
    response = RedirectResponse("/saved", status_code=303)
    flash(request, response, _("已保存"))
    return response


@probe.get("/saved")
async def saved(request: Request) -> Response:
    return render(request, "layouts/error.html", 200, status=200, heading="ok", detail="")


@pytest.fixture
async def probe_client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.runtime = runtime
    install_error_handlers(app, html_error_page)
    app.include_router(probe)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_page_needing_sign_in_redirects_browser_to_login_with_next(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get("/private?tab=2", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprivate%3Ftab%3D2"

    api_style = await probe_client.get("/private")
    assert api_style.status_code == 401
    assert api_style.headers["content-type"].startswith("application/problem+json")


async def test_form_posted_after_sign_out_returns_to_the_form_page_after_login(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.post(
        "/private-form", headers={**HTML, "Referer": "http://testserver/edit?id=7"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fedit%3Fid%3D7"

    foreign = await probe_client.post(
        "/private-form", headers={**HTML, "Referer": "https://evil.example/phish"}
    )
    assert foreign.headers["location"] == "/login?next=%2F"


async def test_htmx_request_needing_sign_in_gets_a_full_page_redirect(
    probe_client: httpx.AsyncClient,
) -> None:
    response = await probe_client.get(
        "/private",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/list?page=3"},
    )
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login?next=%2Flist%3Fpage%3D3"


async def test_forbidden_page_shows_chinese_reason(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.get("/forbidden", headers=HTML)
    assert response.status_code == 403
    assert 'data-status="403"' in response.text
    assert "没有权限" in response.text
    assert "您没有“test.secret”权限" in response.text
    assert "请联系本单位的系统管理员" in response.text


async def test_flash_message_shows_once_after_redirect(probe_client: httpx.AsyncClient) -> None:
    response = await probe_client.post("/save", follow_redirects=True)
    assert response.status_code == 200
    assert 'data-testid="alert"' in response.text
    assert "已保存" in response.text
    again = await probe_client.get("/saved")
    assert "已保存" not in again.text


async def test_forged_flash_cookie_is_ignored(probe_client: httpx.AsyncClient) -> None:
    forged = URLSafeSerializer("not-the-secret", salt="campus.flash").dumps(
        ["danger", "请立即转账"]
    )
    probe_client.cookies.set("campus_flash", forged)
    response = await probe_client.get("/saved")
    assert "请立即转账" not in response.text
