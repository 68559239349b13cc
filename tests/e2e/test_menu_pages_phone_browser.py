"""Every page the menu offers a student, a teacher and an administrator fits a phone: on a
390-pixel screen none is wider than the screen (tables scroll inside their cards), and none
shows an error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import sign_in
from tests.e2e.live import LiveServer

pytestmark = pytest.mark.browser


def _offered(page: Page) -> list[str]:
    """The paths of the main navigation's entries (the drop-downs' included)."""
    links = page.get_by_test_id("main-nav").locator("a[href^='/']")
    paths = links.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return sorted({path for path in paths if path != "/"})


@pytest.mark.parametrize("role", ["student", "teacher", "admin"])
def test_every_page_offered_fits_a_phone(phone_page: Page, server: LiveServer, role: str) -> None:
    page = phone_page
    person = server.login(role)
    sign_in(page, person.login, person.password)
    paths = _offered(page)
    assert len(paths) >= 10, paths
    too_wide, broken = [], []
    for path in paths:
        response = page.goto(path)
        if response is None or response.status != 200 or page.get_by_test_id("error-page").count():
            broken.append(path)
            continue
        wide, screen = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
        if wide > screen:
            too_wide.append((path, wide))
    assert broken == [], f"pages offered to the {role} that do not open: {broken}"
    assert too_wide == [], f"pages wider than a {390}px phone for the {role}: {too_wide}"
