"""Reads of boards: the list a reader sees (with what they may do on each) and one board."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.access import BoardAccess, board_access
from campus.domains.community.models import Board, Moderator
from campus.domains.community.permissions import BOARD_MANAGE
from campus.domains.community.posts.queries import post_counts
from campus.domains.community.schemas import BoardOut, PersonBrief
from campus.kernel.context import Principal
from campus.platform.users import service as users


async def moderators_of(
    session: AsyncSession, board_ids: list[int]
) -> dict[int, list[PersonBrief]]:
    if not board_ids:
        return {}
    rows = (
        await session.execute(
            select(Moderator.board_id, Moderator.person_id)
            .where(Moderator.board_id.in_(board_ids))
            .order_by(Moderator.created_at)
        )
    ).all()
    people = await users.get_people(session, [p for _b, p in rows])
    found: dict[int, list[PersonBrief]] = {}
    for board_id, person_id in rows:
        if person_id in people:
            found.setdefault(board_id, []).append(
                PersonBrief(id=person_id, name=people[person_id].name)
            )
    return found


async def kind_of(session: AsyncSession, board_id: int | None) -> str | None:
    """The board's kind (which extra fields its posts carry), or None for no such board."""
    if board_id is None:
        return None
    return await session.scalar(select(Board.kind).where(Board.id == board_id))


def board_out(
    found: BoardAccess, count: int = 0, moderators: list[PersonBrief] | None = None
) -> BoardOut:
    b = found.board
    return BoardOut(
        id=b.id,
        code=b.code,
        name=b.name,
        description=b.description,
        icon=b.icon,
        sort_order=b.sort_order,
        kind=b.kind,
        posting=b.posting,
        allow_anonymous=b.allow_anonymous,
        active=b.active,
        post_count=count,
        moderators=moderators or [],
        may_post=found.may_post and found.banned_until is None and b.active,
        may_moderate=found.moderator,
    )


async def boards_for(
    session: AsyncSession, principal: Principal, *, include_closed: bool = False
) -> list[BoardOut]:
    """Open boards in their order (closed ones too for those who manage boards)."""
    stmt = select(Board).order_by(Board.sort_order, Board.id)
    if not (include_closed and principal.can(BOARD_MANAGE)):
        stmt = stmt.where(Board.active.is_(True))
    boards = list((await session.scalars(stmt)).all())
    counts = await post_counts(session)
    moderators = await moderators_of(session, [b.id for b in boards])
    return [
        board_out(
            await board_access(session, principal, b), counts.get(b.id, 0), moderators.get(b.id)
        )
        for b in boards
    ]


async def one_board(session: AsyncSession, found: BoardAccess) -> BoardOut:
    counts = await post_counts(session)
    moderators = await moderators_of(session, [found.board.id])
    return board_out(found, counts.get(found.board.id, 0), moderators.get(found.board.id))
