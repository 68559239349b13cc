"""Writes of messages: send, recall, read. ``check_*`` validates everything first; a refusal
stores nothing. Live frames go out only after the commit (``live.push_after_commit``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.files import service as files
from campus.platform.messaging import live
from campus.platform.messaging import service as notifications
from campus.platform.messaging.im import events, queries
from campus.platform.messaging.im.access import access_conversation, member_ids
from campus.platform.messaging.im.models import Conversation, Member, Message
from campus.platform.messaging.im.schemas import MessageOut, SendIn, SendResult
from campus.platform.messaging.moderation import filter as words
from campus.platform.messaging.moderation import queries as moderation
from campus.platform.messaging.schemas import MAX_PEOPLE
from campus.platform.users import service as users

RECALL_WINDOW = timedelta(minutes=2)
# Read receipts are pushed live to every member of conversations up to this size; larger
# groups show them when a member opens the member list.
READ_PUSH_LIMIT = 200
FILE_MODULE = "messaging"
# A mention's notification carries the start of the message; one notification names at most
# the notifications service's list limit (a class group larger than that gets several).
MENTION_EXCERPT = 200
MENTION_BATCH = MAX_PEOPLE


def file_key(message_id: int) -> str:
    return f"im:{message_id}"


def frame_of(kind: str, **fields: Any) -> live.Frame:
    return {"type": f"im.{kind}", **fields}


# ---------------------------------------------------------------- storing


async def next_seq(session: AsyncSession, conversation_id: int) -> int:
    """Take the conversation's next sequence number: the row lock this UPDATE holds until the
    commit orders concurrent senders, so numbers are unique and leave no gap."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id)
        .values(last_seq=Conversation.last_seq + 1, last_message_at=clock.now())
        .returning(Conversation.last_seq)
        .execution_options(synchronize_session=False)
    )
    return int(result.scalar_one())


async def store(
    session: AsyncSession,
    conversation_id: int,
    *,
    sender_id: int | None,
    kind: str,
    body: str = "",
    client_id: str | None = None,
    file: files.FileOut | None = None,
    mentions: list[int] | None = None,
    mention_all: bool = False,
    ref_seq: int | None = None,
) -> Message:
    seq = await next_seq(session, conversation_id)
    message = Message(
        conversation_id=conversation_id,
        seq=seq,
        sender_id=sender_id,
        client_id=client_id,
        kind=kind,
        body=body,
        file_id=file.id if file else None,
        file_name=file.name if file else "",
        file_size=file.size if file else 0,
        mentions=mentions or [],
        mention_all=mention_all,
        ref_seq=ref_seq,
        created_at=clock.now(),
    )
    session.add(message)
    await session.flush()
    return message


async def system_message(
    session: AsyncSession, rt: Runtime, conversation_id: int, text: str
) -> MessageOut:
    """A notice in the conversation ("X 加入了群聊"), delivered like any message."""
    message = await store(session, conversation_id, sender_id=None, kind="system", body=text)
    out = queries.message_out(message, {})
    recipients = await member_ids(session, conversation_id)
    live.push_after_commit(
        session, rt, recipients, frame_of("message", message=out.model_dump(mode="json"))
    )
    return out


# ---------------------------------------------------------------- direct conversations


def direct_key(a: int, b: int) -> str:
    low, high = sorted((a, b))
    return f"{low}:{high}"


async def open_direct(
    session: AsyncSession, person_id: int, peer_id: int, field: str = "person_id"
) -> tuple[Conversation, Member]:
    """The direct conversation of the two, created on first use."""
    if peer_id == person_id:
        raise InvalidInput.on(field, _("不能和自己聊天"))
    if await users.get_person_ref(session, peer_id) is None:
        raise InvalidInput.on(field, _("收件人不存在"))
    key = direct_key(person_id, peer_id)
    conversation = await session.scalar(select(Conversation).where(Conversation.direct_key == key))
    if conversation is None:
        try:
            async with session.begin_nested():
                conversation = await _create_direct(session, key, person_id, peer_id)
        except IntegrityError:
            # Both opened it at once: the other transaction's row is the one.
            conversation = await session.scalar(
                select(Conversation).where(Conversation.direct_key == key)
            )
            if conversation is None:
                raise
    member = await session.get(Member, (conversation.id, person_id))
    assert member is not None
    return conversation, member


async def _create_direct(
    session: AsyncSession, key: str, person_id: int, peer_id: int
) -> Conversation:
    now = clock.now()
    conversation = Conversation(
        kind="direct", name="", direct_key=key, last_seq=0, created_by=person_id, created_at=now
    )
    session.add(conversation)
    await session.flush()
    for pid in (person_id, peer_id):
        session.add(
            Member(conversation_id=conversation.id, person_id=pid, role="member", joined_at=now)
        )
    await session.flush()
    return conversation


async def peer_of(session: AsyncSession, conversation: Conversation, person_id: int) -> int | None:
    return await session.scalar(
        select(Member.person_id).where(
            Member.conversation_id == conversation.id, Member.person_id != person_id
        )
    )


# ---------------------------------------------------------------- sending


async def check_send(
    session: AsyncSession, rt: Runtime, principal: Principal, body: SendIn
) -> SendResult:
    """Store a message and deliver it after the commit. A client id seen before from the same
    sender answers with the stored message (``duplicate``) and stores nothing."""
    earlier = await queries.by_client_id(session, principal.person_id, body.id)
    if earlier is not None:
        return await _duplicate(session, earlier)
    conversation, member = await _target_of(session, principal, body)
    text, file = await _content_of(session, principal, body)
    mentions = await _mentions_of(session, conversation, member, body)
    try:
        async with session.begin_nested():
            message = await store(
                session,
                conversation.id,
                sender_id=principal.person_id,
                kind=body.kind,
                body=text,
                client_id=body.id,
                file=file,
                mentions=mentions,
                mention_all=body.mention_all,
            )
    except IntegrityError:
        earlier = await queries.by_client_id(session, principal.person_id, body.id)
        if earlier is None:
            raise
        return await _duplicate(session, earlier)
    if file is not None:
        await files.bind(session, [file.id], FILE_MODULE, file_key(message.id))
    member.read_seq = message.seq
    out = queries.message_out(message, {principal.person_id: principal.name})
    recipients = await member_ids(session, conversation.id)
    live.push_after_commit(
        session, rt, recipients, frame_of("message", message=out.model_dump(mode="json"))
    )
    await emit(
        session,
        events.MESSAGE_SENT,
        events.MessageSent(
            conversation_id=conversation.id,
            seq=message.seq,
            sender_id=principal.person_id,
            kind=body.kind,
        ),
    )
    if message.mentions or message.mention_all:
        await notify_mentioned(session, rt, principal, conversation, message, recipients)
    return SendResult(message=out, recipients=recipients)


async def notify_mentioned(
    session: AsyncSession,
    rt: Runtime,
    principal: Principal,
    conversation: Conversation,
    message: Message,
    members: list[int],
) -> None:
    """A notification to the people @mentioned (everyone but the sender for @所有人), one per
    message: its source is the message, so a redelivery or retry sends nothing twice."""
    wanted = members if message.mention_all else list(message.mentions or [])
    people = sorted(set(wanted) - {principal.person_id})
    if not people:
        return
    title = (
        _("{name} 在“{group}”中@了所有人", name=principal.name, group=conversation.name)
        if message.mention_all
        else _("{name} 在“{group}”中@了你", name=principal.name, group=conversation.name)
    )
    for part, start in enumerate(range(0, len(people), MENTION_BATCH)):
        suffix = f":{part}" if part else ""
        await notifications.notify(
            session,
            rt,
            notifications.NotificationIn(
                title=str(title)[:200],
                body=message.body[:MENTION_EXCERPT],
                link=f"/messaging/im/c/{conversation.id}#seq-{message.seq}",
                category="im",
                audience=notifications.Audience(person_ids=people[start : start + MENTION_BATCH]),
                sender_id=principal.person_id,
                source=f"im:mention:{message.id}{suffix}",
            ),
        )


async def _duplicate(session: AsyncSession, message: Message) -> SendResult:
    out = (await queries.messages_out(session, [message]))[0]
    return SendResult(message=out, duplicate=True)


async def _target_of(
    session: AsyncSession, principal: Principal, body: SendIn
) -> tuple[Conversation, Member]:
    if body.conversation_id is not None:
        conversation, member = await access_conversation(
            session, body.conversation_id, principal.person_id
        )
    elif body.to is not None:
        conversation, member = await open_direct(session, principal.person_id, body.to, "to")
    else:
        raise InvalidInput.on("conversation_id", _("请指定会话或收件人"))
    if conversation.kind == "direct":
        peer = await peer_of(session, conversation, principal.person_id)
        if peer is not None and await moderation.is_blocked(session, peer, principal.person_id):
            raise Forbidden(_("对方已屏蔽您，消息未发送"))
    return conversation, member


async def _content_of(
    session: AsyncSession, principal: Principal, body: SendIn
) -> tuple[str, files.FileOut | None]:
    if body.kind == "text":
        if body.file_id:
            raise InvalidInput.on("file_id", _("文字消息不能带文件"))
        text = body.text.strip()
        if not text:
            raise InvalidInput.on("text", _("消息不能为空"))
        return await words.clean_text(session, text, "text"), None
    if body.text.strip():
        raise InvalidInput.on("text", _("图片和文件消息不带文字，请分开发送"))
    if not body.file_id:
        raise InvalidInput.on("file_id", _("请先上传文件"))
    try:
        found = await files.check_attachable(
            session, principal.person_id, [body.file_id], field="file_id"
        )
    except InvalidInput as exc:
        reason = exc.errors[0].reason if exc.errors else _("文件不可用")
        raise InvalidInput.on("file_id", reason) from None
    file = found[0]
    if body.kind == "image" and not file.content_type.startswith("image/"):
        raise InvalidInput.on("file_id", _("不是图片文件"))
    return "", file


async def _mentions_of(
    session: AsyncSession, conversation: Conversation, member: Member, body: SendIn
) -> list[int]:
    wanted = list(dict.fromkeys(body.mentions))
    if not wanted and not body.mention_all:
        return []
    if conversation.kind == "direct":
        raise InvalidInput.on("mentions", _("单聊中不能@他人"))
    if body.kind != "text":
        raise InvalidInput.on("mentions", _("只有文字消息可以@他人"))
    if body.mention_all and member.role not in ("owner", "admin"):
        raise Forbidden(_("只有群主和管理员可以@所有人"))
    present = set(
        (
            await session.scalars(
                select(Member.person_id).where(
                    Member.conversation_id == conversation.id, Member.person_id.in_(wanted)
                )
            )
        ).all()
    )
    for index, person_id in enumerate(body.mentions):
        if person_id not in present:
            raise InvalidInput.on(f"mentions.{index}", _("{id} 不是该会话的成员", id=person_id))
    return wanted


# ---------------------------------------------------------------- recalling


async def check_recall(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int, seq: int
) -> MessageOut:
    """The sender takes back their own message within two minutes."""
    _conversation, member = await access_conversation(session, conversation_id, principal.person_id)
    message = await queries.message_at(session, conversation_id, seq)
    if message is None or message.seq <= member.joined_seq:
        raise NotFound(_("消息不存在"))
    if message.kind not in ("text", "image", "file"):
        raise Conflict.on("seq", _("这条消息不能撤回"))
    if message.sender_id != principal.person_id:
        raise Forbidden(_("只能撤回自己发送的消息"))
    if message.recalled_at is not None:
        raise Conflict.on("seq", _("消息已撤回"))
    if clock.now() - message.created_at > RECALL_WINDOW:
        raise Conflict.on("seq", _("发送超过 2 分钟的消息不能撤回"))
    return await do_recall(session, rt, message, by_id=principal.person_id, reason="sender")


async def do_recall(
    session: AsyncSession, rt: Runtime, message: Message, *, by_id: int | None, reason: str
) -> MessageOut:
    """Blank the message for everyone and append a ``recall`` marker pointing at it, so that a
    client syncing later learns of the recall in sequence."""
    message.recalled_at = clock.now()
    message.body = ""
    if message.file_id:
        await files.unbind(session, FILE_MODULE, file_key(message.id))
        message.file_id = None
    marker = await store(
        session,
        message.conversation_id,
        sender_id=by_id,
        kind="recall",
        body="sender" if reason == "sender" else "moderator",
        ref_seq=message.seq,
    )
    names = await queries.names_of(session, [by_id])
    out = queries.message_out(marker, names)
    recipients = await member_ids(session, message.conversation_id)
    live.push_after_commit(
        session,
        rt,
        recipients,
        frame_of(
            "recall",
            conversation_id=message.conversation_id,
            seq=message.seq,
            message=out.model_dump(mode="json"),
        ),
    )
    audit.record(
        session,
        "messaging.im.recall",
        "msg_im_message",
        message.id,
        after={"conversation_id": message.conversation_id, "seq": message.seq, "by": reason},
    )
    await emit(
        session,
        events.MESSAGE_RECALLED,
        events.MessageRecalled(
            conversation_id=message.conversation_id, seq=message.seq, by_id=by_id, reason=reason
        ),
    )
    return out


# ---------------------------------------------------------------- read receipts


async def check_read(
    session: AsyncSession, rt: Runtime, principal: Principal, conversation_id: int, seq: int
) -> int:
    """Move the person's read mark forward to ``seq`` (never back, never past the last
    message); returns the mark."""
    conversation, member = await access_conversation(session, conversation_id, principal.person_id)
    if seq < 0:
        raise InvalidInput.on("seq", _("应不小于 0"))
    target = min(seq, conversation.last_seq)
    if target <= member.read_seq:
        return member.read_seq
    member.read_seq = target
    recipients = await member_ids(session, conversation_id)
    if len(recipients) <= READ_PUSH_LIMIT:
        live.push_after_commit(
            session,
            rt,
            recipients,
            frame_of(
                "read",
                conversation_id=conversation_id,
                person_id=principal.person_id,
                seq=target,
            ),
        )
    return target
