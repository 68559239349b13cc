"""The file API: upload and download round trips (Chinese names), the size limit, the type
allow-list, empty files, who may read a file (others get the 404 of a file that does not
exist), deletion, and names or ids that try to leave the store."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import func, select

from campus.kernel.runtime import Runtime
from campus.kernel.storage import key_of
from campus.platform.files import service
from campus.platform.files.models import File
from tests.platform.files.conftest import (
    FILES,
    PNG_HEAD,
    User,
    audit_count,
    pdf_bytes,
    store_of,
    stored_files,
)

SignIn = Callable[[str], Coroutine[Any, Any, User]]
PROBLEM = "application/problem+json"


async def file_rows(runtime: Runtime) -> int:
    async with runtime.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(File)) or 0)


def field_error(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["field"] == "file"
    return dict(errors[0])


# ---------------------------------------------------------------- round trips


async def test_upload_and_download_a_chinese_named_file(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    content = pdf_bytes(5000)
    name = "请假审批表（2026 春）.pdf"
    response = await me.upload(name, content, "text/html")  # the browser's claim is ignored
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "name", "size", "content_type", "url"}
    assert body["name"] == name
    assert body["size"] == len(content)
    assert body["content_type"] == "application/pdf"
    assert body["url"] == f"{FILES}/{body['id']}"
    assert len(body["id"]) >= 20

    download = await me.client.get(body["url"])
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(content))
    assert download.headers["x-content-type-options"] == "nosniff"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert disposition.isascii()

    meta = (await me.client.get(f"{body['url']}/meta")).json()
    assert meta["owner_id"] == me.person_id
    assert meta["sha256"] == hashlib.sha256(content).hexdigest()
    assert meta["bound_module"] is None and meta["bound_key"] is None
    assert await store_of(db).exists(key_of(meta["sha256"]))
    assert await audit_count(db, "files.file.upload", body["id"]) == 1


async def test_a_large_file_is_streamed_through(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("teacher")
    content = pdf_bytes(3 * 1024 * 1024 + 17)
    file_id = await me.uploaded("课件.pdf", content)
    download = await me.client.get(f"{FILES}/{file_id}")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(content).digest()


async def test_pictures_are_shown_in_place_and_documents_downloaded(sign_in: SignIn) -> None:
    me = await sign_in("student")
    picture = await me.uploaded("证件照.PNG", PNG_HEAD + pdf_bytes(100))
    response = await me.client.get(f"{FILES}/{picture}")
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"].startswith("inline; ")
    sheet = await me.uploaded("成绩.xlsx", b"PK\x03\x04" + pdf_bytes(100))
    response = await me.client.get(f"{FILES}/{sheet}")
    assert response.headers["content-disposition"].startswith("attachment; ")
    assert "spreadsheetml" in response.headers["content-type"]


async def test_chinese_text_in_gb18030_is_accepted_and_served_without_a_charset(
    sign_in: SignIn,
) -> None:
    me = await sign_in("student")
    content = "说明：请于三日内提交。\r\n".encode("gb18030") * 3
    file_id = await me.uploaded("说明.txt", content)
    response = await me.client.get(f"{FILES}/{file_id}")
    assert response.content == content
    assert response.headers["content-type"] == "text/plain"


async def test_the_same_content_is_stored_once(sign_in: SignIn, db: Runtime) -> None:
    me, other = await sign_in("student"), await sign_in("teacher")
    content = pdf_bytes(1000)
    before = stored_files(db)
    first = await me.uploaded("a.pdf", content)
    second = await other.uploaded("b.pdf", content)
    assert first != second
    assert len(stored_files(db) - before) == 1


# ---------------------------------------------------------------- refusals


async def test_a_file_over_the_limit_is_413_naming_the_field_and_nothing_is_stored(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    limit = db.settings.max_upload_bytes
    assert limit == 20 * 1024 * 1024
    before, rows = stored_files(db), await file_rows(db)
    response = await me.upload("大文件.pdf", pdf_bytes(limit + 1))
    assert response.status_code == 413
    assert field_error(response)["reason"] == "文件不能超过 20 MB"
    assert stored_files(db) == before
    assert await file_rows(db) == rows
    assert await audit_count(db, "files.file.upload") == 0


async def test_a_file_of_exactly_the_limit_is_accepted(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    response = await me.upload("刚好.pdf", pdf_bytes(db.settings.max_upload_bytes))
    assert response.status_code == 201, response.text
    assert response.json()["size"] == db.settings.max_upload_bytes


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    before = stored_files(db)
    response = await me.upload("更大.pdf", pdf_bytes(db.settings.max_upload_bytes + 2 * 1024**2))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert stored_files(db) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("页面.html", b"<html><script>alert(1)</script></html>"),
        ("图标.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("脚本.js", b"alert(1)"),
        ("没有扩展名", b"%PDF-1.7\n"),
    ],
)
async def test_types_off_the_list_are_415(
    sign_in: SignIn, db: Runtime, name: str, content: bytes
) -> None:
    me = await sign_in("student")
    before = stored_files(db)
    response = await me.upload(name, content)
    assert response.status_code == 415
    assert response.json()["type"].endswith("/unsupported-media-type")
    assert field_error(response)["reason"].startswith("不支持该类型的文件，可上传：pdf, doc")
    assert stored_files(db) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("通知.pdf", b"<html><body>not a pdf</body></html>"),
        ("表格.xlsx", b"%PDF-1.7 not a spreadsheet"),
        ("照片.jpg", b"GIF89a" + b"\x00" * 20),
        ("说明.txt", b"MZ\x90\x00\x03\x00\x00\x00binary"),
        ("旧表.doc", b"PK\x03\x04 a zip, not an OLE file"),
    ],
)
async def test_content_that_is_not_what_the_extension_says_is_422(
    sign_in: SignIn, db: Runtime, name: str, content: bytes
) -> None:
    me = await sign_in("student")
    before = stored_files(db)
    response = await me.upload(name, content)
    assert response.status_code == 422
    extension = name.rsplit(".", 1)[1]
    assert field_error(response)["reason"] == f"文件内容与扩展名“{extension}”不符"
    assert stored_files(db) == before


async def test_an_empty_file_is_422(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    before = stored_files(db)
    response = await me.upload("空白.pdf", b"")
    assert response.status_code == 422
    assert field_error(response)["reason"] == "文件是空的，请重新选择"
    assert stored_files(db) == before


async def test_reasons_are_english_when_asked(sign_in: SignIn) -> None:
    me = await sign_in("student")
    response = await me.client.post(
        FILES,
        files={"file": ("run.exe", b"MZ", "application/octet-stream")},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 415
    assert response.json()["title"] == "Unsupported file type"
    assert field_error(response)["reason"].startswith("This type of file is not accepted")


async def test_no_file_field_is_422(sign_in: SignIn) -> None:
    me = await sign_in("student")
    response = await me.client.post(FILES, data={"other": "x"}, files={"x": ("a.pdf", b"%PDF")})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"


async def test_signing_in_is_required(anon: httpx.AsyncClient) -> None:
    response = await anon.post(FILES, files={"file": ("a.pdf", pdf_bytes(), "application/pdf")})
    assert response.status_code == 401
    assert (await anon.get(f"{FILES}/whatever")).status_code == 401


# ---------------------------------------------------------------- who reads


async def test_someone_elses_file_is_absent_to_them(sign_in: SignIn) -> None:
    owner, other = await sign_in("student"), await sign_in("teacher")
    file_id = await owner.uploaded()
    unknown = await other.client.get(f"{FILES}/{'x' * 22}")
    for response in (
        await other.client.get(f"{FILES}/{file_id}"),
        await other.client.get(f"{FILES}/{file_id}/meta"),
        await other.client.delete(f"{FILES}/{file_id}"),
    ):
        assert response.status_code == 404
        assert response.json()["detail"] == unknown.json()["detail"] == "文件不存在"
    assert (await owner.client.get(f"{FILES}/{file_id}")).status_code == 200


async def test_a_holder_of_read_all_may_download_any_file(sign_in: SignIn) -> None:
    owner, admin = await sign_in("student"), await sign_in("admin")
    content = pdf_bytes(300)
    file_id = await owner.uploaded("成绩复核申请.pdf", content)
    response = await admin.client.get(f"{FILES}/{file_id}")
    assert response.status_code == 200
    assert response.content == content
    assert (await admin.client.get(f"{FILES}/{file_id}/meta")).json()["owner_id"] == (
        owner.person_id
    )
    # Reading all is not deleting: only the uploader deletes.
    assert (await admin.client.delete(f"{FILES}/{file_id}")).status_code == 404


# ---------------------------------------------------------------- deleting


async def test_the_uploader_deletes_an_unbound_file(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    file_id = await me.uploaded()
    response = await me.client.delete(f"{FILES}/{file_id}")
    assert response.status_code == 204
    assert (await me.client.get(f"{FILES}/{file_id}")).status_code == 404
    assert (await me.client.get(f"{FILES}/{file_id}/meta")).status_code == 404
    assert (await me.client.delete(f"{FILES}/{file_id}")).status_code == 404
    assert await audit_count(db, "files.file.delete", file_id) == 1


async def test_an_attached_file_cannot_be_deleted(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    file_id = await me.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [file_id], "workflow", "42")
    response = await me.client.delete(f"{FILES}/{file_id}")
    assert response.status_code == 409
    assert response.json()["detail"] == "文件已作为附件使用，不能删除"
    assert (await me.client.get(f"{FILES}/{file_id}")).status_code == 200


# ---------------------------------------------------------------- leaving the store


async def test_a_file_name_with_a_path_keeps_only_its_last_part(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    root = store_of(db).root
    outside = {p for p in root.parent.rglob("*") if p.is_file() and root not in p.parents}
    for name in ("../../../../etc/passwd.txt", "..\\..\\windows\\说明.txt", "/etc/cron.d/x.txt"):
        response = await me.upload(name, b"plain text\n" + name.encode())
        assert response.status_code == 201, response.text
        assert "/" not in response.json()["name"] and "\\" not in response.json()["name"]
    assert {p for p in root.parent.rglob("*") if p.is_file() and root not in p.parents} == outside


async def test_control_characters_are_dropped_from_names(sign_in: SignIn) -> None:
    me = await sign_in("student")
    # U+202E would show "申请exe.pdf" as "申请fdp.exe".
    response = await me.upload("申请\u202eexe.pdf", pdf_bytes())
    assert response.json()["name"] == "申请exe.pdf"


@pytest.mark.parametrize(
    "path",
    ["..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e", "ab%2Fcd%2F" + "0" * 64, "x" * 200],
)
async def test_ids_that_look_like_paths_are_404(sign_in: SignIn, path: str) -> None:
    me = await sign_in("admin")
    response = await me.client.get(f"{FILES}/{path}")
    assert response.status_code == 404
