"""Writes of the file service: upload, delete, bind to another module's object, and the sweep
of abandoned uploads and deleted files."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.errors import (
    Conflict,
    FieldError,
    InvalidInput,
    PayloadTooLarge,
    Problem,
)
from campus.kernel.i18n import _
from campus.kernel.storage import Storage, TooLarge, key_of
from campus.platform.files import queries
from campus.platform.files.kinds import (
    Kind,
    allowed_extensions,
    clean_name,
    extension_of,
    kind_of,
)
from campus.platform.files.models import File
from campus.platform.files.queries import not_found, to_out
from campus.platform.files.schemas import FileOut

TARGET_TYPE = "files_file"
UPLOAD_FIELD = "file"
# An upload no form has taken within this time is an abandoned one.
ORPHAN_AGE = timedelta(hours=24)
# A deleted file's record (and blob) is kept this long. Any upload of the same bytes also marks
# the blob as written: a blob written within this time is never removed, so an upload whose
# record is not committed yet cannot lose its content to the sweep.
BLOB_GRACE = timedelta(hours=1)
SWEEP_BATCH = 500
MAX_MODULE_LENGTH = 60
MAX_OBJECT_KEY_LENGTH = 120


class UnsupportedFileType(Problem):
    status = 415
    slug = "unsupported-media-type"
    title = _("不支持的文件类型")


@dataclass(frozen=True)
class Incoming:
    """An uploaded file as the form parser holds it (spooled to disk when large)."""

    name: str | None
    size: int | None  # as counted by the parser; None when it did not say
    head: bytes  # the first bytes, to recognise the type
    chunks: AsyncIterable[bytes]


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:.3g} {unit}"
    return f"{size} B"


def too_large(limit: int) -> PayloadTooLarge:
    reason = _("文件不能超过 {size}", size=human_size(limit))
    return PayloadTooLarge(reason, errors=[FieldError(UPLOAD_FIELD, reason)])


def snapshot(row: File) -> dict[str, Any]:
    return {
        "name": row.name,
        "size": row.size,
        "content_type": row.content_type,
        "sha256": row.sha256,
        "owner_id": row.owner_id,
        "bound_module": row.bound_module,
        "bound_key": row.bound_key,
    }


# ---------------------------------------------------------------- upload


def check_upload_kind(incoming: Incoming, limit: int) -> tuple[str, Kind]:
    """The name to keep and the kind of file, or the reason it is refused (nothing is stored
    yet): too large (413), empty or nameless (422), a type not on the list (415), content that
    is not what the extension says (422)."""
    if incoming.size is not None and incoming.size > limit:
        raise too_large(limit)
    name = clean_name(incoming.name)
    if not name:
        raise InvalidInput.on(UPLOAD_FIELD, _("文件名不能为空"))
    if incoming.size == 0 or not incoming.head:
        raise InvalidInput.on(UPLOAD_FIELD, _("文件是空的，请重新选择"))
    kind = kind_of(name)
    if kind is None:
        reason = _("不支持该类型的文件，可上传：{extensions}", extensions=allowed_extensions())
        raise UnsupportedFileType(reason, errors=[FieldError(UPLOAD_FIELD, reason)])
    if not kind.looks_right(incoming.head):
        raise InvalidInput.on(
            UPLOAD_FIELD,
            _("文件内容与扩展名“{extension}”不符", extension=extension_of(name).lstrip(".")),
        )
    return name, kind


async def check_upload(
    session: AsyncSession, storage: Storage, owner_id: int, incoming: Incoming, limit: int
) -> FileOut:
    name, kind = check_upload_kind(incoming, limit)
    return await do_upload(session, storage, owner_id, name, kind, incoming.chunks, limit)


async def do_upload(
    session: AsyncSession,
    storage: Storage,
    owner_id: int,
    name: str,
    kind: Kind,
    chunks: AsyncIterable[bytes],
    limit: int,
) -> FileOut:
    """Stream the content into storage (hashed on the way), then record and audit the file."""
    try:
        blob = await storage.put(chunks, max_size=limit)
    except TooLarge:
        raise too_large(limit) from None
    if blob.size == 0:
        raise InvalidInput.on(UPLOAD_FIELD, _("文件是空的，请重新选择"))
    row = File(
        id=secrets.token_urlsafe(16),
        name=name,
        content_type=kind.content_type,
        size=blob.size,
        sha256=blob.sha256,
        owner_id=owner_id,
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(session, "files.file.upload", TARGET_TYPE, row.id, after=snapshot(row))
    return to_out(row)


# ---------------------------------------------------------------- delete


async def check_delete(session: AsyncSession, person_id: int, file_id: str) -> None:
    """Only the uploader deletes a file, and only while no object has it as an attachment."""
    row = await queries.live_file(session, file_id)
    if row is None or row.owner_id != person_id:
        raise not_found()
    if row.bound_module is not None:
        raise Conflict(_("文件已作为附件使用，不能删除"))
    await do_delete(session, row)


async def do_delete(session: AsyncSession, row: File) -> None:
    # Guarded: a bind committed since the check above wins, and the delete is refused.
    result = await session.execute(
        update(File)
        .where(File.id == row.id, File.deleted_at.is_(None), File.bound_module.is_(None))
        .values(deleted_at=clock.now())
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        raise Conflict(_("文件已作为附件使用或已删除，请刷新后重试"))
    audit.record(session, "files.file.delete", TARGET_TYPE, row.id, before=snapshot(row))


# ---------------------------------------------------------------- attach to another module


async def check_attachable(
    session: AsyncSession,
    person_id: int,
    ids: Sequence[str],
    *,
    field: str = "files",
    bound_to: tuple[str, str] | None = None,
) -> list[FileOut]:
    """The files, in order and each once, if the person may attach every one of them: each
    exists, is theirs, and is attached to nothing else (``bound_to`` is the object being saved:
    files already attached to it are fine). Otherwise one 422 naming each bad entry
    (``files.0``, ``files.2``…)."""
    rows = await queries.live_files(session, ids)
    errors: list[FieldError] = []
    for index, file_id in enumerate(ids):
        row = rows.get(file_id)
        where = f"{field}.{index}"
        if row is None or row.owner_id != person_id:
            errors.append(FieldError(where, _("文件 {id} 不存在或不是您上传的", id=file_id)))
        elif row.bound_module is not None and (row.bound_module, row.bound_key) != bound_to:
            errors.append(FieldError(where, _("文件“{name}”已是其他事项的附件", name=row.name)))
    if errors:
        raise InvalidInput(_("附件有误，请检查标出的文件"), errors=errors)
    return [to_out(rows[i]) for i in dict.fromkeys(ids)]


async def do_bind(session: AsyncSession, ids: Sequence[str], module: str, object_key: str) -> None:
    """Attach the files to one object of a module. Files already attached to it stay; a file
    deleted or attached elsewhere since ``check_attachable`` makes it a 409, binding none."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    if not 0 < len(module) <= MAX_MODULE_LENGTH or not 0 < len(object_key) <= MAX_OBJECT_KEY_LENGTH:
        raise ValueError(f"bad binding {module!r}/{object_key!r}")
    result = await session.execute(
        update(File)
        .where(
            File.id.in_(wanted),
            File.deleted_at.is_(None),
            or_(
                File.bound_module.is_(None),
                and_(File.bound_module == module, File.bound_key == object_key),
            ),
        )
        .values(bound_module=module, bound_key=object_key)
    )
    if cast(CursorResult[Any], result).rowcount != len(wanted):
        raise Conflict.on("files", _("有附件已被删除或已是其他事项的附件，请刷新后重试"))
    for file_id in wanted:
        audit.record(
            session,
            "files.file.bind",
            TARGET_TYPE,
            file_id,
            after={"bound_module": module, "bound_key": object_key},
        )


async def do_unbind(
    session: AsyncSession, module: str, object_key: str, *, keep: Sequence[str] = ()
) -> list[str]:
    """Detach the object's files except those in ``keep``; returns the detached ids. Detached
    files are uploads bound to nothing again: swept once a day old (most already are)."""
    conditions = [File.bound_module == module, File.bound_key == object_key]
    if keep:
        conditions.append(File.id.not_in(list(keep)))
    released = list(
        await session.scalars(
            update(File)
            .where(*conditions)
            .values(bound_module=None, bound_key=None)
            .returning(File.id)
        )
    )
    for file_id in released:
        audit.record(
            session,
            "files.file.unbind",
            TARGET_TYPE,
            file_id,
            before={"bound_module": module, "bound_key": object_key},
        )
    return released


# ---------------------------------------------------------------- the sweep


async def do_expire_orphans(session: AsyncSession, now: datetime) -> int:
    """Mark deleted (one batch of) the uploads bound to nothing for a day; returns how many."""
    candidates = await queries.orphans(session, now - ORPHAN_AGE, SWEEP_BATCH)
    if not candidates:
        return 0
    # Guarded: a file bound since it was read stays.
    expired = set(
        await session.scalars(
            update(File)
            .where(
                File.id.in_([row.id for row in candidates]),
                File.bound_module.is_(None),
                File.deleted_at.is_(None),
            )
            .values(deleted_at=now)
            .returning(File.id)
        )
    )
    for row in candidates:
        if row.id in expired:
            audit.record(session, "files.file.expire", TARGET_TYPE, row.id, before=snapshot(row))
    return len(candidates)


async def do_purge_deleted(session: AsyncSession, now: datetime) -> tuple[int, list[str]]:
    """Remove (one batch of) the records deleted more than ``BLOB_GRACE`` ago. Returns how many
    were read, and the storage keys of the contents no record has any more: the caller deletes
    those blobs once this transaction has committed."""
    rows = await queries.deleted_before(session, now - BLOB_GRACE, SWEEP_BATCH)
    if not rows:
        return 0, []
    await session.execute(delete(File).where(File.id.in_([row.id for row in rows])))
    digests = {row.sha256 for row in rows}
    unused = digests - await queries.digests_in_use(session, digests)
    return len(rows), sorted(key_of(digest) for digest in unused)
