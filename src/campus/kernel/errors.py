"""RFC 9457 problem details for every 4xx and 5xx, in the user's language.

Actions raise ``Problem`` (or a subclass) with a message and, for bad input, the fields at fault.
The handlers installed by ``install_error_handlers`` turn them, FastAPI's validation errors and
any unexpected exception into ``application/problem+json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy.exc
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from campus.kernel.i18n import LazyText, _, get_locale

PROBLEM_JSON = "application/problem+json"
REQUEST_ID_SCOPE_KEY = "campus.request_id"  # set by the kernel middleware (kernel.web)
TYPE_BASE = "https://campus.example.edu.cn/problems/"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: LazyText | str

    def render(self) -> dict[str, str]:
        return {"field": self.field, "reason": str(self.reason)}


class Problem(Exception):
    """A failure the user can understand; nothing was changed."""

    status = 400
    slug = "bad-request"
    title = _("请求有误")

    def __init__(
        self,
        detail: LazyText | str | None = None,
        *,
        errors: list[FieldError] | None = None,
        status: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(detail or self.title))
        self.detail = detail
        self.errors = errors or []
        self.extra = extra or {}
        if status is not None:
            self.status = status

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": str(self.title),
            "status": self.status,
            "detail": str(self.detail or self.title),
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = [e.render() for e in self.errors]
        body.update(self.extra)
        return body


class InvalidInput(Problem):
    status = 422
    slug = "invalid-input"
    title = _("输入不合法")

    @classmethod
    def on(cls, field: str, reason: LazyText | str) -> InvalidInput:
        return cls(reason, errors=[FieldError(field, reason)])


class NotFound(Problem):
    status = 404
    slug = "not-found"
    title = _("未找到")


class Conflict(Problem):
    status = 409
    slug = "conflict"
    title = _("与现有数据冲突")

    @classmethod
    def on(cls, field: str, reason: LazyText | str) -> Conflict:
        return cls(reason, errors=[FieldError(field, reason)])


class Unauthenticated(Problem):
    status = 401
    slug = "unauthenticated"
    title = _("请先登录")


class Forbidden(Problem):
    status = 403
    slug = "forbidden"
    title = _("没有权限")


class PayloadTooLarge(Problem):
    status = 413
    slug = "payload-too-large"
    title = _("上传内容过大")


class TooManyRequests(Problem):
    status = 429
    slug = "too-many-requests"
    title = _("请求过于频繁，请稍后再试")


class Busy(Problem):
    """The server could not get to the request in time (the database's write lock or its
    connection pool stayed taken): nothing was written, and the same request may be sent again."""

    status = 503
    slug = "busy"
    title = _("系统繁忙，请稍后再试")


BUSY_RETRY_AFTER_SECONDS = 1


def database_busy(exc: BaseException) -> bool:
    """A wait for the database that ran out: SQLite's writer lock, or no free connection."""
    if isinstance(exc, sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, sqlalchemy.exc.OperationalError) and "database is locked" in str(
        exc.orig
    )


INT32_MAX = 2**31 - 1


def unstorable_input(exc: BaseException, request: Request) -> InvalidInput | None:
    """The caller's input that the database refused to take, as the 422 it is; None for any
    other failure. Either way the statement ran in a transaction that rolls back.

    - A number too large for the database's integers: SQLite's 64 bits (the driver refuses to
      bind it), PostgreSQL's integer and bigint (asyncpg refuses to encode it). No row can
      have it; pydantic lets any ``int`` through.
    - A NUL character in text, which PostgreSQL cannot store (SQLite keeps it)."""
    message = str(exc.orig) if isinstance(exc, sqlalchemy.exc.DBAPIError) else ""
    if isinstance(exc, OverflowError) or "out of int" in message or "out of range for" in message:
        return InvalidInput.on(_largest_integer_field(request), _("数值超出范围"))
    if "invalid byte sequence" in message and "0x00" in message:
        return InvalidInput.on(_nul_field(request), _("不能包含空字符"))
    return None


def _parameters(request: Request) -> list[tuple[str, str]]:
    return [
        *((name, str(value)) for name, value in request.path_params.items()),
        *request.query_params.multi_items(),
    ]


def _largest_integer_field(request: Request) -> str:
    """The path or query parameter holding the largest integer beyond 32 bits — the one that
    did not fit — or "body" when none does (it came in the request's body)."""
    largest, field = INT32_MAX, "body"
    for name, value in _parameters(request):
        try:
            number = abs(int(value))
        except ValueError:
            continue
        if number > largest:
            largest, field = number, name
    return field


def _nul_field(request: Request) -> str:
    return next((name for name, value in _parameters(request) if "\x00" in value), "body")


# Pydantic error types in the words a Chinese user expects.
VALIDATION_REASONS: dict[str, str] = {
    "missing": "必填",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为是或否",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "date_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式不正确，应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "uuid_parsing": "标识格式不正确",
    "json_invalid": "JSON 格式不正确",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "list_type": "应为列表",
    "extra_forbidden": "不允许的字段",
    "value_error": "{error}",
    "string_unicode": "包含无效的字符",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "最多只能有 {max_length} 项",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "bool_type": "应为是或否",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_digits": "数字不能超过 {max_digits} 位",
    "decimal_max_places": "小数不能超过 {decimal_places} 位",
    "finite_number": "应为有限的数字",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "url_parsing": "网址格式不正确",
    "url_scheme": "网址应以 {expected_schemes} 开头",
    "date_type": "日期格式不正确，应为 YYYY-MM-DD",
    "datetime_type": "时间格式不正确",
    "time_parsing": "时间格式不正确",
    "time_type": "时间格式不正确",
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def validation_field_errors(errors: list[dict[str, Any]]) -> list[FieldError]:
    result = []
    for err in errors:
        template = VALIDATION_REASONS.get(err.get("type", ""), "")
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        if template:
            try:
                reason: LazyText | str = _(template, **ctx)
                str(reason)
            except (KeyError, IndexError):
                reason = str(err.get("msg", ""))
        else:
            reason = str(err.get("msg", ""))
        result.append(FieldError(_field_path(tuple(err.get("loc", ()))), reason))
    return result


def problem_response(problem: Problem, request: Request | None = None) -> Response:
    instance = request.url.path if request is not None else None
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers={"Content-Language": _content_language()},
    )


def _content_language() -> str:
    return "en" if get_locale() == "en" else "zh-CN"


class MethodNotAllowed(Problem):
    status = 405
    slug = "method-not-allowed"
    title = _("不支持该请求方法")


_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    405: MethodNotAllowed,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: TooManyRequests,
}


# Renders a problem as a page for a browser, or returns None to answer with problem+json.
HtmlErrorPage = Callable[[Request, Problem], Response | None]


def wants_html(request: Request) -> bool:
    """A browser asking for a page (or an htmx request from one); never the JSON API."""
    if request.url.path.startswith("/api/"):
        return False
    if request.headers.get("hx-request") == "true":
        return True
    return "text/html" in request.headers.get("accept", "")


def install_error_handlers(app: FastAPI, html_page: HtmlErrorPage | None = None) -> None:
    """Answer every failure with problem+json; pages asked for by a browser go to ``html_page``."""

    def respond(request: Request, problem: Problem) -> Response:
        if html_page is not None and wants_html(request):
            page = html_page(request, problem)
            if page is not None:
                return page
        return problem_response(problem, request)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return respond(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = validation_field_errors(list(exc.errors()))
        return respond(request, InvalidInput(_("输入不合法，请检查标出的字段"), errors=errors))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        cls = _STATUS_PROBLEMS.get(exc.status_code)
        problem = cls() if cls else Problem(str(exc.detail), status=exc.status_code)
        response = respond(request, problem)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_database_error(request: Request, exc: Exception) -> Response:
        """An input the database cannot hold is the caller's mistake (422, no traceback);
        any other driver error goes on to the handler of the unexpected."""
        invalid = unstorable_input(exc, request)
        if invalid is None:
            raise exc
        return respond(request, invalid)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        request_id = request.scope.get(REQUEST_ID_SCOPE_KEY)
        if database_busy(exc):
            log.warning("database_busy", path=request.url.path, request_id=request_id)
            busy = Busy(_("系统繁忙，请求未被处理，请稍后重试"))
            response = respond(request, busy)
            response.headers["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
            return response
        log.exception("unhandled_error", path=request.url.path, request_id=request_id)
        problem = Problem(_("服务器内部错误，已记录，请稍后再试"), status=500)
        problem.slug = "internal-error"
        response = respond(request, problem)
        if request_id:
            response.headers["x-request-id"] = request_id
        return response

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(OverflowError, on_database_error)
    app.add_exception_handler(sqlalchemy.exc.DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
