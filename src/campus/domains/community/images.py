"""A post's pictures, kept by the file service: checked (the writer's own uploads, pictures
only, bound to nothing yet) and bound to ``community_post:{id}`` when the post is saved, and
served only by this module's route after ``access_post`` (the file service itself serves a file
to its uploader only)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.schemas import ImageOut
from campus.kernel.errors import FieldError, InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.files import service as files

MODULE = "community"
FIELD = "images"


def key_of(post_id: int) -> str:
    return f"community_post:{post_id}"


def url_of(post_id: int, file_id: str) -> str:
    return f"/api/v1/community/posts/{post_id}/images/{file_id}"


async def check(session: AsyncSession, person_id: int, ids: Sequence[str]) -> list[str]:
    """The ids, each once, when every one is a picture the person uploaded and has not used."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = await files.check_attachable(session, person_id, wanted, field=FIELD)
    errors = [
        FieldError(f"{FIELD}.{index}", _("只能上传图片（jpg、png、gif、webp）"))
        for index, f in enumerate(found)
        if not f.content_type.startswith("image/")
    ]
    if errors:
        raise InvalidInput(_("只能上传图片（jpg、png、gif、webp）"), errors=errors)
    return [f.id for f in found]


async def bind(session: AsyncSession, ids: Sequence[str], post_id: int) -> None:
    if ids:
        await files.bind(session, list(ids), MODULE, key_of(post_id))


def listed(post_id: int, ids: Sequence[str]) -> list[ImageOut]:
    return [ImageOut(id=i, url=url_of(post_id, i)) for i in ids]


async def download(
    runtime: Runtime, session: AsyncSession, post_id: int, ids: Sequence[str], file_id: str
) -> files.OpenedFile:
    """One picture of the post (whose access the caller has checked)."""
    if file_id not in ids:
        raise NotFound(_("图片不存在"))
    return await files.open_file(runtime, session, file_id, bound_to=(MODULE, key_of(post_id)))
