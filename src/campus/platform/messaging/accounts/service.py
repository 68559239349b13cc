"""Subscription push's public interface, for the portal and other modules. Functions take ids
and return schemas, never ORM objects.

- ``access_account`` / ``access_post``: every object-level read goes through them.
- ``latest_posts``: the newest posts of the accounts a person follows (a portal tile).
- ``following``: the accounts a person follows, mandatory ones included.
- ``POST_PUBLISHED`` (events.py): emitted when a post goes out.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.pagination import PageParams
from campus.platform.messaging.accounts import queries
from campus.platform.messaging.accounts.access import (
    AccountAccess,
    access_account,
    access_post,
)
from campus.platform.messaging.accounts.rules import member_of
from campus.platform.messaging.accounts.schemas import PostListItem

__all__ = ["AccountAccess", "access_account", "access_post", "following", "latest_posts"]


async def following(session: AsyncSession, person_id: int) -> list[int]:
    """Ids of the active accounts the person follows: subscribed, or mandatory for them now."""
    member = await member_of(session, person_id)
    return sorted(await queries.following_ids(session, person_id, member))


async def latest_posts(session: AsyncSession, person_id: int, limit: int = 5) -> list[PostListItem]:
    """The newest published posts of the accounts the person follows, each marked read or not."""
    page = await queries.feed(
        session, await following(session, person_id), person_id, PageParams(page=1, page_size=limit)
    )
    return page.items
