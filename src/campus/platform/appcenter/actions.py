"""Writes of the app center: administrators' apps (audited and evented), and a person's
favourites and usage counts (neither: they would flood both)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.appcenter import events, queries
from campus.platform.appcenter.models import App, Favourite, Usage
from campus.platform.appcenter.schemas import FILES_MODULE, AppIn, AppOut, AppPatch, app_key
from campus.platform.auth import service as auth
from campus.platform.files import service as files
from campus.platform.users import service as users

AUDITED = (
    "name",
    "kind",
    "category",
    "icon_file_id",
    "url",
    "sso_client",
    "roles",
    "org_unit_ids",
    "enabled",
)


async def _check_unique(
    session: AsyncSession, code: str | None, name: str | None, own: int
) -> None:
    if code is not None and (found := await queries.app_by_code(session, code)) and found.id != own:
        raise Conflict.on("code", _("应用代码“{code}”已被使用", code=code))
    if name is not None and (found := await queries.app_by_name(session, name)) and found.id != own:
        raise Conflict.on("name", _("应用名称“{name}”已被使用", name=name))


async def _check_roles(session: AsyncSession, roles: Sequence[str]) -> None:
    known = await access.role_names(session)
    unknown = [code for code in roles if code not in known]
    if unknown:
        raise InvalidInput.on("roles", _("未知的角色：{codes}", codes="、".join(unknown)))


async def _org_unit_ids(session: AsyncSession, codes: Sequence[str]) -> list[int]:
    ids = []
    for code in codes:
        unit = await users.find_org_unit_by_code(session, code)
        if unit is None:
            raise InvalidInput.on("org_units", _("未知的组织机构代码：{code}", code=code))
        ids.append(unit.id)
    return sorted(set(ids))


async def _check_sso(session: AsyncSession, kind: str, client: str | None) -> None:
    if client is None:
        return
    if kind != "external":
        raise InvalidInput.on("sso_client", _("只有外部系统可以指定单点登录客户端"))
    if client not in await auth.sso_clients(session):
        raise InvalidInput.on("sso_client", _("未知的单点登录客户端：{client}", client=client))


async def check_app(session: AsyncSession, fields: dict[str, Any], own: int = 0) -> dict[str, Any]:
    """Validated column values for the given fields (org unit codes become ids)."""
    await _check_unique(session, fields.get("code"), fields.get("name"), own)
    if fields.get("roles") is not None:
        await _check_roles(session, fields["roles"])
    await _check_sso(session, fields.get("kind", "link"), fields.get("sso_client"))
    values = dict(fields)
    if "org_units" in values:
        values["org_unit_ids"] = await _org_unit_ids(session, values.pop("org_units") or [])
    return values


def _snapshot(app: App) -> dict[str, Any]:
    return {name: getattr(app, name) for name in AUDITED}


async def _announce(session: AsyncSession, name: str, app: App) -> None:
    payload = events.AppChanged(code=app.code, name=app.name, enabled=app.enabled)
    await emit(session, name, payload)


async def _check_icon(
    session: AsyncSession, person_id: int | None, file_id: str | None, own: int | None = None
) -> str | None:
    """The uploaded icon, if any: a picture its uploader attaches to nothing else."""
    if file_id is None:
        return None
    if person_id is None:
        raise InvalidInput.on("icon_file_id", _("只有登录的管理员可以上传图标"))
    bound_to = (FILES_MODULE, app_key(own)) if own is not None else None
    return await files.check_image(
        session, person_id, file_id, field="icon_file_id", bound_to=bound_to
    )


async def do_create_app(
    session: AsyncSession, body: AppIn, *, person_id: int | None = None, demo: bool = False
) -> AppOut:
    """A new app; ``person_id`` is the administrator, whose upload its icon may be."""
    values = await check_app(session, body.model_dump())
    values["icon_file_id"] = await _check_icon(session, person_id, values.get("icon_file_id"))
    now = clock.now()
    app = App(**values, demo=demo, created_at=now, updated_at=now)
    session.add(app)
    await session.flush()
    if app.icon_file_id:
        await files.bind(session, [app.icon_file_id], FILES_MODULE, app_key(app.id))
    audit.record(session, "appcenter.app.create", "appcenter_app", app.code, after=_snapshot(app))
    await _announce(session, events.APP_CREATED, app)
    return await queries.to_out(session, app)


async def _replace_icon(session: AsyncSession, app: App, icon: str | None) -> None:
    if icon == app.icon_file_id:
        return
    key = app_key(app.id)
    await files.unbind(session, FILES_MODULE, key, keep=[icon] if icon else [])
    if icon:
        await files.bind(session, [icon], FILES_MODULE, key)


async def do_update_app(
    session: AsyncSession, app: App, body: AppPatch, *, person_id: int | None = None
) -> AppOut:
    """Change the given fields; ``sso_client`` and ``icon_file_id`` given as null clear them."""
    fields = body.model_dump(exclude_unset=True)
    clearable = ("sso_client", "icon_file_id")
    fields = {k: v for k, v in fields.items() if v is not None or k in clearable}
    kind = fields.get("kind", app.kind)
    client = fields.get("sso_client", app.sso_client)
    values = await check_app(session, {**fields, "kind": kind, "sso_client": client}, app.id)
    if "icon_file_id" in values:
        icon = values["icon_file_id"]
        if icon != app.icon_file_id:
            icon = await _check_icon(session, person_id, icon, own=app.id)
        await _replace_icon(session, app, icon)
        values["icon_file_id"] = icon
    before = _snapshot(app)
    for name, value in values.items():
        setattr(app, name, value)
    app.updated_at = clock.now()
    await session.flush()
    audit.record(
        session,
        "appcenter.app.update",
        "appcenter_app",
        app.code,
        before=before,
        after=_snapshot(app),
    )
    await _announce(session, events.APP_UPDATED, app)
    return await queries.to_out(session, app)


async def do_favourite(session: AsyncSession, person_id: int, code: str, on: bool) -> None:
    """Star or unstar an app the person may see (the caller has checked that)."""
    if not on:
        found = await session.get(Favourite, (person_id, code))
        if found is not None:
            await session.delete(found)
        return
    row = {"person_id": person_id, "app_code": code, "created_at": clock.now()}
    await insert_ignore(session, Favourite, [row], keys=["person_id", "app_code"])


async def do_count_use(session: AsyncSession, person_id: int, code: str) -> None:
    """One more use: insert the row if new, then one UPDATE (no read, no lost counts)."""
    now = clock.now()
    row = {"person_id": person_id, "app_code": code, "uses": 0, "last_used_at": now}
    await insert_ignore(session, Usage, [row], keys=["person_id", "app_code"])
    await session.execute(
        update(Usage)
        .where(Usage.person_id == person_id, Usage.app_code == code)
        .values(uses=Usage.uses + 1, last_used_at=now)
    )
