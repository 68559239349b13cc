"""Refreshing the API catalog: read every source's OpenAPI document and keep a new version when
its content changed. Sources: Campus's own document (the modules its registered instances
serve), each other registry service (its first healthy instance with an address, at
``metadata.openapi`` or ``/openapi.json``), and each gateway service with a documentation URL
(a vendor's, most often). One transaction per source, so one bad source spoils nothing else; a
source that fails keeps its current version and shows the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx
import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, i18n
from campus.kernel.events import emit
from campus.kernel.i18n import LazyText
from campus.kernel.runtime import Runtime
from campus.platform.gateway import events
from campus.platform.gateway import queries as gateway_queries
from campus.platform.gateway.apis import documents
from campus.platform.gateway.models import ApiDocument, ApiOperation, ApiSource
from campus.platform.registry import service as registry
from campus.platform.registry.schemas import InstanceOut

log = structlog.get_logger(__name__)

DEFAULT_PATH = "/openapi.json"
KEEP_VERSIONS = 20  # per source; older versions are deleted


@dataclass(frozen=True)
class Source:
    name: str
    kind: str  # campus|registry|gateway
    url: str  # "" for Campus's own
    served: frozenset[str] | None = None  # Campus's modules to document (None: all)


@dataclass
class RefreshReport:
    checked: int = 0
    new_versions: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


async def sources(rt: Runtime) -> list[Source]:
    instances = await registry.all_instances(rt)
    found: dict[str, Source] = {}
    campus = [i for i in instances if i.service == registry.SERVICE]
    served = frozenset(m for i in campus for m in i.modules) if campus else None
    found[registry.SERVICE] = Source(registry.SERVICE, "campus", "", served)
    for instance in sorted(instances, key=lambda i: (i.service, i.id)):
        if instance.service in found or not _reachable(instance):
            continue
        found[instance.service] = Source(instance.service, "registry", _docs_url(instance))
    async with rt.db.read() as session:
        for service in await gateway_queries.all_services(session):
            if service.docs_url:
                found[service.name] = Source(service.name, "gateway", service.docs_url)
    return sorted(found.values(), key=lambda s: s.name)


def _reachable(instance: InstanceOut) -> bool:
    return bool(instance.address) and instance.alive and instance.healthy


def _docs_url(instance: InstanceOut) -> str:
    path = str(instance.metadata.get("openapi") or DEFAULT_PATH)
    return urljoin(str(instance.address).rstrip("/") + "/", path.lstrip("/"))


async def refresh(rt: Runtime, client: httpx.AsyncClient) -> RefreshReport:
    """Read every source now; the report names the sources that got a new version and those
    that failed."""
    report = RefreshReport()
    for source in await sources(rt):
        report.checked += 1
        try:
            document = await _document(rt, client, source)
        except documents.DocumentError as exc:
            report.failed[source.name] = str(exc)
            async with rt.db.transaction() as session:
                await _record_failure(session, source, exc.reason)
            continue
        async with rt.db.transaction() as session:
            if await _record(session, source, document):
                report.new_versions.append(source.name)
    return report


async def _document(rt: Runtime, client: httpx.AsyncClient, source: Source) -> dict[str, Any]:
    if source.kind == "campus":
        served = None if source.served is None else set(source.served)
        return documents.campus_document(rt.modules, served)
    return await documents.fetch(client, source.url)


async def _source_row(session: AsyncSession, source: Source) -> ApiSource:
    row = await session.scalar(select(ApiSource).where(ApiSource.name == source.name))
    if row is None:
        row = ApiSource(name=source.name, last_checked_at=clock.now(), last_error="")
        session.add(row)
    row.kind = source.kind
    row.url = source.url
    row.last_checked_at = clock.now()
    return row


async def _record_failure(session: AsyncSession, source: Source, reason: LazyText) -> None:
    row = await _source_row(session, source)
    row.last_error = i18n.storable(reason)[:300]
    log.warning("api_catalog_fetch_failed", source=source.name, reason=str(reason))


async def _record(session: AsyncSession, source: Source, document: dict[str, Any]) -> bool:
    """Store the document as the source's current version; False when it is unchanged."""
    row = await _source_row(session, source)
    row.last_error = ""
    await session.flush()
    digest = documents.canonical_digest(document)
    current = await session.get(ApiDocument, row.current_doc_id) if row.current_doc_id else None
    if current is not None and current.digest == digest:
        return False
    known = await session.scalar(
        select(ApiDocument).where(ApiDocument.source_id == row.id, ApiDocument.digest == digest)
    )
    if known is not None:  # back to an earlier version: it becomes current again
        row.current_doc_id = known.id
        return True
    title, version = documents.info(document)
    listed = documents.operations(document)
    doc = ApiDocument(
        source_id=row.id,
        title=title,
        version=version,
        digest=digest,
        document=document,
        operation_count=len(listed),
        fetched_at=clock.now(),
    )
    session.add(doc)
    await session.flush()
    session.add_all(
        ApiOperation(
            doc_id=doc.id,
            method=o.method,
            path=o.path,
            summary=o.summary,
            tags=o.tags,
            operation_id=o.operation_id,
        )
        for o in listed
    )
    row.current_doc_id = doc.id
    await _forget_old(session, row.id)
    after = {"source": source.name, "version": version, "digest": digest[:12]}
    audit.record(session, "gateway.api.version", "gw_api_doc", doc.id, after=after)
    payload = events.ApiVersionAdded(
        source=source.name, doc_id=doc.id, version=version, operations=len(listed)
    )
    await emit(session, events.API_VERSION_ADDED, payload)
    return True


async def _forget_old(session: AsyncSession, source_id: int) -> None:
    ids = list(
        await session.scalars(
            select(ApiDocument.id)
            .where(ApiDocument.source_id == source_id)
            .order_by(ApiDocument.id.desc())
            .offset(KEEP_VERSIONS)
        )
    )
    if ids:  # two statements, however many versions go
        await session.execute(delete(ApiOperation).where(ApiOperation.doc_id.in_(ids)))
        await session.execute(delete(ApiDocument).where(ApiDocument.id.in_(ids)))
