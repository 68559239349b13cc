"""JSON API of subscription push: /api/v1/messaging/accounts, /posts, /feed, /push. Thin:
parse, authorise, call one action or query, answer with schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import require, signed_in
from campus.platform.files import service as files
from campus.platform.messaging.accounts import actions, queries, urls, webpush
from campus.platform.messaging.accounts.access import (
    access_account,
    access_post,
    editable_account,
    editable_post,
    is_public,
)
from campus.platform.messaging.accounts.rules import member_of
from campus.platform.messaging.accounts.schemas import (
    AccountCreate,
    AccountOut,
    AccountPage,
    AccountUpdate,
    Category,
    PostCreate,
    PostOut,
    PostPage,
    PostReported,
    PostReportIn,
    PostUpdate,
    PushDeviceOut,
    PushEndpoint,
    PushKeyOut,
    PushSubscriptionIn,
    ReadStats,
    SubscriptionOut,
)
from campus.platform.messaging.permissions import ACCOUNT_MANAGE

router = APIRouter(prefix="/api/v1/messaging", tags=["messaging-accounts"])
Me = Annotated[Principal, signed_in()]
SearchText = Annotated[str | None, Query(max_length=40)]


async def _account_out(session: AsyncSession, principal: Principal, account_id: int) -> AccountOut:
    return await queries.account_out(session, await access_account(session, principal, account_id))


async def _post_out(session: AsyncSession, principal: Principal, post_id: int) -> PostOut:
    post, found = await access_post(session, principal, post_id)
    return await queries.post_out(session, post, found, principal.person_id)


# ---------------------------------------------------------------- accounts


@router.get("/accounts", response_model=AccountPage, summary="服务号目录：面向我的与我关注的")
async def list_accounts(
    session: ReadSessionDep,
    principal: Me,
    paging: PageParamsDep,
    q: SearchText = None,
    category: Category | None = None,
) -> AccountPage:
    member = await member_of(session, principal.person_id)
    return await queries.directory(
        session,
        principal.person_id,
        member,
        manager=principal.can(ACCOUNT_MANAGE),
        q=(q or "").strip() or None,
        category=category,
        paging=paging,
        include_inactive=principal.can(ACCOUNT_MANAGE),
    )


@router.get("/accounts/following", response_model=AccountPage, summary="我的关注（含必选）")
async def my_accounts(session: ReadSessionDep, principal: Me, paging: PageParamsDep) -> AccountPage:
    member = await member_of(session, principal.person_id)
    return await queries.directory(
        session,
        principal.person_id,
        member,
        manager=False,
        q=None,
        category=None,
        paging=paging,
        following_only=True,
    )


@router.post("/accounts", response_model=AccountOut, status_code=201, summary="创建服务号")
async def create_account(
    body: AccountCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
) -> AccountOut:
    account_id = await actions.check_create_account(session, principal, body)
    return await _account_out(session, principal, account_id)


@router.get("/accounts/{account_id}", response_model=AccountOut, summary="服务号详情")
async def get_account(account_id: int, session: ReadSessionDep, principal: Me) -> AccountOut:
    return await _account_out(session, principal, account_id)


@router.patch("/accounts/{account_id}", response_model=AccountOut, summary="修改服务号")
async def update_account(
    account_id: int,
    body: AccountUpdate,
    session: SessionDep,
    principal: Annotated[Principal, require(ACCOUNT_MANAGE)],
) -> AccountOut:
    found = await access_account(session, principal, account_id)
    await actions.check_update_account(session, principal, found, body)
    return await _account_out(session, principal, account_id)


@router.get("/accounts/{account_id}/avatar", summary="服务号头像")
async def account_avatar(
    account_id: int, session: ReadSessionDep, rt: RuntimeDep, principal: Me
) -> Response:
    account = (await access_account(session, principal, account_id)).account
    if not account.avatar_file_id:
        raise NotFound(_("该服务号没有头像"))
    opened = await files.open_file(
        rt,
        session,
        account.avatar_file_id,
        bound_to=(urls.FILES_MODULE, urls.account_key(account.id)),
    )
    return files.download_response(opened)


@router.put("/accounts/{account_id}/subscription", response_model=SubscriptionOut, summary="关注")
async def subscribe(account_id: int, session: SessionDep, principal: Me) -> SubscriptionOut:
    await actions.check_subscribe(session, principal, account_id)
    found = await access_account(session, principal, account_id)
    return SubscriptionOut(
        account_id=account_id, subscribed=found.following, mandatory=found.mandatory
    )


@router.delete(
    "/accounts/{account_id}/subscription",
    response_model=SubscriptionOut,
    summary="取消关注（必选服务号不能取消）",
)
async def unsubscribe(account_id: int, session: SessionDep, principal: Me) -> SubscriptionOut:
    await actions.check_unsubscribe(session, principal, account_id)
    return SubscriptionOut(account_id=account_id, subscribed=False, mandatory=False)


# ---------------------------------------------------------------- posts


@router.get("/accounts/{account_id}/posts", response_model=PostPage, summary="服务号的文章")
async def account_posts(
    account_id: int,
    session: ReadSessionDep,
    principal: Me,
    paging: PageParamsDep,
    unpublished: Annotated[bool, Query(description="编辑：草稿与定时发布的")] = False,
) -> PostPage:
    if unpublished:
        await editable_account(session, principal, account_id)
        return await queries.unpublished(session, account_id, principal.person_id, paging)
    found = await access_account(session, principal, account_id)
    return await queries.timeline(
        session,
        account_id,
        principal.person_id,
        paging,
        include_hidden=found.editor or found.manager,
    )


@router.post(
    "/accounts/{account_id}/posts",
    response_model=PostOut,
    status_code=201,
    summary="写文章：存草稿、立即发布或定时发布（仅该服务号的编辑）",
)
async def create_post(
    account_id: int, body: PostCreate, session: SessionDep, rt: RuntimeDep, principal: Me
) -> PostOut:
    post_id = await actions.check_create_post(session, rt, principal, account_id, body)
    return await _post_out(session, principal, post_id)


@router.get("/feed", response_model=PostPage, summary="我的订阅：关注的服务号的文章，新的在前")
async def my_feed(session: ReadSessionDep, principal: Me, paging: PageParamsDep) -> PostPage:
    member = await member_of(session, principal.person_id)
    following = await queries.following_ids(session, principal.person_id, member)
    return await queries.feed(session, sorted(following), principal.person_id, paging)


@router.get("/posts/{post_id}", response_model=PostOut, summary="文章详情（不计阅读）")
async def get_post(post_id: int, session: ReadSessionDep, principal: Me) -> PostOut:
    return await _post_out(session, principal, post_id)


@router.patch("/posts/{post_id}", response_model=PostOut, summary="修改草稿或定时发布的文章")
async def update_post(
    post_id: int, body: PostUpdate, session: SessionDep, rt: RuntimeDep, principal: Me
) -> PostOut:
    await actions.check_update_post(session, rt, principal, post_id, body)
    return await _post_out(session, principal, post_id)


@router.post("/posts/{post_id}/publish", response_model=PostOut, summary="立即发布")
async def publish_post(post_id: int, session: SessionDep, rt: RuntimeDep, principal: Me) -> PostOut:
    await actions.check_publish_post(session, rt, principal, post_id)
    return await _post_out(session, principal, post_id)


@router.delete("/posts/{post_id}", status_code=204, summary="删除文章（编辑）")
async def delete_post(post_id: int, session: SessionDep, principal: Me) -> Response:
    await actions.check_delete_post(session, principal, post_id)
    return Response(status_code=204)


@router.post("/posts/{post_id}/read", response_model=PostOut, summary="记一次阅读（每人一次）")
async def read_post(post_id: int, session: SessionDep, principal: Me) -> PostOut:
    post, found = await access_post(session, principal, post_id)
    if is_public(post):
        await actions.do_mark_read(session, post, principal.person_id)
    return await queries.post_out(session, post, found, principal.person_id)


@router.put("/posts/{post_id}/like", response_model=PostOut, summary="点赞")
async def like_post(post_id: int, session: SessionDep, principal: Me) -> PostOut:
    return await _like(session, principal, post_id, liked=True)


@router.delete("/posts/{post_id}/like", response_model=PostOut, summary="取消点赞")
async def unlike_post(post_id: int, session: SessionDep, principal: Me) -> PostOut:
    return await _like(session, principal, post_id, liked=False)


async def _like(
    session: AsyncSession, principal: Principal, post_id: int, *, liked: bool
) -> PostOut:
    post, found = await access_post(session, principal, post_id)
    if not is_public(post):
        raise NotFound(_("文章 {id} 尚未发布", id=post_id))
    await actions.do_like(session, post, principal.person_id, liked)
    return await queries.post_out(session, post, found, principal.person_id)


@router.post(
    "/posts/{post_id}/report",
    response_model=PostReported,
    status_code=201,
    summary="举报文章（进入消息中心的审核队列；重复举报返回同一条）",
)
async def report_post(
    post_id: int, body: PostReportIn, session: SessionDep, principal: Me
) -> PostReported:
    post, found = await access_post(session, principal, post_id)
    report_id = await actions.check_report(session, principal, post, found, body.reason)
    return PostReported(report_id=report_id)


@router.get("/posts/{post_id}/stats", response_model=ReadStats, summary="阅读统计（编辑）")
async def post_stats(post_id: int, session: ReadSessionDep, principal: Me) -> ReadStats:
    post, _found = await editable_post(session, principal, post_id)
    return await queries.read_stats(session, post)


@router.get("/posts/{post_id}/files/{file_id}", summary="文章的封面或附件")
async def post_file(
    post_id: int, file_id: str, session: ReadSessionDep, rt: RuntimeDep, principal: Me
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    if file_id not in [post.cover_file_id, *(post.attachments or [])]:
        raise NotFound(_("附件不存在"))
    opened = await files.open_file(
        rt, session, file_id, bound_to=(urls.FILES_MODULE, urls.post_key(post.id))
    )
    return files.download_response(opened)


# ---------------------------------------------------------------- Web Push devices


@router.get("/push/key", response_model=PushKeyOut, summary="Web Push 的 VAPID 公钥")
async def push_key(session: SessionDep, principal: Me) -> PushKeyOut:
    # A write session: the key pair is generated on first use.
    return PushKeyOut(public_key=(await webpush.ensure_key(session)).public_key)


@router.post(
    "/push/subscriptions",
    response_model=PushDeviceOut,
    status_code=201,
    summary="登记本设备的推送订阅（浏览器 PushSubscription.toJSON()）",
)
async def register_device(
    body: PushSubscriptionIn,
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Me,
) -> PushDeviceOut:
    device_id = await webpush.check_register(
        session,
        principal,
        body,
        rt.settings.environment,
        request.headers.get("user-agent", ""),
    )
    device = next(
        d for d in await webpush.devices_of(session, principal.person_id) if d.id == device_id
    )
    return PushDeviceOut.model_validate(device, from_attributes=True)


@router.post("/push/subscriptions/remove", status_code=204, summary="注销本设备的推送订阅")
async def unregister_device(body: PushEndpoint, session: SessionDep, principal: Me) -> Response:
    await webpush.do_unregister(session, principal.person_id, body.endpoint)
    return Response(status_code=204)


@router.get("/push/subscriptions", response_model=list[PushDeviceOut], summary="我的推送设备")
async def my_devices(session: ReadSessionDep, principal: Me) -> list[PushDeviceOut]:
    return [
        PushDeviceOut.model_validate(d, from_attributes=True)
        for d in await webpush.devices_of(session, principal.person_id)
    ]
