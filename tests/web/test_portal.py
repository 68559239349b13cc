"""The portal through HTTP: the home page, its module grid, the language switch, sign-out."""

from __future__ import annotations

import re

import httpx
import pytest

from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext
from campus.web.portal.pages import HOME_GRID_SIZE
from tests.conftest import LoginAs

HTML = {"Accept": "text/html"}


def _module(name: str, title: str, *entries: MenuEntry) -> Module:
    return Module(name=name, title=_(title), package="campus.web.portal", menu=entries)


def _admin_name(demo: SeedContext) -> str:
    return next(x.name for x in demo.logins if x.role == "admin")


def _tile_modules(html: str) -> list[str]:
    return re.findall(r'data-testid="module-tile" data-module="([^"]+)"', html)


async def test_anonymous_home_redirects_to_login(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"


async def test_signed_in_home_greets_by_name_and_lists_modules(
    login_as: LoginAs, runtime: Runtime, demo: SeedContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = _module(
        "library_test",
        "图书馆测试",
        MenuEntry(_("借阅管理"), "/library-test/admin", permission="library.manage", order=5),
        MenuEntry(_("我的借阅"), "/library-test/mine", icon="book", order=10),
    )
    hidden = _module("hidden_test", "无菜单模块")
    monkeypatch.setattr(runtime, "modules", [*runtime.modules, library, hidden])
    client = await login_as("admin")

    response = await client.get("/")

    assert response.status_code == 200
    html = response.text
    assert f"你好，{_admin_name(demo)}" in html
    assert 'data-testid="module-grid"' in html
    # The grid shows the first apps of the administrator's some seventy; 全部应用 has them all.
    catalog = (await client.get("/apps", headers=HTML)).text
    everything = re.findall(r'data-testid="app" data-app="([^"]+)"', catalog)
    shown = re.findall(r'data-app="([^"]+)"', html)
    assert len(everything) > HOME_GRID_SIZE and shown == everything[:HOME_GRID_SIZE]
    assert f'data-testid="app-count">{len(everything)}<' in html
    # Each entry the administrator may open is an app (they hold every code); a module
    # without menu entries has none.
    assert {"m.library_test.library-test.admin", "m.library_test.library-test.mine"} <= set(
        everything
    )
    assert not any(code.startswith("m.hidden_test.") for code in everything)
    assert "图书馆测试" in catalog


async def test_home_shows_an_empty_state_when_no_module_can_be_opened(
    login_as: LoginAs, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "modules", [_module("bare_test", "空模块")])
    client = await login_as("admin")
    response = await client.get("/")
    assert response.status_code == 200
    assert _tile_modules(response.text) == []
    assert "暂无可用的应用" in response.text


async def test_language_switch_sets_cookie_and_pages_turn_english(
    login_as: LoginAs, demo: SeedContext
) -> None:
    name = _admin_name(demo)
    client = await login_as("admin")

    response = await client.get("/locale/en", params={"next": "/"})

    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("campus_locale=en;")
    assert "Max-Age=31536000" in cookie
    assert client.cookies.get("campus_locale") == "en"
    home = await client.get("/")
    assert '<html lang="en">' in home.text
    assert f"Hello, {name}" in home.text
    assert "My apps" in home.text
    assert "你好" not in home.text

    back = await client.get("/locale/zh_CN", params={"next": "/"})
    assert back.status_code == 303
    home = await client.get("/")
    assert '<html lang="zh-CN">' in home.text
    assert f"你好，{name}" in home.text


async def test_language_switch_refuses_unknown_languages_and_foreign_targets(
    anon: httpx.AsyncClient,
) -> None:
    unknown = await anon.get("/locale/fr")
    assert unknown.status_code == 404
    assert "campus_locale" not in unknown.headers.get("set-cookie", "")

    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await anon.get("/locale/en", params={"next": target})
        assert response.status_code == 303
        assert response.headers["location"] == "/", target


async def test_language_switch_returns_to_the_page_it_was_chosen_on(
    anon: httpx.AsyncClient,
) -> None:
    response = await anon.get("/locale/en", params={"next": "/login?next=%2Fx"})
    assert response.headers["location"] == "/login?next=%2Fx"
    login = await anon.get("/login")
    assert "Smart Campus Sign-in" in login.text
    assert 'name="password"' in login.text


async def test_login_form_shows_the_chinese_error_and_keeps_the_login(
    anon: httpx.AsyncClient,
) -> None:
    page = await anon.get("/login", params={"next": "/"})
    token = anon.cookies["campus_csrf"]
    assert f'name="csrf_token" value="{token}"' in page.text
    assert 'name="next" value="/"' in page.text

    response = await anon.post(
        "/login",
        data={"csrf_token": token, "login": "A0001", "password": "wrong", "next": "/"},
    )

    assert response.status_code == 401
    assert 'data-testid="login-error"' in response.text
    assert "账号或密码错误" in response.text
    assert 'value="A0001"' in response.text


async def test_sign_out_form_ends_the_session(login_as: LoginAs) -> None:
    client = await login_as("admin")
    home = await client.get("/")
    assert 'action="/logout"' in home.text
    token = client.cookies["campus_csrf"]

    response = await client.post("/logout", data={"csrf_token": token})

    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    after = await client.get("/", headers=HTML)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


async def test_home_shows_my_todos_from_the_todo_center(login_as: LoginAs) -> None:
    counselor = await login_as("counselor")
    counts = (await counselor.get("/api/v1/workflow/tasks/counts")).json()
    assert counts["todo"] >= 1  # the demo month's leave applications wait for their counselor
    html = (await counselor.get("/", headers=HTML)).text
    summary = re.search(r'data-testid="todo-count">.*?<span[^>]*>(\d+)</span>', html, re.S)
    assert summary is not None and int(summary.group(1)) == counts["todo"]
    assert 'href="/hall/tasks"' in html
