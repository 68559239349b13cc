"""Reads of posts and comments, and how a reader sees them: anonymous authors shown by their
pseudonym (their real name only to the board's moderators), likes of the reader marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community import images, ranking
from campus.domains.community.access import moderated_board_ids, moderates
from campus.domains.community.models import Board, Comment, CommentLike, Follow, Post, PostLike
from campus.domains.community.pseudonyms import pseudonym
from campus.domains.community.schemas import AuthorOut, CommentOut, PostOut, PostPage, Sort
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, paginate
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

REPLIES_SHOWN = 50  # replies shown under one comment


@dataclass(frozen=True)
class Viewer:
    person_id: int
    moderated: set[int] | None  # None: every board

    def moderates(self, board_id: int) -> bool:
        return moderates(self.moderated, board_id)


async def viewer_of(session: AsyncSession, principal: Principal) -> Viewer:
    return Viewer(principal.person_id, await moderated_board_ids(session, principal))


# ---------------------------------------------------------------- authors


def author_out(
    *,
    post_id: int,
    author_id: int,
    anonymous: bool,
    op: tuple[int, bool],
    people: dict[int, PersonRef],
    reveal: bool,
) -> AuthorOut:
    """The author as the reader sees them. ``op`` is the post's (author, anonymous): a comment
    is marked 楼主 only when written the same way as the post, so that the mark never ties an
    anonymous writing to a named one."""
    is_op = author_id == op[0] and anonymous == op[1]
    person = people.get(author_id)
    if not anonymous:
        name = person.name if person else str(_("已注销用户"))
        return AuthorOut(id=author_id, name=name, is_op=is_op)
    return AuthorOut(
        id=None,
        name=pseudonym(post_id, author_id),
        anonymous=True,
        is_op=is_op,
        real_id=author_id if reveal else None,
        real_name=(person.name if person else None) if reveal else None,
    )


async def _people_for(
    session: AsyncSession, rows: Sequence[tuple[int, bool, int]], viewer: Viewer
) -> dict[int, PersonRef]:
    """Names of the authors the reader may see: (author, anonymous, board) per row."""
    wanted = {a for a, anonymous, board in rows if not anonymous or viewer.moderates(board)}
    return await users.get_people(session, list(wanted))


# ---------------------------------------------------------------- posts


async def _boards(session: AsyncSession, ids: set[int]) -> dict[int, Board]:
    if not ids:
        return {}
    rows = await session.scalars(select(Board).where(Board.id.in_(ids)))
    return {b.id: b for b in rows.all()}


async def liked_posts(session: AsyncSession, person_id: int, post_ids: list[int]) -> set[int]:
    if not post_ids:
        return set()
    rows = await session.scalars(
        select(PostLike.post_id).where(
            PostLike.person_id == person_id, PostLike.post_id.in_(post_ids)
        )
    )
    return set(rows.all())


async def posts_out(session: AsyncSession, viewer: Viewer, posts: Sequence[Post]) -> list[PostOut]:
    boards = await _boards(session, {p.board_id for p in posts})
    people = await _people_for(
        session, [(p.author_id, p.anonymous, p.board_id) for p in posts], viewer
    )
    liked = await liked_posts(session, viewer.person_id, [p.id for p in posts])
    out = []
    for post in posts:
        board = boards[post.board_id]
        out.append(
            PostOut(
                id=post.id,
                board_id=board.id,
                board_code=board.code,
                board_name=board.name,
                title=post.title,
                body=post.body,
                images=images.listed(post.id, post.images or []),
                extra=post.extra,
                author=author_out(
                    post_id=post.id,
                    author_id=post.author_id,
                    anonymous=post.anonymous,
                    op=(post.author_id, post.anonymous),
                    people=people,
                    reveal=viewer.moderates(post.board_id),
                ),
                status=post.status,
                like_count=post.like_count,
                comment_count=post.comment_count,
                view_count=post.view_count,
                liked=post.id in liked,
                mine=post.author_id == viewer.person_id,
                moderation_note=post.moderation_note
                if post.status != "visible"
                and (post.author_id == viewer.person_id or viewer.moderates(post.board_id))
                else "",
                created_at=post.created_at,
            )
        )
    return out


async def post_out(session: AsyncSession, viewer: Viewer, post: Post) -> PostOut:
    return (await posts_out(session, viewer, [post]))[0]


def _listed() -> Select[Any]:
    """Visible posts of open boards."""
    return (
        select(Post)
        .join(Board, Board.id == Post.board_id)
        .where(Post.status == "visible", Board.active.is_(True))
    )


def _sorted(stmt: Select[Any], sort: Sort) -> Select[Any]:
    if sort == "hot":
        now = clock.now()
        return stmt.where(Post.created_at >= now - ranking.WINDOW).order_by(
            ranking.hot_score(int(now.timestamp())).desc(), Post.id.desc()
        )
    return stmt.order_by(Post.created_at.desc(), Post.id.desc())


async def _page(
    session: AsyncSession, viewer: Viewer, stmt: Select[Any], paging: PageParams
) -> PostPage:
    page = await paginate(session, stmt, paging.page, paging.page_size)
    items = await posts_out(session, viewer, list(page.items))
    return PostPage(
        items=items, total=page.total, page=page.page, page_size=page.page_size, pages=page.pages
    )


async def feed(
    session: AsyncSession,
    viewer: Viewer,
    paging: PageParams,
    *,
    board_id: int | None = None,
    sort: Sort = "latest",
) -> PostPage:
    """A board's posts (or every open board's), newest or hottest first."""
    stmt = _listed()
    if board_id is not None:
        stmt = stmt.where(Post.board_id == board_id)
    return await _page(session, viewer, _sorted(stmt, sort), paging)


async def mine(session: AsyncSession, viewer: Viewer, paging: PageParams) -> PostPage:
    """The reader's own posts, anonymous and hidden ones included."""
    stmt = (
        select(Post)
        .where(Post.author_id == viewer.person_id, Post.status != "deleted")
        .order_by(Post.created_at.desc(), Post.id.desc())
    )
    return await _page(session, viewer, stmt, paging)


async def by_person(
    session: AsyncSession, viewer: Viewer, person_id: int, paging: PageParams
) -> PostPage:
    """A person's posts under their name: never their anonymous ones (that would unmask them)."""
    stmt = _listed().where(Post.author_id == person_id, Post.anonymous.is_(False))
    return await _page(session, viewer, _sorted(stmt, "latest"), paging)


async def following_feed(session: AsyncSession, viewer: Viewer, paging: PageParams) -> PostPage:
    """Posts of the people the reader follows, under their names only."""
    followed = select(Follow.followee_id).where(Follow.follower_id == viewer.person_id)
    stmt = _listed().where(Post.author_id.in_(followed), Post.anonymous.is_(False))
    return await _page(session, viewer, _sorted(stmt, "latest"), paging)


async def post_counts(session: AsyncSession) -> dict[int, int]:
    """Visible posts per board."""
    rows = await session.execute(
        select(Post.board_id, func.count()).where(Post.status == "visible").group_by(Post.board_id)
    )
    return {int(b): int(n) for b, n in rows.all()}


# ---------------------------------------------------------------- follows


async def is_following(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    return await session.get(Follow, (follower_id, followee_id)) is not None


async def follower_count(session: AsyncSession, person_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Follow).where(Follow.followee_id == person_id)
    )
    return int(count or 0)


async def following_of(session: AsyncSession, person_id: int) -> list[PersonRef]:
    rows = await session.scalars(
        select(Follow.followee_id)
        .where(Follow.follower_id == person_id)
        .order_by(Follow.created_at.desc())
    )
    ids = list(rows.all())
    people = await users.get_people(session, ids)
    return [people[i] for i in ids if i in people]


# ---------------------------------------------------------------- comments


def _shown(viewer: Viewer, board_id: int) -> Any:
    """Comments the reader sees: visible ones, their own hidden ones, every one but the deleted
    for the board's moderators."""
    if viewer.moderates(board_id):
        return Comment.status != "deleted"
    return or_(
        Comment.status == "visible",
        and_(Comment.status == "hidden", Comment.author_id == viewer.person_id),
    )


async def comments_of(
    session: AsyncSession, viewer: Viewer, post: Post, paging: PageParams
) -> tuple[list[CommentOut], int]:
    """One page of the post's top-level comments (oldest first) with their replies, and how
    many top-level comments there are."""
    shown = _shown(viewer, post.board_id)
    stmt = (
        select(Comment)
        .where(Comment.post_id == post.id, Comment.parent_id.is_(None), shown)
        .order_by(Comment.id)
    )
    page = await paginate(session, stmt, paging.page, paging.page_size)
    tops: list[Comment] = list(page.items)
    replies: list[Comment] = []
    if tops:
        replies = list(
            (
                await session.scalars(
                    select(Comment)
                    .where(Comment.parent_id.in_([c.id for c in tops]), shown)
                    .order_by(Comment.id)
                )
            ).all()
        )
    rows = tops + replies
    people = await _people_for(
        session, [(c.author_id, c.anonymous, post.board_id) for c in rows], viewer
    )
    liked = await _liked_comments(session, viewer.person_id, [c.id for c in rows])
    by_parent: dict[int, list[CommentOut]] = {}
    for reply in replies:
        assert reply.parent_id is not None
        shown_replies = by_parent.setdefault(reply.parent_id, [])
        if len(shown_replies) < REPLIES_SHOWN:
            shown_replies.append(_comment_out(reply, post, viewer, people, liked))
    out = []
    for top in tops:
        item = _comment_out(top, post, viewer, people, liked)
        item.replies = by_parent.get(top.id, [])
        out.append(item)
    return out, page.total


async def _liked_comments(session: AsyncSession, person_id: int, ids: list[int]) -> set[int]:
    if not ids:
        return set()
    rows = await session.scalars(
        select(CommentLike.comment_id).where(
            CommentLike.person_id == person_id, CommentLike.comment_id.in_(ids)
        )
    )
    return set(rows.all())


def _comment_out(
    comment: Comment,
    post: Post,
    viewer: Viewer,
    people: dict[int, PersonRef],
    liked: set[int],
) -> CommentOut:
    return CommentOut(
        id=comment.id,
        post_id=comment.post_id,
        parent_id=comment.parent_id,
        body=comment.body,
        author=author_out(
            post_id=post.id,
            author_id=comment.author_id,
            anonymous=comment.anonymous,
            op=(post.author_id, post.anonymous),
            people=people,
            reveal=viewer.moderates(post.board_id),
        ),
        status=comment.status,
        like_count=comment.like_count,
        liked=comment.id in liked,
        mine=comment.author_id == viewer.person_id,
        created_at=comment.created_at,
    )


async def comment_out(
    session: AsyncSession, viewer: Viewer, comment: Comment, post: Post
) -> CommentOut:
    people = await _people_for(
        session, [(comment.author_id, comment.anonymous, post.board_id)], viewer
    )
    liked = await _liked_comments(session, viewer.person_id, [comment.id])
    return _comment_out(comment, post, viewer, people, liked)
