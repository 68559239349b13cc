"""Writes of the developer platform. An app is a gateway consumer owned by a developer; a
subscription opens a service to it (at once, or once the service's owner approves); a proposal
becomes a gateway service when an administrator approves it. Each checks first, then writes in
the request's one transaction, audited and evented; a change the gateway enforces moves the
shared configuration version once committed."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.cache import Cache
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.gateway import actions as gateway
from campus.platform.gateway import events
from campus.platform.gateway.developer import queries
from campus.platform.gateway.developer.access import access_app, may_decide, may_review
from campus.platform.gateway.models import (
    GatewayConsumer,
    GatewayCredential,
    GatewayProposal,
    GatewayService,
    GatewaySubscription,
)
from campus.platform.gateway.schemas import (
    AppIn,
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    DecisionIn,
    OAuthClientIssued,
    ProposalIn,
    ProposalOut,
    RouteIn,
    ServiceIn,
    SubscriptionIn,
    SubscriptionOut,
)
from campus.platform.workflow import service as workflow
from campus.platform.workflow.schemas import TodoPush

MAX_APPS_PER_DEVELOPER = 20
DEFAULT_RATE_PER_MINUTE = 600  # what a new app may call; an administrator may change it
DEFAULT_QUOTA_PER_DAY = 10_000
APP_PREFIX = "app-"
HALL_TODO_SOURCE = "gateway"  # the source of the owner's items in the service hall's to-do center
NOTIFY_REQUESTED = "messaging.notify_requested"  # the messaging center's, read by name
APPROVALS_PAGE = "/developer/approvals"


# ---------------------------------------------------------------- apps


async def do_create_app(
    session: AsyncSession, cache: Cache, principal: Principal, body: AppIn
) -> GatewayConsumer:
    if await queries.count_apps(session, principal.person_id) >= MAX_APPS_PER_DEVELOPER:
        raise Conflict(_("每位开发者最多创建 {n} 个应用", n=MAX_APPS_PER_DEVELOPER))
    app = GatewayConsumer(
        username=APP_PREFIX + secrets.token_hex(6),
        title=body.title,
        description=body.description,
        groups=[],
        rate_limit_per_minute=DEFAULT_RATE_PER_MINUTE,
        quota_per_day=DEFAULT_QUOTA_PER_DAY,
        owner_id=principal.person_id,
        created_at=clock.now(),
    )
    session.add(app)
    await session.flush()
    after = {"username": app.username, **body.model_dump()}
    audit.record(session, "gateway.app.create", "gw_consumer", app.id, after=after)
    payload = events.AppCreated(id=app.id, username=app.username, owner_id=principal.person_id)
    await emit(session, events.APP_CREATED, payload)
    gateway.changed(session, cache)
    return app


async def do_issue_key(
    session: AsyncSession, rt: Runtime, principal: Principal, app_id: int, body: CredentialIn
) -> CredentialIssued:
    app = access_app(principal, await queries.app_row(session, app_id), manage=True)
    return await gateway.do_issue_credential(session, rt, app.username, body)


async def do_revoke_key(
    session: AsyncSession, cache: Cache, principal: Principal, app_id: int, credential_id: int
) -> CredentialOut:
    app = access_app(principal, await queries.app_row(session, app_id), manage=True)
    credential = await session.get(GatewayCredential, credential_id)
    if credential is None or credential.consumer_id != app.id:
        raise NotFound(_("凭据 {id} 不存在", id=credential_id))
    return await gateway.do_revoke_credential(session, cache, credential_id)


async def do_oauth_client(
    session: AsyncSession, cache: Cache, principal: Principal, app_id: int
) -> OAuthClientIssued:
    app = access_app(principal, await queries.app_row(session, app_id), manage=True)
    return await gateway.do_bind_oauth_client(session, cache, app.username, app.title)


# ---------------------------------------------------------------- subscriptions


async def do_subscribe(
    session: AsyncSession, cache: Cache, principal: Principal, app_id: int, body: SubscriptionIn
) -> SubscriptionOut:
    """Subscribe an app: approved at once for an open service, pending for one whose owner
    decides (with a to-do for the owner)."""
    app = access_app(principal, await queries.app_row(session, app_id), manage=True)
    service = await queries.find_offered(session, body.service)
    if service is None:
        raise InvalidInput.on("service", _("开发平台上没有服务“{s}”", s=body.service))
    needs_approval = service.subscription == "approval"
    if needs_approval and not body.note:
        raise InvalidInput.on("note", _("该服务的订阅需负责人审批，请写明用途"))
    row = await queries.find_subscription(session, app.id, service.id)
    if row is not None and row.status in ("pending", "approved"):
        message = (
            _("该应用已订阅服务“{s}”", s=service.name)
            if row.status == "approved"
            else _("该应用对服务“{s}”的订阅正在审批", s=service.name)
        )
        raise Conflict.on("service", message)
    now = clock.now()
    if row is None:
        row = GatewaySubscription(consumer_id=app.id, service_id=service.id)
        session.add(row)
    row.status = "pending" if needs_approval else "approved"
    row.note = body.note
    row.decision_note = ""
    row.requested_by = principal.person_id
    row.requested_at = now
    row.decided_by = None
    row.decided_at = None if needs_approval else now
    await session.flush()
    audit.record(
        session,
        "gateway.subscription.request",
        "gw_subscription",
        row.id,
        after={"app": app.username, "service": service.name, "status": row.status},
    )
    payload = events.SubscriptionChanged(
        id=row.id, app=app.username, service=service.name, status=row.status
    )
    await emit(session, events.SUBSCRIPTION_REQUESTED, payload)
    if needs_approval and service.owner_id is not None:
        await workflow.push_todo(
            session,
            TodoPush(
                person_id=service.owner_id,
                source=HALL_TODO_SOURCE,
                business_key=_todo_key(row.id),
                title=str(_("应用“{a}”申请订阅服务“{s}”", a=app.title, s=_title(service))),
                link=APPROVALS_PAGE,
            ),
        )
    else:
        gateway.changed(session, cache)
    return queries.subscription_out(row, app, service)


def _title(service: GatewayService) -> str:
    return service.title or service.name


def _todo_key(subscription_id: int) -> str:
    return f"subscription:{subscription_id}"


async def do_decide(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    subscription_id: int,
    body: DecisionIn,
) -> SubscriptionOut:
    row, app, service = await queries.subscription_row(session, subscription_id)
    may_decide(principal, service)
    if row.status != "pending":
        raise Conflict(_("该订阅已处理，不能再次审批"))
    row.status = "approved" if body.approve else "rejected"
    row.decision_note = body.note
    row.decided_by = principal.person_id
    row.decided_at = clock.now()
    audit.record(
        session,
        "gateway.subscription.decide",
        "gw_subscription",
        row.id,
        before={"status": "pending"},
        after={"status": row.status, "note": body.note},
    )
    payload = events.SubscriptionChanged(
        id=row.id, app=app.username, service=service.name, status=row.status
    )
    await emit(session, events.SUBSCRIPTION_DECIDED, payload)
    await workflow.close_todo(session, source=HALL_TODO_SOURCE, business_key=_todo_key(row.id))
    title = (
        _("订阅已通过：{a} → {s}", a=app.title, s=_title(service))
        if body.approve
        else _("订阅被驳回：{a} → {s}", a=app.title, s=_title(service))
    )
    if row.requested_by is not None:
        link = f"/developer/apps/{app.id}"
        await _notify(session, row.requested_by, str(title), body.note, link)
    if body.approve:
        gateway.changed(session, cache)
    return queries.subscription_out(row, app, service)


async def do_cancel(
    session: AsyncSession, cache: Cache, principal: Principal, subscription_id: int
) -> SubscriptionOut:
    row, app, service = await queries.subscription_row(session, subscription_id)
    access_app(principal, app, manage=True)
    if row.status not in ("pending", "approved"):
        raise Conflict(_("该订阅已结束"))
    before = row.status
    row.status = "cancelled"
    row.decided_at = clock.now()
    audit.record(
        session,
        "gateway.subscription.cancel",
        "gw_subscription",
        row.id,
        before={"status": before},
        after={"status": "cancelled"},
    )
    payload = events.SubscriptionChanged(
        id=row.id, app=app.username, service=service.name, status="cancelled"
    )
    await emit(session, events.SUBSCRIPTION_CANCELLED, payload)
    await workflow.close_todo(session, source=HALL_TODO_SOURCE, business_key=_todo_key(row.id))
    gateway.changed(session, cache)
    return queries.subscription_out(row, app, service)


async def _notify(session: AsyncSession, person_id: int, title: str, body: str, link: str) -> None:
    """Tell a developer of a decision through the messaging center (by its event)."""
    await emit(
        session,
        NOTIFY_REQUESTED,
        {
            "category": "system",
            "title": title[:200],
            "body": body or title,
            "link": link,
            "audience": {"person_ids": [person_id]},
            "source": f"gateway:{link}:{clock.now().timestamp()}",
        },
    )


# ---------------------------------------------------------------- proposals


async def do_propose(session: AsyncSession, principal: Principal, body: ProposalIn) -> ProposalOut:
    if await queries.name_taken(session, body.name):
        raise Conflict.on("name", _("服务名“{name}”已被使用或正在审核", name=body.name))
    proposal = GatewayProposal(
        **body.model_dump(),
        status="pending",
        proposed_by=principal.person_id,
        proposed_at=clock.now(),
    )
    session.add(proposal)
    await session.flush()
    audit.record(
        session, "gateway.proposal.submit", "gw_proposal", proposal.id, after=body.model_dump()
    )
    payload = events.ProposalChanged(
        id=proposal.id, name=body.name, status="pending", proposed_by=principal.person_id
    )
    await emit(session, events.PROPOSAL_SUBMITTED, payload)
    return ProposalOut.model_validate(proposal)


async def do_review(
    session: AsyncSession,
    cache: Cache,
    principal: Principal,
    proposal_id: int,
    body: DecisionIn,
) -> ProposalOut:
    """Approve (the service and one route for all its paths, credentials required, owned by
    the proposer) or reject a proposal."""
    may_review(principal)
    proposal = await queries.proposal_row(session, proposal_id)
    if proposal.status != "pending":
        raise Conflict(_("该服务申请已审核"))
    if body.approve:
        await gateway.do_create_service(
            session,
            cache,
            ServiceIn(
                name=proposal.name,
                url=proposal.url,
                title=proposal.title,
                description=proposal.description,
                owner_id=proposal.proposed_by,
                subscription=proposal.subscription,
                docs_url=proposal.docs_url,
            ),
        )
        await gateway.do_create_route(
            session, cache, RouteIn(name=f"{proposal.name[:55]}-all", service=proposal.name)
        )
    proposal.status = "approved" if body.approve else "rejected"
    proposal.review_note = body.note
    proposal.reviewed_by = principal.person_id
    proposal.reviewed_at = clock.now()
    audit.record(
        session,
        "gateway.proposal.review",
        "gw_proposal",
        proposal.id,
        before={"status": "pending"},
        after={"status": proposal.status, "note": body.note},
    )
    payload = events.ProposalChanged(
        id=proposal.id, name=proposal.name, status=proposal.status, proposed_by=proposal.proposed_by
    )
    await emit(session, events.PROPOSAL_REVIEWED, payload)
    title = (
        _("服务“{s}”已通过审核并上线", s=proposal.title)
        if body.approve
        else _("服务“{s}”未通过审核", s=proposal.title)
    )
    await _notify(session, proposal.proposed_by, str(title), body.note, "/developer/proposals")
    return ProposalOut.model_validate(proposal)
