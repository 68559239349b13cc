"""JSON API of the notifications core: /api/v1/messaging/... Thin: parse, authorise, call one
action or query. Also the live stream (SSE) every page of the site opens once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParams, PageParamsDep
from campus.kernel.runtime import Runtime
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.messaging import actions, audience, channels, live, queries
from campus.platform.messaging.models import Notification
from campus.platform.messaging.permissions import NOTIFY_SEND, NOTIFY_SEND_ALL, TEMPLATE_MANAGE
from campus.platform.messaging.schemas import (
    Audience,
    ChannelChoice,
    DeliveryOut,
    InboxPage,
    NotificationIn,
    NotificationOut,
    NotificationStats,
    PreferencesIn,
    PreferencesOut,
    QuietHoursIn,
    ReceiptRow,
    SendResult,
    SentPage,
    TemplateIn,
    TemplateOut,
)

router = APIRouter(prefix="/api/v1/messaging", tags=["messaging"])
ReceiptState = Literal["read", "unread"]
# Notifications replayed to a reconnecting live client at most; beyond, it is told to resync.
REPLAY_LIMIT = 100


class ReceiptPage(Page[ReceiptRow]):
    pass


# ---------------------------------------------------------------- the live stream


def sse(frame: live.Frame) -> str:
    """One server-sent event: ``event: <type>``; notifications carry their id, which the
    browser sends back as Last-Event-ID when it reconnects."""
    head = f"event: {frame.get('type', 'message')}\n"
    if frame.get("type") == "notification" and isinstance(frame.get("id"), int):
        head += f"id: {frame['id']}\n"
    return f"{head}data: {live.encode(frame)}\n\n"


def inbox_frame(item: NotificationOut) -> live.Frame:
    return {
        "type": "notification",
        "id": item.id,
        "title": item.title,
        "category": item.category,
        "priority": item.priority,
        "link": item.link,
        "created_at": item.created_at.isoformat(),
        "replayed": True,
    }


def _wanted(frame: live.Frame, reader: queries.Reader, replayed: set[int]) -> bool:
    if frame.get("type") != "notification":
        return True
    if "scope" in frame and not audience.matches(frame["scope"], reader.kind):
        return False
    return frame.get("id") not in replayed


async def live_events(
    runtime: Runtime, person_id: int, last_event_id: int | None
) -> AsyncIterator[str]:
    """The stream of one connection. It registers before reading what was missed, so nothing
    falls between the two; what the replay sent is not sent again when its live frame comes."""
    heartbeat = channels.messaging_settings().heartbeat_seconds
    async with live.connect(runtime, person_id) as connection:
        async with runtime.db.read() as session:
            reader = await queries.reader_of(session, person_id)
            unread = await queries.unread_count(session, reader)
            missed = (
                []
                if last_event_id is None
                else await queries.missed(session, reader, last_event_id, REPLAY_LIMIT)
            )
        yield "retry: 3000\n\n"
        yield sse({"type": "unread", "count": unread})
        replayed = {item.id for item in missed}
        for item in missed:
            yield sse(inbox_frame(item))
        if len(missed) >= REPLAY_LIMIT:
            yield sse({"type": "resync"})
        while True:
            try:
                # asyncio.timeout, not wait_for: no extra task per frame on 10,000 connections.
                async with asyncio.timeout(heartbeat):
                    frame = await connection.queue.get()
            except TimeoutError:
                yield ": ping\n\n"
                continue
            if _wanted(frame, reader, replayed):
                yield sse(frame)
            if frame is live.RESYNC:
                return  # too slow: the browser reconnects and replays from Last-Event-ID


@router.get(
    "/live",
    summary="实时推送（SSE）：本人的通知及其他模块的实时消息",
    response_class=StreamingResponse,
)
async def live_stream(
    runtime: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    since: Annotated[int | None, Query(ge=0, description="补发此编号之后的通知")] = None,
) -> StreamingResponse:
    after = since
    if last_event_id and last_event_id.isdigit():
        after = int(last_event_id)
    return StreamingResponse(
        live_events(runtime, principal.person_id, after),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# ---------------------------------------------------------------- my inbox


@router.get("/inbox", response_model=InboxPage, summary="我的消息：按分类、未读筛选，新的在前")
async def my_inbox(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    category: Annotated[str | None, Query(max_length=20)] = None,
    unread: bool = False,
) -> InboxPage:
    reader = await queries.reader_of(session, principal.person_id)
    f = queries.InboxFilter(category=category or None, unread=unread)
    return await queries.inbox(session, reader, f, paging)


@router.get("/inbox/unread", summary="未读数")
async def my_unread(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> dict[str, int]:
    reader = await queries.reader_of(session, principal.person_id)
    return {"unread": await queries.unread_count(session, reader)}


@router.post("/inbox/read-all", summary="全部标为已读")
async def read_all(
    session: SessionDep, runtime: RuntimeDep, principal: Annotated[Principal, signed_in()]
) -> dict[str, int]:
    reader = await queries.reader_of(session, principal.person_id)
    return {"marked": await actions.do_mark_all_read(session, runtime, reader)}


@router.get("/inbox/{notification_id}", response_model=NotificationOut, summary="我收到的一条通知")
async def my_notification(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()], notification_id: int
) -> NotificationOut:
    reader = await queries.reader_of(session, principal.person_id)
    found = await queries.for_reader(session, reader, notification_id)
    if found is None:
        raise NotFound(_("通知 {id} 不存在", id=notification_id))
    out = NotificationOut.model_validate(found[0])
    out.read_at = found[1]
    return out


@router.post("/inbox/{notification_id}/read", status_code=204, summary="标为已读（阅读回执）")
async def read_one(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    notification_id: int,
) -> Response:
    reader = await queries.reader_of(session, principal.person_id)
    await actions.do_mark_read(session, runtime, reader, notification_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- preferences


async def preferences_of(session: AsyncSession, person_id: int) -> PreferencesOut:
    chosen = await queries.preferences(session, person_id)
    quiet = await queries.quiet_hours(session, person_id)
    return PreferencesOut(
        channels=[
            ChannelChoice(category=c, email=p.email, sms=p.sms, wecom=p.wecom)
            for c, p in sorted(chosen.items())
        ],
        quiet_hours=None
        if quiet is None
        else QuietHoursIn(
            enabled=quiet.enabled,
            start=f"{quiet.start_minute // 60:02d}:{quiet.start_minute % 60:02d}",
            end=f"{quiet.end_minute // 60:02d}:{quiet.end_minute % 60:02d}",
        ),
    )


@router.get("/preferences", response_model=PreferencesOut, summary="我的接收设置")
async def my_preferences(
    session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> PreferencesOut:
    return await preferences_of(session, principal.person_id)


@router.put("/preferences", response_model=PreferencesOut, summary="修改接收渠道与免打扰时段")
async def save_preferences(
    session: SessionDep, principal: Annotated[Principal, signed_in()], body: PreferencesIn
) -> PreferencesOut:
    await actions.do_save_preferences(session, principal.person_id, body)
    await session.flush()
    return await preferences_of(session, principal.person_id)


# ---------------------------------------------------------------- sending and statistics


@router.post("/notifications", status_code=201, response_model=SendResult, summary="发送通知")
async def send(
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    body: NotificationIn,
) -> SendResult:
    checked = await actions.check_send(session, principal, body)
    notification_id = await actions.do_notify(session, runtime, checked)
    return SendResult(
        id=notification_id,
        broadcast=checked.audience.broadcast,
        recipient_count=checked.audience.size,
    )


@router.post("/audience/size", summary="通知对象人数（发送前预览）")
async def audience_size(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    body: Audience,
) -> dict[str, int]:
    resolved = await audience.resolve(session, body)
    return {"size": resolved.size}


@router.get("/sent", response_model=SentPage, summary="我发送的通知（全校发送权限者：所有人的）")
async def sent(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    paging: PageParamsDep,
    everyone: Annotated[bool, Query(description="所有发送人的（需全校发送权限）")] = False,
) -> SentPage:
    sender = None if everyone and principal.can(NOTIFY_SEND_ALL) else principal.person_id
    return await queries.sent(session, sender, paging)


async def access_sent(
    session: AsyncSession, principal: Principal, notification_id: int
) -> Notification:
    """A sent notification, for its sender or a holder of the campus-wide sending right."""
    notification = await session.get(Notification, notification_id)
    if notification is None:
        raise NotFound(_("通知 {id} 不存在", id=notification_id))
    if notification.sender_id != principal.person_id and not principal.can(NOTIFY_SEND_ALL):
        raise await access.denied(
            principal,
            NOTIFY_SEND,
            _("只有发送人可以查看这条通知的统计"),
            target_type="notification",
            target_id=notification_id,
        )
    return notification


@router.get(
    "/notifications/{notification_id}/stats",
    response_model=NotificationStats,
    summary="送达与阅读统计",
)
async def stats(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    notification_id: int,
) -> NotificationStats:
    notification = await access_sent(session, principal, notification_id)
    return await queries.stats(session, notification)


@router.get(
    "/notifications/{notification_id}/receipts",
    response_model=ReceiptPage,
    summary="阅读回执：谁已读、谁未读",
)
async def receipts(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    notification_id: int,
    paging: PageParamsDep,
    state: ReceiptState | None = None,
) -> ReceiptPage:
    notification = await access_sent(session, principal, notification_id)
    return await receipt_page(session, notification, state, paging)


async def receipt_page(
    session: AsyncSession, notification: Notification, state: str | None, paging: PageParams
) -> ReceiptPage:
    pairs = queries.filter_receipts(await queries.receipts(session, notification), state)
    window = pairs[paging.offset : paging.offset + paging.page_size]
    return ReceiptPage.of(await queries.receipt_rows(session, window), len(pairs), paging)


@router.get("/notifications/{notification_id}/receipts.xlsx", summary="阅读回执导出为 Excel")
async def receipts_xlsx(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    notification_id: int,
) -> Response:
    notification = await access_sent(session, principal, notification_id)
    return await excel_response(session, notification)


async def excel_response(session: AsyncSession, notification: Notification) -> Response:
    """Who has read the notification and who has not, as an .xlsx download."""
    rows = await queries.receipt_rows(session, await queries.receipts(session, notification))
    data = queries.receipts_workbook(notification.title, rows, clock.fmt)
    name = f"{notification.title[:40]}-阅读情况.xlsx"
    return xlsx_response(data, name, f"notification-{notification.id}-receipts.xlsx")


@router.get(
    "/notifications/{notification_id}/deliveries",
    response_model=list[DeliveryOut],
    summary="外部渠道（邮件、短信、企业微信）发送记录",
)
async def deliveries(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    notification_id: int,
) -> list[DeliveryOut]:
    await access_sent(session, principal, notification_id)
    rows = await queries.deliveries(session, notification_id)
    return [DeliveryOut.model_validate(d) for d in rows]


# ---------------------------------------------------------------- templates


@router.get("/templates", response_model=list[TemplateOut], summary="通知模板")
async def list_templates(
    session: ReadSessionDep, principal: Annotated[Principal, require(NOTIFY_SEND)]
) -> list[TemplateOut]:
    return [TemplateOut.model_validate(t) for t in await queries.templates(session)]


@router.post("/templates", status_code=201, response_model=TemplateOut, summary="新建模板")
async def create_template(
    session: SessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    body: TemplateIn,
) -> TemplateOut:
    template = await actions.check_save_template(session, body, None)
    saved = await actions.do_save_template(session, template, body, principal.person_id)
    return TemplateOut.model_validate(saved)


@router.put("/templates/{template_id}", response_model=TemplateOut, summary="修改模板")
async def update_template(
    session: SessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    template_id: int,
    body: TemplateIn,
) -> TemplateOut:
    template = await actions.check_save_template(session, body, template_id)
    saved = await actions.do_save_template(session, template, body, principal.person_id)
    return TemplateOut.model_validate(saved)


@router.delete("/templates/{template_id}", status_code=204, summary="删除模板")
async def delete_template(
    session: SessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    template_id: int,
) -> Response:
    template = await actions.check_delete_template(session, template_id)
    await actions.do_delete_template(session, template)
    return Response(status_code=204)
