"""JSON API of the developer platform, under /api/v1/gateway: apps, their keys, usage and
subscriptions; the services offered; decisions on subscriptions; proposals and their review.
Any signed-in person is a developer; what they may touch is decided per object (access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.platform.access.service import require, signed_in
from campus.platform.gateway import proxy, stats
from campus.platform.gateway.developer import actions, queries
from campus.platform.gateway.developer.access import access_app
from campus.platform.gateway.permissions import MANAGE
from campus.platform.gateway.schemas import (
    AppIn,
    AppOut,
    CredentialIn,
    CredentialIssued,
    CredentialOut,
    DecisionIn,
    OAuthClientIssued,
    OfferedServiceOut,
    ProposalIn,
    ProposalOut,
    SubscriptionIn,
    SubscriptionOut,
    UsageOut,
)

router = APIRouter(prefix="/api/v1/gateway", tags=["developer"])
Developer = Annotated[Principal, signed_in()]


@router.get("/apps", response_model=list[AppOut], summary="我的应用（含凭据与订阅）")
async def my_apps(session: ReadSessionDep, me: Developer) -> list[AppOut]:
    return await queries.apps_of(session, me.person_id)


@router.post("/apps", response_model=AppOut, status_code=201, summary="创建应用")
async def create_app(body: AppIn, session: SessionDep, rt: RuntimeDep, me: Developer) -> AppOut:
    app = await actions.do_create_app(session, rt.cache, me, body)
    return await queries.app_out(session, app.id)


@router.get("/apps/{app_id}", response_model=AppOut)
async def get_app(app_id: int, session: ReadSessionDep, me: Developer) -> AppOut:
    access_app(me, await queries.app_row(session, app_id))
    return await queries.app_out(session, app_id)


@router.post(
    "/apps/{app_id}/credentials",
    response_model=CredentialIssued,
    status_code=201,
    summary="为应用签发 API 密钥或 HMAC 密钥（只返回一次）",
)
async def issue_key(
    app_id: int, body: CredentialIn, session: SessionDep, rt: RuntimeDep, me: Developer
) -> CredentialIssued:
    return await actions.do_issue_key(session, rt, me, app_id, body)


@router.post(
    "/apps/{app_id}/oauth-client",
    response_model=OAuthClientIssued,
    status_code=201,
    summary="为应用注册 OAuth 客户端：凭客户端凭据换取访问令牌，以 Bearer 调用（密钥只返回一次）",
)
async def oauth_client(
    app_id: int, session: SessionDep, rt: RuntimeDep, me: Developer
) -> OAuthClientIssued:
    return await actions.do_oauth_client(session, rt.cache, me, app_id)


@router.post("/apps/{app_id}/credentials/{credential_id}/revoke", response_model=CredentialOut)
async def revoke_key(
    app_id: int, credential_id: int, session: SessionDep, rt: RuntimeDep, me: Developer
) -> CredentialOut:
    return await actions.do_revoke_key(session, rt.cache, me, app_id, credential_id)


@router.get(
    "/apps/{app_id}/usage",
    response_model=UsageOut,
    summary="应用近 7 天的调用量、错误与平均耗时，按路由的调用量，今日配额用量",
)
async def app_usage(app_id: int, rt: RuntimeDep, me: Developer) -> UsageOut:
    async with rt.db.read() as session:
        app = access_app(me, await queries.app_row(session, app_id))
        username, quota, rate = app.username, app.quota_per_day, app.rate_limit_per_minute
    await stats.flush(rt)  # this process's pending counts first
    used = await proxy.used_today(rt, username)
    async with rt.db.read() as session:
        return await queries.usage(session, username, quota, rate, used)


@router.post(
    "/apps/{app_id}/subscriptions",
    response_model=SubscriptionOut,
    status_code=201,
    summary="订阅服务：开放的服务立即生效，需审批的服务等待负责人审批",
)
async def subscribe(
    app_id: int, body: SubscriptionIn, session: SessionDep, rt: RuntimeDep, me: Developer
) -> SubscriptionOut:
    return await actions.do_subscribe(session, rt.cache, me, app_id, body)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
async def cancel_subscription(
    subscription_id: int, session: SessionDep, rt: RuntimeDep, me: Developer
) -> SubscriptionOut:
    return await actions.do_cancel(session, rt.cache, me, subscription_id)


@router.get(
    "/subscriptions/awaiting",
    response_model=list[SubscriptionOut],
    summary="待我审批的订阅（我负责的服务；网关管理员看到全部）",
)
async def awaiting(session: ReadSessionDep, me: Developer) -> list[SubscriptionOut]:
    return await queries.awaiting(session, None if me.can(MANAGE) else me.person_id)


@router.post("/subscriptions/{subscription_id}/decision", response_model=SubscriptionOut)
async def decide(
    subscription_id: int, body: DecisionIn, session: SessionDep, rt: RuntimeDep, me: Developer
) -> SubscriptionOut:
    return await actions.do_decide(session, rt.cache, me, subscription_id, body)


@router.get(
    "/offered",
    response_model=list[OfferedServiceOut],
    summary="开发平台上可订阅的服务，可按名称、标题、说明搜索",
)
async def offered(
    session: ReadSessionDep, _me: Developer, q: Annotated[str, Query(max_length=40)] = ""
) -> list[OfferedServiceOut]:
    return await queries.offered_services(session, q.strip())


@router.get("/proposals", response_model=list[ProposalOut], summary="我提交的服务申请")
async def my_proposals(session: ReadSessionDep, me: Developer) -> list[ProposalOut]:
    return await queries.proposals(session, me.person_id)


@router.post(
    "/proposals",
    response_model=ProposalOut,
    status_code=201,
    summary="申请发布自己的服务（如厂商系统），经网关管理员审核后上线",
)
async def propose(body: ProposalIn, session: SessionDep, me: Developer) -> ProposalOut:
    return await actions.do_propose(session, me, body)


@router.get("/proposals/all", response_model=list[ProposalOut], dependencies=[require(MANAGE)])
async def all_proposals(session: ReadSessionDep) -> list[ProposalOut]:
    return await queries.proposals(session, None)


@router.post("/proposals/{proposal_id}/review", response_model=ProposalOut)
async def review(
    proposal_id: int, body: DecisionIn, session: SessionDep, rt: RuntimeDep, me: Developer
) -> ProposalOut:
    return await actions.do_review(session, rt.cache, me, proposal_id, body)
