"""Reads of moderation: the reports of the boards a moderator looks after, one row per reported
post or comment, oldest first; and the bans in force."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.models import Ban, Board, Comment, Post, Report
from campus.domains.community.posts.queries import Viewer, author_out
from campus.domains.community.schemas import BanOut, PersonBrief, QueueItem, QueuePage
from campus.domains.community.text import excerpt
from campus.kernel import clock
from campus.kernel.pagination import PageParams, paginate
from campus.platform.users import service as users

REASONS_SHOWN = 5


def _boards_clause(viewer: Viewer, board_id: int | None) -> Any:
    if board_id is not None:
        return Report.board_id == board_id
    if viewer.moderated is None:
        return True
    return Report.board_id.in_(viewer.moderated or {-1})


async def queue(
    session: AsyncSession,
    viewer: Viewer,
    paging: PageParams,
    *,
    status: str = "pending",
    board_id: int | None = None,
) -> QueuePage:
    """Reported content of the moderator's boards (``board_id``: of one of them)."""
    grouped: Select[Any] = cast(
        Select[Any],
        select(
            Report.target_kind,
            Report.target_id,
            Report.post_id,
            Report.board_id,
            func.count().label("reports"),
            func.min(Report.created_at).label("first"),
        )
        .where(Report.status == status, _boards_clause(viewer, board_id))
        .group_by(Report.target_kind, Report.target_id, Report.post_id, Report.board_id)
        .order_by(func.min(Report.created_at), Report.target_id),
    )
    page = await paginate(session, grouped, paging.page, paging.page_size)
    rows = list(page.items)
    posts = await _by_id(session, Post, {r.post_id for r in rows})
    comments = await _by_id(
        session, Comment, {r.target_id for r in rows if r.target_kind == "comment"}
    )
    boards = await _by_id(session, Board, {r.board_id for r in rows})
    authors = {
        (comments[r.target_id] if r.target_kind == "comment" else posts[r.post_id]).author_id
        for r in rows
    }
    people = await users.get_people(session, list(authors))
    items = []
    for r in rows:
        post = posts[r.post_id]
        target: Post | Comment = comments[r.target_id] if r.target_kind == "comment" else post
        text = target.body if isinstance(target, Comment) else f"{post.title}：{post.body}"
        items.append(
            QueueItem(
                target_kind=r.target_kind,
                target_id=r.target_id,
                post_id=r.post_id,
                board_id=r.board_id,
                board_name=boards[r.board_id].name,
                excerpt=excerpt(text, 140),
                author=author_out(
                    post_id=post.id,
                    author_id=target.author_id,
                    anonymous=target.anonymous,
                    op=(post.author_id, post.anonymous),
                    people=people,
                    reveal=True,  # the queue is read by the board's moderators only
                ),
                target_status=target.status,
                reports=int(r.reports),
                reasons=await _reasons(session, r.target_kind, r.target_id, status),
                first_reported_at=r.first,
                status=status,
            )
        )
    return QueuePage(
        items=items, total=page.total, page=page.page, page_size=page.page_size, pages=page.pages
    )


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = await session.scalars(select(model).where(model.id.in_(ids)))
    return {row.id: row for row in rows.all()}


async def _reasons(session: AsyncSession, kind: str, target_id: int, status: str) -> list[str]:
    rows = await session.scalars(
        select(Report.reason)
        .where(Report.target_kind == kind, Report.target_id == target_id, Report.status == status)
        .order_by(Report.id)
        .limit(REASONS_SHOWN)
    )
    return list(rows.all())


async def pending_count(session: AsyncSession, viewer: Viewer) -> int:
    """Reported posts and comments waiting in the moderator's boards."""
    if viewer.moderated is not None and not viewer.moderated:
        return 0
    targets = (
        select(Report.target_kind, Report.target_id)
        .where(Report.status == "pending", _boards_clause(viewer, None))
        .group_by(Report.target_kind, Report.target_id)
        .subquery()
    )
    return int(await session.scalar(select(func.count()).select_from(targets)) or 0)


async def bans_of(session: AsyncSession, board_id: int) -> list[BanOut]:
    """Bans in force on the board, the latest first."""
    rows = list(
        (
            await session.scalars(
                select(Ban)
                .where(Ban.board_id == board_id, Ban.lifted_at.is_(None), Ban.until > clock.now())
                .order_by(Ban.created_at.desc())
            )
        ).all()
    )
    people = await users.get_people(session, [b.person_id for b in rows])
    return [
        BanOut(
            id=b.id,
            board_id=b.board_id,
            person=PersonBrief(
                id=b.person_id, name=people[b.person_id].name if b.person_id in people else ""
            ),
            until=b.until,
            reason=b.reason,
            created_at=b.created_at,
        )
        for b in rows
    ]
