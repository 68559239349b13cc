"""Reads of forms and their versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.files import service as files
from campus.platform.users import service as users
from campus.platform.workflow.forms.models import Form, FormVersion
from campus.platform.workflow.forms.schemas import (
    FormDetail,
    FormSummary,
    FormVersionBrief,
    FormVersionOut,
)


async def _file_labels(
    session: AsyncSession, version: FormVersionOut, data: dict[str, Any]
) -> dict[str, str]:
    attached = {
        f.key: [v for v in data[f.key] if isinstance(v, str)]
        for f in version.fields
        if f.widget == "attachments" and isinstance(data.get(f.key), list)
    }
    wanted = sorted({file_id for ids in attached.values() for file_id in ids})
    if not wanted:
        return {}
    names = {f.id: f.name for f in await files.get_files(session, wanted)}
    return {
        f"{key}.{file_id}": names[file_id]
        for key, ids in attached.items()
        for file_id in ids
        if file_id in names
    }


def version_out(form: Form, row: FormVersion) -> FormVersionOut:
    return FormVersionOut(
        id=row.id,
        form_id=form.id,
        form_key=form.key,
        form_name=form.name,
        version=row.version,
        schema=row.schema,
        ui_schema=row.ui_schema,
        published=row.published,
    )


async def form_version(session: AsyncSession, version_id: int) -> FormVersionOut:
    """One version by id (published or a draft); NotFound if there is none."""
    found = (
        await session.execute(
            select(Form, FormVersion)
            .join(FormVersion, FormVersion.form_id == Form.id)
            .where(FormVersion.id == version_id)
        )
    ).first()
    if found is None:
        raise NotFound(_("表单版本 {id} 不存在", id=version_id))
    return version_out(*found)


async def published_version(session: AsyncSession, form_key: str) -> FormVersionOut:
    """The newest published version of the form ``form_key``; NotFound if it has none."""
    found = (
        await session.execute(
            select(Form, FormVersion)
            .join(FormVersion, FormVersion.form_id == Form.id)
            .where(Form.key == form_key, FormVersion.published.is_(True))
            .order_by(FormVersion.version.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        raise NotFound(_("表单“{key}”没有已发布的版本", key=form_key))
    return version_out(*found)


async def latest_version(session: AsyncSession, form_id: int) -> FormVersion | None:
    return await session.scalar(
        select(FormVersion)
        .where(FormVersion.form_id == form_id)
        .order_by(FormVersion.version.desc())
        .limit(1)
    )


async def form_or_404(session: AsyncSession, form_id: int) -> Form:
    form = await session.get(Form, form_id)
    if form is None:
        raise NotFound(_("表单 {id} 不存在", id=form_id))
    return form


async def form_id_by_key(session: AsyncSession, key: str) -> int | None:
    return await session.scalar(select(Form.id).where(Form.key == key))


def _brief(row: FormVersion) -> FormVersionBrief:
    return FormVersionBrief(
        id=row.id,
        version=row.version,
        published=row.published,
        published_at=row.published_at,
        created_at=row.created_at,
        created_by=row.created_by,
        field_count=len(row.ui_schema.get("ui:order") or row.schema.get("properties") or ()),
    )


def _summary_values(form: Form, versions: list[FormVersion]) -> dict[str, Any]:
    published = [v.version for v in versions if v.published]
    return {
        "id": form.id,
        "key": form.key,
        "name": form.name,
        "description": form.description,
        "latest_version": max((v.version for v in versions), default=None),
        "published_version": max(published, default=None),
        "has_draft": any(not v.published for v in versions),
        "updated_at": form.updated_at,
    }


async def forms(session: AsyncSession, q: str | None = None) -> list[FormSummary]:
    """Every form, newest change first; ``q`` matches the start of the key or part of the name."""
    query = select(Form).order_by(Form.updated_at.desc(), Form.id.desc())
    if q:
        query = query.where(Form.key.startswith(q) | Form.name.contains(q))
    found = list(await session.scalars(query))
    versions: dict[int, list[FormVersion]] = {form.id: [] for form in found}
    if found:
        rows = await session.scalars(
            select(FormVersion).where(FormVersion.form_id.in_(list(versions)))
        )
        for row in rows:
            versions[row.form_id].append(row)
    return [FormSummary(**_summary_values(form, versions[form.id])) for form in found]


async def form_detail(session: AsyncSession, form_id: int) -> FormDetail:
    form = await form_or_404(session, form_id)
    rows = list(
        await session.scalars(
            select(FormVersion)
            .where(FormVersion.form_id == form_id)
            .order_by(FormVersion.version.desc())
        )
    )
    return FormDetail(
        **_summary_values(form, rows),
        owner_id=form.owner_id,
        created_at=form.created_at,
        versions=[_brief(row) for row in rows],
    )


async def version_count(session: AsyncSession, form_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(FormVersion.id)).where(FormVersion.form_id == form_id)
        )
        or 0
    )


async def value_labels(
    session: AsyncSession, version: FormVersionOut, data: dict[str, Any]
) -> dict[str, str]:
    """Names to show instead of bare ids: the people and org units the data names, by field key,
    and the attachments' file names, by ``<key>.<file id>``."""
    labels = await _file_labels(session, version, data)
    people = {
        f.key: data[f.key]
        for f in version.fields
        if f.widget == "person" and isinstance(data.get(f.key), int)
    }
    known = await users.get_people(session, sorted(set(people.values()))) if people else {}
    for key, person_id in people.items():
        person = known.get(person_id)
        if person is not None:
            labels[key] = f"{person.name}（{person.number}）" if person.number else person.name
    for f in version.fields:
        value = data.get(f.key)
        if f.widget == "org" and isinstance(value, int):
            unit = await users.get_org_unit(session, value)
            if unit is not None:
                labels[f.key] = unit.name
    return labels
