"""The file service's public interface, for modules whose forms carry attachments.

A form's attachments go like this:

1. the browser uploads each file to ``POST /api/v1/files`` and keeps the ids it gets back;
2. the module saving the form calls ``check_attachable(session, person_id, ids)`` (a 422 naming
   each bad entry) and then ``bind(session, ids, "workflow", str(instance_id))`` in the same
   transaction; uploads never bound are swept after a day;
3. to show them it calls ``get_files(session, ids)``, and serves one from a route of its own
   after its own access check::

       opened = await files.open_file(rt, session, file_id, bound_to=("workflow", key))
       return files.download_response(opened)

The download route of this module serves a file only to its uploader and to holders of
``files.file.read_all``; everyone else reaches an attachment through the module it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from campus.kernel.context import Principal
from campus.kernel.errors import InvalidInput
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.storage import Storage
from campus.platform.access import service as access
from campus.platform.files import actions, queries
from campus.platform.files.kinds import INLINE_TYPES, extension_of
from campus.platform.files.permissions import FILE_READ_ALL
from campus.platform.files.queries import not_found
from campus.platform.files.schemas import FileMeta, FileOut, OpenedFile

__all__ = [
    "FileMeta",
    "FileOut",
    "OpenedFile",
    "access_file",
    "bind",
    "check_attachable",
    "check_image",
    "content_disposition",
    "download_response",
    "get_files",
    "open_file",
    "unbind",
]


async def get_files(session: AsyncSession, ids: Sequence[str]) -> list[FileOut]:
    """The files with these ids, in that order; unknown or deleted ones are left out."""
    return await queries.get_files(session, ids)


async def check_attachable(
    session: AsyncSession,
    principal_person_id: int,
    ids: Sequence[str],
    *,
    field: str = "files",
    bound_to: tuple[str, str] | None = None,
) -> list[FileOut]:
    """The files if the person may attach them all: each exists, was uploaded by them, and is
    attached to nothing but ``bound_to`` (the object being saved, when it is edited).
    Otherwise ``InvalidInput`` with one error per bad entry, named ``{field}.{index}``."""
    return await actions.check_attachable(
        session, principal_person_id, ids, field=field, bound_to=bound_to
    )


PICTURE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def check_image(
    session: AsyncSession,
    principal_person_id: int,
    file_id: str,
    *,
    field: str,
    bound_to: tuple[str, str] | None = None,
) -> str:
    """The id of one attachable picture (PNG, JPEG, GIF or WebP: what every browser shows, and
    no SVG, which could carry script), for an avatar or an icon; ``InvalidInput`` on ``field``
    otherwise."""
    found = await check_attachable(
        session, principal_person_id, [file_id], field=field, bound_to=bound_to
    )
    if found[0].content_type not in PICTURE_TYPES:
        raise InvalidInput.on(field, _("请上传图片（PNG、JPEG、GIF 或 WebP）"))
    return found[0].id


async def bind(session: AsyncSession, ids: Sequence[str], module: str, object_key: str) -> None:
    """Attach the files to ``object_key`` of ``module`` (after ``check_attachable``, in the same
    transaction). A bound file is no longer swept and can no longer be deleted by its uploader.
    ``Conflict`` when one was deleted or attached elsewhere in the meantime."""
    await actions.do_bind(session, ids, module, object_key)


async def unbind(
    session: AsyncSession, module: str, object_key: str, *, keep: Sequence[str] = ()
) -> list[str]:
    """Detach the object's files except those in ``keep`` (a form saved with fewer attachments,
    or an object deleted); returns the detached ids. They are swept once a day old."""
    return await actions.do_unbind(session, module, object_key, keep=keep)


async def open_file(
    runtime_or_storage: Runtime | Storage,
    session: AsyncSession,
    file_id: str,
    *,
    bound_to: tuple[str, str] | None = None,
) -> OpenedFile:
    """The file's record and content, for a module serving an attachment after its own access
    check. Pass ``bound_to=(module, object_key)``: a file not attached to that very object is
    then absent, so a route can never be made to serve a file of another object.
    ``NotFound`` for an unknown or deleted file."""
    storage = (
        runtime_or_storage.storage
        if isinstance(runtime_or_storage, Runtime)
        else runtime_or_storage
    )
    meta = await queries.file_meta(session, file_id)
    if meta is None or (bound_to is not None and (meta.bound_module, meta.bound_key) != bound_to):
        raise not_found()
    return await queries.open_meta(storage, meta)


def access_file(principal: Principal, meta: FileMeta) -> bool:
    """Whether the principal may download the file here: its uploader, or a holder of
    ``files.file.read_all`` reaching the whole school (files belong to no org unit)."""
    return meta.owner_id == principal.person_id or access.allows(principal, FILE_READ_ALL, [])


def content_disposition(name: str, *, inline: bool = False) -> str:
    """``attachment`` (or ``inline``) with the name twice: ASCII for old clients, and UTF-8
    (RFC 5987 ``filename*``) that browsers prefer, so Chinese names arrive intact."""
    fallback = re.sub(r'[^\x20-\x7e]+|["\\]', "_", name)
    if not any(ch.isalnum() for ch in fallback.rsplit(".", 1)[0]):
        fallback = "download" + extension_of(name)
    disposition = "inline" if inline else "attachment"
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(opened: OpenedFile) -> StreamingResponse:
    """The file as a download (pictures shown in place), streamed from storage. The type is the
    one fixed at upload from the allow-list, and browsers are told not to guess another."""
    meta = opened.meta
    headers = {
        "Content-Type": meta.content_type,
        "Content-Length": str(meta.size),
        "Content-Disposition": content_disposition(
            meta.name, inline=meta.content_type in INLINE_TYPES
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
    }
    # No media_type: Starlette would add a charset to text/plain, which may be GB 18030.
    return StreamingResponse(opened.chunks, headers=headers)
