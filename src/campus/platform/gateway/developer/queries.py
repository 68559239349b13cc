"""Reads of the developer platform: a developer's apps with their keys and subscriptions, the
services offered, the subscriptions awaiting an owner, proposals, and an app's usage from the
gateway's request log."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.gateway import queries as gateway_queries
from campus.platform.gateway.models import (
    GatewayConsumer,
    GatewayCredential,
    GatewayMinute,
    GatewayProposal,
    GatewayService,
    GatewaySubscription,
)
from campus.platform.gateway.schemas import (
    AppOut,
    CredentialOut,
    OfferedServiceOut,
    ProposalOut,
    SubscriptionOut,
    UsageDay,
    UsageOut,
)
from campus.platform.users import service as users

USAGE_DAYS = 7


async def app_row(session: AsyncSession, app_id: int) -> GatewayConsumer:
    """An app (a consumer with an owner) by id, or 404."""
    consumer = await session.get(GatewayConsumer, app_id)
    if consumer is None or consumer.owner_id is None:
        raise NotFound(_("应用 {id} 不存在", id=app_id))
    return consumer


def _subscriptions() -> Select[GatewaySubscription, GatewayConsumer, GatewayService]:
    return (
        select(GatewaySubscription, GatewayConsumer, GatewayService)
        .join(GatewayConsumer, GatewayConsumer.id == GatewaySubscription.consumer_id)
        .join(GatewayService, GatewayService.id == GatewaySubscription.service_id)
        .order_by(GatewaySubscription.requested_at.desc(), GatewaySubscription.id.desc())
    )


def subscription_out(
    row: GatewaySubscription, consumer: GatewayConsumer, service: GatewayService
) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id,
        app_id=consumer.id,
        app=consumer.username,
        app_title=consumer.title or consumer.username,
        service=service.name,
        service_title=service.title or service.name,
        status=row.status,
        note=row.note,
        decision_note=row.decision_note,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        decided_at=row.decided_at,
    )


async def apps_of(
    session: AsyncSession, owner_id: int | None, app_id: int | None = None
) -> list[AppOut]:
    """The apps of one developer (None: every developer's), or the one app ``app_id``."""
    query = select(GatewayConsumer).where(GatewayConsumer.owner_id.is_not(None))
    if owner_id is not None:
        query = query.where(GatewayConsumer.owner_id == owner_id)
    if app_id is not None:
        query = query.where(GatewayConsumer.id == app_id)
    consumers = list(await session.scalars(query.order_by(GatewayConsumer.id.desc())))
    ids = [c.id for c in consumers]
    if not ids:
        return []
    credentials: dict[int, list[CredentialOut]] = defaultdict(list)
    for credential in await session.scalars(
        select(GatewayCredential)
        .where(GatewayCredential.consumer_id.in_(ids))
        .order_by(GatewayCredential.id)
    ):
        credentials[credential.consumer_id].append(CredentialOut.model_validate(credential))
    subscriptions: dict[int, list[SubscriptionOut]] = defaultdict(list)
    rows = await session.execute(_subscriptions().where(GatewaySubscription.consumer_id.in_(ids)))
    for row, consumer, service in rows.all():
        subscriptions[consumer.id].append(subscription_out(row, consumer, service))
    return [
        AppOut(
            id=c.id,
            username=c.username,
            title=c.title,
            description=c.description,
            owner_id=c.owner_id,
            rate_limit_per_minute=c.rate_limit_per_minute,
            quota_per_day=c.quota_per_day,
            oauth_client_id=c.oauth_client_id,
            created_at=c.created_at,
            credentials=credentials[c.id],
            subscriptions=subscriptions[c.id],
        )
        for c in consumers
    ]


async def app_out(session: AsyncSession, app_id: int) -> AppOut:
    found = await apps_of(session, None, app_id)
    if not found:
        raise NotFound(_("应用 {id} 不存在", id=app_id))
    return found[0]


async def count_apps(session: AsyncSession, owner_id: int) -> int:
    query = select(func.count()).where(GatewayConsumer.owner_id == owner_id)
    return int(await session.scalar(query) or 0)


async def offered_services(session: AsyncSession, search: str = "") -> list[OfferedServiceOut]:
    """The services apps may subscribe to, with their routes, matching ``search`` (name,
    title or description)."""
    query = select(GatewayService).where(GatewayService.subscription != "none")
    if search:
        like = f"%{search}%"
        query = query.where(
            or_(
                GatewayService.name.ilike(like),
                GatewayService.title.ilike(like),
                GatewayService.description.ilike(like),
            )
        )
    services = list(await session.scalars(query.order_by(GatewayService.name)))
    owners = await users.get_people(session, [s.owner_id for s in services if s.owner_id])
    routes = await gateway_queries.list_routes(session)
    return [
        OfferedServiceOut(
            name=s.name,
            title=s.title or s.name,
            description=s.description,
            subscription=s.subscription,
            owner_id=s.owner_id,
            owner_name=owners[s.owner_id].name if s.owner_id in owners else None,
            routes=[r for r in routes if r.service == s.name],
        )
        for s in services
    ]


async def subscription_row(
    session: AsyncSession, subscription_id: int
) -> tuple[GatewaySubscription, GatewayConsumer, GatewayService]:
    row = (
        await session.execute(_subscriptions().where(GatewaySubscription.id == subscription_id))
    ).first()
    if row is None:
        raise NotFound(_("订阅 {id} 不存在", id=subscription_id))
    return row[0], row[1], row[2]


async def awaiting(session: AsyncSession, owner_id: int | None) -> list[SubscriptionOut]:
    """Pending subscriptions to the services one person owns (None: to every service)."""
    query = _subscriptions().where(GatewaySubscription.status == "pending")
    if owner_id is not None:
        query = query.where(GatewayService.owner_id == owner_id)
    rows = await session.execute(query)
    return [subscription_out(*row) for row in rows.all()]


async def proposals(session: AsyncSession, proposer_id: int | None) -> list[ProposalOut]:
    """One developer's proposals (None: everyone's), the pending ones first."""
    query = select(GatewayProposal)
    if proposer_id is not None:
        query = query.where(GatewayProposal.proposed_by == proposer_id)
    pending_first = (GatewayProposal.status != "pending", GatewayProposal.id.desc())
    rows = await session.scalars(query.order_by(*pending_first))
    return [ProposalOut.model_validate(row) for row in rows]


async def usage(
    session: AsyncSession, username: str, quota: int | None, rate: int | None, used_today: int
) -> UsageOut:
    """The app's calls per campus day over the last USAGE_DAYS days, and per route."""
    first_day = clock.today() - timedelta(days=USAGE_DAYS - 1)
    rows = await session.scalars(
        select(GatewayMinute).where(
            GatewayMinute.consumer == username,
            GatewayMinute.minute >= clock.start_of_day(first_day),
        )
    )
    days = {(first_day + timedelta(days=n)).isoformat(): [0, 0, 0, 0, 0] for n in range(USAGE_DAYS)}
    by_route: dict[str, int] = defaultdict(int)
    for row in rows:
        figures = days.get(clock.local(row.minute).date().isoformat())
        if figures is None:
            continue
        column = {"4xx": 1, "5xx": 2}.get(row.status_class, 0)
        figures[column] += row.requests
        figures[3] += row.requests
        figures[4] += row.total_ms
        by_route[row.route] += row.requests
    return UsageOut(
        days=[
            UsageDay(
                day=day,
                ok=f[0],
                client_errors=f[1],
                server_errors=f[2],
                average_ms=round(f[4] / f[3], 1) if f[3] else None,
            )
            for day, f in days.items()
        ],
        by_route=dict(sorted(by_route.items(), key=lambda item: -item[1])),
        quota_per_day=quota,
        used_today=used_today,
        rate_limit_per_minute=rate,
    )


async def find_offered(session: AsyncSession, name: str) -> GatewayService | None:
    service = await gateway_queries.find_service(session, name)
    return service if service is not None and service.subscription != "none" else None


async def find_subscription(
    session: AsyncSession, consumer_id: int, service_id: int
) -> GatewaySubscription | None:
    return await session.scalar(
        select(GatewaySubscription).where(
            GatewaySubscription.consumer_id == consumer_id,
            GatewaySubscription.service_id == service_id,
        )
    )


async def proposal_row(session: AsyncSession, proposal_id: int) -> GatewayProposal:
    proposal = await session.get(GatewayProposal, proposal_id)
    if proposal is None:
        raise NotFound(_("服务申请 {id} 不存在", id=proposal_id))
    return proposal


async def name_taken(session: AsyncSession, name: str) -> bool:
    """A service of this name exists, or a proposal of it waits for review."""
    if await gateway_queries.find_service(session, name) is not None:
        return True
    pending = select(GatewayProposal.id).where(
        GatewayProposal.name == name, GatewayProposal.status == "pending"
    )
    return await session.scalar(pending) is not None
