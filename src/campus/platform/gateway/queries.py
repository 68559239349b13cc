"""Reads of the API center."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.gateway.models import (
    GatewayConsumer,
    GatewayCredential,
    GatewayMinute,
    GatewayRoute,
    GatewayService,
    GatewaySubscription,
)
from campus.platform.gateway.schemas import (
    ConsumerOut,
    CredentialOut,
    MinuteOut,
    RouteOut,
    ServiceOut,
)


async def find_service(session: AsyncSession, name: str) -> GatewayService | None:
    return await session.scalar(select(GatewayService).where(GatewayService.name == name))


async def get_service(session: AsyncSession, name: str) -> GatewayService:
    service = await find_service(session, name)
    if service is None:
        raise NotFound(_("网关服务“{name}”不存在", name=name))
    return service


async def list_services(session: AsyncSession) -> list[ServiceOut]:
    rows = await session.scalars(select(GatewayService).order_by(GatewayService.name))
    return [ServiceOut.model_validate(row) for row in rows]


def route_out(route: GatewayRoute, service: str) -> RouteOut:
    return RouteOut(
        id=route.id,
        name=route.name,
        service=service,
        path_prefix=route.path_prefix,
        methods=list(route.methods),
        strip_prefix=route.strip_prefix,
        public=route.public,
        hosts=list(route.hosts or []),
        allow_groups=list(route.allow_groups),
        rate_limit_per_minute=route.rate_limit_per_minute,
        timeout_ms=route.timeout_ms,
        created_at=route.created_at,
    )


async def list_routes(session: AsyncSession) -> list[RouteOut]:
    rows = await session.execute(
        select(GatewayRoute, GatewayService.name)
        .join(GatewayService, GatewayService.id == GatewayRoute.service_id)
        .order_by(GatewayService.name, GatewayRoute.path_prefix)
    )
    return [route_out(route, name) for route, name in rows.all()]


async def find_consumer(session: AsyncSession, username: str) -> GatewayConsumer | None:
    return await session.scalar(select(GatewayConsumer).where(GatewayConsumer.username == username))


async def get_consumer(session: AsyncSession, username: str) -> GatewayConsumer:
    consumer = await find_consumer(session, username)
    if consumer is None:
        raise NotFound(_("消费者“{name}”不存在", name=username))
    return consumer


async def list_consumers(session: AsyncSession) -> list[ConsumerOut]:
    consumers = list(
        await session.scalars(select(GatewayConsumer).order_by(GatewayConsumer.username))
    )
    credentials = await session.scalars(select(GatewayCredential).order_by(GatewayCredential.id))
    by_consumer: dict[int, list[CredentialOut]] = {}
    for credential in credentials:
        by_consumer.setdefault(credential.consumer_id, []).append(
            CredentialOut.model_validate(credential)
        )
    return [consumer_out(c, by_consumer.get(c.id, [])) for c in consumers]


async def consumer_detail(session: AsyncSession, consumer: GatewayConsumer) -> ConsumerOut:
    credentials = await session.scalars(
        select(GatewayCredential)
        .where(GatewayCredential.consumer_id == consumer.id)
        .order_by(GatewayCredential.id)
    )
    return consumer_out(consumer, [CredentialOut.model_validate(c) for c in credentials])


def consumer_out(consumer: GatewayConsumer, credentials: list[CredentialOut]) -> ConsumerOut:
    return ConsumerOut(
        id=consumer.id,
        username=consumer.username,
        description=consumer.description,
        groups=list(consumer.groups),
        rate_limit_per_minute=consumer.rate_limit_per_minute,
        quota_per_day=consumer.quota_per_day,
        title=consumer.title,
        owner_id=consumer.owner_id,
        oauth_client_id=consumer.oauth_client_id,
        created_at=consumer.created_at,
        credentials=credentials,
    )


async def active_credentials(session: AsyncSession) -> list[tuple[GatewayCredential, str]]:
    rows = await session.execute(
        select(GatewayCredential, GatewayConsumer.username)
        .join(GatewayConsumer, GatewayConsumer.id == GatewayCredential.consumer_id)
        .where(GatewayCredential.revoked_at.is_(None))
    )
    return [(credential, name) for credential, name in rows.all()]


async def all_consumers(session: AsyncSession) -> list[GatewayConsumer]:
    return list(await session.scalars(select(GatewayConsumer).order_by(GatewayConsumer.username)))


async def approved_subscriptions(session: AsyncSession) -> list[tuple[str, str]]:
    """(consumer username, service name) of every approved subscription."""
    rows = await session.execute(
        select(GatewayConsumer.username, GatewayService.name)
        .join(GatewaySubscription, GatewaySubscription.consumer_id == GatewayConsumer.id)
        .join(GatewayService, GatewayService.id == GatewaySubscription.service_id)
        .where(GatewaySubscription.status == "approved")
    )
    return [(username, service) for username, service in rows.all()]


async def all_services(session: AsyncSession) -> list[GatewayService]:
    return list(await session.scalars(select(GatewayService).order_by(GatewayService.name)))


async def recent_minutes(
    session: AsyncSession, since: datetime, limit: int = 500
) -> list[MinuteOut]:
    rows = await session.scalars(
        select(GatewayMinute)
        .where(GatewayMinute.minute >= since)
        .order_by(GatewayMinute.minute.desc(), GatewayMinute.route, GatewayMinute.consumer)
        .limit(limit)
    )
    return [MinuteOut.model_validate(row) for row in rows]
