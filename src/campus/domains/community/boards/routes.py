"""JSON API of boards: /api/v1/community/boards. Thin: parse, authorise, call one action or
query, answer with schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from campus.domains.community.access import access_board
from campus.domains.community.boards import actions, queries
from campus.domains.community.permissions import BOARD_MANAGE
from campus.domains.community.schemas import BoardIn, BoardOut, BoardUpdate, ModeratorsIn
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/community/boards", tags=["community"])
SignedIn = Annotated[Principal, signed_in()]
Manager = Annotated[Principal, require(BOARD_MANAGE)]


def board_key(board: str) -> int | str:
    """A board is named by its id or its code."""
    return int(board) if board.isdigit() else board


@router.get("", response_model=list[BoardOut], summary="板块列表（按顺序），及我在各板块能做什么")
async def list_boards(
    session: ReadSessionDep, principal: SignedIn, include_closed: bool = False
) -> list[BoardOut]:
    return await queries.boards_for(session, principal, include_closed=include_closed)


@router.get("/{board}", response_model=BoardOut, summary="板块详情（按 id 或代码）")
async def get_board(board: str, session: ReadSessionDep, principal: SignedIn) -> BoardOut:
    found = await access_board(session, principal, board_key(board))
    return await queries.one_board(session, found)


@router.post("", response_model=BoardOut, status_code=201, summary="新建板块")
async def create_board(body: BoardIn, session: SessionDep, principal: Manager) -> BoardOut:
    board_id = await actions.check_create_board(session, body)
    return await queries.one_board(session, await access_board(session, principal, board_id))


@router.patch(
    "/{board_id}",
    response_model=BoardOut,
    summary="修改板块（名称、说明、图标、顺序、发帖权限、匿名、启停）",
)
async def update_board(
    board_id: int, body: BoardUpdate, session: SessionDep, principal: Manager
) -> BoardOut:
    await actions.check_update_board(session, board_id, body)
    return await queries.one_board(session, await access_board(session, principal, board_id))


@router.put("/{board_id}/moderators", response_model=BoardOut, summary="设置板块的版主")
async def set_moderators(
    board_id: int, body: ModeratorsIn, session: SessionDep, principal: Manager
) -> BoardOut:
    await actions.check_set_moderators(session, board_id, body.person_ids)
    return await queries.one_board(session, await access_board(session, principal, board_id))
