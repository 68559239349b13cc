"""structlog: JSON lines in production, readable lines in development.

Every line carries the request id bound by the kernel middleware. Records from the standard
``logging`` module (uvicorn, SQLAlchemy, libraries) go through the same renderer, so a process
writes one format only. The access log is one line per request, written by ``AccessLog``.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

HANDLER_NAME = "campus"
# Our access line replaces uvicorn's, which knows neither the route template nor the request id;
# httpx logs every outgoing URL with its query string, which may carry tokens.
QUIET_LOGGERS = ("uvicorn.access", "httpx")
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error")


def configure_logging(
    level: str = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> None:
    """Configure structlog and the standard library; calling it again replaces the setup."""
    threshold = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    out = stream or sys.stdout
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # The console renderer formats exceptions itself; JSON needs them as a string field.
    finishing: list[structlog.types.Processor] = (
        [structlog.processors.format_exc_info, renderer] if json else [renderer]
    )
    structlog.configure(
        processors=[*shared, structlog.processors.StackInfoRenderer(), *finishing],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(shared, finishing, threshold, out)


def _route_standard_logging(
    shared: list[structlog.types.Processor],
    finishing: list[structlog.types.Processor],
    threshold: int,
    out: TextIO,
) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finishing],
    )
    handler = logging.StreamHandler(out)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name in ROUTED_LOGGERS:
        routed = logging.getLogger(name)
        routed.handlers.clear()
        routed.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


class AccessLog:
    """One line per request. The query string is never logged (it may carry tokens); the raw
    path only when no route matched, since matched paths may embed other people's ids."""

    def __init__(self) -> None:
        # Bound when the app is built, so it follows the configuration of that moment.
        self._log = structlog.get_logger().bind(logger="campus.access")

    def write(
        self,
        *,
        method: str,
        route: str | None,
        path: str,
        status: int,
        duration_ms: float,
        module: str,
        request_id: str,
        person_id: int | None,
    ) -> None:
        fields: dict[str, object] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(duration_ms, 2),
            "module": module,
            "request_id": request_id,
            "person_id": person_id,
        }
        if route is None:
            fields["path"] = path[:200]
        if status >= 500:
            self._log.error("http_request", **fields)
        else:
            self._log.info("http_request", **fields)
