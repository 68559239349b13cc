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
from campus.platform.appcenter.schemas import AppIn, AppOut, AppPatch
from campus.platform.auth import service as auth
from campus.platform.users import service as users

AUDITED = ("name", "kind", "category", "url", "sso_client", "roles", "org_unit_ids", "enabled")


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


async def do_create_app(session: AsyncSession, body: AppIn, *, demo: bool = False) -> AppOut:
    values = await check_app(session, body.model_dump())
    now = clock.now()
    app = App(**values, demo=demo, created_at=now, updated_at=now)
    session.add(app)
    await session.flush()
    audit.record(session, "appcenter.app.create", "appcenter_app", app.code, after=_snapshot(app))
    await _announce(session, events.APP_CREATED, app)
    return await queries.to_out(session, app)


async def do_update_app(session: AsyncSession, app: App, body: AppPatch) -> AppOut:
    fields = body.model_dump(exclude_unset=True)
    fields = {k: v for k, v in fields.items() if v is not None or k == "sso_client"}
    kind = fields.get("kind", app.kind)
    client = fields.get("sso_client", app.sso_client)
    values = await check_app(session, {**fields, "kind": kind, "sso_client": client}, app.id)
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
