"""ECharts options of the overview page, built from the same figures the JSON API answers."""

from __future__ import annotations

from typing import Any

from campus.kernel import clock
from campus.kernel.i18n import _
from campus.platform.monitor.schemas import MinuteFigures, RouteFigures, TrafficOut

TOP_ROUTES = 10
_GRID = {"left": 8, "right": 16, "top": 36, "bottom": 8, "containLabel": True}


def route_label(route: RouteFigures) -> str:
    return f"{route.method} {route.route}"


def _minutes(per_minute: list[MinuteFigures]) -> list[str]:
    return [clock.fmt(m.minute, "%H:%M") for m in per_minute]


def _line(name: str, data: list[Any], **more: Any) -> dict[str, Any]:
    # Straight segments with every point marked: a smoothed curve would invent values between
    # minutes, and a lone minute with requests would not show.
    return {"name": name, "type": "line", "showSymbol": True, "data": data, **more}


def _bar(name: str, data: list[Any], **more: Any) -> dict[str, Any]:
    return {"name": name, "type": "bar", "barMaxWidth": 18, "data": data, **more}


def requests_chart(per_minute: list[MinuteFigures]) -> dict[str, Any]:
    """Requests and 5xx answers per minute."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": _GRID,
        "xAxis": {"type": "category", "data": _minutes(per_minute)},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            _line(str(_("请求数")), [m.requests for m in per_minute]),
            _bar(str(_("5xx 错误")), [m.errors for m in per_minute], color="#d63939"),
        ],
    }


def latency_chart(per_minute: list[MinuteFigures]) -> dict[str, Any]:
    """The median and 95th percentile latency per minute, in milliseconds."""
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": _GRID,
        "xAxis": {"type": "category", "data": _minutes(per_minute)},
        "yAxis": {"type": "value", "name": "ms"},
        "series": [
            _line("p50", [m.p50_ms for m in per_minute], connectNulls=True),
            _line("p95", [m.p95_ms for m in per_minute], connectNulls=True),
        ],
    }


def _route_bars(routes: list[RouteFigures], series: list[dict[str, Any]]) -> dict[str, Any]:
    """Horizontal bars, one row per route, the busiest on top."""
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 0},
        "grid": _GRID,
        "xAxis": {"type": "value"},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": [route_label(r) for r in routes],
            "axisLabel": {"width": 220, "overflow": "truncate"},
        },
        "series": series,
    }


def route_rate_chart(routes: list[RouteFigures]) -> dict[str, Any]:
    top = routes[:TOP_ROUTES]
    return _route_bars(top, [_bar(str(_("每分钟请求数")), [r.per_minute for r in top])])


def route_errors_chart(routes: list[RouteFigures]) -> dict[str, Any]:
    failing = sorted((r for r in routes if r.errors), key=lambda r: -r.error_ratio)[:TOP_ROUTES]
    ratios = [round(r.error_ratio * 100, 2) for r in failing]
    return _route_bars(failing, [_bar(str(_("5xx 比例（%）")), ratios, color="#d63939")])


def route_latency_chart(routes: list[RouteFigures]) -> dict[str, Any]:
    top = routes[:TOP_ROUTES]
    return _route_bars(
        top,
        [_bar("p50 (ms)", [r.p50_ms for r in top]), _bar("p95 (ms)", [r.p95_ms for r in top])],
    )


def traffic_charts(result: TrafficOut) -> dict[str, dict[str, Any]]:
    """ECharts options by chart name."""
    return {
        "requests": requests_chart(result.per_minute),
        "latency": latency_chart(result.per_minute),
        "route_rate": route_rate_chart(result.routes),
        "route_errors": route_errors_chart(result.routes),
        "route_latency": route_latency_chart(result.routes),
    }
