"""Who may do what on a board, and who may read one post: every object-level read of this
module goes through ``access_board`` / ``access_post`` / ``access_comment``.

- A board's moderators are its ``cmty_moderator`` rows plus everyone holding
  ``community.moderate`` (campus-wide: boards belong to no org unit).
- Posting: ``all`` lets every signed-in person post, ``staff`` faculty and staff only,
  ``editors`` holders of ``community.editor`` and the board's moderators only. A ban (禁言)
  stops posting and commenting on that board until it runs out.
- A hidden post is read by its author and the board's moderators only; a deleted one by
  nobody (its moderators still see it in their queue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.models import Ban, Board, Comment, Moderator, Post
from campus.domains.community.permissions import BOARD_MANAGE, EDITOR, MODERATE
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.errors import FieldError, Forbidden, NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES


@dataclass(frozen=True)
class BoardAccess:
    board: Board
    moderator: bool
    may_post: bool
    banned_until: datetime | None


def board_not_found(board_id: int | str) -> NotFound:
    return NotFound(_("板块 {id} 不存在", id=board_id))


async def moderated_board_ids(session: AsyncSession, principal: Principal) -> set[int] | None:
    """The boards the principal moderates; ``None`` means every board (``community.moderate``)."""
    if principal.can(MODERATE):
        return None
    rows = await session.scalars(
        select(Moderator.board_id).where(Moderator.person_id == principal.person_id)
    )
    return set(rows.all())


def moderates(moderated: set[int] | None, board_id: int) -> bool:
    return moderated is None or board_id in moderated


async def is_moderator(session: AsyncSession, principal: Principal, board_id: int) -> bool:
    if principal.can(MODERATE):
        return True
    found = await session.get(Moderator, (board_id, principal.person_id))
    return found is not None


async def banned_until(session: AsyncSession, board_id: int, person_id: int) -> datetime | None:
    """The end of the person's longest running ban on the board, or None."""
    until = await session.scalar(
        select(Ban.until)
        .where(
            Ban.board_id == board_id,
            Ban.person_id == person_id,
            Ban.lifted_at.is_(None),
            Ban.until > clock.now(),
        )
        .order_by(Ban.until.desc())
        .limit(1)
    )
    return until


async def _may_post(
    session: AsyncSession, principal: Principal, board: Board, moderator: bool
) -> bool:
    if board.posting == "all":
        return True
    if moderator or principal.can(EDITOR):
        return True
    if board.posting == "staff":
        person = await users.get_person_ref(session, principal.person_id)
        return person is not None and person.person_type in STAFF_TYPES
    return False


async def board_access(session: AsyncSession, principal: Principal, board: Board) -> BoardAccess:
    moderator = await is_moderator(session, principal, board.id)
    return BoardAccess(
        board=board,
        moderator=moderator,
        may_post=await _may_post(session, principal, board, moderator),
        banned_until=await banned_until(session, board.id, principal.person_id),
    )


async def access_board(
    session: AsyncSession, principal: Principal, board_id: int | str
) -> BoardAccess:
    """The board (by id or code) and what the principal may do there. A closed board is seen
    only by those who manage boards or moderate it."""
    if isinstance(board_id, int):
        board = await session.get(Board, board_id)
    else:
        board = await session.scalar(select(Board).where(Board.code == board_id))
    if board is None:
        raise board_not_found(board_id)
    found = await board_access(session, principal, board)
    if not board.active and not (found.moderator or principal.can(BOARD_MANAGE)):
        raise board_not_found(board_id)
    return found


async def refuse_posting(principal: Principal, found: BoardAccess) -> Forbidden:
    """The audited 403 naming ``board_id`` for someone who may not post on the board."""
    reason = (
        _("“{name}”仅限编辑与版主发帖", name=found.board.name)
        if found.board.posting == "editors"
        else _("“{name}”仅限教职工发帖", name=found.board.name)
    )
    problem = await access.denied(
        principal, "community.post", reason, target_type="cmty_board", target_id=found.board.id
    )
    problem.errors = [FieldError("board_id", reason)]
    return problem


def post_not_found(post_id: int) -> NotFound:
    return NotFound(_("帖子 {id} 不存在或已删除", id=post_id))


async def access_post(
    session: AsyncSession, principal: Principal, post_id: int
) -> tuple[Post, BoardAccess]:
    """The post and the principal's access to its board. Someone who may not read it gets the
    404 of a post that does not exist, so hidden posts cannot be probed."""
    post = await session.get(Post, post_id)
    if post is None or post.status == "deleted":
        raise post_not_found(post_id)
    board = await session.get(Board, post.board_id)
    assert board is not None
    found = await board_access(session, principal, board)
    readable = post.status == "visible" and board.active
    if not (readable or found.moderator or post.author_id == principal.person_id):
        raise post_not_found(post_id)
    return post, found


async def access_comment(
    session: AsyncSession, principal: Principal, comment_id: int
) -> tuple[Comment, Post, BoardAccess]:
    """The comment, its post and the board access; hidden comments are the author's and the
    moderators' only."""
    comment = await session.get(Comment, comment_id)
    if comment is None or comment.status == "deleted":
        raise NotFound(_("评论 {id} 不存在或已删除", id=comment_id))
    post, found = await access_post(session, principal, comment.post_id)
    if comment.status != "visible" and not (
        found.moderator or comment.author_id == principal.person_id
    ):
        raise NotFound(_("评论 {id} 不存在或已删除", id=comment_id))
    return comment, post, found
