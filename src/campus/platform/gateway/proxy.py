"""The gateway route ``/gw/<service>/<path>``: find the route, identify the consumer, apply its
ACL and rate limits, then forward to an upstream instance and stream the answer back.

Requests go upstream through ``upstream.transport()`` (one aiohttp session per process).
Idempotent methods are retried on another instance after a connection error or a 502/503; the
body of such a request is read (within the service's limit) so it can be sent again, as is a
signed one (its digest is checked); other bodies are streamed through. Small answers are read
whole and sent in one piece; large or unknown-length ones are streamed back.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import httpx
from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route as StarletteRoute

from campus.kernel import clock, context
from campus.kernel.deps import get_runtime
from campus.kernel.errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Problem,
    TooManyRequests,
    Unauthenticated,
    problem_response,
)
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access.service import public_endpoint
from campus.platform.gateway import balancer, credentials, hosts, snapshot, stats, upstream
from campus.platform.gateway.schemas import METHODS
from campus.platform.gateway.snapshot import Route, Service, Snapshot

router = APIRouter(tags=["gateway"])

PREFIX = hosts.PREFIX
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503})
FAILURE_STATUSES = frozenset({502, 503, 504})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)
# Never passed upstream: the host is the upstream's, the credentials stay at the gateway, and
# the consumer headers are the gateway's to set.
DROPPED = frozenset({"host", "content-length", credentials.KEY_HEADER})
CAMPUS_COOKIES = "campus_"  # the prefix of every cookie Campus sets


class BadGateway(Problem):
    status = 502
    slug = "bad-gateway"
    title = _("上游服务出错")


class NoInstance(Problem):
    status = 503
    slug = "service-unavailable"
    title = _("服务暂不可用")


class GatewayTimeout(Problem):
    status = 504
    slug = "gateway-timeout"
    title = _("上游服务响应超时")


class RateLimited(TooManyRequests):
    def __init__(self, detail: object, retry_after: float) -> None:
        super().__init__(str(detail))
        self.retry_after = max(1, math.ceil(retry_after))


# ---------------------------------------------------------------- the module's httpx client
# For the gateway's own reads (the API catalog's documents), not for forwarding.

_client: httpx.AsyncClient | None = None


def client() -> httpx.AsyncClient:
    global _client
    if _client is None:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        _client = httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)
    return _client


async def close_client() -> None:
    """Close the shared client (the process is ending)."""
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None


def use_client(replacement: httpx.AsyncClient | None) -> None:
    """Put another client in (tests inject one with a MockTransport); None makes a fresh one."""
    global _client
    _client = replacement


# ---------------------------------------------------------------- one call


@dataclass
class Call:
    """What the gateway knows of a request as it goes."""

    request: Request
    service: Service
    route: Route
    path: str  # below /gw/<service>
    consumer: str | None = None
    body: bytes | None = None  # read in full (retryable or signed), else streamed
    started: float = 0.0
    too_large: bool = False  # a streamed body grew past the service's limit

    @property
    def label(self) -> str:
        return self.consumer or stats.ANONYMOUS


@public_endpoint  # the gateway identifies consumers itself (keys, signatures, tokens)
async def gateway(request: Request) -> Response:
    """A plain Starlette endpoint: FastAPI's parameter and dependency machinery would cost
    more than the rest of the gateway's own work on a small request."""
    rt = get_runtime(request)
    started = time.perf_counter()
    call: Call | None = None
    try:
        params = request.path_params
        call = await _admit(rt, request, params["service"], "/" + params["path"])
        call.started = started
        return await _forward(rt, call)
    except Problem as problem:
        # A refusal on the way in counts under the route and consumer found so far.
        call = call or getattr(request.state, "gateway_call", None)
        return _refusal(rt, request, call, problem, started)


router.routes.append(
    StarletteRoute(
        "/gw/{service}/{path:path}", gateway, methods=list(METHODS), include_in_schema=False
    )
)


def _refusal(
    rt: Runtime, request: Request, call: Call | None, problem: Problem, started: float
) -> Response:
    response = problem_response(problem, request)
    if isinstance(problem, RateLimited):
        response.headers["Retry-After"] = str(problem.retry_after)
    route = call.route.name if call else stats.NO_ROUTE
    consumer = call.label if call else stats.ANONYMOUS
    seconds = time.perf_counter() - started
    stats.observe(route, consumer, problem.status, seconds)
    if call is not None:
        stats.count(route, consumer, problem.status, seconds)
        if stats.flush_due():
            response.background = BackgroundTask(stats.flush_soon, rt)
    return response


async def _admit(rt: Runtime, request: Request, name: str, path: str) -> Call:
    """The route and the consumer of a request allowed through, or a refusal."""
    config = await snapshot.current(rt)
    service = config.services.get(name)
    host = hosts.host_of(request.headers.get("host", ""))
    route = config.route_for(name, path, request.method, host) if service else None
    if service is None or route is None:
        raise NotFound(_("网关上没有与“{m} {p}”匹配的路由", m=request.method, p=request.url.path))
    call = Call(request, service, route, path)
    request.state.gateway_call = call
    _check_length(request, service)
    signed = request.headers.get("authorization", "").lower().startswith("hmac ")
    if request.method in IDEMPOTENT or signed:
        call.body = await _read_body(request, service.max_body_bytes)
    if not route.public:
        call.consumer = await _identify(rt, config, call, signed)
        _check_acl(config, call)
        _check_subscription(config, call)
    await _limit(rt, config, call)
    return call


def _check_length(request: Request, service: Service) -> None:
    try:
        length = int(request.headers.get("content-length") or 0)
    except ValueError:
        length = 0
    if length > service.max_body_bytes:
        raise _too_large(service.max_body_bytes)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(_("请求体不能超过 {n} 字节", n=limit))


async def _read_body(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _identify(rt: Runtime, config: Snapshot, call: Call, signed: bool) -> str:
    headers = call.request.headers
    authorization = headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        issuer = rt.settings.oidc_issuer or str(call.request.base_url)
        return await credentials.by_bearer(rt, config, authorization[7:].strip(), issuer)
    if signed:
        target = call.request.url.path
        if call.request.url.query:
            target += "?" + call.request.url.query
        request = (
            call.request.method,
            target,
            headers.get("date"),
            headers.get("digest"),
            call.body or b"",
        )
        return await credentials.by_signature(config, rt.cache, headers["authorization"], request)
    key = headers.get(credentials.KEY_HEADER)
    if not key:
        raise Unauthenticated(_("需要消费者凭据：请求头 apikey、HMAC 签名或 Bearer 访问令牌"))
    return credentials.by_key(config, key)


def _check_acl(config: Snapshot, call: Call) -> None:
    allowed = call.route.allow_groups
    consumer = config.consumers.get(call.consumer or "")
    if allowed and (consumer is None or not allowed & consumer.groups):
        raise Forbidden(_("消费者“{c}”不在允许访问该路由的分组中", c=call.consumer))


def _check_subscription(config: Snapshot, call: Call) -> None:
    """A service offered on the developer platform admits only the apps subscribed to it."""
    if call.service.subscription == "none":
        return
    consumer = config.consumers.get(call.consumer or "")
    if consumer is None or call.service.name not in consumer.subscriptions:
        raise Forbidden(
            _("应用“{c}”未订阅服务“{s}”，或订阅尚未获批", c=call.consumer, s=call.service.name)
        )


QUOTA_KEY_TTL = 2 * 86400.0
WINDOW_SECONDS = 60.0


def quota_key(username: str, day: date | None = None) -> str:
    return f"gw:quota:{username}:{(day or clock.today()).isoformat()}"


async def used_today(rt: Runtime, username: str) -> int:
    """Calls counted against the consumer's quota today: those that passed the credential,
    ACL and subscription checks (including any the quota then refused)."""
    value = await rt.cache.get(quota_key(username))
    return int(value) if value else 0


async def _limit(rt: Runtime, config: Snapshot, call: Call) -> None:
    """Per route, then per consumer: fixed one-minute windows; then the consumer's calls of the
    campus day. All counted in the shared cache in one call (one round trip with Redis, exact
    across gateway processes); the first counter past its limit refuses, those after it are
    not counted."""
    window = int(time.time() // WINDOW_SECONDS)
    counters: list[tuple[str, int, float]] = []
    limit = call.route.rate_limit_per_minute
    if limit is not None:
        counters.append(
            (_window_key(f"gw:route:{call.route.name}", window), limit, WINDOW_SECONDS + 1)
        )
    consumer = config.consumers.get(call.consumer or "")
    if consumer is not None and consumer.rate_limit_per_minute is not None:
        key = _window_key(f"gw:consumer:{consumer.username}", window)
        counters.append((key, consumer.rate_limit_per_minute, WINDOW_SECONDS + 1))
    if consumer is not None and consumer.quota_per_day is not None:
        counters.append((quota_key(consumer.username), consumer.quota_per_day, QUOTA_KEY_TTL))
    if not counters:
        return
    over = await rt.cache.count_in_turn(counters)
    if over is None:
        return
    key, limit, _ttl = counters[over]
    if key.startswith("gw:quota:"):
        tomorrow = clock.start_of_day(clock.today() + timedelta(days=1))
        message = _("已用完每日 {n} 次的调用配额，明日零点恢复", n=limit)
        raise RateLimited(message, (tomorrow - clock.now()).total_seconds())
    retry_after = (window + 1) * WINDOW_SECONDS - time.time()
    raise RateLimited(_("超过每分钟 {n} 次的调用限制，请稍后再试", n=limit), retry_after)


def _window_key(key: str, window: int) -> str:
    """The counter of one fixed window, named as ``Cache.hit`` names it."""
    return f"rl:{key}:{window}"


# ---------------------------------------------------------------- forwarding


async def _forward(rt: Runtime, call: Call) -> Response:
    candidates = await balancer.targets(rt, call.service)
    retryable = call.request.method in IDEMPOTENT
    attempts = 1 + (call.service.retries if retryable else 0)
    tried: set[str] = set()
    failure: Problem = NoInstance(_("服务“{s}”当前没有可用的实例", s=call.service.name))
    for attempt in range(attempts):
        target = balancer.choose(candidates, tried)
        if target is None:
            break
        tried.add(target.key)
        last = attempt == attempts - 1
        try:
            answer = await _send(call, target)
        except upstream.ConnectFailed as exc:
            balancer.failed(target)
            failure = _connect_problem(call, exc)
            if retryable:
                continue
            raise failure from exc
        except upstream.TimedOut as exc:
            balancer.failed(target)
            raise GatewayTimeout(_("服务“{s}”响应超时", s=call.service.name)) from exc
        except upstream.Broken as exc:
            balancer.failed(target)
            if call.too_large:  # the streamed body grew past the limit on its way
                raise _too_large(call.service.max_body_bytes) from exc
            raise BadGateway(_("与服务“{s}”的连接中断", s=call.service.name)) from exc
        if answer.status in FAILURE_STATUSES:
            balancer.failed(target)
        else:
            balancer.succeeded(target)
        if retryable and not last and answer.status in RETRY_STATUSES:
            await answer.release()
            continue
        return _respond(rt, call, answer)
    raise failure


def _connect_problem(call: Call, exc: upstream.ConnectFailed) -> Problem:
    if exc.timed_out:
        return GatewayTimeout(_("连接服务“{s}”超时", s=call.service.name))
    return BadGateway(_("服务“{s}”拒绝连接", s=call.service.name))


async def _send(call: Call, target: balancer.Target) -> upstream.Answer:
    request = call.request
    path = call.path[len(call.route.stripped) :] or "/"
    url = target.address + path
    if request.url.query:
        url += "?" + request.url.query
    content = call.body if call.body is not None else _stream(call)
    outgoing = upstream.Outgoing(
        request.method,
        url,
        _upstream_headers(call),
        content,
        connect_timeout=call.service.connect_timeout,
        read_timeout=call.route.timeout or call.service.read_timeout,
    )
    return await upstream.transport().send(outgoing)


async def _stream(call: Call) -> AsyncIterator[bytes]:
    size, limit = 0, call.service.max_body_bytes
    async for chunk in call.request.stream():
        size += len(chunk)
        if size > limit:
            call.too_large = True
            raise _too_large(limit)
        yield chunk


def _upstream_headers(call: Call) -> list[tuple[str, str]]:
    request = call.request
    named = {v.strip().lower() for v in request.headers.get("connection", "").split(",")}
    out = [
        (k, v)
        for k, v in request.headers.items()
        if k not in HOP_BY_HOP
        and k not in DROPPED
        and k not in named
        and not k.startswith("x-consumer-")
        and not (k == "authorization" and _gateway_credential(call, v))
        and not k.startswith("x-forwarded-")
        and k != "x-request-id"
    ]
    cookies = _foreign_cookies(request.headers.get("cookie", ""))
    out = [(k, v) for k, v in out if k != "cookie"] + ([("cookie", cookies)] if cookies else [])
    if call.body is None and "content-length" in request.headers:
        out.append(("content-length", request.headers["content-length"]))
    client_ip = request.client.host if request.client else ""
    earlier = request.headers.get("x-forwarded-for")
    out.append(("x-forwarded-for", f"{earlier}, {client_ip}" if earlier else client_ip))
    out.append(("x-forwarded-proto", request.url.scheme))
    out.append(("x-forwarded-host", request.headers.get("host", "")))
    prefix = _forwarded_prefix(call)
    if prefix:
        out.append(("x-forwarded-prefix", prefix))
    out.append(("x-request-id", context.current().request_id))
    if call.consumer:
        out.append(("x-consumer-username", call.consumer))
    return out


def _forwarded_prefix(call: Call) -> str:
    """What the caller's path has in front of the path the upstream sees: ``/gw/<service>``
    (nothing at a host rule's root), then the route's prefix when it is stripped. An upstream
    puts it before the links it writes."""
    seen = "" if call.request.scope.get(hosts.HOST_ROUTED) else f"{PREFIX}{call.service.name}"
    return seen + call.route.stripped


def _gateway_credential(call: Call, authorization: str) -> bool:
    """An Authorization header the gateway itself consumed: a signature, or a bearer token on
    a route that needs a consumer (a public route passes it on, for the upstream to read)."""
    scheme = authorization[:7].lower()
    return scheme.startswith("hmac ") or (scheme == "bearer " and not call.route.public)


def _foreign_cookies(header: str) -> str:
    """The cookies of the request but Campus's own (its session above all): they are the
    site's, never an upstream's to see."""
    kept = [c.strip() for c in header.split(";") if c.strip()]
    return "; ".join(c for c in kept if not c.startswith(CAMPUS_COOKIES))


def _respond(rt: Runtime, call: Call, answer: upstream.Answer) -> Response:
    seconds = time.perf_counter() - call.started
    stats.observe(call.route.name, call.label, answer.status, seconds)
    stats.count(call.route.name, call.label, answer.status, seconds)
    task = BackgroundTask(stats.flush_soon, rt) if stats.flush_due() else None
    named: set[str] = set()
    for k, v in answer.headers:
        if k.lower() == b"connection":
            named |= {t.strip().lower() for t in v.decode("latin-1").split(",")}
    dropped = HOP_BY_HOP | named | {"x-request-id"}
    headers = [
        (k.lower(), v) for k, v in answer.headers if k.decode("latin-1").lower() not in dropped
    ]
    response: Response
    if answer.chunks is None:
        response = Response(answer.body, status_code=answer.status, background=task)
        if call.request.method != "HEAD" and answer.status not in upstream.NO_BODY_STATUSES:
            length = str(len(answer.body or b"")).encode()
            headers = [h for h in headers if h[0] != b"content-length"]
            headers.append((b"content-length", length))
    else:
        response = StreamingResponse(_relayed(answer), status_code=answer.status, background=task)
    response.raw_headers = headers
    return response


async def _relayed(answer: upstream.Answer) -> AsyncIterator[bytes]:
    assert answer.chunks is not None
    try:
        async for chunk in answer.chunks:
            yield chunk
    finally:
        await answer.release()
