"""Finding a request's route among hundreds without trying them all.

A router tries its routes in order until one matches; with every module mounted that is a few
hundred regular expressions and, through FastAPI's nested routers, most of a millisecond per
request. `RouteIndex` stands first in the app's route list and tries only the routes whose
fixed leading path segments fit the request, in their original order, so it picks the same
route the full scan would. Whatever it does not match fully (unknown paths, a wrong method, a
missing trailing slash) falls through to the full scan behind it, which answers 404, 405 or
the redirect exactly as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path  # the path routes match, as Starlette reads it
from starlette.routing import BaseRoute, Match
from starlette.types import Receive, Scope, Send

# Routes are keyed by up to this many fixed segments: "/api/v1/<module>/<topic>".
DEPTH = 4
_CHOSEN = "campus.route"


def fixed_segments(path: str) -> tuple[str, ...]:
    """The leading path segments a route's path fixes, before its first parameter.

    "/api/v1/workflow/tasks/{id}/approve" fixes ("api", "v1", "workflow", "tasks"); a segment
    that holds a parameter ("/files/{name}.pdf") fixes nothing from there on."""
    head, brace, _ = path.partition("{")
    segments = head.split("/")[1:]
    if brace:
        segments = segments[:-1]  # the segment the parameter starts in is not fixed
    return tuple(segments)


class RouteIndex(BaseRoute):
    """Stands first in a router's routes and answers for all the routes given to it."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        # by_key[d] maps the first d fixed segments of routes that fix exactly d (< DEPTH) of
        # them, or at least DEPTH when d == DEPTH, to (position, route) in the original order.
        self._by_key: list[dict[tuple[str, ...], list[tuple[int, BaseRoute]]]] = [
            {} for _ in range(DEPTH + 1)
        ]
        for position, route in enumerate(routes):
            fixed = fixed_segments(getattr(route, "path", ""))[:DEPTH]
            self._by_key[len(fixed)].setdefault(fixed, []).append((position, route))
        self._candidates: dict[tuple[str, ...], list[BaseRoute]] = {}

    def candidates(self, path: str) -> list[BaseRoute]:
        segments = tuple(path.split("/")[1 : DEPTH + 1])
        cached = self._candidates.get(segments)
        if cached is not None:
            return cached
        found = [
            entry
            for depth, routes in enumerate(self._by_key)
            if depth <= len(segments)
            for entry in routes.get(segments[:depth], ())
        ]
        chosen = [route for _, route in sorted(found, key=lambda entry: entry[0])]
        # Only keys that name real routes are kept, so that made-up paths cannot grow it.
        if segments in self._by_key[min(len(segments), DEPTH)]:
            self._candidates[segments] = chosen
        return chosen

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] not in ("http", "websocket"):
            return Match.NONE, {}
        for route in self.candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                # "route" as the router would set it for the route itself (FastAPI's routes
                # put it in their child scope; Starlette's do not).
                return Match.FULL, {"route": route, **child_scope, _CHOSEN: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(_CHOSEN)
        await route.handle(scope, receive, send)
