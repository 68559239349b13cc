"""Writes of boards (for ``community.board.manage``): create, change, set the moderators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community import events
from campus.domains.community.models import Board, Moderator
from campus.domains.community.schemas import BoardIn, BoardUpdate
from campus.kernel import audit, clock
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.users import service as users

FIELDS = (
    "name",
    "description",
    "icon",
    "sort_order",
    "kind",
    "posting",
    "allow_anonymous",
    "active",
)


def state(board: Board) -> dict[str, Any]:
    return {"code": board.code, **{f: getattr(board, f) for f in FIELDS}}


async def board_or_404(session: AsyncSession, board_id: int) -> Board:
    board = await session.get(Board, board_id)
    if board is None:
        raise NotFound(_("板块 {id} 不存在", id=board_id))
    return board


async def check_create_board(session: AsyncSession, body: BoardIn) -> int:
    if await session.scalar(select(Board.id).where(Board.code == body.code)) is not None:
        raise Conflict.on("code", _("板块代码“{code}”已被使用", code=body.code))
    return await do_create_board(session, body)


async def do_create_board(session: AsyncSession, body: BoardIn) -> int:
    now = clock.now()
    board = Board(**body.model_dump(), created_at=now, updated_at=now)
    session.add(board)
    await session.flush()
    audit.record(session, "community.board.create", "cmty_board", board.id, after=state(board))
    await _emit_changed(session, board)
    return board.id


async def check_update_board(session: AsyncSession, board_id: int, body: BoardUpdate) -> None:
    board = await board_or_404(session, board_id)
    given = body.model_dump(exclude_unset=True)
    for key, value in given.items():
        if value is None:
            raise InvalidInput.on(key, _("不能为空"))
    before = state(board)
    for key, value in given.items():
        setattr(board, key, value)
    board.updated_at = clock.now()
    audit.record(
        session, "community.board.update", "cmty_board", board.id, before=before, after=state(board)
    )
    await _emit_changed(session, board)


async def _emit_changed(session: AsyncSession, board: Board) -> None:
    await emit(
        session,
        events.BOARD_CHANGED,
        events.BoardChanged(
            board_id=board.id, code=board.code, name=board.name, active=board.active
        ),
    )


async def check_set_moderators(session: AsyncSession, board_id: int, person_ids: list[int]) -> None:
    board = await board_or_404(session, board_id)
    wanted = list(dict.fromkeys(person_ids))
    known = await users.get_people(session, wanted)
    errors = [
        FieldError(f"person_ids.{i}", _("用户 {id} 不存在", id=p))
        for i, p in enumerate(wanted)
        if p not in known
    ]
    if errors:
        raise InvalidInput(_("版主名单有误"), errors=errors)
    await do_set_moderators(session, board, wanted)


async def do_set_moderators(session: AsyncSession, board: Board, person_ids: list[int]) -> None:
    before = list(
        (
            await session.scalars(select(Moderator.person_id).where(Moderator.board_id == board.id))
        ).all()
    )
    await session.execute(delete(Moderator).where(Moderator.board_id == board.id))
    now = clock.now()
    for person_id in person_ids:
        session.add(Moderator(board_id=board.id, person_id=person_id, created_at=now))
    await session.flush()
    audit.record(
        session,
        "community.board.moderators",
        "cmty_board",
        board.id,
        before={"moderators": before},
        after={"moderators": person_ids},
    )
