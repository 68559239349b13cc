"""Liveness and readiness probes.

``/healthz`` says the process answers and touches nothing else, so a slow database never gets a
live process restarted. ``/readyz`` checks every outside part with a short timeout; a load
balancer stops sending traffic while it answers 503.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from campus.kernel.errors import Problem, problem_response
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime

log = structlog.get_logger(__name__)

PART_TIMEOUT = 2.0
NO_STORE = {"Cache-Control": "no-store"}


class NotReady(Problem):
    status = 503
    slug = "not-ready"
    title = _("服务暂不可用")


def probes(runtime: Runtime) -> dict[str, Callable[[], Awaitable[None]]]:
    return {"database": runtime.db.ping, "cache": runtime.cache.ping, "broker": runtime.bus.ping}


async def check_part(name: str, probe: Callable[[], Awaitable[None]], seconds: float) -> str:
    """``ok``, ``timeout`` or ``down``; the cause goes to the log, not to the anonymous caller."""
    try:
        async with asyncio.timeout(seconds):
            await probe()
    except TimeoutError:
        log.warning("readiness_timeout", part=name, seconds=seconds)
        return "timeout"
    except Exception as exc:
        log.warning("readiness_failed", part=name, error=f"{type(exc).__name__}: {exc}")
        return "down"
    return "ok"


async def check_parts(runtime: Runtime, seconds: float = PART_TIMEOUT) -> dict[str, str]:
    named = probes(runtime)
    results = await asyncio.gather(*(check_part(n, p, seconds) for n, p in named.items()))
    return dict(zip(named, results, strict=True))


async def healthz() -> Response:
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    parts = await check_parts(runtime, PART_TIMEOUT)
    failed = [name for name, state in parts.items() if state != "ok"]
    if not failed:
        return JSONResponse({"status": "ok", "parts": parts}, headers=NO_STORE)
    problem = NotReady(
        _("以下部件不可用：{parts}", parts=", ".join(failed)),
        extra={"parts": parts, "failed": failed},
    )
    response = problem_response(problem, request)
    response.headers.update(NO_STORE)
    return response
