"""JSON API of posts, comments, likes and follows: /api/v1/community/... Thin: parse,
authorise, call one action or query, answer with schemas.

Likes and follows are ``PUT`` (give) and ``DELETE`` (take back): both idempotent, a repeated
one answers 200 with the unchanged state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import Response

from campus.domains.community import images
from campus.domains.community.access import access_board, access_comment, access_post
from campus.domains.community.posts import actions, queries
from campus.domains.community.schemas import (
    CommentIn,
    CommentOut,
    CommentPage,
    FollowOut,
    LikeOut,
    PersonBrief,
    PostIn,
    PostOut,
    PostPage,
    Sort,
)
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import signed_in
from campus.platform.files import service as files
from campus.platform.users import service as users

router = APIRouter(prefix="/api/v1/community", tags=["community"])
SignedIn = Annotated[Principal, signed_in()]


# ---------------------------------------------------------------- feeds


@router.get("/posts", response_model=PostPage, summary="帖子流：某板块或全部板块，最新或最热")
async def list_posts(
    session: ReadSessionDep,
    principal: SignedIn,
    paging: PageParamsDep,
    board: str | None = None,
    sort: Sort = "latest",
) -> PostPage:
    viewer = await queries.viewer_of(session, principal)
    board_id = None
    if board:
        found = await access_board(session, principal, int(board) if board.isdigit() else board)
        board_id = found.board.id
    return await queries.feed(session, viewer, paging, board_id=board_id, sort=sort)


@router.get("/posts/mine", response_model=PostPage, summary="我的帖子（含匿名与被隐藏的）")
async def my_posts(session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep) -> PostPage:
    return await queries.mine(session, await queries.viewer_of(session, principal), paging)


@router.get("/posts/following", response_model=PostPage, summary="我关注的人发的帖子（不含匿名帖）")
async def following_posts(
    session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep
) -> PostPage:
    viewer = await queries.viewer_of(session, principal)
    return await queries.following_feed(session, viewer, paging)


@router.get("/people/{person_id}/posts", response_model=PostPage, summary="某人署名发布的帖子")
async def person_posts(
    person_id: int, session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep
) -> PostPage:
    if await users.get_person_ref(session, person_id) is None:
        raise NotFound(_("用户不存在"))
    viewer = await queries.viewer_of(session, principal)
    return await queries.by_person(session, viewer, person_id, paging)


# ---------------------------------------------------------------- one post


@router.post("/posts", response_model=PostOut, status_code=201, summary="发帖")
async def create_post(body: PostIn, session: SessionDep, principal: SignedIn) -> PostOut:
    post_id = await actions.check_create_post(session, principal, body)
    post, _found = await access_post(session, principal, post_id)
    return await queries.post_out(session, await queries.viewer_of(session, principal), post)


@router.get("/posts/{post_id}", response_model=PostOut, summary="帖子详情（计一次浏览）")
async def get_post(post_id: int, session: SessionDep, principal: SignedIn) -> PostOut:
    post, _found = await access_post(session, principal, post_id)
    await actions.count_view(session, post, principal.person_id)
    await session.refresh(post)
    return await queries.post_out(session, await queries.viewer_of(session, principal), post)


@router.delete("/posts/{post_id}", status_code=204, summary="删除自己的帖子")
async def delete_post(post_id: int, session: SessionDep, principal: SignedIn) -> Response:
    post, _found = await access_post(session, principal, post_id)
    await actions.check_delete_post(session, principal, post)
    return Response(status_code=204)


@router.get("/posts/{post_id}/images/{file_id}", summary="帖子的图片")
async def post_image(
    post_id: int, file_id: str, session: ReadSessionDep, rt: RuntimeDep, principal: SignedIn
) -> Response:
    post, _found = await access_post(session, principal, post_id)
    opened = await images.download(rt, session, post.id, post.images or [], file_id)
    response = files.download_response(opened)
    # Pictures of a post do not change: the browser may keep them for the session.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------- comments


@router.get(
    "/posts/{post_id}/comments", response_model=CommentPage, summary="评论（一级评论分页，含回复）"
)
async def list_comments(
    post_id: int, session: ReadSessionDep, principal: SignedIn, paging: PageParamsDep
) -> CommentPage:
    post, _found = await access_post(session, principal, post_id)
    viewer = await queries.viewer_of(session, principal)
    items, total = await queries.comments_of(session, viewer, post, paging)
    pages = max(1, -(-total // paging.page_size))
    return CommentPage(
        items=items, total=total, page=paging.page, page_size=paging.page_size, pages=pages
    )


@router.post(
    "/posts/{post_id}/comments", response_model=CommentOut, status_code=201, summary="评论或回复"
)
async def create_comment(
    post_id: int, body: CommentIn, session: SessionDep, principal: SignedIn
) -> CommentOut:
    post, found = await access_post(session, principal, post_id)
    comment_id = await actions.check_comment(session, principal, post, found, body)
    comment, post, _found = await access_comment(session, principal, comment_id)
    viewer = await queries.viewer_of(session, principal)
    return await queries.comment_out(session, viewer, comment, post)


@router.delete("/comments/{comment_id}", status_code=204, summary="删除自己的评论")
async def delete_comment(comment_id: int, session: SessionDep, principal: SignedIn) -> Response:
    comment, post, _found = await access_comment(session, principal, comment_id)
    await actions.check_delete_comment(session, principal, comment, post)
    return Response(status_code=204)


# ---------------------------------------------------------------- likes


@router.put("/posts/{post_id}/like", response_model=LikeOut, summary="点赞（重复点赞无变化）")
async def like_post(post_id: int, session: SessionDep, principal: SignedIn) -> LikeOut:
    post, _found = await access_post(session, principal, post_id)
    return await actions.do_like_post(session, post, principal.person_id, True)


@router.delete("/posts/{post_id}/like", response_model=LikeOut, summary="取消点赞")
async def unlike_post(post_id: int, session: SessionDep, principal: SignedIn) -> LikeOut:
    post, _found = await access_post(session, principal, post_id)
    return await actions.do_like_post(session, post, principal.person_id, False)


@router.put("/comments/{comment_id}/like", response_model=LikeOut, summary="给评论点赞")
async def like_comment(comment_id: int, session: SessionDep, principal: SignedIn) -> LikeOut:
    comment, _post, _found = await access_comment(session, principal, comment_id)
    return await actions.do_like_comment(session, comment, principal.person_id, True)


@router.delete("/comments/{comment_id}/like", response_model=LikeOut, summary="取消评论点赞")
async def unlike_comment(comment_id: int, session: SessionDep, principal: SignedIn) -> LikeOut:
    comment, _post, _found = await access_comment(session, principal, comment_id)
    return await actions.do_like_comment(session, comment, principal.person_id, False)


# ---------------------------------------------------------------- follows


async def _follow_state(session: SessionDep, principal: Principal, person_id: int) -> FollowOut:
    return FollowOut(
        following=await queries.is_following(session, principal.person_id, person_id),
        followers=await queries.follower_count(session, person_id),
    )


@router.put("/people/{person_id}/follow", response_model=FollowOut, summary="关注某人")
async def follow(person_id: int, session: SessionDep, principal: SignedIn) -> FollowOut:
    await actions.check_follow(session, principal, person_id, True)
    return await _follow_state(session, principal, person_id)


@router.delete("/people/{person_id}/follow", response_model=FollowOut, summary="取消关注")
async def unfollow(person_id: int, session: SessionDep, principal: SignedIn) -> FollowOut:
    await actions.check_follow(session, principal, person_id, False)
    return await _follow_state(session, principal, person_id)


@router.get("/following", response_model=list[PersonBrief], summary="我关注的人")
async def my_following(session: ReadSessionDep, principal: SignedIn) -> list[PersonBrief]:
    people = await queries.following_of(session, principal.person_id)
    return [PersonBrief(id=p.id, name=p.name) for p in people]
