"""Pages of the developer platform (开发平台): my apps; an app with its keys, subscriptions,
usage chart and try-it console; the services offered; subscriptions awaiting my decision; my
proposed services (and, for administrators, their review)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock, shown_once
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, Problem
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, render
from campus.platform.access.service import signed_in
from campus.platform.auth.oidc import service as oidc
from campus.platform.gateway import proxy, stats
from campus.platform.gateway.developer import actions, queries
from campus.platform.gateway.developer.access import access_app
from campus.platform.gateway.permissions import MANAGE
from campus.platform.gateway.schemas import (
    AppIn,
    CredentialIn,
    CredentialIssued,
    DecisionIn,
    OAuthClientIssued,
    ProposalIn,
    ProposalOut,
    SubscriptionIn,
    SubscriptionOut,
    UsageOut,
)

router = APIRouter(tags=["developer-pages"])
Developer = Annotated[Principal, signed_in()]
HOME = "/developer"
Decided = TypeVar("Decided", SubscriptionOut, ProposalOut)


def _render(request: Request, name: str, status: int = 200, **values: Any) -> Response:
    return render(request, name, status, fmt=clock.fmt, **values)


def _app_page(app_id: int) -> str:
    return f"{HOME}/apps/{app_id}"


# ---------------------------------------------------------------- my apps


async def _home(
    request: Request,
    session: AsyncSession,
    me: Principal,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return _render(
        request,
        "gateway/developer/home.html",
        status,
        apps=await queries.apps_of(session, me.person_id),
        awaiting_count=len(await queries.awaiting(session, me.person_id)),
        default_rate=actions.DEFAULT_RATE_PER_MINUTE,
        default_quota=actions.DEFAULT_QUOTA_PER_DAY,
        errors=errors or {},
        form=form or {},
    )


@router.get(HOME)
async def home(request: Request, session: ReadSessionDep, me: Developer) -> Response:
    return await _home(request, session, me)


@router.post(HOME + "/apps")
async def create_app_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
    title: str = Form(""),
    description: str = Form(""),
) -> Response:
    form = {"title": title, "description": description}
    try:
        body = AppIn.model_validate(form)
        async with session.begin_nested():
            app = await actions.do_create_app(session, rt.cache, me, body)
    except (Problem, ValidationError) as exc:
        return await _home(request, session, me, 422, errors=form_errors(exc), form=form)
    response = go_to(request, _app_page(app.id))
    flash(request, response, _("已创建应用“{t}”，请签发密钥并订阅服务", t=body.title))
    return response


# ---------------------------------------------------------------- one app


async def _app(
    request: Request,
    rt: Runtime,
    session: AsyncSession,
    me: Principal,
    app_id: int,
    status: int = 200,
    issued: CredentialIssued | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    oauth: OAuthClientIssued | None = None,
) -> Response:
    access_app(me, await queries.app_row(session, app_id))
    app = await queries.app_out(session, app_id)
    usage = await queries.usage(
        session,
        app.username,
        app.quota_per_day,
        app.rate_limit_per_minute,
        await proxy.used_today(rt, app.username),
    )
    offered = await queries.offered_services(session)
    approved = {s.service for s in app.subscriptions if s.status == "approved"}
    return _render(
        request,
        "gateway/developer/app.html",
        status,
        app=app,
        usage=usage,
        chart=_usage_chart(usage),
        offered=offered,
        callable=[s for s in offered if s.name in approved],
        issued=issued,
        oauth=oauth,
        token_url=str(request.base_url).rstrip("/") + oidc.TOKEN_PATH,
        errors=errors or {},
        form=form or {},
    )


def _usage_chart(usage: UsageOut) -> dict[str, Any]:
    """An ECharts option: calls per day, stacked by outcome."""
    days = [d.day[5:] for d in usage.days]

    def series(name: str, values: list[int], color: str) -> dict[str, Any]:
        return {"name": name, "type": "bar", "stack": "calls", "data": values, "color": color}

    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 40, "right": 10, "top": 30, "bottom": 25},
        "xAxis": {"type": "category", "data": days},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            series(str(_("成功")), [d.ok for d in usage.days], "#2fb344"),
            series(str(_("客户端错误")), [d.client_errors for d in usage.days], "#f59f00"),
            series(str(_("服务端错误")), [d.server_errors for d in usage.days], "#d63939"),
        ],
    }


@router.get(HOME + "/apps/{app_id}")
async def app_page(
    request: Request,
    app_id: int,
    session: ReadSessionDep,
    rt: RuntimeDep,
    me: Developer,
    shown: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """One app; after a key or a client secret was issued, that secret once (``?shown=``)."""
    await stats.flush(rt)  # this process's pending counts, so the chart is current
    kept = await shown_once.shown(rt, shown)
    issued = kept.get("issued") and CredentialIssued(**kept["issued"])
    oauth = kept.get("oauth") and OAuthClientIssued(**kept["oauth"])
    return await _app(request, rt, session, me, app_id, issued=issued, oauth=oauth)


@router.post(HOME + "/apps/{app_id}/credentials")
async def issue_key_submit(
    request: Request,
    app_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
    kind: str = Form("key"),
) -> Response:
    try:
        body = CredentialIn.model_validate({"kind": kind})
        async with session.begin_nested():
            issued = await actions.do_issue_key(session, rt, me, app_id, body)
    except (Problem, ValidationError) as exc:
        return await _app(request, rt, session, me, app_id, 422, errors=form_errors(exc))
    payload = {"issued": issued.model_dump(mode="json")}
    return await shown_once.go_to_showing(request, rt, _app_page(app_id), payload)


@router.post(HOME + "/apps/{app_id}/oauth-client")
async def oauth_client_submit(
    request: Request, app_id: int, session: SessionDep, rt: RuntimeDep, me: Developer
) -> Response:
    try:
        async with session.begin_nested():
            oauth = await actions.do_oauth_client(session, rt.cache, me, app_id)
    except Problem as problem:
        return back_with_problem(request, _app_page(app_id), problem)
    payload = {"oauth": oauth.model_dump(mode="json")}
    return await shown_once.go_to_showing(request, rt, _app_page(app_id), payload)


@router.post(HOME + "/apps/{app_id}/credentials/{credential_id}/revoke")
async def revoke_key_submit(
    request: Request,
    app_id: int,
    credential_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
) -> Response:
    try:
        async with session.begin_nested():
            await actions.do_revoke_key(session, rt.cache, me, app_id, credential_id)
    except Problem as problem:
        return back_with_problem(request, _app_page(app_id), problem)
    response = go_to(request, _app_page(app_id))
    flash(request, response, _("密钥已吊销，用它的调用将被拒绝"))
    return response


@router.post(HOME + "/apps/{app_id}/subscriptions")
async def subscribe_submit(
    request: Request,
    app_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
    service: str = Form(""),
    note: str = Form(""),
) -> Response:
    form = {"service": service, "note": note}
    try:
        body = SubscriptionIn.model_validate(form)
        async with session.begin_nested():
            made = await actions.do_subscribe(session, rt.cache, me, app_id, body)
    except (Problem, ValidationError) as exc:
        errors = form_errors(exc)
        return await _app(request, rt, session, me, app_id, 422, errors=errors, form=form)
    response = go_to(request, _app_page(app_id))
    if made.status == "approved":
        flash(request, response, _("已订阅“{s}”，现在就可以调用", s=made.service_title))
    else:
        flash(request, response, _("已提交订阅申请，等待“{s}”的负责人审批", s=made.service_title))
    return response


@router.post(HOME + "/subscriptions/{subscription_id}/cancel")
async def cancel_submit(
    request: Request, subscription_id: int, session: SessionDep, rt: RuntimeDep, me: Developer
) -> Response:
    try:
        async with session.begin_nested():
            cancelled = await actions.do_cancel(session, rt.cache, me, subscription_id)
    except Problem as problem:
        return back_with_problem(request, HOME, problem)
    response = go_to(request, _app_page(cancelled.app_id))
    flash(request, response, _("已取消对“{s}”的订阅", s=cancelled.service_title))
    return response


# ---------------------------------------------------------------- services offered


@router.get(HOME + "/services")
async def services_page(
    request: Request, session: ReadSessionDep, me: Developer, q: str = ""
) -> Response:
    term = q.strip()[:40]
    return _render(
        request,
        "gateway/developer/services.html",
        services=await queries.offered_services(session, term),
        apps=await queries.apps_of(session, me.person_id),
        q=term,
    )


# ---------------------------------------------------------------- decisions


@router.get(HOME + "/approvals")
async def approvals_page(request: Request, session: ReadSessionDep, me: Developer) -> Response:
    owner = None if me.can(MANAGE) else me.person_id
    awaiting = await queries.awaiting(session, owner)
    return _render(
        request,
        "gateway/developer/approvals.html",
        awaiting=awaiting,
        awaiting_count=len(awaiting),
    )


@router.post(HOME + "/subscriptions/{subscription_id}/decision")
async def decide_submit(
    request: Request,
    subscription_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
    approve: str = Form(""),
    note: str = Form(""),
) -> Response:
    page = HOME + "/approvals"

    async def act(body: DecisionIn) -> SubscriptionOut:
        return await actions.do_decide(session, rt.cache, me, subscription_id, body)

    decided = await _decided(request, session, page, approve, note, act)
    if isinstance(decided, Response):
        return decided
    response = go_to(request, page)
    message = (
        _("已同意“{a}”订阅“{s}”", a=decided.app_title, s=decided.service_title)
        if decided.status == "approved"
        else _("已驳回“{a}”的订阅申请", a=decided.app_title)
    )
    flash(request, response, message)
    return response


async def _decided(
    request: Request,
    session: AsyncSession,
    page: str,
    approve: str,
    note: str,
    act: Callable[[DecisionIn], Awaitable[Decided]],
) -> Decided | Response:
    """A decision form's outcome (``approve`` is "yes" for the approving button), or the page
    again with the refusal."""
    try:
        body = DecisionIn.model_validate({"approve": approve == "yes", "note": note})
        async with session.begin_nested():
            return await act(body)
    except ValidationError as exc:
        return back_with_problem(request, page, InvalidInput("；".join(form_errors(exc).values())))
    except Problem as problem:
        return back_with_problem(request, page, problem)


# ---------------------------------------------------------------- proposals


async def _proposals(
    request: Request,
    session: AsyncSession,
    me: Principal,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    reviewer = me.can(MANAGE)
    return _render(
        request,
        "gateway/developer/proposals.html",
        status,
        mine=await queries.proposals(session, me.person_id),
        to_review=[p for p in await queries.proposals(session, None) if p.status == "pending"]
        if reviewer
        else [],
        reviewer=reviewer,
        errors=errors or {},
        form=form or {"subscription": "approval"},
    )


@router.get(HOME + "/proposals")
async def proposals_page(request: Request, session: ReadSessionDep, me: Developer) -> Response:
    return await _proposals(request, session, me)


@router.post(HOME + "/proposals")
async def propose_submit(
    request: Request,
    session: SessionDep,
    me: Developer,
    name: str = Form(""),
    title: str = Form(""),
    description: str = Form(""),
    url: str = Form(""),
    subscription: str = Form("approval"),
    docs_url: str = Form(""),
) -> Response:
    form = {
        "name": name,
        "title": title,
        "description": description,
        "url": url,
        "subscription": subscription,
        "docs_url": docs_url,
    }
    try:
        body = ProposalIn.model_validate(form)
        async with session.begin_nested():
            await actions.do_propose(session, me, body)
    except (Problem, ValidationError) as exc:
        return await _proposals(request, session, me, 422, errors=form_errors(exc), form=form)
    response = go_to(request, HOME + "/proposals")
    flash(request, response, _("已提交服务“{t}”，网关管理员审核通过后上线", t=body.title))
    return response


@router.post(HOME + "/proposals/{proposal_id}/review")
async def review_submit(
    request: Request,
    proposal_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Developer,
    approve: str = Form(""),
    note: str = Form(""),
) -> Response:
    page = HOME + "/proposals"

    async def act(body: DecisionIn) -> ProposalOut:
        return await actions.do_review(session, rt.cache, me, proposal_id, body)

    reviewed = await _decided(request, session, page, approve, note, act)
    if isinstance(reviewed, Response):
        return reviewed
    response = go_to(request, page)
    message = (
        _("服务“{t}”已上线：/gw/{n}/", t=reviewed.title, n=reviewed.name)
        if reviewed.status == "approved"
        else _("已驳回服务“{t}”", t=reviewed.title)
    )
    flash(request, response, message)
    return response
