"""Pages of boards: a board's feed (newest or hottest), and board management for
``community.board.manage`` (moderators entered by their 学号/工号)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.access import access_board
from campus.domains.community.boards import actions, queries
from campus.domains.community.moderation import queries as moderation_queries
from campus.domains.community.pages import FEED_PAGE_SIZE, common
from campus.domains.community.permissions import BOARD_MANAGE
from campus.domains.community.posts import queries as post_queries
from campus.domains.community.schemas import BoardIn, BoardUpdate, Sort
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["community-pages"])
Manager = Annotated[Principal, require(BOARD_MANAGE)]


@router.get("/community/b/{code}")
async def board_page(
    request: Request,
    code: str,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    sort: Annotated[Sort, Query()] = "latest",
) -> Response:
    found = await access_board(session, principal, code)
    viewer = await post_queries.viewer_of(session, principal)
    paging = paging.model_copy(update={"page_size": FEED_PAGE_SIZE})
    posts = await post_queries.feed(session, viewer, paging, board_id=found.board.id, sort=sort)
    more = f"/community/b/{found.board.code}?sort={sort}&page={posts.page + 1}"
    if is_htmx(request):
        return render(
            request,
            "community/partials/post_rows.html",
            posts=posts,
            more=more,
            show_board=False,
            **common(),
        )
    return render(
        request,
        "community/board.html",
        board=await queries.one_board(session, found),
        banned_until=found.banned_until,
        posts=posts,
        sort=sort,
        more=more,
        moderates=viewer.moderated is None or bool(viewer.moderated),
        pending=await moderation_queries.pending_count(session, viewer),
        **common(),
    )


# ---------------------------------------------------------------- board management


@router.get("/community/admin/boards")
async def boards_admin(request: Request, session: ReadSessionDep, principal: Manager) -> Response:
    boards = await queries.boards_for(session, principal, include_closed=True)
    return render(request, "community/admin_boards.html", boards=boards, **common())


class BoardForm:
    def __init__(
        self,
        code: Annotated[str, Form(max_length=60)] = "",
        name: Annotated[str, Form(max_length=60)] = "",
        description: Annotated[str, Form(max_length=400)] = "",
        icon: Annotated[str, Form(max_length=60)] = "message-circle",
        sort_order: Annotated[str, Form(max_length=10)] = "100",
        kind: Annotated[str, Form(max_length=20)] = "general",
        posting: Annotated[str, Form(max_length=20)] = "all",
        allow_anonymous: Annotated[str | None, Form(max_length=2)] = None,
        active: Annotated[str | None, Form(max_length=2)] = None,
        moderators: Annotated[str, Form(max_length=1000)] = "",
    ) -> None:
        self.values: dict[str, Any] = {
            "code": code.strip(),
            "name": name,
            "description": description,
            "icon": icon.strip() or "message-circle",
            "sort_order": sort_order.strip(),
            "kind": kind,
            "posting": posting,
            "allow_anonymous": bool(allow_anonymous),
            "active": bool(active),
            "moderators": moderators,
        }

    def payload(self) -> dict[str, Any]:
        fields = ("name", "description", "icon", "kind", "posting", "allow_anonymous", "active")
        data = {k: self.values[k] for k in fields}
        data["sort_order"] = self.values["sort_order"] or "100"
        return data


async def _moderator_ids(session: AsyncSession, raw: str) -> list[int]:
    """People named by 学号/工号, each checked: a 422 on ``moderators`` naming the unknown."""
    ids, unknown = [], []
    for login in [x for x in re.split(r"[\s,，、]+", raw) if x]:
        person = await users.find_person_by_login(session, login)
        if person is None:
            unknown.append(login)
        else:
            ids.append(person.id)
    if unknown:
        raise InvalidInput.on(
            "moderators", _("找不到这些学号或工号：{who}", who="、".join(unknown))
        )
    return ids


async def _form_page(
    request: Request, board_id: int | None, values: dict[str, Any], errors: dict[str, str]
) -> Response:
    return render(
        request,
        "community/board_form.html",
        422 if errors else 200,
        board_id=board_id,
        values=values,
        errors=errors,
        **common(),
    )


@router.get("/community/admin/boards/new")
async def new_board_page(request: Request, _principal: Manager) -> Response:
    values = BoardForm(active="1").values
    return await _form_page(request, None, values, {})


@router.get("/community/admin/boards/{board_id}")
async def edit_board_page(
    request: Request, board_id: int, session: ReadSessionDep, principal: Manager
) -> Response:
    found = await access_board(session, principal, board_id)
    out = await queries.one_board(session, found)
    people = await users.get_people(session, [m.id for m in out.moderators])
    values = {
        **out.model_dump(),
        "moderators": " ".join(people[m.id].number or "" for m in out.moderators if m.id in people),
    }
    return await _form_page(request, board_id, values, {})


async def _save_board(
    request: Request, session: AsyncSession, board_id: int | None, form: BoardForm
) -> Response:
    errors: dict[str, str] = {}
    given_id = board_id
    try:
        moderators = await _moderator_ids(session, form.values["moderators"])
        if board_id is None:
            board_id = await actions.check_create_board(
                session, BoardIn(code=form.values["code"], **form.payload())
            )
        else:
            await actions.check_update_board(session, board_id, BoardUpdate(**form.payload()))
        await actions.check_set_moderators(session, board_id, moderators)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
    if errors:
        # Nothing of a refused save may stay (a board created before its moderators failed).
        await session.rollback()
        return await _form_page(request, given_id, form.values, errors)
    response = RedirectResponse("/community/admin/boards", status_code=303)
    flash(request, response, _("板块已保存"))
    return response


@router.post("/community/admin/boards/new")
async def new_board_submit(
    request: Request,
    session: SessionDep,
    _principal: Manager,
    form: Annotated[BoardForm, Depends()],
) -> Response:
    return await _save_board(request, session, None, form)


@router.post("/community/admin/boards/{board_id}")
async def edit_board_submit(
    request: Request,
    board_id: int,
    session: SessionDep,
    _principal: Manager,
    form: Annotated[BoardForm, Depends()],
) -> Response:
    return await _save_board(request, session, board_id, form)
