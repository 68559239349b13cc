"""Host rules: a route with host names answers requests for those hosts at the site's root
(``https://api.library.example.edu.cn/books/1``) as if they had come to
``/gw/<service>/books/1``. An ASGI middleware, outermost, rewrites such a request's path before
anything else sees it; it reads this process's gateway configuration at most once a second, so
other requests pay nothing but a dictionary lookup."""

from __future__ import annotations

import time

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from campus.kernel.runtime import Runtime
from campus.platform.gateway import snapshot

log = structlog.get_logger(__name__)

PREFIX = "/gw/"  # the gateway's own path: /gw/<service>/<path>
# Set in the scope of a request a host rule rewrote: its caller saw no /gw/<service> in front.
HOST_ROUTED = "campus.gateway.host_routed"
RECHECK_SECONDS = 1.0
# Probes must not depend on the cache or the database; they are never a host rule's.
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})


def host_of(header: str) -> str:
    """The host name of a Host header, lower-case, without the port."""
    value = header.strip().lower()
    if value.startswith("["):  # an IPv6 literal
        return value.split("]", 1)[0] + "]"
    return value.split(":", 1)[0].rstrip(".")


class HostRouting:
    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime
        self.checked_at = 0.0
        self.config: snapshot.Snapshot | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.startswith(PREFIX) and path not in PROBES:
            scope = await self._rewritten(scope)
        await self.app(scope, receive, send)

    async def _rewritten(self, scope: Scope) -> Scope:
        host = next((host_of(v.decode("latin-1")) for k, v in scope["headers"] if k == b"host"), "")
        if not host:
            return scope
        if time.monotonic() - self.checked_at > RECHECK_SECONDS:
            self.checked_at = time.monotonic()
            try:
                self.config = await snapshot.current(self.runtime)
            except Exception:  # the cache or database is down: keep the rules last read
                log.warning("gateway_host_rules_unreadable", exc_info=True)
        if self.config is None or not self.config.by_host:
            return scope
        route = self.config.route_at_host(host, scope["path"], scope["method"])
        if route is None:
            return scope
        base = f"{PREFIX}{route.service}"
        path = scope["path"] if scope["path"] != "/" else ""
        raw = scope.get("raw_path") or scope["path"].encode()
        return {
            **scope,
            "path": base + path,
            "raw_path": base.encode() + (raw if path else b""),
            HOST_ROUTED: True,
        }
