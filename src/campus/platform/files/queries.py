"""Reads of the file service. A deleted file is absent to every read but the sweep's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.storage import BlobNotFound, Storage, key_of
from campus.platform.files.models import File
from campus.platform.files.schemas import FileMeta, FileOut, OpenedFile, download_url

log = structlog.get_logger(__name__)

# Longest id accepted for a look-up; ids are 22 characters (secrets.token_urlsafe(16)).
MAX_ID_LENGTH = 32


def to_out(row: File) -> FileOut:
    return FileOut(
        id=row.id,
        name=row.name,
        size=row.size,
        content_type=row.content_type,
        url=download_url(row.id),
    )


def to_meta(row: File) -> FileMeta:
    return FileMeta(
        **to_out(row).model_dump(),
        sha256=row.sha256,
        owner_id=row.owner_id,
        created_at=row.created_at,
        bound_module=row.bound_module,
        bound_key=row.bound_key,
    )


def not_found() -> NotFound:
    """The one answer for a file that is absent, deleted or not the reader's to see: nobody
    learns that someone else's file exists."""
    return NotFound(_("文件不存在"))


async def live_file(session: AsyncSession, file_id: str) -> File | None:
    if len(file_id) > MAX_ID_LENGTH:
        return None
    return await session.scalar(select(File).where(File.id == file_id, File.deleted_at.is_(None)))


async def live_files(session: AsyncSession, ids: Iterable[str]) -> dict[str, File]:
    wanted = {i for i in ids if len(i) <= MAX_ID_LENGTH}
    if not wanted:
        return {}
    rows = await session.scalars(select(File).where(File.id.in_(wanted), File.deleted_at.is_(None)))
    return {row.id: row for row in rows}


async def get_files(session: AsyncSession, ids: Sequence[str]) -> list[FileOut]:
    """The files with these ids, in that order, each once; unknown or deleted ones left out."""
    rows = await live_files(session, ids)
    return [to_out(rows[i]) for i in dict.fromkeys(ids) if i in rows]


async def file_meta(session: AsyncSession, file_id: str) -> FileMeta | None:
    row = await live_file(session, file_id)
    return None if row is None else to_meta(row)


async def open_meta(storage: Storage, meta: FileMeta) -> OpenedFile:
    """The file's content, ready to stream; a blob gone missing is logged for the operators and
    answered as an absent file."""
    try:
        chunks = await storage.open(key_of(meta.sha256))
    except BlobNotFound:
        log.error("file_content_missing", file_id=meta.id, sha256=meta.sha256)
        raise NotFound(_("文件内容已丢失，请联系管理员")) from None
    return OpenedFile(meta, chunks)


async def orphans(session: AsyncSession, created_before: datetime, limit: int) -> list[File]:
    """Live files bound to nothing, uploaded before the given time: forms abandoned unsent."""
    rows = await session.scalars(
        select(File)
        .where(
            File.bound_module.is_(None),
            File.deleted_at.is_(None),
            File.created_at < created_before,
        )
        .order_by(File.created_at)
        .limit(limit)
    )
    return list(rows)


async def deleted_before(session: AsyncSession, before: datetime, limit: int) -> list[File]:
    rows = await session.scalars(
        select(File).where(File.deleted_at < before).order_by(File.deleted_at).limit(limit)
    )
    return list(rows)


async def digests_in_use(session: AsyncSession, digests: Iterable[str]) -> set[str]:
    """Which of these contents some file row (live or deleted but not yet purged) still has."""
    wanted = set(digests)
    if not wanted:
        return set()
    rows = await session.scalars(select(File.sha256).where(File.sha256.in_(wanted)).distinct())
    return set(rows)
