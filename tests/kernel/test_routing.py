"""The route index picks exactly the route a full scan would, and leaves the rest to it."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import BaseRoute, Match, Mount, WebSocketRoute

from campus.kernel.routing import RouteIndex, fixed_segments


def _example_path(path: str) -> str:
    return re.sub(r"\{[^}:]+(:path)?\}", lambda m: "a/b" if m.group(1) else "7", path)


def _full_scan(routes: list[BaseRoute], scope: dict[str, object]) -> BaseRoute | None:
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return child.get("route", route)
    return None


def test_fixed_segments_stop_at_the_first_parameter() -> None:
    assert fixed_segments("/api/v1/workflow/tasks/{id}/approve") == (
        "api",
        "v1",
        "workflow",
        "tasks",
    )
    assert fixed_segments("/files/{name}.pdf") == ("files",)
    assert fixed_segments("/healthz") == ("healthz",)
    assert fixed_segments("/{path:path}") == ()


def test_every_route_of_the_app_is_found_as_the_full_scan_finds_it(app) -> None:  # type: ignore[no-untyped-def]
    index, *routes = app.router.routes
    assert isinstance(index, RouteIndex), "the app factory puts the index first"
    assert not any(type(r).__name__ == "_IncludedRouter" for r in routes), (
        "a nested router escaped flattening: the index cannot see into it"
    )
    checked = 0
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        if isinstance(route, Mount):
            path += "/campus.css"
        socket = isinstance(route, WebSocketRoute)
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            scope = {
                "type": "websocket" if socket else "http",
                "path": _example_path(path),
                "root_path": "",
                "method": method,
                "headers": [],
                "query_string": b"",
            }
            match, child = index.matches(scope)
            expected = _full_scan(routes, dict(scope))
            assert match is Match.FULL, f"{method} {path} not found by the index"
            assert child.get("route", child["campus.route"]) is expected, f"{method} {path}"
            checked += 1
    assert checked > 100


def test_unknown_paths_are_not_remembered() -> None:
    index = RouteIndex([])
    for n in range(50):
        index.candidates(f"/made-up-{n}/x/y/z")
    assert index._candidates == {}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page/here", 404),
        ("DELETE", "/healthz", 405),
        ("GET", "/healthz", 200),
    ],
)
async def test_what_the_index_does_not_match_gets_the_usual_answer(
    anon: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await anon.request(method, path)
    assert response.status_code == status
