"""JSON API of instant messaging: /api/v1/messaging/im/... Conversations, history, search,
contacts and presence over HTTP; sending also works here (the WebSocket is the usual way).
Every route is for the signed-in person and reads only their own conversations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, NotFound
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.access.service import signed_in
from campus.platform.files import service as files
from campus.platform.messaging import live
from campus.platform.messaging.im import actions, contacts, group_actions, queries
from campus.platform.messaging.im.access import access_conversation
from campus.platform.messaging.im.schemas import (
    ConversationDetail,
    ConversationOut,
    DirectIn,
    GroupIn,
    GroupUpdate,
    HistoryPage,
    MembersIn,
    MessageOut,
    RelationGroup,
    ReportIn,
    RoleIn,
    SearchHit,
    SendIn,
    SendResult,
)
from campus.platform.messaging.moderation import actions as moderation

router = APIRouter(prefix="/api/v1/messaging/im", tags=["messaging-im"])
Me = Annotated[Principal, signed_in()]
PRESENCE_MAX = 200
REPORT_KIND = "im.message"


async def _detail(
    session: AsyncSession, rt: Runtime, person_id: int, conversation_id: int
) -> ConversationDetail:
    conversation, member = await access_conversation(session, conversation_id, person_id)
    ids = await queries.member_ids_of(session, conversation_id)
    online = {pid for pid in ids[:PRESENCE_MAX] if await live.is_online(rt, pid)}
    return await queries.detail(session, person_id, conversation, member, online)


# ---------------------------------------------------------------- conversations


@router.get("/conversations", response_model=list[ConversationOut], summary="我的会话（含未读数）")
async def my_conversations(session: ReadSessionDep, me: Me) -> list[ConversationOut]:
    return await queries.my_conversations(session, me.person_id)


@router.post("/conversations/direct", response_model=ConversationOut, summary="发起（或打开）单聊")
async def open_direct(body: DirectIn, session: SessionDep, me: Me) -> ConversationOut:
    conversation, member = await actions.open_direct(session, me.person_id, body.person_id)
    return await queries.conversation_out(session, me.person_id, conversation, member)


@router.post(
    "/conversations/groups", response_model=ConversationDetail, status_code=201, summary="创建群聊"
)
async def create_group(
    body: GroupIn, session: SessionDep, rt: RuntimeDep, me: Me
) -> ConversationDetail:
    conversation_id = await group_actions.check_create_group(session, rt, me, body)
    return await _detail(session, rt, me.person_id, conversation_id)


@router.get(
    "/conversations/{conversation_id}", response_model=ConversationDetail, summary="会话详情与成员"
)
async def get_conversation(
    conversation_id: int, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> ConversationDetail:
    return await _detail(session, rt, me.person_id, conversation_id)


@router.patch(
    "/conversations/{conversation_id}",
    response_model=ConversationDetail,
    summary="修改群名称或公告",
)
async def update_group(
    conversation_id: int, body: GroupUpdate, session: SessionDep, rt: RuntimeDep, me: Me
) -> ConversationDetail:
    await group_actions.check_update_group(session, rt, me, conversation_id, body)
    return await _detail(session, rt, me.person_id, conversation_id)


@router.delete("/conversations/{conversation_id}", status_code=204, summary="解散群聊（群主）")
async def dissolve_group(
    conversation_id: int, session: SessionDep, rt: RuntimeDep, me: Me
) -> Response:
    await group_actions.check_dissolve(session, rt, me, conversation_id)
    return Response(status_code=204)


@router.post(
    "/conversations/{conversation_id}/members",
    response_model=ConversationDetail,
    summary="邀请成员（群主、管理员）",
)
async def invite(
    conversation_id: int, body: MembersIn, session: SessionDep, rt: RuntimeDep, me: Me
) -> ConversationDetail:
    await group_actions.check_invite(session, rt, me, conversation_id, body.members)
    return await _detail(session, rt, me.person_id, conversation_id)


@router.delete(
    "/conversations/{conversation_id}/members/{person_id}",
    status_code=204,
    summary="移出成员；移出自己即退出群聊",
)
async def remove_member(
    conversation_id: int, person_id: int, session: SessionDep, rt: RuntimeDep, me: Me
) -> Response:
    await group_actions.check_remove(session, rt, me, conversation_id, person_id)
    return Response(status_code=204)


@router.put(
    "/conversations/{conversation_id}/members/{person_id}/role",
    status_code=204,
    summary="设置或取消管理员（群主）",
)
async def set_role(
    conversation_id: int, person_id: int, body: RoleIn, session: SessionDep, rt: RuntimeDep, me: Me
) -> Response:
    await group_actions.check_set_role(session, rt, me, conversation_id, person_id, body.role)
    return Response(status_code=204)


# ---------------------------------------------------------------- messages


@router.get(
    "/conversations/{conversation_id}/messages",
    response_model=HistoryPage,
    summary="历史消息：按序号向前翻页（before 为上一页最早的序号）",
)
async def history(
    conversation_id: int,
    session: ReadSessionDep,
    me: Me,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=queries.HISTORY_MAX)] = 30,
) -> HistoryPage:
    _conversation, member = await access_conversation(session, conversation_id, me.person_id)
    rows = await queries.history(session, member, before, limit)
    oldest = rows[0].seq if rows else None
    more = oldest is not None and oldest > member.joined_seq + 1 and len(rows) == limit
    return HistoryPage(
        items=await queries.messages_out(session, rows), next_before=oldest if more else None
    )


@router.post(
    "/conversations/{conversation_id}/messages",
    response_model=SendResult,
    summary="发送消息（WebSocket 不可用时）；id 相同的重发不会重复保存",
)
async def send(
    conversation_id: int, body: SendIn, session: SessionDep, rt: RuntimeDep, me: Me
) -> SendResult:
    if body.conversation_id not in (None, conversation_id):
        raise InvalidInput.on("conversation_id", _("与地址中的会话不一致"))
    body = body.model_copy(update={"conversation_id": conversation_id, "to": None})
    return await actions.check_send(session, rt, me, body)


@router.post(
    "/conversations/{conversation_id}/messages/{seq}/recall",
    response_model=MessageOut,
    summary="撤回自己 2 分钟内发送的消息",
)
async def recall(
    conversation_id: int, seq: int, session: SessionDep, rt: RuntimeDep, me: Me
) -> MessageOut:
    return await actions.check_recall(session, rt, me, conversation_id, seq)


@router.post("/conversations/{conversation_id}/read", summary="标记已读到某序号（已读回执）")
async def mark_read(
    conversation_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    seq: Annotated[int, Query(ge=0)],
) -> dict[str, int]:
    return {"read_seq": await actions.check_read(session, rt, me, conversation_id, seq)}


@router.post(
    "/conversations/{conversation_id}/messages/{seq}/report",
    status_code=201,
    summary="举报消息（进入举报处理队列）",
)
async def report_message(
    conversation_id: int, seq: int, body: ReportIn, session: SessionDep, me: Me
) -> dict[str, int]:
    _conversation, member = await access_conversation(session, conversation_id, me.person_id)
    message = await queries.message_at(session, conversation_id, seq)
    if (
        message is None
        or message.seq <= member.joined_seq
        or message.kind
        not in (
            "text",
            "image",
            "file",
        )
    ):
        raise NotFound(_("消息不存在"))
    excerpt = message.body or message.file_name
    report_id = await moderation.report(
        session,
        me.person_id,
        REPORT_KIND,
        str(message.id),
        body.reason,
        excerpt=excerpt,
        link=f"/messaging/im/c/{conversation_id}#seq-{seq}",
        author_id=message.sender_id,
    )
    return {"report_id": report_id}


@router.get(
    "/conversations/{conversation_id}/files/{seq}", summary="消息中的图片或文件（会话成员可下载）"
)
async def message_file(
    conversation_id: int, seq: int, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> Response:
    _conversation, member = await access_conversation(session, conversation_id, me.person_id)
    message = await queries.message_at(session, conversation_id, seq)
    if (
        message is None
        or message.seq <= member.joined_seq
        or message.file_id is None
        or message.recalled_at is not None
    ):
        raise NotFound(_("文件不存在"))
    opened = await files.open_file(
        rt, session, message.file_id, bound_to=(actions.FILE_MODULE, actions.file_key(message.id))
    )
    return files.download_response(opened)


@router.get("/search", response_model=list[SearchHit], summary="搜索我的聊天记录")
async def search(
    session: ReadSessionDep,
    me: Me,
    q: Annotated[str, Query(min_length=1, max_length=50)],
    conversation_id: int | None = None,
) -> list[SearchHit]:
    text = q.strip()
    if not text:
        raise InvalidInput.on("q", _("请输入要搜索的内容"))
    return await queries.search(session, me.person_id, text, conversation_id)


# ---------------------------------------------------------------- contacts and presence


@router.get("/contacts", response_model=list[RelationGroup], summary="通讯录：按一步关系分组")
async def my_contacts(session: ReadSessionDep, me: Me) -> list[RelationGroup]:
    return await contacts.contacts_of(session, me.person_id)


@router.get("/presence", summary="在线状态（最多 200 人）")
async def presence(
    rt: RuntimeDep,
    _me: Me,
    ids: Annotated[str, Query(max_length=2000, description="逗号分隔的人员 id")],
) -> dict[str, bool]:
    try:
        wanted = sorted({int(x) for x in ids.split(",") if x.strip()})
    except ValueError:
        raise InvalidInput.on("ids", _("应为逗号分隔的整数")) from None
    if len(wanted) > PRESENCE_MAX:
        raise InvalidInput.on("ids", _("一次最多查询 {n} 人", n=PRESENCE_MAX))
    return {str(pid): await live.is_online(rt, pid) for pid in wanted}
