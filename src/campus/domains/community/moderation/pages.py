"""Pages of moderation: the queue of reported content in the boards a person moderates, and
the form posts behind hiding, restoring, banning and resolving (each back to where it came
from with a message)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.access import (
    BoardAccess,
    access_board,
    access_comment,
    access_post,
)
from campus.domains.community.boards import queries as board_queries
from campus.domains.community.moderation import actions, queries
from campus.domains.community.pages import common, safe_back
from campus.domains.community.posts.queries import viewer_of
from campus.domains.community.schemas import BanIn, HideIn, ReportStatus, ResolveIn
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Conflict, Problem
from campus.kernel.i18n import LazyText, _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import errors_of_validation, flash, render
from campus.platform.access import service as access
from campus.platform.access.service import signed_in

router = APIRouter(tags=["community-pages"])
SignedIn = Annotated[Principal, signed_in()]
Kind = Literal["post", "comment"]


@router.get("/community/moderation")
async def queue_page(
    request: Request,
    session: ReadSessionDep,
    principal: SignedIn,
    paging: PageParamsDep,
    status: Annotated[ReportStatus, Query()] = "pending",
    board_id: int | None = None,
) -> Response:
    viewer = await viewer_of(session, principal)
    boards = [b for b in await board_queries.boards_for(session, principal) if b.may_moderate]
    if board_id is not None:
        await actions.refuse_unless_moderator(
            principal, await access_board(session, principal, board_id)
        )
    elif not boards and viewer.moderated is not None:
        raise await access.denied(principal, "community.moderate", _("您不是任何板块的版主"))
    found = await queries.queue(session, viewer, paging, status=status, board_id=board_id)
    return render(
        request,
        "community/moderation.html",
        queue=found,
        status=status,
        board_id=board_id,
        boards=boards,
        bans=await queries.bans_of(session, board_id) if board_id is not None else None,
        pending=await queries.pending_count(session, viewer),
        **common(),
    )


def _done(request: Request, back: str, message: LazyText | str, level: str = "success") -> Response:
    response = RedirectResponse(back, status_code=303)
    flash(request, response, message, level)  # type: ignore[arg-type]
    return response


def _queue_back(request: Request) -> str:
    """Back to the page the form was sent from, when it is this site's."""
    referer = request.headers.get("referer", "")
    path = referer.split(str(request.base_url).rstrip("/"), 1)[-1] if referer else ""
    return safe_back(path, "/community/moderation")


async def _target(
    session: AsyncSession, principal: Principal, kind: Kind, target_id: int
) -> tuple[int, BoardAccess]:
    if kind == "post":
        post, found = await access_post(session, principal, target_id)
        await actions.refuse_unless_moderator(principal, found)
        return post.id, found
    _comment, post, found = await access_comment(session, principal, target_id)
    await actions.refuse_unless_moderator(principal, found)
    return post.id, found


@router.post("/community/moderation/{kind}/{target_id}/resolve")
async def resolve_submit(
    request: Request,
    kind: Kind,
    target_id: int,
    session: SessionDep,
    principal: SignedIn,
    action: Annotated[str, Form(max_length=10)] = "",
    note: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    back = _queue_back(request)
    _post_id, found = await _target(session, principal, kind, target_id)
    try:
        body = ResolveIn(action=action, note=note)
        closed = await actions.check_resolve(session, principal, found, kind, target_id, body)
    except ValidationError as exc:
        return _done(request, back, "；".join(errors_of_validation(exc).values()), "danger")
    except Conflict as problem:
        return _done(request, back, str(problem.detail), "danger")
    message = (
        _("已隐藏内容，{n} 条举报已结案", n=closed)
        if body.action == "remove"
        else _("已驳回 {n} 条举报", n=closed)
    )
    return _done(request, back, message)


@router.post("/community/moderation/{kind}/{target_id}/restore")
async def restore_from_queue(
    request: Request, kind: Kind, target_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    return await _restore(request, session, principal, kind, target_id, _queue_back(request))


async def _restore(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    kind: Kind,
    target_id: int,
    back: str,
) -> Response:
    await _target(session, principal, kind, target_id)
    try:
        if kind == "post":
            post, _f = await access_post(session, principal, target_id)
            await actions.check_restore_post(session, post, principal.person_id)
        else:
            comment, post, _f = await access_comment(session, principal, target_id)
            await actions.check_restore_comment(session, comment, post, principal.person_id)
    except Conflict as problem:
        return _done(request, back, str(problem.detail), "danger")
    return _done(request, back, _("已恢复"))


async def _hide(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    kind: Kind,
    target_id: int,
    note: str,
) -> Response:
    post_id, _found = await _target(session, principal, kind, target_id)
    back = f"/community/posts/{post_id}"
    try:
        checked = HideIn(note=note)
    except ValidationError:
        return _done(request, back, _("请填写隐藏原因（200 字以内）"), "danger")
    comment = None
    if kind == "post":
        post, _f = await access_post(session, principal, target_id)
    else:
        comment, post, _f = await access_comment(session, principal, target_id)
    changed = await actions.do_hide(session, post, comment, principal.person_id, checked.note)
    if not changed:
        return _done(request, back, _("内容已被隐藏"), "warning")
    return _done(request, back, _("已隐藏，并已通知作者"))


NoteForm = Annotated[str, Form(max_length=400)]


@router.post("/community/posts/{post_id}/hide")
async def hide_post(
    request: Request, post_id: int, session: SessionDep, principal: SignedIn, note: NoteForm = ""
) -> Response:
    return await _hide(request, session, principal, "post", post_id, note)


@router.post("/community/posts/{post_id}/restore")
async def restore_post(
    request: Request, post_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    return await _restore(
        request, session, principal, "post", post_id, f"/community/posts/{post_id}"
    )


@router.post("/community/comments/{comment_id}/hide")
async def hide_comment(
    request: Request,
    comment_id: int,
    session: SessionDep,
    principal: SignedIn,
    note: NoteForm = "",
) -> Response:
    return await _hide(request, session, principal, "comment", comment_id, note)


@router.post("/community/comments/{comment_id}/restore")
async def restore_comment(
    request: Request, comment_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    _comment, post, _found = await access_comment(session, principal, comment_id)
    return await _restore(
        request, session, principal, "comment", comment_id, f"/community/posts/{post.id}"
    )


IdForm = Annotated[str, Form(max_length=20)]


@router.post("/community/moderation/ban")
async def ban_submit(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    board_id: IdForm = "",
    post_id: IdForm = "",
    comment_id: IdForm = "",
    days: Annotated[str, Form(max_length=4)] = "",
    reason: NoteForm = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    target = safe_back(back, "/community/moderation")
    if not board_id.isdigit():
        return _done(request, target, _("板块不存在"), "danger")
    found = await access_board(session, principal, int(board_id))
    await actions.refuse_unless_moderator(principal, found)
    try:
        body = BanIn(
            post_id=int(post_id) if post_id.isdigit() else None,
            comment_id=int(comment_id) if comment_id.isdigit() else None,
            days=int(days) if days.isdigit() else 0,
            reason=reason,
        )
        await actions.check_ban(session, principal, found, body)
    except ValidationError as exc:
        return _done(request, target, "；".join(errors_of_validation(exc).values()), "danger")
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        await session.rollback()
        return _done(request, target, str(problem.detail or problem.title), "danger")
    return _done(request, target, _("已禁言 {n} 天，并已通知本人", n=body.days))


@router.post("/community/moderation/bans/{ban_id}/lift")
async def lift_ban_submit(
    request: Request,
    ban_id: int,
    session: SessionDep,
    principal: SignedIn,
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    await actions.check_lift_ban(session, principal, ban_id)
    return _done(request, safe_back(back, "/community/moderation"), _("已解除禁言"))
