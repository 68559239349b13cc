from __future__ import annotations

import httpx

from tests.conftest import LoginAs


async def test_admin_signs_in_and_reads_me(login_as: LoginAs) -> None:
    client = await login_as("admin")
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["login"] == "A0001"
    assert "*" in response.json()["permissions"]


async def test_wrong_password_is_problem_json_in_chinese(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/api/v1/auth/login", json={"login": "A0001", "password": "nope"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == "账号或密码错误"


async def test_missing_field_names_the_field(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/api/v1/auth/login", json={"login": "A0001"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [{"field": "password", "reason": "必填"}]


async def test_english_when_asked(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/auth/me", headers={"Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["title"] == "Please sign in"


async def test_post_without_csrf_token_is_refused(anon: httpx.AsyncClient) -> None:
    del anon.headers["X-CSRF-Token"]
    response = await anon.post("/api/v1/auth/login", json={"login": "A0001", "password": "x"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
