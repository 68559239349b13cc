"""JSON API of the file service: /api/v1/files. Thin: parse, authorise, call one action or query.

Someone else's file answers 404 like a file that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.storage import CHUNK_SIZE
from campus.platform.access.service import signed_in
from campus.platform.files import actions, queries, service
from campus.platform.files.kinds import SNIFF_BYTES
from campus.platform.files.schemas import API_PREFIX, FileMeta, FileOut

router = APIRouter(prefix=API_PREFIX, tags=["files"])


async def _chunks_of(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while chunk := await upload.read(CHUNK_SIZE):
        yield chunk


async def _incoming(upload: UploadFile) -> actions.Incoming:
    """The upload as the action takes it: its first bytes to recognise it, then the whole
    content chunk by chunk (the form parser has spooled it to disk when large)."""
    head = await upload.read(SNIFF_BYTES)
    return actions.Incoming(upload.filename, upload.size, head, _chunks_of(upload))


async def _readable(session: AsyncSession, principal: Principal, file_id: str) -> FileMeta:
    meta = await queries.file_meta(session, file_id)
    if meta is None or not service.access_file(principal, meta):
        raise queries.not_found()
    return meta


@router.post(
    "",
    status_code=201,
    response_model=FileOut,
    summary="上传文件（multipart 字段 file）；得到的 id 用于表单附件",
)
async def upload_file(
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    file: Annotated[UploadFile, File(description="要上传的文件：办公文档、PDF、图片、文本或 zip")],
) -> FileOut:
    incoming = await _incoming(file)
    return await actions.check_upload(
        session, rt.storage, principal.person_id, incoming, rt.settings.max_upload_bytes
    )


@router.get(
    "/{file_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
    summary="下载文件（上传者本人，或持有 files.file.read_all）",
)
async def download_file(
    file_id: str,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    meta = await _readable(session, principal, file_id)
    return service.download_response(await queries.open_meta(rt.storage, meta))


@router.get("/{file_id}/meta", response_model=FileMeta, summary="文件信息")
async def file_meta(
    file_id: str, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> FileMeta:
    return await _readable(session, principal, file_id)


@router.delete("/{file_id}", status_code=204, summary="删除自己上传、尚未作为附件使用的文件")
async def delete_file(
    file_id: str, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    await actions.check_delete(session, principal.person_id, file_id)
    return Response(status_code=204)
