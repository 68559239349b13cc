"""Who may see a conversation: its members, and only the messages after they joined."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.messaging.im.models import Conversation, Member


async def membership(
    session: AsyncSession, conversation_id: int, person_id: int
) -> tuple[Conversation, Member | None]:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.dissolved_at is not None:
        raise NotFound(_("会话不存在或已解散"))
    member = await session.scalar(
        select(Member).where(
            Member.conversation_id == conversation_id, Member.person_id == person_id
        )
    )
    return conversation, member


async def access_conversation(
    session: AsyncSession, conversation_id: int, person_id: int
) -> tuple[Conversation, Member]:
    """The conversation and the person's membership; 404 when it does not exist (or was
    dissolved), 403 when they are not in it."""
    conversation, member = await membership(session, conversation_id, person_id)
    if member is None:
        raise Forbidden(_("您不是该会话的成员"))
    return conversation, member


async def member_ids(session: AsyncSession, conversation_id: int) -> list[int]:
    return list(
        (
            await session.scalars(
                select(Member.person_id).where(Member.conversation_id == conversation_id)
            )
        ).all()
    )
