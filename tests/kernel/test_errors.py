"""Every failure is RFC 9457 problem+json: unknown routes, wrong methods, bad input, oversized
bodies and unexpected exceptions alike."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
from pydantic import BaseModel, Field, HttpUrl, ValidationError
from sqlalchemy import func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.errors import validation_field_errors
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.kernel.conftest import AppFactory, client_for

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://campus.example.edu.cn/problems/"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, object] = response.json()
    assert body["type"] == TYPE_BASE + slug
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    return body


async def test_unknown_route_is_404_problem(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/api/v1/no-such-thing/17")
    body = assert_problem(response, 404, "not-found")
    assert body["title"] == "未找到"
    assert body["instance"] == "/api/v1/no-such-thing/17"


async def test_wrong_method_is_405_problem_naming_the_allowed_ones(
    anon: httpx.AsyncClient,
) -> None:
    response = await anon.delete("/api/v1/auth/me")
    body = assert_problem(response, 405, "method-not-allowed")
    assert body["title"] == "不支持该请求方法"
    assert response.headers["allow"] == "GET"


async def test_bad_input_is_422_with_an_error_per_field(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/api/v1/auth/login", json={"login": ["not", "text"]})
    body = assert_problem(response, 422, "invalid-input")
    assert sorted(body["errors"], key=lambda e: e["field"]) == [  # type: ignore[arg-type]
        {"field": "login", "reason": "应为文本"},
        {"field": "password", "reason": "必填"},
    ]


async def test_malformed_json_is_422_not_500(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        "/api/v1/auth/login",
        content=b'{"login": "A0001", "password": ',
        headers={"Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "invalid-input")
    assert body["errors"][0]["reason"] == "JSON 格式不正确"  # type: ignore[index]


async def test_per_field_reasons_are_english_when_asked(anon: httpx.AsyncClient) -> None:
    response = await anon.post(
        "/api/v1/auth/login", json={"login": "A0001"}, headers={"Accept-Language": "en"}
    )
    body = assert_problem(response, 422, "invalid-input")
    assert body["title"] == "Invalid input"
    assert body["errors"] == [{"field": "password", "reason": "required"}]


async def test_body_over_the_declared_limit_is_413_problem(
    make_app: AppFactory, db: Runtime
) -> None:
    client = await client_for(make_app({"max_upload_bytes": 64}))
    small = await client.post("/api/v1/probe/echo", content=b"x" * 64)
    large = await client.post("/api/v1/probe/echo", content=b"x" * 65)
    await client.aclose()
    assert small.status_code == 200
    assert small.json() == {"bytes": 64}
    assert_problem(large, 413, "payload-too-large")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/probe/echo", "/api/v1/auth/login"],
    ids=["route-reads-the-body", "fastapi-parses-a-json-body"],
)
async def test_streamed_body_over_the_limit_is_413_problem(
    make_app: AppFactory, db: Runtime, path: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"login": "A0001", "password": "'
        for _ in range(10):
            yield b"x" * 16
        yield b'"}'

    client = await client_for(make_app({"max_upload_bytes": 64}))
    # No Content-Length: the limit is only found while the body is read.
    response = await client.post(
        path, content=chunks(), headers={"Content-Type": "application/json"}
    )
    await client.aclose()
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")


async def test_unexpected_exception_is_500_problem_without_internals(
    make_app: AppFactory, db: Runtime
) -> None:
    client = await client_for(make_app(), raise_app_exceptions=False, language="en")
    response = await client.get("/api/v1/probe/boom")
    await client.aclose()
    body = assert_problem(response, 500, "internal-error")
    assert body["detail"] == "Internal server error; it has been logged, please try again later"
    for secret in ("hunter2", "postgresql", "RuntimeError", "Traceback", "boom"):
        assert secret not in response.text.replace("/api/v1/probe/boom", "")


async def test_a_database_too_busy_to_answer_is_503_to_retry_not_500(
    make_app: AppFactory, db: Runtime
) -> None:
    client = await client_for(make_app(), raise_app_exceptions=False)
    response = await client.get("/api/v1/probe/locked")
    await client.aclose()
    body = assert_problem(response, 503, "busy")
    assert body["title"] == "系统繁忙，请稍后再试"
    assert body["detail"] == "系统繁忙，请求未被处理，请稍后重试"
    assert response.headers["retry-after"] == "1"
    assert "database is locked" not in response.text


HUGE = 10**30  # beyond any database's integers
BEYOND_INT64 = 2**63


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", f"/api/v1/workflow/forms/{HUGE}", None, "form_id"),
        ("GET", f"/api/v1/oa/notices/{BEYOND_INT64}", None, "notice_id"),
        ("GET", f"/api/v1/academic/exams/mine/courses?term_id={HUGE}", None, "term_id"),
        (
            "GET",
            f"/api/v1/academic/programmes/{HUGE}/compare/{HUGE + 1}",
            None,
            "other_id",
        ),
        ("POST", "/api/v1/users/positions", {"person_id": HUGE, "kind": "dean"}, "body"),
    ],
)
async def test_a_number_too_large_for_the_database_is_422_naming_it_not_500(
    login_as: LoginAs, db: Runtime, method: str, path: str, body: object, field: str
) -> None:
    client = await login_as("admin")
    before = await _written(db)
    response = await client.request(method, path, json=body)
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"] == [{"field": field, "reason": "数值超出范围"}]
    assert await _written(db) == before, "nothing written"


async def _written(db: Runtime) -> tuple[int, int]:
    """Rows of the audit log and the outbox (every write leaves one)."""
    async with db.db.read() as session:
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
        outbox = await session.scalar(select(func.count()).select_from(OutboxRow))
    return int(audit or 0), int(outbox or 0)


async def test_a_nul_character_is_422_naming_where_it_was_on_postgresql_never_500(
    login_as: LoginAs, db: Runtime
) -> None:
    """PostgreSQL cannot store U+0000 in text; SQLite keeps it. Either way: no 500."""
    client = await login_as("admin")
    before = await _written(db)
    response = await client.get("/api/v1/users/people?q=a%00b")
    if db.db.dialect == "postgresql":
        problem = assert_problem(response, 422, "invalid-input")
        assert problem["errors"] == [{"field": "q", "reason": "不能包含空字符"}]
    else:
        assert response.status_code == 200
    english = await client.get(
        "/api/v1/workflow/forms/99999999999999999999", headers={"Accept-Language": "en"}
    )
    assert assert_problem(english, 422, "invalid-input")["errors"] == [
        {"field": "form_id", "reason": "number out of range"}
    ]
    assert await _written(db) == before


def test_reasons_for_bad_input_are_worded_for_people() -> None:
    """Pydantic's own wording never reaches a user: a list too short, too many decimal
    places, a URL that is none, a fraction for a whole number — each has its Chinese reason."""

    class Form(BaseModel):
        items: list[int] = Field(min_length=1)
        amount: Decimal = Field(max_digits=8, decimal_places=2)
        home: HttpUrl
        count: int

    with pytest.raises(ValidationError) as caught:
        Form.model_validate({"items": [], "amount": "1.234", "home": "no url", "count": 1.5})
    reasons = {e.field: str(e.reason) for e in validation_field_errors(caught.value.errors())}
    assert reasons == {
        "items": "至少应有 1 项",
        "amount": "小数不能超过 2 位",
        "home": "网址格式不正确",
        "count": "应为整数",
    }


async def test_text_that_is_not_unicode_is_422_in_words_for_people(login_as: LoginAs) -> None:
    """A lone surrogate (\\ud800) is valid JSON but no character."""
    client = await login_as("admin")
    response = await client.post(
        "/api/v1/users/org-units",
        content='{"code": "bad_text", "name": "\\ud800", "kind": "department", "parent_id": 1}',
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert {"field": "name", "reason": "包含无效的字符"} in problem["errors"]
