"""The file service as other modules use it: checking and binding attachments, listing them,
and serving one from another module's route through ``open_file``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.runtime import Runtime
from campus.platform.files import service
from tests.platform.files.conftest import FILES, User, audit_count, pdf_bytes

SignIn = Callable[[str], Coroutine[Any, Any, User]]


def reasons(error: InvalidInput) -> dict[str, str]:
    return {e.field: str(e.reason) for e in error.errors}


async def test_check_attachable_accepts_ones_own_unbound_files(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    first, second = await me.uploaded("一.pdf"), await me.uploaded("二.pdf")
    async with db.db.read() as session:
        files = await service.check_attachable(session, me.person_id, [second, first, second])
    assert [f.id for f in files] == [second, first]
    assert [f.name for f in files] == ["二.pdf", "一.pdf"]


async def test_check_attachable_names_each_bad_entry(sign_in: SignIn, db: Runtime) -> None:
    me, other = await sign_in("student"), await sign_in("teacher")
    mine, bound, deleted = await me.uploaded(), await me.uploaded("已用.pdf"), await me.uploaded()
    theirs = await other.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [bound], "workflow", "7")
    assert (await me.client.delete(f"{FILES}/{deleted}")).status_code == 204
    ids = [mine, "no-such-file", theirs, bound, deleted]
    async with db.db.read() as session:
        with pytest.raises(InvalidInput) as caught:
            await service.check_attachable(session, me.person_id, ids, field="attachments")
    assert caught.value.status == 422
    assert reasons(caught.value) == {
        "attachments.1": "文件 no-such-file 不存在或不是您上传的",
        "attachments.2": f"文件 {theirs} 不存在或不是您上传的",
        "attachments.3": "文件“已用.pdf”已是其他事项的附件",
        "attachments.4": f"文件 {deleted} 不存在或不是您上传的",
    }


async def test_files_already_on_the_object_being_saved_are_attachable(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    kept, added = await me.uploaded(), await me.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [kept], "workflow", "9")
    async with db.db.transaction() as session:
        ids = [kept, added]
        await service.check_attachable(session, me.person_id, ids, bound_to=("workflow", "9"))
        await service.bind(session, ids, "workflow", "9")
    async with db.db.read() as session:
        with pytest.raises(InvalidInput):
            await service.check_attachable(session, me.person_id, ids, bound_to=("workflow", "10"))


async def test_bind_attaches_and_refuses_files_taken_meanwhile(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    first, second = await me.uploaded(), await me.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [first], "workflow", "1")
    meta = (await me.client.get(f"{FILES}/{first}/meta")).json()
    assert (meta["bound_module"], meta["bound_key"]) == ("workflow", "1")
    assert await audit_count(db, "files.file.bind", first) == 1
    # Binding the same object again changes nothing.
    async with db.db.transaction() as session:
        await service.bind(session, [first], "workflow", "1")
    # A file attached elsewhere makes the whole bind a conflict: the other file stays free.
    with pytest.raises(Conflict):
        async with db.db.transaction() as session:
            await service.bind(session, [second, first], "oa", "leave-3")
    meta = (await me.client.get(f"{FILES}/{second}/meta")).json()
    assert meta["bound_module"] is None


async def test_bind_refuses_a_deleted_file(sign_in: SignIn, db: Runtime) -> None:
    me = await sign_in("student")
    file_id = await me.uploaded()
    assert (await me.client.delete(f"{FILES}/{file_id}")).status_code == 204
    with pytest.raises(Conflict):
        async with db.db.transaction() as session:
            await service.bind(session, [file_id], "workflow", "1")


async def test_get_files_keeps_the_order_and_leaves_out_unknown_ones(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    first, second = await me.uploaded("甲.pdf"), await me.uploaded("乙.pdf")
    async with db.db.read() as session:
        files = await service.get_files(session, [second, "nothing", first, "y" * 300])
    assert [(f.id, f.name) for f in files] == [(second, "乙.pdf"), (first, "甲.pdf")]


async def test_another_module_serves_a_bound_file_through_open_file(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    content = pdf_bytes(2000)
    file_id = await me.uploaded("附件：成绩单.pdf", content)
    async with db.db.transaction() as session:
        await service.bind(session, [file_id], "workflow", "5")
    async with db.db.read() as session:
        opened = await service.open_file(db, session, file_id, bound_to=("workflow", "5"))
        with pytest.raises(NotFound):
            await service.open_file(db, session, file_id, bound_to=("workflow", "6"))
        with pytest.raises(NotFound):
            await service.open_file(db.storage, session, "no-such-file")
    assert opened.meta.name == "附件：成绩单.pdf"
    assert b"".join([chunk async for chunk in opened.chunks]) == content
    async with db.db.read() as session:
        response = service.download_response(await service.open_file(db, session, file_id))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(content))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith(
        "attachment; filename=\"download.pdf\"; filename*=UTF-8''%E9%99%84"
    )


def test_content_disposition_keeps_an_ascii_fallback() -> None:
    assert service.content_disposition("report 2026.pdf") == (
        "attachment; filename=\"report 2026.pdf\"; filename*=UTF-8''report%202026.pdf"
    )
    assert service.content_disposition('a"b\\c.png', inline=True).startswith(
        'inline; filename="a_b_c.png"; '
    )
    assert service.content_disposition("2026年总结.docx").startswith(
        'attachment; filename="2026_.docx"; '
    )


async def test_unbind_detaches_the_files_an_object_no_longer_has(
    sign_in: SignIn, db: Runtime
) -> None:
    me = await sign_in("student")
    kept, dropped, other = await me.uploaded(), await me.uploaded(), await me.uploaded()
    async with db.db.transaction() as session:
        await service.bind(session, [kept, dropped], "workflow", "20")
        await service.bind(session, [other], "workflow", "21")
    async with db.db.transaction() as session:
        assert await service.unbind(session, "workflow", "20", keep=[kept]) == [dropped]
    assert await audit_count(db, "files.file.unbind", dropped) == 1
    metas = {i: (await me.client.get(f"{FILES}/{i}/meta")).json() for i in (kept, dropped, other)}
    assert metas[kept]["bound_key"] == "20"
    assert metas[dropped]["bound_module"] is None
    assert metas[other]["bound_key"] == "21"
    # Detached, it may be attached elsewhere or deleted by its uploader.
    assert (await me.client.delete(f"{FILES}/{dropped}")).status_code == 204
    async with db.db.transaction() as session:
        assert sorted(await service.unbind(session, "workflow", "20")) == [kept]
