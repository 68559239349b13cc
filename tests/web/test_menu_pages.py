"""Every page the menu offers each demo person opens for them: no error page, no page they
are refused, whatever their role."""

from __future__ import annotations

import re

import pytest

from tests.conftest import LoginAs

HTML = {"Accept": "text/html,application/xhtml+xml"}
ROLES = ("admin", "staff", "user_admin", "teacher", "counselor", "student")


def _offered(html: str) -> list[str]:
    """The paths of the main navigation's entries."""
    nav = re.search(r'<ul class="navbar-nav" data-testid="main-nav".*?</ul>', html, re.S)
    assert nav is not None, "the page has a main navigation"
    return sorted(set(re.findall(r'href="(/[^"?#]*)"', nav.group(0))))


@pytest.mark.parametrize("role", ROLES)
async def test_every_page_the_menu_offers_opens(login_as: LoginAs, role: str) -> None:
    client = await login_as(role)
    home = await client.get("/", headers=HTML)
    assert home.status_code == 200
    paths = _offered(home.text)
    assert len(paths) >= 5, paths
    failures = []
    for path in paths:
        response = await client.get(path, headers=HTML)
        if response.status_code != 200 or 'data-testid="error-page"' in response.text:
            failures.append((path, response.status_code))
    assert failures == [], f"{role} is offered pages that do not open: {failures}"


async def test_staff_work_is_not_offered_to_students(login_as: LoginAs) -> None:
    """公文 and 收文 circulate among staff; a student's menu has its own entries instead."""
    student = _offered((await (await login_as("student")).get("/", headers=HTML)).text)
    teacher = _offered((await (await login_as("teacher")).get("/", headers=HTML)).text)
    for path in ("/oa/documents", "/oa/inbox"):
        assert path in teacher and path not in student, path
    assert "/oa/notices" in student and "/oa/notices" in teacher
