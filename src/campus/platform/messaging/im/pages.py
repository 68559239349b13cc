"""Pages of instant messaging (phones first): the chat list, a conversation (live over the
WebSocket, see static/im.js), contacts by relation, creating a group and managing one.
Forms post back here and redirect; the conversation itself talks to the JSON API and the
socket."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import flash, render
from campus.platform.access.service import public, signed_in
from campus.platform.messaging import live
from campus.platform.messaging.im import actions, contacts, group_actions, queries
from campus.platform.messaging.im.access import access_conversation
from campus.platform.messaging.im.contacts import PENDING_PROVIDERS
from campus.platform.messaging.im.schemas import GROUP_MAX_MEMBERS, GroupIn, GroupUpdate
from campus.platform.messaging.moderation import actions as moderation
from campus.platform.messaging.moderation import queries as moderation_queries
from campus.platform.messaging.permissions import MODERATION_MANAGE

router = APIRouter(tags=["messaging-im-pages"])
Me = Annotated[Principal, signed_in()]
STATIC = Path(__file__).with_name("static")
HISTORY_FIRST_PAGE = 30
PRESENCE_SHOWN = 200


def short_time(value: datetime | None) -> str:
    """Today: 14:05; this year: 3月2日; else 2025/3/2."""
    if value is None:
        return ""
    local = clock.local(value)
    now = clock.local(clock.now())
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return f"{local.month}月{local.day}日"
    return f"{local.year}/{local.month}/{local.day}"


def _back(request: Request, path: str, problem: Problem | None = None, ok: str = "") -> Response:
    response = RedirectResponse(path, status_code=303)
    if problem is not None:
        reasons = "；".join(str(e.reason) for e in problem.errors)
        flash(request, response, reasons or str(problem.detail or problem.title), "danger")
    elif ok:
        flash(request, response, ok)
    return response


@router.get("/messaging/im/im.js", dependencies=[public()])
async def im_script() -> Response:
    """The chat pages' script (CSP allows no inline script)."""
    return _asset("im.js", "text/javascript")


@router.get("/messaging/im/im.css", dependencies=[public()])
async def im_styles() -> Response:
    return _asset("im.css", "text/css")


def _asset(name: str, media_type: str) -> Response:
    return Response(
        (STATIC / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/messaging/im")
async def chat_list(request: Request, session: ReadSessionDep, me: Me) -> Response:
    conversations = await queries.my_conversations(session, me.person_id)
    return render(
        request,
        "messaging/im/list.html",
        conversations=conversations,
        short_time=short_time,
        can_moderate=me.can(MODERATION_MANAGE),
    )


@router.get("/messaging/im/rows")
async def chat_rows(request: Request, session: ReadSessionDep, me: Me) -> Response:
    """The list's rows alone (the page reloads them when a frame says something changed)."""
    conversations = await queries.my_conversations(session, me.person_id)
    return render(
        request,
        "messaging/im/partials/rows.html",
        conversations=conversations,
        short_time=short_time,
    )


@router.get("/messaging/im/c/{conversation_id}")
async def conversation_page(
    request: Request, conversation_id: int, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> Response:
    conversation, member = await access_conversation(session, conversation_id, me.person_id)
    ids = await queries.member_ids_of(session, conversation_id)
    online = {pid for pid in ids[:PRESENCE_SHOWN] if await live.is_online(rt, pid)}
    detail = await queries.detail(session, me.person_id, conversation, member, online)
    rows = await queries.history(session, member, None, HISTORY_FIRST_PAGE)
    history = await queries.messages_out(session, rows)
    blocked = False
    if detail.peer_id is not None:
        blocked = await moderation_queries.is_blocked(session, me.person_id, detail.peer_id)
    config: dict[str, Any] = {
        "conversation": detail.model_dump(mode="json", exclude={"members"}),
        "members": [m.model_dump(mode="json") for m in detail.members][:PRESENCE_SHOWN],
        "member_total": len(detail.members),
        "me": {"id": me.person_id, "name": me.name},
        "history": [m.model_dump(mode="json") for m in history],
        "has_older": bool(rows)
        and rows[0].seq > member.joined_seq + 1
        and len(rows) == HISTORY_FIRST_PAGE,
        "recall_seconds": int(actions.RECALL_WINDOW.total_seconds()),
        "socket": "/api/v1/messaging/im/ws",
    }
    return render(
        request,
        "messaging/im/conversation.html",
        detail=detail,
        config=config,
        blocked=blocked,
    )


# ---------------------------------------------------------------- contacts and starting chats


@router.get("/messaging/im/contacts")
async def contacts_page(request: Request, session: ReadSessionDep, me: Me) -> Response:
    groups = await contacts.contacts_of(session, me.person_id)
    blocks = await moderation_queries.blocks_of(session, me.person_id)
    return render(
        request,
        "messaging/im/contacts.html",
        groups=groups,
        blocks=blocks,
        pending_providers={k: str(v) for k, v in PENDING_PROVIDERS.items()},
    )


@router.post("/messaging/im/direct/{person_id}")
async def start_direct(request: Request, person_id: int, session: SessionDep, me: Me) -> Response:
    try:
        conversation, _member = await actions.open_direct(session, me.person_id, person_id)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return _back(request, "/messaging/im/contacts", problem)
    return RedirectResponse(f"/messaging/im/c/{conversation.id}", status_code=303)


@router.post("/messaging/im/blocks/{person_id}")
async def block_person(
    request: Request,
    person_id: int,
    session: SessionDep,
    me: Me,
    back: Annotated[str, Form(max_length=200)] = "/messaging/im/contacts",
) -> Response:
    target = back if back.startswith("/messaging/im") else "/messaging/im/contacts"
    try:
        await moderation.check_block(session, me.person_id, person_id)
    except Problem as problem:
        return _back(request, target, problem)
    return _back(request, target, ok=str(_("已屏蔽，对方不能再给您发单聊消息")))


@router.post("/messaging/im/blocks/{person_id}/delete")
async def unblock_person(
    request: Request,
    person_id: int,
    session: SessionDep,
    me: Me,
    back: Annotated[str, Form(max_length=200)] = "/messaging/im/contacts",
) -> Response:
    target = back if back.startswith("/messaging/im") else "/messaging/im/contacts"
    await moderation.do_unblock(session, me.person_id, person_id)
    return _back(request, target, ok=str(_("已取消屏蔽")))


# ---------------------------------------------------------------- groups


@router.get("/messaging/im/groups/new")
async def new_group_page(request: Request, session: ReadSessionDep, me: Me) -> Response:
    groups = await contacts.contacts_of(session, me.person_id)
    return render(
        request, "messaging/im/group_new.html", groups=groups, max_members=GROUP_MAX_MEMBERS
    )


@router.post("/messaging/im/groups/new")
async def new_group_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    name: Annotated[str, Form(max_length=200)] = "",
    members: Annotated[list[int] | None, Form()] = None,
) -> Response:
    try:
        body = GroupIn.model_validate({"name": name.strip(), "members": members or []})
        conversation_id = await group_actions.check_create_group(session, rt, me, body)
    except Problem as problem:
        return _back(request, "/messaging/im/groups/new", problem)
    except ValueError:
        invalid = Problem(_("请填写群名称（60 字以内）并至少选择一位成员"))
        return _back(request, "/messaging/im/groups/new", invalid)
    return RedirectResponse(f"/messaging/im/c/{conversation_id}", status_code=303)


@router.get("/messaging/im/c/{conversation_id}/settings")
async def group_settings_page(
    request: Request, conversation_id: int, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> Response:
    conversation, member = await access_conversation(session, conversation_id, me.person_id)
    ids = await queries.member_ids_of(session, conversation_id)
    online = {pid for pid in ids[:PRESENCE_SHOWN] if await live.is_online(rt, pid)}
    detail = await queries.detail(session, me.person_id, conversation, member, online)
    present = {m.person_id for m in detail.members}
    candidates = [
        c
        for group in await contacts.contacts_of(session, me.person_id)
        for c in group.people
        if c.person_id not in present
    ]
    unique = list({c.person_id: c for c in candidates}.values())
    return render(
        request,
        "messaging/im/settings.html",
        detail=detail,
        candidates=unique,
        automatic=conversation.kind in group_actions.AUTO_KINDS,
        manager=member.role in group_actions.MANAGERS,
        owner=member.role == "owner",
    )


def _settings(conversation_id: int) -> str:
    return f"/messaging/im/c/{conversation_id}/settings"


@router.post("/messaging/im/c/{conversation_id}/settings")
async def group_settings_submit(
    request: Request,
    conversation_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    name: Annotated[str | None, Form(max_length=200)] = None,
    announcement: Annotated[str | None, Form(max_length=4000)] = None,
) -> Response:
    try:
        body = GroupUpdate.model_validate({"name": name, "announcement": announcement})
        await group_actions.check_update_group(session, rt, me, conversation_id, body)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return _back(request, _settings(conversation_id), problem)
    except ValueError:
        invalid = Problem(_("群名称 1–60 字，群公告 1000 字以内"))
        return _back(request, _settings(conversation_id), invalid)
    return _back(request, _settings(conversation_id), ok=str(_("已保存")))


@router.post("/messaging/im/c/{conversation_id}/members")
async def invite_submit(
    request: Request,
    conversation_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    members: Annotated[list[int] | None, Form()] = None,
) -> Response:
    if not members:
        return _back(request, _settings(conversation_id), Problem(_("请选择要邀请的人")))
    try:
        added = await group_actions.check_invite(session, rt, me, conversation_id, members)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return _back(request, _settings(conversation_id), problem)
    return _back(request, _settings(conversation_id), ok=str(_("已邀请 {n} 人", n=len(added))))


@router.post("/messaging/im/c/{conversation_id}/members/{person_id}/remove")
async def remove_submit(
    request: Request,
    conversation_id: int,
    person_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
) -> Response:
    leaving = person_id == me.person_id
    try:
        await group_actions.check_remove(session, rt, me, conversation_id, person_id)
    except Problem as problem:
        if problem.status == 404:
            raise
        return _back(request, _settings(conversation_id), problem)
    if leaving:
        return _back(request, "/messaging/im", ok=str(_("已退出群聊")))
    return _back(request, _settings(conversation_id), ok=str(_("已移出")))


@router.post("/messaging/im/c/{conversation_id}/members/{person_id}/role")
async def role_submit(
    request: Request,
    conversation_id: int,
    person_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    me: Me,
    role: Annotated[str, Form(pattern="^(admin|member)$")],
) -> Response:
    try:
        await group_actions.check_set_role(session, rt, me, conversation_id, person_id, role)
    except Problem as problem:
        if problem.status == 404:
            raise
        return _back(request, _settings(conversation_id), problem)
    return _back(request, _settings(conversation_id), ok=str(_("已更新")))


@router.post("/messaging/im/c/{conversation_id}/dissolve")
async def dissolve_submit(
    request: Request, conversation_id: int, session: SessionDep, rt: RuntimeDep, me: Me
) -> Response:
    try:
        await group_actions.check_dissolve(session, rt, me, conversation_id)
    except Problem as problem:
        if problem.status == 404:
            raise
        return _back(request, _settings(conversation_id), problem)
    return _back(request, "/messaging/im", ok=str(_("群聊已解散")))
