"""JSON API of reports and moderation: /api/v1/community/... A board's moderators (its
``cmty_moderator`` rows, or ``community.moderate``) act on it; everyone else gets an audited
403. Reporting needs only that the reporter can read the content."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from campus.domains.community.access import access_board, access_comment, access_post
from campus.domains.community.moderation import actions, queries
from campus.domains.community.posts.queries import viewer_of
from campus.domains.community.schemas import (
    BanIn,
    BanOut,
    HideIn,
    QueuePage,
    ReportCreated,
    ReportIn,
    ReportStatus,
    ResolveIn,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Conflict
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.platform.access import service as access
from campus.platform.access.service import signed_in

router = APIRouter(prefix="/api/v1/community", tags=["community"])
SignedIn = Annotated[Principal, signed_in()]


# ---------------------------------------------------------------- reports


@router.post(
    "/posts/{post_id}/report", response_model=ReportCreated, status_code=201, summary="举报帖子"
)
async def report_post(
    post_id: int, body: ReportIn, session: SessionDep, principal: SignedIn
) -> ReportCreated:
    post, _found = await access_post(session, principal, post_id)
    local, shared = await actions.check_report(session, principal, post, None, body)
    return ReportCreated(id=local, report_id=shared)


@router.post(
    "/comments/{comment_id}/report",
    response_model=ReportCreated,
    status_code=201,
    summary="举报评论",
)
async def report_comment(
    comment_id: int, body: ReportIn, session: SessionDep, principal: SignedIn
) -> ReportCreated:
    comment, post, _found = await access_comment(session, principal, comment_id)
    local, shared = await actions.check_report(session, principal, post, comment, body)
    return ReportCreated(id=local, report_id=shared)


# ---------------------------------------------------------------- the queue


@router.get("/moderation/queue", response_model=QueuePage, summary="我管理的板块中被举报的内容")
async def moderation_queue(
    session: ReadSessionDep,
    principal: SignedIn,
    paging: PageParamsDep,
    status: ReportStatus = "pending",
    board_id: int | None = None,
) -> QueuePage:
    viewer = await viewer_of(session, principal)
    if board_id is not None:
        await actions.refuse_unless_moderator(
            principal, await access_board(session, principal, board_id)
        )
    elif viewer.moderated is not None and not viewer.moderated:
        raise await access.denied(principal, "community.moderate", _("您不是任何板块的版主"))
    return await queries.queue(session, viewer, paging, status=status, board_id=board_id)


@router.post("/moderation/{kind}/{target_id}/resolve", summary="处理举报：隐藏内容或驳回")
async def resolve(
    kind: Literal["post", "comment"],
    target_id: int,
    body: ResolveIn,
    session: SessionDep,
    principal: SignedIn,
) -> dict[str, int]:
    if kind == "post":
        _post, found = await access_post(session, principal, target_id)
    else:
        _comment, _post, found = await access_comment(session, principal, target_id)
    await actions.refuse_unless_moderator(principal, found)
    closed = await actions.check_resolve(session, principal, found, kind, target_id, body)
    return {"closed": closed}


# ---------------------------------------------------------------- hiding and restoring


@router.post("/posts/{post_id}/hide", status_code=204, summary="隐藏帖子（版主）")
async def hide_post(
    post_id: int, body: HideIn, session: SessionDep, principal: SignedIn
) -> Response:
    post, found = await access_post(session, principal, post_id)
    await actions.refuse_unless_moderator(principal, found)
    if not await actions.do_hide(session, post, None, principal.person_id, body.note):
        raise Conflict.on("status", _("帖子已被隐藏"))
    return Response(status_code=204)


@router.post("/posts/{post_id}/restore", status_code=204, summary="恢复被隐藏的帖子（版主）")
async def restore_post(post_id: int, session: SessionDep, principal: SignedIn) -> Response:
    post, found = await access_post(session, principal, post_id)
    await actions.refuse_unless_moderator(principal, found)
    await actions.check_restore_post(session, post, principal.person_id)
    return Response(status_code=204)


@router.post("/comments/{comment_id}/hide", status_code=204, summary="隐藏评论（版主）")
async def hide_comment(
    comment_id: int, body: HideIn, session: SessionDep, principal: SignedIn
) -> Response:
    comment, post, found = await access_comment(session, principal, comment_id)
    await actions.refuse_unless_moderator(principal, found)
    if not await actions.do_hide(session, post, comment, principal.person_id, body.note):
        raise Conflict.on("status", _("评论已被隐藏"))
    return Response(status_code=204)


@router.post("/comments/{comment_id}/restore", status_code=204, summary="恢复被隐藏的评论（版主）")
async def restore_comment(comment_id: int, session: SessionDep, principal: SignedIn) -> Response:
    comment, post, found = await access_comment(session, principal, comment_id)
    await actions.refuse_unless_moderator(principal, found)
    await actions.check_restore_comment(session, comment, post, principal.person_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- bans


@router.get("/boards/{board_id}/bans", response_model=list[BanOut], summary="板块内生效中的禁言")
async def list_bans(board_id: int, session: ReadSessionDep, principal: SignedIn) -> list[BanOut]:
    found = await access_board(session, principal, board_id)
    await actions.refuse_unless_moderator(principal, found)
    return await queries.bans_of(session, board_id)


@router.post(
    "/boards/{board_id}/bans", response_model=BanOut, status_code=201, summary="在板块内禁言某人"
)
async def ban(board_id: int, body: BanIn, session: SessionDep, principal: SignedIn) -> BanOut:
    found = await access_board(session, principal, board_id)
    await actions.refuse_unless_moderator(principal, found)
    ban_id = await actions.check_ban(session, principal, found, body)
    return next(b for b in await queries.bans_of(session, board_id) if b.id == ban_id)


@router.delete("/bans/{ban_id}", status_code=204, summary="解除禁言")
async def lift_ban(ban_id: int, session: SessionDep, principal: SignedIn) -> Response:
    await actions.check_lift_ban(session, principal, ban_id)
    return Response(status_code=204)
