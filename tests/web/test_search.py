from __future__ import annotations

from campus.kernel.seeding import SeedContext
from tests.conftest import LoginAs

HTML = {"Accept": "text/html"}


async def test_header_has_the_search_box(login_as: LoginAs) -> None:
    client = await login_as("admin")
    page = (await client.get("/", headers=HTML)).text
    assert 'data-testid="search-box"' in page and 'action="/search"' in page


async def test_admin_finds_apps_and_people_by_number_prefix(
    login_as: LoginAs, demo: SeedContext
) -> None:
    student = next(x for x in demo.logins if x.role == "student")
    client = await login_as("admin")
    page = (await client.get("/search", params={"q": student.login}, headers=HTML)).text
    assert 'data-testid="search-person"' in page
    assert student.name in page
    apps = (await client.get("/search", params={"q": "组织"}, headers=HTML)).text
    assert 'href="/apps/m.users.users.org/open"' in apps


async def test_student_finds_no_people(login_as: LoginAs, demo: SeedContext) -> None:
    admin = next(x for x in demo.logins if x.role == "admin")
    client = await login_as("student")
    page = (await client.get("/search", params={"q": admin.name}, headers=HTML)).text
    assert 'data-testid="search-people"' not in page
    assert admin.login not in page
    # Nor the apps they may not open.
    assert (
        'href="/apps/m.users.users.org/open"'
        not in (await client.get("/search", params={"q": "组织"}, headers=HTML)).text
    )


async def test_search_needs_sign_in_and_bounded_input(anon, login_as: LoginAs) -> None:  # type: ignore[no-untyped-def]
    response = await anon.get("/search?q=x", headers=HTML)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    client = await login_as("admin")
    too_long = await client.get("/search", params={"q": "x" * 61})
    assert too_long.status_code == 422
    assert too_long.json()["errors"][0]["field"] == "q"
