"""OpenAPI documents as the API catalog handles them: Campus's own, built from the JSON routes
of the modules an instance serves; others fetched over HTTP within a size and time limit and
checked to be OpenAPI 3; a canonical digest to tell versions apart; the operations listed for
searching and comparing."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

import campus
from campus.kernel.i18n import LazyText, _
from campus.kernel.manifest import Module

MAX_BYTES = 5 * 1024 * 1024
FETCH_SECONDS = 10.0
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class DocumentError(Exception):
    """Why a document could not be read or is not OpenAPI 3: ``reason`` is shown on the
    catalog's pages in the reader's language (kept with ``i18n.storable``)."""

    def __init__(self, reason: LazyText) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tags: str
    operation_id: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


_built: dict[frozenset[str] | None, dict[str, Any]] = {}  # the code does not change while running


def campus_document(modules: Iterable[Module], served: set[str] | None) -> dict[str, Any]:
    """The OpenAPI document of Campus's JSON API for the modules in ``served`` (None: all),
    built once per process for each set of modules."""
    key = None if served is None else frozenset(served)
    if key not in _built:
        _built[key] = _build(modules, served)
    return _built[key]


def _build(modules: Iterable[Module], served: set[str] | None) -> dict[str, Any]:
    routes = [
        route
        for module in modules
        if served is None or module.name in served
        for router in module.routers
        for route in router.routes
        if isinstance(route, APIRoute) and route.include_in_schema
    ]
    with warnings.catch_warnings():  # a route serving two methods repeats its operation id
        warnings.simplefilter("ignore", UserWarning)
        return get_openapi(title="Campus", version=campus.__version__, routes=routes)


async def fetch(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    """The OpenAPI document at ``url``, or DocumentError."""
    try:
        async with client.stream("GET", url, timeout=FETCH_SECONDS) as response:
            if response.status_code != 200:
                raise DocumentError(_("文档地址回答 HTTP {status}", status=response.status_code))
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise DocumentError(_("文档超过 {mb} MB", mb=MAX_BYTES // 1024 // 1024))
    except httpx.TimeoutException as exc:
        timeout = _("读取文档超时（{seconds} 秒）", seconds=f"{FETCH_SECONDS:.0f}")
        raise DocumentError(timeout) from exc
    except httpx.HTTPError as exc:
        raise DocumentError(_("无法连接文档地址：{error}", error=type(exc).__name__)) from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise DocumentError(_("文档不是合法的 JSON")) from exc
    check(document)
    return dict(document)


def check(document: object) -> None:
    """DocumentError unless ``document`` looks like an OpenAPI 3 document."""
    if not isinstance(document, dict):
        raise DocumentError(_("文档应为 JSON 对象"))
    version = document.get("openapi")
    if not isinstance(version, str) or not version.startswith("3."):
        raise DocumentError(_("不是 OpenAPI 3 文档（缺少 openapi: 3.x）"))
    if not isinstance(document.get("paths", {}), dict):
        raise DocumentError(_("文档的 paths 应为对象"))
    if not isinstance(document.get("info"), dict):
        raise DocumentError(_("文档缺少 info"))


def canonical_digest(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def info(document: dict[str, Any]) -> tuple[str, str]:
    """(title, version) of the document, cut to the catalog's column sizes."""
    found = document.get("info") or {}
    return str(found.get("title") or "")[:200], str(found.get("version") or "")[:60]


def operations(document: dict[str, Any]) -> list[Operation]:
    out = []
    for path, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            summary = operation.get("summary") or operation.get("description") or ""
            tags = operation.get("tags") or []
            out.append(
                Operation(
                    method=method.upper(),
                    path=str(path)[:300],
                    summary=str(summary).strip().split("\n")[0][:300],
                    tags=",".join(str(t) for t in tags)[:200] if isinstance(tags, list) else "",
                    operation_id=str(operation.get("operationId") or "")[:200],
                )
            )
    return sorted(out, key=lambda o: (o.path, METHODS.index(o.method.lower())))
