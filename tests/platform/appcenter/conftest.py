"""Fixtures for the app center's tests: clients per demo login and a helper creating apps."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.conftest import LoginAs

APPS = "/api/v1/appcenter/apps"
MINE = "/api/v1/appcenter/my-apps"


def unique(prefix: str = "app") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def app_body(**fields: Any) -> dict[str, Any]:
    code = unique()
    return {"code": code, "name": f"测试应用{code[-8:]}", "url": "https://x.demo.edu.cn/", **fields}


MakeApp = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
async def admin(login_as: LoginAs) -> httpx.AsyncClient:
    return await login_as("admin")


@pytest.fixture
async def make_app(admin: httpx.AsyncClient) -> MakeApp:
    async def make(**fields: Any) -> dict[str, Any]:
        response = await admin.post(APPS, json=app_body(**fields))
        assert response.status_code == 201, response.text
        return dict(response.json())

    return make


async def my_codes(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get(MINE, params=params)
    assert response.status_code == 200, response.text
    return [app["code"] for app in response.json()]
