"""Reads of the app center."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.platform.appcenter.models import App, Favourite, Usage
from campus.platform.appcenter.schemas import AppOut, icon_url
from campus.platform.users import service as users


async def app_by_code(session: AsyncSession, code: str) -> App | None:
    return await session.scalar(select(App).where(App.code == code))


async def app_by_name(session: AsyncSession, name: str) -> App | None:
    return await session.scalar(select(App).where(App.name == name))


async def all_apps(session: AsyncSession) -> list[App]:
    return list(await session.scalars(select(App).order_by(App.order, App.name)))


async def enabled_apps(session: AsyncSession) -> list[App]:
    rows = await session.scalars(select(App).where(App.enabled.is_(True)))
    return list(rows)


async def favourites_of(session: AsyncSession, person_id: int) -> list[str]:
    """The codes a person starred, the latest first."""
    rows = await session.scalars(
        select(Favourite.app_code)
        .where(Favourite.person_id == person_id)
        .order_by(Favourite.created_at.desc(), Favourite.app_code)
    )
    return list(rows)


async def uses_of(session: AsyncSession, person_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Usage.app_code, Usage.uses).where(Usage.person_id == person_id)
    )
    return {code: uses for code, uses in rows.all()}


async def usage_by_app(session: AsyncSession) -> list[tuple[str, int, int, datetime]]:
    """(app code, people, opens, last open) of every app opened at least once, most used
    first."""
    uses = func.sum(Usage.uses)
    rows = await session.execute(
        select(Usage.app_code, func.count(), uses, func.max(Usage.last_used_at))
        .group_by(Usage.app_code)
        .order_by(uses.desc(), Usage.app_code)
    )
    return [(code, int(people), int(total), last) for code, people, total, last in rows.all()]


async def to_out(session: AsyncSession, app: App) -> AppOut:
    units = await users.get_org_units(session, app.org_unit_ids)
    return _out(app, [units[i].code for i in app.org_unit_ids if i in units])


async def to_outs(session: AsyncSession, apps: list[App]) -> list[AppOut]:
    ids = sorted({i for app in apps for i in app.org_unit_ids})
    units = await users.get_org_units(session, ids)
    return [_out(app, [units[i].code for i in app.org_unit_ids if i in units]) for app in apps]


def _out(app: App, org_codes: list[str]) -> AppOut:
    return AppOut(
        code=app.code,
        name=app.name,
        kind=app.kind,
        description=app.description,
        category=app.category,
        icon=app.icon,
        icon_file_id=app.icon_file_id,
        icon_url=icon_url(app.code, app.icon_file_id),
        url=app.url,
        sso_client=app.sso_client,
        roles=list(app.roles),
        org_units=org_codes,
        order=app.order,
        enabled=app.enabled,
        demo=app.demo,
        updated_at=app.updated_at,
    )
