"""Writes of forms: ``check_*`` validates everything first, then calls ``do_*``.

Published versions are immutable: saving a form whose newest version is published starts the
next version as a draft; saving again updates that draft until it is published. Every write is
audited; a publication is announced by ``workflow.form.published``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, context
from campus.kernel.errors import Conflict, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.workflow.forms import events, queries
from campus.platform.workflow.forms.checks import check_fields, check_import
from campus.platform.workflow.forms.models import Form, FormVersion
from campus.platform.workflow.forms.schemas import (
    DraftSave,
    FieldDef,
    FormCreate,
    FormUpdate,
    FormVersionOut,
)

Schema = dict[str, Any]


async def _flush_or_conflict(session: AsyncSession) -> None:
    """Flush; a unique key hit by a concurrent writer becomes a 409, not a 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("表单已被他人同时修改，请刷新后重试")) from exc


def _field_keys(ui_schema: Schema) -> list[str]:
    return list(ui_schema.get("ui:order") or [])


# ---------------------------------------------------------------- forms


async def check_create_form(session: AsyncSession, body: FormCreate) -> int:
    """A new form; with fields, its version 1 as a draft. Returns the form's id."""
    if await queries.form_id_by_key(session, body.key) is not None:
        raise Conflict.on("key", _("表单代码 {key} 已被使用", key=body.key))
    compiled = check_fields(body.fields) if body.fields else None
    form = await do_create_form(session, body.key, body.name, body.description)
    if compiled is not None:
        await do_save_draft(session, form, *compiled)
    return form.id


async def do_create_form(session: AsyncSession, key: str, name: str, description: str) -> Form:
    at = clock.now()
    form = Form(
        key=key,
        name=name,
        description=description,
        owner_id=context.actor_id(),
        created_at=at,
        updated_at=at,
    )
    session.add(form)
    await _flush_or_conflict(session)
    audit.record(session, "workflow.form.create", "form", form.id, after={"key": key, "name": name})
    return form


async def check_update_form(session: AsyncSession, form_id: int, body: FormUpdate) -> None:
    form = await queries.form_or_404(session, form_id)
    before = {"name": form.name, "description": form.description}
    if body.name is not None:
        form.name = body.name
    if body.description is not None:
        form.description = body.description
    form.updated_at = clock.now()
    after = {"name": form.name, "description": form.description}
    audit.record(session, "workflow.form.update", "form", form.id, before=before, after=after)


# ---------------------------------------------------------------- versions


def compiled_of(body: DraftSave) -> tuple[Schema, Schema]:
    """The schemas of a draft sent either as the designer's fields or as an imported pair."""
    if body.fields is not None and (body.schema is not None or body.ui_schema is not None):
        raise InvalidInput.on("fields", _("请只提供字段列表，或只提供 schema 与 ui_schema"))
    if body.fields is not None:
        return check_fields(body.fields)
    if body.schema is None or body.ui_schema is None:
        raise InvalidInput.on("fields", _("请提供字段列表，或 schema 与 ui_schema"))
    _fields, schema, ui_schema = check_import(body.schema, body.ui_schema)
    return schema, ui_schema


async def check_save_draft(session: AsyncSession, form_id: int, body: DraftSave) -> int:
    """Save the form's draft (a new version when the newest is published); its version id."""
    form = await queries.form_or_404(session, form_id)
    schema, ui_schema = compiled_of(body)
    return await do_save_draft(session, form, schema, ui_schema)


async def do_save_draft(
    session: AsyncSession, form: Form, schema: Schema, ui_schema: Schema
) -> int:
    latest = await queries.latest_version(session, form.id)
    at = clock.now()
    if latest is not None and not latest.published:
        draft = latest
        draft.schema, draft.ui_schema = schema, ui_schema
    else:
        draft = FormVersion(
            form_id=form.id,
            version=(latest.version + 1) if latest is not None else 1,
            schema=schema,
            ui_schema=ui_schema,
            published=False,
            created_by=context.actor_id(),
            created_at=at,
        )
        session.add(draft)
    form.updated_at = at
    await _flush_or_conflict(session)
    audit.record(
        session,
        "workflow.form.save",
        "form",
        form.id,
        after={"version": draft.version, "fields": _field_keys(ui_schema)},
    )
    return draft.id


async def check_publish(session: AsyncSession, form_id: int) -> int:
    """Publish the form's draft; from now on it never changes. Returns its version id."""
    form = await queries.form_or_404(session, form_id)
    draft = await queries.latest_version(session, form_id)
    if draft is None or draft.published:
        raise Conflict(_("没有待发布的草稿，请先保存"))
    await do_publish(session, form, draft)
    return draft.id


async def do_publish(session: AsyncSession, form: Form, draft: FormVersion) -> None:
    at = clock.now()
    draft.published, draft.published_at = True, at
    form.updated_at = at
    await _flush_or_conflict(session)
    audit.record(
        session,
        "workflow.form.publish",
        "form",
        form.id,
        after={"version": draft.version, "fields": _field_keys(draft.ui_schema)},
    )
    await emit(
        session,
        events.FORM_PUBLISHED,
        events.FormPublished(
            form_id=form.id, key=form.key, version_id=draft.id, version=draft.version
        ),
    )


async def ensure_form(
    session: AsyncSession, key: str, name: str, fields: list[FieldDef], description: str = ""
) -> FormVersionOut:
    """The newest published version of the form ``key``; a form that does not exist yet is
    created from ``fields`` and its version 1 published (for demo seeds and other modules)."""
    form_id = await queries.form_id_by_key(session, key)
    if form_id is not None:
        latest = await queries.latest_version(session, form_id)
        if latest is not None and latest.published:
            return await queries.form_version(session, latest.id)
        return await queries.published_version(session, key)
    schema, ui_schema = check_fields(fields)
    form = await do_create_form(session, key, name, description)
    version_id = await do_save_draft(session, form, schema, ui_schema)
    draft = await session.get(FormVersion, version_id)
    assert draft is not None
    await do_publish(session, form, draft)
    return queries.version_out(form, draft)
