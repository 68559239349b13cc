"""The kernel's ASGI middleware: request id, locale, client address, the signed-in principal,
CSRF (double-submit cookie), body size limit and security headers."""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus.kernel import context, i18n
from campus.kernel.context import Principal, RequestContext
from campus.kernel.errors import (
    REQUEST_ID_SCOPE_KEY,
    Forbidden,
    PayloadTooLarge,
    Problem,
    problem_response,
)
from campus.kernel.i18n import _

CSRF_COOKIE = "campus_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
LOCALE_COOKIE = "campus_locale"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}

# A multipart form carries a file of up to the body limit plus its framing (boundaries, part
# headers, a few small fields): without this allowance a file just under the limit would be
# refused here, unnamed, instead of reaching the route that checks the file and names its field.
MULTIPART_FRAMING_BYTES = 64 * 1024

PrincipalLoader = Callable[[HTTPConnection], Awaitable[Principal | None]]

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


def csrf_token_of(connection: HTTPConnection) -> str:
    """The CSRF token to put into forms and the htmx header of this page."""
    token = connection.scope.get("campus.csrf")
    return str(token) if token else ""


class KernelMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        principal_loader: PrincipalLoader | None,
        max_body_bytes: int,
        secure_cookies: bool,
        csrf_exempt_prefixes: tuple[str, ...] = (),
        cookieless_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.principal_loader = principal_loader
        self.max_body_bytes = max_body_bytes
        self.secure_cookies = secure_cookies
        self.csrf_exempt_prefixes = csrf_exempt_prefixes
        # Paths whose answers are not the site's own (a proxied upstream's): no CSRF cookie.
        self.cookieless_prefixes = cookieless_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        headers = connection.headers
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        # Kept in the scope too: the answer to an unhandled error is written outside this
        # middleware (by Starlette's outermost handler) and must still carry the id.
        scope[REQUEST_ID_SCOPE_KEY] = request_id
        locale = i18n.negotiate(
            headers.get("accept-language"), connection.cookies.get(LOCALE_COOKIE)
        )
        i18n.set_locale(locale)
        client_ip = connection.client.host if connection.client else None
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        context.set_context(RequestContext(request_id=request_id, ip=client_ip))

        csrf_cookie = connection.cookies.get(CSRF_COOKIE)
        cookieless = scope["path"].startswith(self.cookieless_prefixes)
        new_csrf = None if csrf_cookie or cookieless else secrets.token_urlsafe(32)
        scope["campus.csrf"] = csrf_cookie or new_csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out.append("x-request-id", request_id)
                out.setdefault("x-content-type-options", "nosniff")
                out.setdefault("x-frame-options", "DENY")
                out.setdefault("referrer-policy", "same-origin")
                out.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
                if new_csrf:
                    cookie = SimpleCookie()
                    cookie[CSRF_COOKIE] = new_csrf
                    cookie[CSRF_COOKIE]["path"] = "/"
                    cookie[CSRF_COOKIE]["samesite"] = "Lax"
                    if self.secure_cookies:
                        cookie[CSRF_COOKIE]["secure"] = True
                    out.append("set-cookie", cookie.output(header="").strip())
            await send(message)

        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            length = 0
        body_limit = self._body_limit(headers)
        if length > body_limit:
            await self._reject(
                PayloadTooLarge(_("上传内容不能超过 {mb} MB", mb=self.max_body_bytes // 1048576)),
                scope,
                receive,
                send_with_headers,
            )
            return

        if self.principal_loader is not None:
            principal = await self.principal_loader(connection)
            if principal is not None:
                context.set_context(
                    RequestContext(request_id=request_id, ip=client_ip, principal=principal)
                )

        receive = self._limited(receive, body_limit)
        if scope["method"] not in SAFE_METHODS and not scope["path"].startswith(
            self.csrf_exempt_prefixes
        ):
            body, receive = await self._buffer_form(scope, receive)
            if not self._csrf_ok(headers, csrf_cookie, body):
                await self._reject(
                    Forbidden(_("页面已过期或请求来源不可信，请刷新页面后重试")),
                    scope,
                    receive,
                    send_with_headers,
                )
                return
        await self.app(scope, receive, send_with_headers)

    def _body_limit(self, headers: Headers) -> int:
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return self.max_body_bytes + MULTIPART_FRAMING_BYTES
        return self.max_body_bytes

    @staticmethod
    def _limited(receive: Receive, limit: int) -> Receive:
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException, because FastAPI turns any other error met while it
                    # reads a body parameter into a 400; the error handlers make it a 413 problem.
                    raise HTTPException(413)
            return message

        return limited

    async def _buffer_form(self, scope: Scope, receive: Receive) -> tuple[bytes, Receive]:
        """Read an urlencoded form body so its CSRF field can be checked; replay it afterwards."""
        content_type = Headers(scope=scope).get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return b"", receive
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return body, replay

    @staticmethod
    def _csrf_ok(headers: Headers, cookie: str | None, form_body: bytes) -> bool:
        if not cookie:
            return False
        supplied = headers.get(CSRF_HEADER)
        if supplied is None and form_body:
            values = parse_qs(form_body.decode("latin-1")).get(CSRF_FIELD)
            supplied = values[0] if values else None
        return supplied is not None and hmac.compare_digest(supplied, cookie)

    @staticmethod
    async def _reject(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(problem)
        await response(scope, receive, send)
