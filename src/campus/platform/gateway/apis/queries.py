"""Reads of the API catalog: its sources with their current versions, a source's versions and
operations, what a version changed, and a search over the current operations."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import i18n
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.gateway.models import ApiDocument, ApiOperation, ApiSource
from campus.platform.gateway.schemas import (
    ApiChangesOut,
    ApiOperationOut,
    ApiSourceDetail,
    ApiSourceOut,
    ApiVersionOut,
)

SEARCH_LIMIT = 100


async def list_sources(session: AsyncSession) -> list[ApiSourceOut]:
    counts = dict(
        (
            await session.execute(
                select(ApiDocument.source_id, func.count()).group_by(ApiDocument.source_id)
            )
        ).all()
    )
    rows = await session.execute(
        select(ApiSource, ApiDocument)
        .outerjoin(ApiDocument, ApiDocument.id == ApiSource.current_doc_id)
        .order_by(ApiSource.name)
    )
    return [_source_out(source, doc, counts.get(source.id, 0)) for source, doc in rows.all()]


def _source_out(source: ApiSource, doc: ApiDocument | None, versions: int) -> ApiSourceOut:
    return ApiSourceOut(
        name=source.name,
        kind=source.kind,
        url=source.url,
        title=doc.title if doc else None,
        version=doc.version if doc else None,
        operation_count=doc.operation_count if doc else 0,
        versions=versions,
        fetched_at=doc.fetched_at if doc else None,
        last_checked_at=source.last_checked_at,
        last_error=i18n.shown(source.last_error) or "",
    )


async def source_row(session: AsyncSession, name: str) -> ApiSource:
    row = await session.scalar(select(ApiSource).where(ApiSource.name == name))
    if row is None:
        raise NotFound(_("API 目录中没有“{name}”", name=name))
    return row


async def document(session: AsyncSession, name: str, doc_id: int | None) -> dict[str, object]:
    """A version's document (None: the current one)."""
    source = await source_row(session, name)
    wanted = doc_id or source.current_doc_id
    doc = await session.get(ApiDocument, wanted) if wanted else None
    if doc is None or doc.source_id != source.id:
        raise NotFound(_("“{name}”没有这个版本", name=name))
    return dict(doc.document)


def _operation_out(source: str, row: ApiOperation) -> ApiOperationOut:
    return ApiOperationOut(
        source=source,
        method=row.method,
        path=row.path,
        summary=row.summary,
        tags=[t for t in row.tags.split(",") if t],
        operation_id=row.operation_id,
    )


async def detail(session: AsyncSession, name: str, doc_id: int | None = None) -> ApiSourceDetail:
    """A source with its versions, the operations of one version (the current by default) and
    what that version changed."""
    source = await source_row(session, name)
    docs = list(
        await session.scalars(
            select(ApiDocument)
            .where(ApiDocument.source_id == source.id)
            .order_by(ApiDocument.id.desc())
        )
    )
    shown = doc_id or source.current_doc_id
    if doc_id is not None and doc_id not in {d.id for d in docs}:
        raise NotFound(_("“{name}”没有这个版本", name=name))
    current = next((d for d in docs if d.id == source.current_doc_id), None)
    operations = await _operations(session, shown) if shown else []
    return ApiSourceDetail(
        source=_source_out(source, current, len(docs)),
        versions=[
            ApiVersionOut(
                id=d.id,
                version=d.version,
                digest=d.digest[:12],
                operation_count=d.operation_count,
                fetched_at=d.fetched_at,
                current=d.id == source.current_doc_id,
            )
            for d in docs
        ],
        operations=[_operation_out(name, o) for o in operations],
        changes=await _changes(session, shown, [d.id for d in docs]) if shown else None,
    )


async def _operations(session: AsyncSession, doc_id: int) -> list[ApiOperation]:
    rows = await session.scalars(
        select(ApiOperation).where(ApiOperation.doc_id == doc_id).order_by(ApiOperation.id)
    )
    return list(rows)


async def _changes(
    session: AsyncSession, doc_id: int, ids_newest_first: list[int]
) -> ApiChangesOut:
    older = [i for i in ids_newest_first if i < doc_id]
    previous = older[0] if older else None
    now = {f"{o.method} {o.path}" for o in await _operations(session, doc_id)}
    before = (
        {f"{o.method} {o.path}" for o in await _operations(session, previous)} if previous else now
    )
    return ApiChangesOut(
        version_id=doc_id,
        previous_id=previous,
        added=sorted(now - before),
        removed=sorted(before - now),
    )


async def search(session: AsyncSession, term: str) -> list[ApiOperationOut]:
    """Operations of every source's current version whose path, summary, tags or operation
    id contain ``term`` (at most SEARCH_LIMIT)."""
    like = f"%{term}%"
    rows = await session.execute(
        select(ApiOperation, ApiSource.name)
        .join(ApiSource, ApiSource.current_doc_id == ApiOperation.doc_id)
        .where(
            or_(
                ApiOperation.path.ilike(like),
                ApiOperation.summary.ilike(like),
                ApiOperation.tags.ilike(like),
                ApiOperation.operation_id.ilike(like),
            )
        )
        .order_by(ApiSource.name, ApiOperation.path, ApiOperation.method)
        .limit(SEARCH_LIMIT)
    )
    return [_operation_out(name, operation) for operation, name in rows.all()]
