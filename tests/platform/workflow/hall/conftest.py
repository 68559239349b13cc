"""Helpers of the service hall's page tests: forms posted as a browser posts them (with the
CSRF field), the certificate application filled in on its page, and reading the pages."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import LoginAs
from tests.platform.workflow.conftest import Cast

HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}
CERTIFICATE = {
    "data.name": "沈同学",
    "data.number": "2023001",
    "data.language": "中文",
    "data.purpose": "签证",
    "data.copies": "2",
}


CastOf = Callable[..., Awaitable[Cast]]


@pytest.fixture
def cast_of(login_as: LoginAs) -> CastOf:
    """``await cast_of("student", "staff")``: clients and person ids of just those demo logins
    (signing in is slow on purpose, so each test signs in only whom it needs)."""

    async def make(*roles: str) -> Cast:
        clients, ids = {}, {}
        for role in roles:
            client = await login_as(role)
            clients[role] = client
            ids[role] = (await client.get("/api/v1/auth/me")).json()["person_id"]
        return Cast(clients, ids)

    return make


async def page(client: httpx.AsyncClient, url: str, status: int = 200) -> str:
    response = await client.get(url, headers=HTML)
    assert response.status_code == status, response.text[:2000]
    return response.text


async def post(
    client: httpx.AsyncClient, url: str, data: dict[str, Any] | None = None, **headers: str
) -> httpx.Response:
    """A form posted by the browser: its fields plus the page's CSRF token."""
    fields = {"csrf_token": client.headers["X-CSRF-Token"], **(data or {})}
    return await client.post(url, data=fields, headers={**HTML, **headers})


def redirected_to(response: httpx.Response, path: str | None = None) -> str:
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    if path is not None:
        assert location == path, location
    return location


async def apply_on_page(cast: Cast, key: str = "enrolment_certificate", **changes: str) -> int:
    """The student fills in ``key``'s form on its page and submits it; the new instance's id."""
    response = await post(
        cast["student"], f"/hall/services/{key}/apply", {**CERTIFICATE, **changes}
    )
    location = redirected_to(response)
    match = re.fullmatch(r"/hall/instances/(\d+)", location)
    assert match, location
    return int(match.group(1))


def count_testid(html: str, testid: str) -> int:
    return html.count(f'data-testid="{testid}"')


def field_error(html: str, name: str) -> str | None:
    """The reason shown under input ``name``, if any."""
    match = re.search(rf'data-testid="error-{re.escape(name)}">([^<]*)<', html)
    return match.group(1) if match else None
