from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update

from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.platform.auth.models import Credential
from campus.platform.users.models import Identity
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


@pytest.fixture
async def admin_unlocked_afterwards(db: Runtime) -> AsyncIterator[None]:
    """Guessing counts failures against the demo administrator; writes can outlive a test on
    SQLite, so the account starts without earlier failures and ends without them. (Lockout
    itself is tested on accounts of their own in tests/platform/auth/.)"""
    await _reset_admin_failures(db)
    yield
    await _reset_admin_failures(db)


async def _reset_admin_failures(db: Runtime) -> None:
    admin_id = select(Identity.person_id).where(Identity.value == "A0001").scalar_subquery()
    async with db.db.transaction() as session:
        await session.execute(
            update(Credential)
            .where(Credential.person_id == admin_id)
            .values(failed_logins=0, locked_until=None, last_failed_at=None)
        )


@pytest.mark.usefixtures("admin_unlocked_afterwards")
async def test_guessing_is_slowed_down_per_account_before_any_lockout(
    anon: httpx.AsyncClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime.settings, "lockout_failures", 100)
    attempt = {"login": "A0001", "password": "wrong"}
    statuses = [
        (await anon.post("/api/v1/auth/login", json=attempt)).status_code for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    last = await anon.post("/api/v1/auth/login", json={"login": "A0001", "password": "Admin@2026"})
    assert last.status_code == 429, "the right password does not bypass the limit"
    assert last.json()["retry_after"] > 0
    assert last.headers["retry-after"] == str(last.json()["retry_after"])


async def test_failed_login_is_audited(anon: httpx.AsyncClient, db: Runtime) -> None:
    await anon.post("/api/v1/auth/login", json={"login": "nobody-x", "password": "x"})
    async with db.db.read() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.target_id == "nobody-x")
            )
        )
    assert actions == ["auth.login.failed"]


async def test_login_form_posts_with_its_csrf_field_and_refuses_open_redirects(
    anon: httpx.AsyncClient,
) -> None:
    token = anon.headers.pop("X-CSRF-Token")
    form = {
        "login": "A0001",
        "password": "Admin@2026",
        "next": "https://evil.example/",
        "csrf_token": token,
    }
    response = await anon.post("/login", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    anon.headers["X-CSRF-Token"] = token
    assert (await anon.get("/api/v1/auth/me")).status_code == 200


async def test_logout_ends_the_session(login_as: LoginAs) -> None:
    client = await login_as("admin")
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401
