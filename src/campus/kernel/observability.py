"""What operators see of a process: ``/metrics``, ``/healthz``, ``/readyz`` and one access-log
line per request, all installed by ``install_observability``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI
from prometheus_client.metrics import Counter, Histogram
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from campus.kernel import context
from campus.kernel.health import healthz, readyz
from campus.kernel.logging import AccessLog
from campus.kernel.manifest import Module
from campus.kernel.metrics import (
    IN_FLIGHT,
    KERNEL_MODULE,
    LATENCY,
    REQUESTS,
    UNMATCHED_ROUTE,
    method_label,
    metrics_endpoint,
    status_label,
)
from campus.kernel.runtime import Runtime

# Probes and scrapes arrive every few seconds; their successes would drown the access log.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
PUBLIC = "public"

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One answered request as the metrics saw it, for the observers modules declare in
    ``Module.extra["request_observers"]`` (the monitoring center's recent figures)."""

    method: str
    route: str
    module: str
    status: int
    seconds: float
    path: str
    request_id: str
    error: BaseException | None = None


RequestObserver = Callable[[RequestSample], None]


def _declared_public() -> None:
    """Kernel endpoints need no sign-in. The access center reads this mark as it reads
    ``public()``; checks a route needs beyond that (``/metrics``) happen in its code."""


_declared_public.campus_permission = PUBLIC  # type: ignore[attr-defined]


def install_observability(app: FastAPI, runtime: Runtime) -> None:
    """Add the probe and metrics routes, and the middleware that measures every request.

    Call it after the other middleware is added, so this one is outermost and also sees the
    requests that the kernel middleware turns away.
    """
    router = APIRouter(dependencies=[Depends(_declared_public)], include_in_schema=False)
    router.add_api_route("/healthz", healthz, methods=["GET"])
    router.add_api_route("/readyz", readyz, methods=["GET"])
    router.add_api_route("/metrics", metrics_endpoint, methods=["GET"])
    app.router.routes.extend(router.routes)  # flat, as the app factory adds modules
    observers = [o for m in runtime.modules for o in m.extra.get("request_observers", ())]
    app.add_middleware(
        ObservabilityMiddleware, routes=module_routes(runtime.modules), observers=observers
    )


def module_routes(modules: Iterable[Module]) -> list[tuple[BaseRoute, str]]:
    """Every route the manifests declare, with the name of the module that owns it.

    The app factory includes module routers without a prefix, so these routes carry the paths
    the app serves; the app keeps their endpoint functions when it includes them.
    """
    return [
        (route, module.name)
        for module in modules
        for route in (*module.api_routes(), *module.plain_routes())
    ]


class ObservabilityMiddleware:
    """RED metrics and the access log for every HTTP request, as plain ASGI (no extra task)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: list[tuple[BaseRoute, str]],
        observers: Iterable[RequestObserver] = (),
    ) -> None:
        self.app = app
        self.observers = tuple(observers)
        self.routes = [route for route, _module in routes]
        self.owners: dict[Callable[..., Any], str] = {
            route.endpoint: module for route, module in routes if hasattr(route, "endpoint")
        }
        self.access_log = AccessLog()
        self._counters: dict[tuple[str, str, str, str], Counter] = {}
        self._timers: dict[tuple[str, str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Stays 500 if the app raises before answering: the error middleware outside sends it.
        status = 500

        async def observe_start(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        error: Exception | None = None
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, observe_start)
        except Exception as exc:
            error = exc
            raise
        finally:
            IN_FLIGHT.dec()
            self._record(scope, status, time.perf_counter() - started, error)

    def _record(
        self, scope: Scope, status: int, elapsed: float, error: Exception | None = None
    ) -> None:
        route = self._route_of(scope, status)
        template = _template(route)
        endpoint = getattr(route, "endpoint", None)
        module = self.owners.get(endpoint, KERNEL_MODULE) if endpoint else KERNEL_MODULE
        method = method_label(scope["method"])
        label = template or UNMATCHED_ROUTE
        self._counter(method, label, status_label(status), module).inc()
        self._timer(method, label, module).observe(elapsed)
        # The kernel middleware inside set the request's context in this same task.
        request = context.current()
        if self.observers:
            sample = RequestSample(
                method, label, module, status, elapsed, scope["path"], request.request_id, error
            )
            self._notify(sample)
        if status < 400 and scope["path"] in QUIET_PATHS:
            return
        principal = request.principal
        self.access_log.write(
            method=scope["method"][:16],
            route=template,
            path=scope["path"],
            status=status,
            duration_ms=elapsed * 1000,
            module=module,
            request_id=request.request_id,
            person_id=principal.person_id if principal else None,
        )

    def _notify(self, sample: RequestSample) -> None:
        for observe in self.observers:
            try:
                observe(sample)
            except Exception:
                # A broken observer must not turn an answered request into an error.
                log.exception("request_observer_failed", observer=repr(observe))

    def _route_of(self, scope: Scope, status: int) -> BaseRoute | None:
        """The route that handled the request, or the one it was meant for when the kernel
        middleware turned it away before routing (413, CSRF)."""
        route: BaseRoute | None = scope.get("route")
        if route is not None or status == 404:
            return route
        partial = None
        for candidate in self.routes:
            match, _child = candidate.matches(scope)
            if match is Match.FULL:
                return candidate
            if match is Match.PARTIAL and partial is None:
                partial = candidate
        return partial

    def _counter(self, method: str, route: str, status: str, module: str) -> Counter:
        key = (method, route, status, module)
        child = self._counters.get(key)
        if child is None:
            child = self._counters[key] = REQUESTS.labels(*key)
        return child

    def _timer(self, method: str, route: str, module: str) -> Histogram:
        key = (method, route, module)
        child = self._timers.get(key)
        if child is None:
            child = self._timers[key] = LATENCY.labels(*key)
        return child


def _template(route: BaseRoute | None) -> str | None:
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) else None
