"""The shell's rules without HTTP: who sees which entry, which tile, where redirects may go."""

from __future__ import annotations

import pytest
from fastapi import APIRouter

from campus.kernel.context import Principal
from campus.kernel.i18n import _
from campus.kernel.manifest import MenuEntry, Module
from campus.web.layouts.shell import is_active, login_url, page_route_path, safe_path
from campus.web.portal.tiles import module_tiles

PUBLIC = MenuEntry(_("公开"), "/open", order=5)
MANAGE = MenuEntry(_("管理"), "/things/admin", permission="things.manage", order=1)
READ = MenuEntry(_("查看"), "/things", permission="things.read", order=2)


def _person(*codes: str, audience: str | None = None) -> Principal:
    return Principal(
        person_id=1, name="测试", login="T1", permissions=frozenset(codes), audience=audience
    )


def _module(name: str, *entries: MenuEntry) -> Module:
    return Module(name=name, title=_(name), package="campus.web.portal", menu=entries)


def test_tile_links_to_the_first_entry_the_person_may_open() -> None:
    things = _module("things", READ, MANAGE)
    assert [t.entry.path for t in module_tiles([things], _person("things.manage"))] == [
        "/things/admin"
    ]
    assert [t.entry.path for t in module_tiles([things], _person("things.read"))] == ["/things"]
    assert module_tiles([things], _person("other.code")) == []
    assert module_tiles([things], None) == []


def test_tiles_skip_the_home_page_and_modules_without_menus_and_keep_menu_order() -> None:
    home = _module("portal", MenuEntry(_("首页"), "/", order=0))
    silent = _module("silent")
    late = _module("late", MenuEntry(_("后"), "/late", order=50))
    early = _module("early", PUBLIC)
    tiles = module_tiles([home, silent, late, early], _person())
    assert [t.name for t in tiles] == ["early", "late"]


def test_personal_entries_are_offered_to_their_audience_only() -> None:
    mine = MenuEntry(_("我的成绩"), "/grades/me", audience="student")
    entry = MenuEntry(_("成绩录入"), "/grades", audience="staff")
    review = MenuEntry(_("成绩审核"), "/grades/review", "grades.review", audience="staff")
    student, teacher = _person(audience="student"), _person(audience="staff")
    assert mine.open_to(student) and not entry.open_to(student)
    assert entry.open_to(teacher) and not mine.open_to(teacher)
    # The audience narrows a permission, never widens it; "*" does not cross audiences.
    assert not review.open_to(teacher)
    assert review.open_to(_person("grades.review", audience="staff"))
    assert not mine.open_to(_person("*", audience="staff"))
    # Whoever's audience is not known (a session cached before audiences) is offered both;
    # nobody signed in is offered neither.
    assert mine.open_to(_person()) and entry.open_to(_person())
    assert not mine.open_to(None) and PUBLIC.open_to(None)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/users/people?page=2", "/users/people?page=2"),
        ("/", "/"),
        (None, "/"),
        ("", "/"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("users", "/"),
    ],
)
def test_safe_path_keeps_only_same_site_paths(target: str | None, expected: str) -> None:
    assert safe_path(target) == expected


def test_login_url_carries_the_page_to_return_to() -> None:
    assert login_url("/a?b=1") == "/login?next=%2Fa%3Fb%3D1"
    assert login_url("https://evil.example/") == "/login?next=%2F"


def test_active_entry_covers_its_pages_but_home_only_itself() -> None:
    assert is_active(READ, "/things")
    assert is_active(READ, "/things/7")
    assert not is_active(READ, "/thingsandmore")
    home = MenuEntry(_("首页"), "/")
    assert is_active(home, "/")
    assert not is_active(home, "/things")


def test_search_page_is_found_by_route_name_but_not_an_api_route() -> None:
    api = APIRouter(prefix="/api/v1/search")

    @api.get("")
    async def search() -> dict[str, str]:
        return {}

    pages = APIRouter(prefix="/portal")

    @pages.post("/search", name="search")
    async def search_post() -> dict[str, str]:
        return {}

    assert page_route_path([*api.routes, *pages.routes], "search") is None

    @pages.get("/search", name="search")
    async def search_page() -> dict[str, str]:
        return {}

    assert page_route_path([*api.routes, *pages.routes], "search") == "/portal/search"
