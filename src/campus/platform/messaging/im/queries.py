"""Reads of instant messaging. Every read is for one person and shows only conversations they
are in and, in each, the messages after they joined."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from campus.platform.messaging.im.models import Conversation, Member, Message
from campus.platform.messaging.im.schemas import (
    ConversationDetail,
    ConversationOut,
    MemberOut,
    MessageOut,
    SearchHit,
)
from campus.platform.users import service as users

HISTORY_MAX = 100
SYNC_BATCH = 200
SEARCH_MAX = 50
# What counts as unread: what people said. The system's notices ("X 加入了群聊"), recall
# markers and recalled messages are shown but never wait to be read, nor does one's own.
UNREAD_KINDS = ("text", "image", "file")


async def names_of(session: AsyncSession, person_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({p for p in person_ids if p is not None})
    if not wanted:
        return {}
    return {pid: ref.name for pid, ref in (await users.get_people(session, wanted)).items()}


def message_out(message: Message, names: dict[int, str]) -> MessageOut:
    recalled = message.recalled_at is not None
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        seq=message.seq,
        sender_id=message.sender_id,
        sender_name=names.get(message.sender_id, "") if message.sender_id else "",
        client_id=message.client_id,
        kind=message.kind,
        text="" if recalled else message.body,
        file_id=None if recalled else message.file_id,
        file_name="" if recalled else message.file_name,
        file_size=0 if recalled else message.file_size,
        mentions=[] if recalled else list(message.mentions or []),
        mention_all=message.mention_all and not recalled,
        ref_seq=message.ref_seq,
        recalled=recalled,
        created_at=message.created_at,
    )


async def messages_out(session: AsyncSession, messages: Sequence[Message]) -> list[MessageOut]:
    names = await names_of(session, (m.sender_id for m in messages))
    return [message_out(m, names) for m in messages]


async def by_client_id(session: AsyncSession, sender_id: int, client_id: str) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.sender_id == sender_id, Message.client_id == client_id)
    )


async def message_at(session: AsyncSession, conversation_id: int, seq: int) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.conversation_id == conversation_id, Message.seq == seq)
    )


# ---------------------------------------------------------------- conversations


async def my_conversations(session: AsyncSession, person_id: int) -> list[ConversationOut]:
    """Every conversation of the person, the latest activity first, with unread counts."""
    rows = (
        await session.execute(
            select(Conversation, Member)
            .join(Member, Member.conversation_id == Conversation.id)
            .where(Member.person_id == person_id, Conversation.dissolved_at.is_(None))
            .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
        )
    ).all()
    return await _outs(session, person_id, [(c, m) for c, m in rows])


async def conversation_out(
    session: AsyncSession, person_id: int, conversation: Conversation, member: Member
) -> ConversationOut:
    return (await _outs(session, person_id, [(conversation, member)]))[0]


async def _outs(
    session: AsyncSession, person_id: int, rows: list[tuple[Conversation, Member]]
) -> list[ConversationOut]:
    if not rows:
        return []
    ids = [c.id for c, _m in rows]
    counts = dict(
        (
            await session.execute(
                select(Member.conversation_id, func.count())
                .where(Member.conversation_id.in_(ids))
                .group_by(Member.conversation_id)
            )
        ).all()
    )
    peers = await _direct_peers(session, person_id, [c.id for c, _m in rows if c.kind == "direct"])
    lasts = await _last_messages(
        session, [(c.id, c.last_seq) for c, m in rows if c.last_seq > m.joined_seq]
    )
    unread = await _unread_counts(
        session,
        person_id,
        [(c.id, _seen(m)) for c, m in rows if c.last_seq > _seen(m)],
    )
    names = await names_of(session, [*peers.values(), *(m.sender_id for m in lasts.values())])
    outs = []
    for conversation, member in rows:
        peer = peers.get(conversation.id)
        last = lasts.get(conversation.id)
        outs.append(
            ConversationOut(
                id=conversation.id,
                kind=conversation.kind,
                name=names.get(peer, "") if peer else conversation.name,
                announcement=conversation.announcement,
                owner_id=conversation.owner_id,
                last_seq=conversation.last_seq,
                read_seq=member.read_seq,
                joined_seq=member.joined_seq,
                unread=unread.get(conversation.id, 0),
                my_role=member.role,
                muted=member.muted,
                member_count=int(counts.get(conversation.id, 0)),
                peer_id=peer,
                last_message=message_out(last, names) if last else None,
                last_message_at=conversation.last_message_at,
            )
        )
    return outs


def _seen(member: Member) -> int:
    return max(member.read_seq, member.joined_seq)


async def _unread_counts(
    session: AsyncSession, person_id: int, marks: list[tuple[int, int]]
) -> dict[int, int]:
    """Per conversation, the messages after the person's read mark that count as unread
    (UNREAD_KINDS, not recalled, sent by someone else): one grouped count per 200."""
    found: dict[int, int] = {}
    for start in range(0, len(marks), 200):
        chunk = marks[start : start + 200]
        rows = await session.execute(
            select(Message.conversation_id, func.count())
            .where(
                or_(*(and_(Message.conversation_id == c, Message.seq > s) for c, s in chunk)),
                Message.kind.in_(UNREAD_KINDS),
                Message.recalled_at.is_(None),
                Message.sender_id != person_id,
            )
            .group_by(Message.conversation_id)
        )
        found.update({int(c): int(n) for c, n in rows.all()})
    return found


async def _direct_peers(
    session: AsyncSession, person_id: int, conversation_ids: list[int]
) -> dict[int, int]:
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(Member.conversation_id, Member.person_id).where(
            Member.conversation_id.in_(conversation_ids), Member.person_id != person_id
        )
    )
    return {c: p for c, p in rows.all()}


async def _last_messages(session: AsyncSession, keys: list[tuple[int, int]]) -> dict[int, Message]:
    if not keys:
        return {}
    found: dict[int, Message] = {}
    # Chunks keep the OR list within every backend's parameter limit.
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        rows = await session.scalars(
            select(Message).where(
                or_(*(and_(Message.conversation_id == c, Message.seq == s) for c, s in chunk))
            )
        )
        found.update({m.conversation_id: m for m in rows.all()})
    return found


async def detail(
    session: AsyncSession,
    person_id: int,
    conversation: Conversation,
    member: Member,
    online: set[int],
) -> ConversationDetail:
    base = await conversation_out(session, person_id, conversation, member)
    members = (
        await session.scalars(select(Member).where(Member.conversation_id == conversation.id))
    ).all()
    names = await names_of(session, (m.person_id for m in members))
    order = {"owner": 0, "admin": 1, "member": 2}
    outs = sorted(
        (
            MemberOut(
                person_id=m.person_id,
                name=names.get(m.person_id, ""),
                role=m.role,
                read_seq=m.read_seq,
                online=m.person_id in online,
            )
            for m in members
        ),
        key=lambda m: (order[m.role], m.name, m.person_id),
    )
    return ConversationDetail(**base.model_dump(), members=outs)


# ---------------------------------------------------------------- messages


async def history(
    session: AsyncSession, member: Member, before: int | None, limit: int
) -> list[Message]:
    """The visible messages before seq ``before`` (the latest when None), oldest first."""
    stmt = select(Message).where(
        Message.conversation_id == member.conversation_id,
        Message.seq > member.joined_seq,
    )
    if before is not None:
        stmt = stmt.where(Message.seq < before)
    rows = (await session.scalars(stmt.order_by(Message.seq.desc()).limit(limit))).all()
    return list(reversed(rows))


async def after(
    session: AsyncSession, member: Member, since: int, limit: int = SYNC_BATCH
) -> list[Message]:
    """The visible messages after seq ``since``, oldest first."""
    floor = max(since, member.joined_seq)
    return list(
        (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == member.conversation_id, Message.seq > floor)
                .order_by(Message.seq)
                .limit(limit)
            )
        ).all()
    )


async def memberships(session: AsyncSession, person_id: int) -> list[tuple[Member, int]]:
    """The person's memberships with each conversation's last seq."""
    rows = await session.execute(
        select(Member, Conversation.last_seq)
        .join(Conversation, Conversation.id == Member.conversation_id)
        .where(Member.person_id == person_id, Conversation.dissolved_at.is_(None))
    )
    return [(m, int(s)) for m, s in rows.all()]


def _like(session: AsyncSession, column: InstrumentedAttribute[str], q: str) -> ColumnElement[bool]:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    if session.get_bind().dialect.name == "postgresql":
        return column.ilike(pattern, escape="\\")
    return column.like(pattern, escape="\\")


async def search(
    session: AsyncSession, person_id: int, q: str, conversation_id: int | None = None
) -> list[SearchHit]:
    """Text messages containing ``q`` in the person's conversations (visible part only),
    the latest first."""
    stmt = (
        select(Message, Conversation)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(
            Member,
            and_(Member.conversation_id == Message.conversation_id, Member.person_id == person_id),
        )
        .where(
            Message.kind == "text",
            Message.recalled_at.is_(None),
            Message.seq > Member.joined_seq,
            Conversation.dissolved_at.is_(None),
            _like(session, Message.body, q),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(SEARCH_MAX)
    )
    if conversation_id is not None:
        stmt = stmt.where(Message.conversation_id == conversation_id)
    rows = (await session.execute(stmt)).all()
    direct_ids = [c.id for _m, c in rows if c.kind == "direct"]
    peers = await _direct_peers(session, person_id, direct_ids)
    names = await names_of(session, [*(m.sender_id for m, _c in rows), *peers.values()])
    return [
        SearchHit(
            conversation_id=c.id,
            conversation_name=names.get(peers[c.id], "") if c.id in peers else c.name,
            message=message_out(m, names),
        )
        for m, c in rows
    ]


async def member_ids_of(session: AsyncSession, conversation_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(Member.person_id).where(Member.conversation_id == conversation_id)
            )
        ).all()
    )
