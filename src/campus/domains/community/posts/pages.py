"""Pages of posts: one post with its comments (opening it counts a view), the editor with
picture upload and preview, my posts, the following feed, a person's posts, and the small
htmx and form posts behind likes, follows, comments, reports and deletions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community import text
from campus.domains.community.access import access_comment, access_post
from campus.domains.community.boards import queries as board_queries
from campus.domains.community.moderation import actions as moderation_actions
from campus.domains.community.moderation import queries as moderation_queries
from campus.domains.community.pages import FEED_PAGE_SIZE, common
from campus.domains.community.posts import actions, queries
from campus.domains.community.schemas import (
    BODY_MAX,
    COMMENT_MAX,
    MAX_IMAGES,
    CommentIn,
    PostIn,
    ReportIn,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, PageParamsDep
from campus.kernel.templating import errors_of, errors_of_validation, flash, is_htmx, render
from campus.platform.access.service import signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["community-pages"])
SignedIn = Annotated[Principal, signed_in()]
COMMENT_PAGE_SIZE = 30
# The editor's inputs of each board kind's extra fields.
EXTRA_FORM_FIELDS: dict[str, tuple[str, ...]] = {
    "market": ("price", "condition"),
    "lost_found": ("lf_type", "place", "time"),
    "event": ("starts_at", "ends_at", "place"),
}


def _back_to(post_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/community/posts/{post_id}{anchor}", status_code=303)


# ---------------------------------------------------------------- one post


async def _post_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    post_id: int,
    *,
    cpage: int = 1,
    errors: dict[str, str] | None = None,
    comment_body: str = "",
) -> Response:
    post, found = await access_post(session, principal, post_id)
    viewer = await queries.viewer_of(session, principal)
    out = await queries.post_out(session, viewer, post)
    comments, total = await queries.comments_of(
        session, viewer, post, PageParams(page=cpage, page_size=COMMENT_PAGE_SIZE)
    )
    author_id = out.author.id
    return render(
        request,
        "community/post.html",
        422 if errors else 200,
        post=out,
        board=found.board,
        board_access=found,
        banned_until=found.banned_until,
        may_comment=found.banned_until is None and found.board.active,
        comments=comments,
        cpage=cpage,
        comment_pages=max(1, -(-total // COMMENT_PAGE_SIZE)),
        following=author_id is not None
        and await queries.is_following(session, principal.person_id, author_id),
        followers=await queries.follower_count(session, author_id) if author_id else 0,
        errors=errors or {},
        comment_body=comment_body,
        **common(),
    )


@router.get("/community/posts/{post_id}")
async def post_page(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: SignedIn,
    cpage: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    if await actions.count_view(session, post, principal.person_id):
        await session.refresh(post)
    return await _post_page(request, session, principal, post_id, cpage=cpage)


@router.post("/community/posts/{post_id}/comments")
async def comment_submit(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: SignedIn,
    body: Annotated[str, Form(max_length=COMMENT_MAX * 2)] = "",
    parent_id: Annotated[str, Form(max_length=20)] = "",
    anonymous: Annotated[str | None, Form(max_length=2)] = None,
) -> Response:
    post, found = await access_post(session, principal, post_id)
    try:
        comment = CommentIn(
            body=body,
            parent_id=int(parent_id) if parent_id.isdigit() else None,
            anonymous=bool(anonymous),
        )
        comment_id = await actions.check_comment(session, principal, post, found, comment)
    except ValidationError as exc:
        errors = errors_of_validation(exc)
    except Problem as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        errors = errors_of(problem)
    else:
        return _back_to(post_id, f"#comment-{comment_id}")
    await session.rollback()
    return await _post_page(request, session, principal, post_id, errors=errors, comment_body=body)


@router.post("/community/posts/{post_id}/like")
async def like_post(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: SignedIn,
    like: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    out = await actions.do_like_post(session, post, principal.person_id, like == "1")
    if not is_htmx(request):
        return _back_to(post_id)
    return render(
        request,
        "community/partials/like_button.html",
        kind="post",
        id=post_id,
        liked=out.liked,
        count=out.like_count,
    )


@router.post("/community/comments/{comment_id}/like")
async def like_comment(
    request: Request,
    comment_id: int,
    session: SessionDep,
    principal: SignedIn,
    like: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    comment, post, _found = await access_comment(session, principal, comment_id)
    out = await actions.do_like_comment(session, comment, principal.person_id, like == "1")
    if not is_htmx(request):
        return _back_to(post.id, f"#comment-{comment_id}")
    return render(
        request,
        "community/partials/like_button.html",
        kind="comment",
        id=comment_id,
        liked=out.liked,
        count=out.like_count,
    )


ReasonForm = Annotated[str, Form(max_length=100)]
DetailForm = Annotated[str, Form(max_length=300)]


def _reason(reason: str, detail: str) -> str:
    reason, detail = reason.strip(), detail.strip()
    return f"{reason}：{detail}" if reason and detail else reason or detail


async def _report(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    post_id: int,
    comment_id: int | None,
    reason: str,
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    comment = None
    if comment_id is not None:
        comment, post, _found = await access_comment(session, principal, comment_id)
    response = _back_to(post.id, f"#comment-{comment_id}" if comment_id else "")
    try:
        await moderation_actions.check_report(
            session, principal, post, comment, ReportIn(reason=reason)
        )
    except ValidationError as exc:
        message = next(iter(errors_of_validation(exc).values()), "")
        flash(request, response, _("举报未提交：{why}", why=message), "danger")
        return response
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("举报已提交，版主会尽快处理"))
    return response


@router.post("/community/posts/{post_id}/report")
async def report_post(
    request: Request,
    post_id: int,
    session: SessionDep,
    principal: SignedIn,
    reason: ReasonForm = "",
    detail: DetailForm = "",
) -> Response:
    return await _report(request, session, principal, post_id, None, _reason(reason, detail))


@router.post("/community/comments/{comment_id}/report")
async def report_comment(
    request: Request,
    comment_id: int,
    session: SessionDep,
    principal: SignedIn,
    reason: ReasonForm = "",
    detail: DetailForm = "",
) -> Response:
    comment, post, _found = await access_comment(session, principal, comment_id)
    return await _report(request, session, principal, post.id, comment.id, _reason(reason, detail))


@router.post("/community/posts/{post_id}/delete")
async def delete_post(
    request: Request, post_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    await actions.check_delete_post(session, principal, post)
    response = RedirectResponse("/community/mine", status_code=303)
    flash(request, response, _("帖子已删除"))
    return response


@router.post("/community/comments/{comment_id}/delete")
async def delete_comment(
    request: Request, comment_id: int, session: SessionDep, principal: SignedIn
) -> Response:
    comment, post, _found = await access_comment(session, principal, comment_id)
    await actions.check_delete_comment(session, principal, comment, post)
    response = _back_to(post.id, "#comments")
    flash(request, response, _("评论已删除"))
    return response


@router.post("/community/people/{person_id}/follow")
async def follow(
    request: Request,
    person_id: int,
    session: SessionDep,
    principal: SignedIn,
    follow: Annotated[str, Form(max_length=1)] = "1",
) -> Response:
    await actions.check_follow(session, principal, person_id, follow == "1")
    if not is_htmx(request):
        return RedirectResponse(f"/community/people/{person_id}", status_code=303)
    return render(
        request,
        "community/partials/follow_button.html",
        person_id=person_id,
        following=follow == "1",
        followers=await queries.follower_count(session, person_id),
    )


# ---------------------------------------------------------------- the editor


def _form_values(
    board_id: int | None,
    title: str = "",
    body: str = "",
    images: list[str] | None = None,
    anonymous: bool = False,
    **extra: str,
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "board_id": board_id,
        "title": title,
        "body": body,
        "images": images or [],
        "anonymous": anonymous,
    }
    for key in ("price", "condition", "lf_type", "place", "time", "starts_at", "ends_at"):
        values[key] = extra.get(key, "")
    return values


async def _editor(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    boards = [b for b in await board_queries.boards_for(session, principal) if b.may_post]
    if values["board_id"] not in {b.id for b in boards} and boards:
        values["board_id"] = boards[0].id
    return render(
        request,
        "community/editor.html",
        422 if errors else 200,
        boards=boards,
        boards_info={b.id: {"kind": b.kind, "anonymous": b.allow_anonymous} for b in boards},
        values=values,
        errors=errors or {},
        max_images=MAX_IMAGES,
        **common(),
    )


@router.get("/community/new")
async def new_post_page(
    request: Request,
    session: ReadSessionDep,
    principal: SignedIn,
    board: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:
    boards = await board_queries.boards_for(session, principal)
    chosen = next((b.id for b in boards if b.code == board), None)
    return await _editor(request, session, principal, _form_values(chosen))


class PostForm:
    def __init__(
        self,
        board_id: Annotated[str, Form(max_length=20)] = "",
        title: Annotated[str, Form(max_length=200)] = "",
        body: Annotated[str, Form(max_length=BODY_MAX * 2)] = "",
        images: Annotated[list[str] | None, Form()] = None,
        anonymous: Annotated[str | None, Form(max_length=2)] = None,
        price: Annotated[str | None, Form(max_length=20)] = None,
        condition: Annotated[str | None, Form(max_length=20)] = None,
        lf_type: Annotated[str | None, Form(max_length=10)] = None,
        place: Annotated[str | None, Form(max_length=200)] = None,
        time: Annotated[str | None, Form(max_length=30)] = None,
        starts_at: Annotated[str | None, Form(max_length=30)] = None,
        ends_at: Annotated[str | None, Form(max_length=30)] = None,
    ) -> None:
        given = {
            "price": price,
            "condition": condition,
            "lf_type": lf_type,
            "place": place,
            "time": time,
            "starts_at": starts_at,
            "ends_at": ends_at,
        }
        # Disabled inputs (other board kinds) are not sent: what is sent is this kind's.
        self.extra_given = {k: v for k, v in given.items() if v is not None}
        self.values = _form_values(
            int(board_id) if board_id.isdigit() else None,
            title,
            body,
            images or [],
            bool(anonymous),
            **{k: v for k, v in self.extra_given.items()},
        )

    def extra_fields(self, kind: str | None) -> dict[str, Any] | None:
        """The chosen board kind's extra fields as the API takes them (a browser without
        scripts sends every kind's); empty ones left out, so a missing one is named."""
        names = {"lf_type": "type"}
        wanted = EXTRA_FORM_FIELDS.get(kind or "", ())
        found = {
            names.get(k, k): v.strip()
            for k, v in self.extra_given.items()
            if k in wanted and v.strip()
        }
        return found or None


@router.post("/community/new")
async def new_post_submit(
    request: Request,
    session: SessionDep,
    principal: SignedIn,
    form: Annotated[PostForm, Depends()],
) -> Response:
    values = form.values
    try:
        post_id = await actions.check_create_post(
            session,
            principal,
            PostIn(
                board_id=values["board_id"] or 0,
                title=values["title"],
                body=values["body"],
                images=values["images"],
                anonymous=values["anonymous"],
                extra=form.extra_fields(await board_queries.kind_of(session, values["board_id"])),
            ),
        )
    except ValidationError as exc:
        errors = errors_of_validation(exc)
    except Problem as problem:
        if problem.status == 404 or (problem.status == 403 and not problem.errors):
            raise
        errors = errors_of(problem)
    else:
        response = RedirectResponse(f"/community/posts/{post_id}", status_code=303)
        flash(request, response, _("已发布"))
        return response
    await session.rollback()
    return await _editor(request, session, principal, values, errors)


@router.post("/community/preview", dependencies=[signed_in()])
async def preview(
    request: Request, body: Annotated[str, Form(max_length=BODY_MAX * 2)] = ""
) -> Response:
    """The body as it will be shown (htmx, from the editor)."""
    return render(
        request, "community/partials/preview.html", html=text.render(body) if body.strip() else ""
    )


# ---------------------------------------------------------------- lists


async def _list_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    heading: str,
    active: str,
    posts: Any,
    more: str,
    empty: str,
    **extra: Any,
) -> Response:
    if is_htmx(request):
        return render(
            request, "community/partials/post_rows.html", posts=posts, more=more, **common()
        )
    viewer = await queries.viewer_of(session, principal)
    values: dict[str, Any] = {"person_id": None, "followed": None, **extra}
    return render(
        request,
        "community/list.html",
        heading=heading,
        active=active,
        posts=posts,
        more=more,
        empty=empty,
        moderates=viewer.moderated is None or bool(viewer.moderated),
        pending=await moderation_queries.pending_count(session, viewer),
        **values,
        **common(),
    )


def _feed_paging(paging: PageParams) -> PageParams:
    return paging.model_copy(update={"page_size": FEED_PAGE_SIZE})


@router.get("/community/mine")
async def my_posts_page(
    request: Request, session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep
) -> Response:
    viewer = await queries.viewer_of(session, principal)
    posts = await queries.mine(session, viewer, _feed_paging(paging))
    return await _list_page(
        request,
        session,
        principal,
        heading=str(_("我的帖子")),
        active="mine",
        posts=posts,
        more=f"/community/mine?page={posts.page + 1}",
        empty=str(_("您还没有发过帖子")),
    )


@router.get("/community/following")
async def following_page(
    request: Request, session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep
) -> Response:
    viewer = await queries.viewer_of(session, principal)
    posts = await queries.following_feed(session, viewer, _feed_paging(paging))
    return await _list_page(
        request,
        session,
        principal,
        heading=str(_("关注")),
        active="following",
        posts=posts,
        more=f"/community/following?page={posts.page + 1}",
        empty=str(_("您关注的人还没有发帖")),
        followed=await queries.following_of(session, principal.person_id),
    )


@router.get("/community/people/{person_id}")
async def person_page(
    request: Request,
    person_id: int,
    session: ReadSessionDep,
    principal: SignedIn,
    paging: PageParamsDep,
) -> Response:
    person = await users.get_person_ref(session, person_id)
    if person is None:
        raise NotFound(_("用户不存在"))
    viewer = await queries.viewer_of(session, principal)
    posts = await queries.by_person(session, viewer, person_id, _feed_paging(paging))
    mine = person_id == principal.person_id
    return await _list_page(
        request,
        session,
        principal,
        heading=str(_("{name} 的帖子", name=person.name)),
        active="person",
        posts=posts,
        more=f"/community/people/{person_id}?page={posts.page + 1}",
        empty=str(_("还没有署名发布的帖子")),
        person_id=None if mine else person_id,
        following=await queries.is_following(session, principal.person_id, person_id),
        followers=await queries.follower_count(session, person_id),
    )
