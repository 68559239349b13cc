"""The forms' JSON API: designing needs workflow.form.manage, reading the designs
workflow.form.read; published versions are immutable; a student may read and try a published
version, and nothing else."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.audit import AuditEntry
from campus.kernel.errors import NotFound
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.users import service as users
from campus.platform.workflow.forms import actions, queries, routes, validate
from tests.platform.users.conftest import (  # noqa: F401 (the campus fixture)
    Campus,
    campus,
    create_person,
    staff_body,
    student_body,
)
from tests.platform.workflow.forms.conftest import LEAVE, field_list, version_of

API = "/api/v1/workflow/forms"
SIMPLE = [
    {"key": "a", "label": "甲", "widget": "number"},
    {"key": "b", "label": "乙", "widget": "number"},
    {"key": "c", "label": "和", "widget": "computed", "formula": "a + b"},
]


def new_key() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


async def create(client: httpx.AsyncClient, fields: list[dict[str, Any]] | None = None) -> Any:
    body = {"key": new_key(), "name": "测试表单", "description": "说明", "fields": fields or LEAVE}
    response = await client.post(API, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_save_publish_and_the_next_version(
    admin: httpx.AsyncClient, db: Runtime
) -> None:
    form = await create(admin)
    assert (form["latest_version"], form["published_version"], form["has_draft"]) == (1, None, True)
    form_id = form["id"]

    draft = (await admin.put(f"{API}/{form_id}/draft", json={"fields": SIMPLE})).json()
    assert draft["version"] == 1  # the draft is updated in place until it is published
    published = await admin.post(f"{API}/{form_id}/publish")
    assert published.status_code == 200, published.text
    v1 = published.json()
    assert (v1["version"], v1["published"]) == (1, True)
    assert v1["ui_schema"]["ui:order"] == ["a", "b", "c"]

    again = await admin.post(f"{API}/{form_id}/publish")
    assert again.status_code == 409  # nothing left to publish

    v2 = (await admin.put(f"{API}/{form_id}/draft", json={"fields": LEAVE})).json()
    assert (v2["version"], v2["published"]) == (2, False)
    # Version 1 is untouched by the edit.
    still = (await admin.get(f"{API}/versions/{v1['id']}")).json()
    assert still["schema"] == v1["schema"]

    detail = (await admin.get(f"{API}/{form_id}")).json()
    assert [(v["version"], v["published"]) for v in detail["versions"]] == [(2, False), (1, True)]
    assert detail["versions"][1]["field_count"] == 3
    listed = (await admin.get(f"{API}/{form_id}/versions")).json()
    assert [v["version"] for v in listed] == [2, 1]

    async with db.db.read() as session:
        latest = await queries.published_version(session, form["key"])
        assert latest.id == v1["id"]
        assert latest.form_name == "测试表单"
        actions_done = list(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.target_type == "form", AuditEntry.target_id == str(form_id)
                )
            )
        )
        assert {"workflow.form.create", "workflow.form.save", "workflow.form.publish"} <= set(
            actions_done
        )
        events = list(
            await session.scalars(
                select(OutboxRow.payload).where(OutboxRow.name == "workflow.form.published")
            )
        )
        assert any(e["version_id"] == v1["id"] for e in events)


async def test_form_list_and_update(admin: httpx.AsyncClient) -> None:
    form = await create(admin)
    found = (await admin.get(API, params={"q": form["key"]})).json()
    assert [f["id"] for f in found] == [form["id"]]
    changed = await admin.patch(f"{API}/{form['id']}", json={"name": "新名字"})
    assert changed.status_code == 200
    assert changed.json()["name"] == "新名字"


async def test_a_form_without_fields_has_no_version(admin: httpx.AsyncClient) -> None:
    response = await admin.post(API, json={"key": new_key(), "name": "空表单"})
    assert response.status_code == 201
    assert response.json()["versions"] == []
    publish = await admin.post(f"{API}/{response.json()['id']}/publish")
    assert publish.status_code == 409


async def test_bad_definitions_are_refused_with_their_places(admin: httpx.AsyncClient) -> None:
    body = {
        "key": new_key(),
        "name": "坏表单",
        "fields": [
            {"key": "a", "label": "甲", "widget": "slider"},
            {"key": "a", "label": "乙", "widget": "select"},
        ],
    }
    response = await admin.post(API, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    places = {e["field"] for e in response.json()["errors"]}
    assert {"fields[0].widget", "fields[1].key", "fields[1].options"} <= places
    # Nothing was written: the key is still free.
    body["fields"] = SIMPLE
    assert (await admin.post(API, json=body)).status_code == 201
    duplicate = await admin.post(API, json=body)
    assert duplicate.status_code == 409
    assert duplicate.json()["errors"][0]["field"] == "key"

    bad_key = await admin.post(API, json={**body, "key": "Bad Key"})
    assert bad_key.status_code == 422


async def test_import_export_round_trip(admin: httpx.AsyncClient) -> None:
    form = await create(admin)
    version_id = form["versions"][0]["id"]
    exported = (await admin.get(f"{API}/versions/{version_id}/export")).json()
    assert set(exported) == {"schema", "ui_schema"}

    other = await create(admin, SIMPLE)
    imported = await admin.put(f"{API}/{other['id']}/draft", json=exported)
    assert imported.status_code == 200, imported.text
    assert imported.json()["schema"] == exported["schema"]
    assert imported.json()["ui_schema"] == exported["ui_schema"]

    fields = (await admin.post(f"{API}/decompile", json=exported)).json()["fields"]
    assert [f["key"] for f in fields] == [f["key"] for f in LEAVE]
    compiled = (await admin.post(f"{API}/compile", json={"fields": fields})).json()
    assert compiled == exported
    assert (await admin.get(f"{API}/versions/{version_id}/fields")).json()["fields"] == fields

    both = await admin.put(f"{API}/{other['id']}/draft", json={**exported, "fields": SIMPLE})
    assert both.status_code == 422
    neither = await admin.put(f"{API}/{other['id']}/draft", json={})
    assert neither.status_code == 422
    broken = {"schema": {"type": "object", "properties": {"a": {"type": 12}}}, "ui_schema": {}}
    refused = await admin.put(f"{API}/{other['id']}/draft", json=broken)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"].startswith("schema")


async def test_validate_a_submission_against_a_version(
    admin: httpx.AsyncClient, student: httpx.AsyncClient
) -> None:
    form = await create(admin, SIMPLE)
    version = (await admin.post(f"{API}/{form['id']}/publish")).json()
    good = await student.post(
        f"{API}/versions/{version['id']}/validate", json={"data": {"a": 1.5, "b": 2, "c": 99}}
    )
    assert good.status_code == 200, good.text
    assert good.json()["data"] == {"a": 1.5, "b": 2, "c": 3.5}
    bad = await student.post(
        f"{API}/versions/{version['id']}/validate", json={"data": {"a": "x", "z": 1}}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"data.a", "data.z"}


async def test_students_read_published_versions_only(
    admin: httpx.AsyncClient, student: httpx.AsyncClient
) -> None:
    form = await create(admin, SIMPLE)
    draft_id = form["versions"][0]["id"]
    assert (await student.get(f"{API}/versions/{draft_id}")).status_code == 403
    assert (
        await student.post(f"{API}/versions/{draft_id}/validate", json={"data": {}})
    ).status_code == 403
    await admin.post(f"{API}/{form['id']}/publish")
    assert (await student.get(f"{API}/versions/{draft_id}")).status_code == 200
    by_key = await student.get(f"{API}/by-key/{form['key']}/published")
    assert by_key.json()["id"] == draft_id
    assert (await student.get(f"{API}/by-key/nope_{new_key()}/published")).status_code == 404
    assert (await student.get(f"{API}/versions/987654321")).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", ""),
        ("GET", "/{id}"),
        ("PATCH", "/{id}"),
        ("GET", "/{id}/versions"),
        ("PUT", "/{id}/draft"),
        ("POST", "/{id}/publish"),
        ("GET", "/versions/{version}/fields"),
        ("GET", "/versions/{version}/export"),
        ("POST", "/compile"),
        ("POST", "/decompile"),
    ],
)
async def test_students_may_not_design(
    admin: httpx.AsyncClient, student: httpx.AsyncClient, method: str, path: str
) -> None:
    form = await create(admin, SIMPLE)
    url = API + path.format(id=form["id"], version=form["versions"][0]["id"])
    response = await student.request(method, url, json={"fields": SIMPLE})
    assert response.status_code == 403, response.text


async def test_anonymous_is_asked_to_sign_in(anon: httpx.AsyncClient) -> None:
    assert (await anon.get(API)).status_code == 401
    assert (await anon.get(f"{API}/pickers/org-units")).status_code == 401


async def test_pickers(
    admin: httpx.AsyncClient, student: httpx.AsyncClient, session: AsyncSession
) -> None:
    units = (await student.get(f"{API}/pickers/org-units")).json()
    assert units and units[0]["depth"] == 0
    assert any(u["kind"] == "college" and u["depth"] == 1 for u in units)

    # A student finds staff only; an administrator finds students too.
    for_student = (await student.get(f"{API}/pickers/people", params={"q": "2"})).json()
    for_admin = (await admin.get(f"{API}/pickers/people", params={"q": "2"})).json()
    assert for_admin
    types = {
        p.person_type
        for p in (await users.get_people(session, [p["id"] for p in for_student])).values()
    }
    assert for_student and types <= {"faculty", "staff"}
    assert set(for_admin[0]) == {"id", "name", "number"}
    assert (await student.get(f"{API}/pickers/people", params={"q": ""})).status_code == 422


async def test_a_student_finds_the_teacher_behind_many_students_of_the_same_name(
    admin: httpx.AsyncClient,
    student: httpx.AsyncClient,
    campus: Campus,  # noqa: F811 (the fixture)
) -> None:
    # Student numbers (S…) sort before the teacher's (T…), and there are more of them than
    # the picker shows.
    for _ in range(12):
        await create_person(admin, student_body(campus, name="冼同学"))
    teacher = await create_person(admin, staff_body(campus, name="冼老师"))
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(routes, "PICKER_LIMIT", 2)
        found = (await student.get(f"{API}/pickers/people", params={"q": "冼"})).json()
    assert [p["id"] for p in found] == [teacher["id"]]


async def test_ensure_form_creates_once(session: AsyncSession) -> None:
    key = new_key()
    first = await actions.ensure_form(session, key, "演示表单", field_list(SIMPLE), "演示")
    assert (first.version, first.published, first.form_key) == (1, True, key)
    again = await actions.ensure_form(session, key, "别的名字", field_list(LEAVE))
    assert again.id == first.id
    assert again.ui_schema["ui:order"] == ["a", "b", "c"]
    assert (await queries.form_version(session, first.id)).form_name == "演示表单"
    with pytest.raises(NotFound):
        await queries.form_version(session, 987654321)
    with pytest.raises(NotFound):
        await queries.published_version(session, f"none_{key}")


async def test_attachments_are_named_and_listed(admin: httpx.AsyncClient, db: Runtime) -> None:
    uploaded = await admin.post(
        "/api/v1/files", files={"file": ("发票.pdf", b"%PDF-1.4 test", "application/pdf")}
    )
    assert uploaded.status_code == 201, uploaded.text
    file_id = uploaded.json()["id"]
    raw = [{"key": "files", "label": "附件", "widget": "attachments"}]
    version = version_of(raw)
    async with db.db.read() as session:
        clean = await validate.clean_submission(session, version, {"files": [file_id]})
        assert validate.attachment_ids(version, clean) == [file_id]
        labels = await queries.value_labels(session, version, {"files": [file_id, "unknown_1"]})
    assert labels == {f"files.{file_id}": "发票.pdf"}
