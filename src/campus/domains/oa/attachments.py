"""Attachments of notices and documents, kept by the file service: checked and bound when an
object is saved, listed with it, and served only by this module's routes after the object's
own access check (the file service serves a file to its uploader only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.schemas import AttachmentOut
from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.files import service as files

MODULE = "oa"


def key_of(kind: str, object_id: int) -> str:
    """The key a file is bound under, e.g. ``notice:12``."""
    return f"{kind}:{object_id}"


async def check(
    session: AsyncSession,
    principal: Principal,
    ids: Sequence[str],
    field: str,
    *,
    kind: str | None = None,
    object_id: int | None = None,
) -> list[str]:
    """The ids, each once, when the principal may attach every one of them (their own uploads,
    attached to nothing else than this very object when it is being edited)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    bound_to = (MODULE, key_of(kind, object_id)) if kind and object_id is not None else None
    found = await files.check_attachable(
        session, principal.person_id, wanted, field=field, bound_to=bound_to
    )
    return [f.id for f in found]


async def bind(session: AsyncSession, ids: Sequence[str], kind: str, object_id: int) -> None:
    if ids:
        await files.bind(session, list(ids), MODULE, key_of(kind, object_id))


async def listed(session: AsyncSession, ids: Sequence[str]) -> list[AttachmentOut]:
    return [
        AttachmentOut(id=f.id, name=f.name, size=f.size)
        for f in await files.get_files(session, list(ids))
    ]


async def download(
    runtime: Runtime,
    session: AsyncSession,
    ids: Sequence[str],
    file_id: str,
    kind: str,
    object_id: int,
) -> files.OpenedFile:
    """One attachment of the object (whose access the caller has checked)."""
    if file_id not in ids:
        raise NotFound(_("附件不存在"))
    return await files.open_file(
        runtime, session, file_id, bound_to=(MODULE, key_of(kind, object_id))
    )
