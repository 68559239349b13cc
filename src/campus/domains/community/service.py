"""The campus community's public interface, for the portal, the mobile app and other modules.
Functions take ids or the principal and return schemas, never ORM objects.

- ``access_board`` / ``access_post`` / ``access_comment``: every object-level read of this
  module goes through them (a refusal is a 404 for content the reader may not see, an audited
  403 for acts on a board).
- ``hot_posts``: the campus's hottest posts right now (the home page's 社区热帖).
- ``pending_reports``: how many reported posts and comments wait for the person as a moderator.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community.access import (
    BoardAccess,
    access_board,
    access_comment,
    access_post,
)
from campus.domains.community.moderation import queries as moderation_queries
from campus.domains.community.posts import queries as post_queries
from campus.domains.community.schemas import PostOut
from campus.kernel.context import Principal
from campus.kernel.pagination import PageParams

__all__ = [
    "BoardAccess",
    "access_board",
    "access_comment",
    "access_post",
    "hot_posts",
    "pending_reports",
]


async def hot_posts(session: AsyncSession, principal: Principal, limit: int = 5) -> list[PostOut]:
    viewer = await post_queries.viewer_of(session, principal)
    page = await post_queries.feed(session, viewer, PageParams(page=1, page_size=limit), sort="hot")
    return page.items


async def pending_reports(session: AsyncSession, principal: Principal) -> int:
    viewer = await post_queries.viewer_of(session, principal)
    return await moderation_queries.pending_count(session, viewer)
