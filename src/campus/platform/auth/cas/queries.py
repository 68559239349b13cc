"""Reads of the CAS server: the service registry and tickets."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.pagination import Page, PageParams, paginate
from campus.platform.auth.cas import urls
from campus.platform.auth.cas.models import CasService, CasTicket
from campus.platform.auth.cas.schemas import CasServiceOut


async def enabled_services(session: AsyncSession) -> list[CasServiceOut]:
    """Enabled services in the order their patterns are tried."""
    rows = await session.scalars(
        select(CasService)
        .where(CasService.enabled.is_(True))
        .order_by(CasService.evaluation_order, CasService.id)
    )
    return [CasServiceOut.model_validate(row) for row in rows]


async def service_for_url(session: AsyncSession, url: str) -> CasServiceOut | None:
    """The first enabled service whose pattern covers ``url``; None for an unacceptable URL."""
    canonical = urls.canonical_url(url)
    if canonical is None:
        return None
    for service in await enabled_services(session):
        if urls.matches(service.match_kind, service.url_pattern, canonical):
            return service
    return None


async def get_service(session: AsyncSession, service_id: int) -> CasServiceOut | None:
    row = await session.get(CasService, service_id)
    return None if row is None else CasServiceOut.model_validate(row)


async def name_taken(session: AsyncSession, name: str, except_id: int | None = None) -> bool:
    stmt = select(CasService.id).where(func.lower(CasService.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(CasService.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


async def services_page(
    session: AsyncSession, params: PageParams, q: str | None = None
) -> Page[CasServiceOut]:
    stmt = select(CasService).order_by(CasService.evaluation_order, CasService.id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(CasService.name).like(like),
                func.lower(CasService.url_pattern).like(like),
            )
        )
    page = await paginate(session, stmt, params.page, params.page_size)
    return page.into(Page[CasServiceOut], CasServiceOut.model_validate)


async def ticket_by_digest(session: AsyncSession, digest: str) -> CasTicket | None:
    return await session.get(CasTicket, digest)
