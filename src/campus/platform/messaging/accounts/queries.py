"""Reads of subscription push: the directory, one's subscriptions, timelines, the feed, posts
and their readers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.clock import local, start_of_day
from campus.kernel.pagination import PageParams
from campus.kernel.richtext import excerpt, render
from campus.platform.files import service as files
from campus.platform.messaging.accounts import labels, urls
from campus.platform.messaging.accounts.access import AccountAccess
from campus.platform.messaging.accounts.models import (
    Account,
    AccountEditor,
    Post,
    PostLike,
    PostRead,
    Subscription,
)
from campus.platform.messaging.accounts.rules import Member, covers, rule_of
from campus.platform.messaging.accounts.schemas import (
    AccountBrief,
    AccountOut,
    AccountPage,
    AttachmentOut,
    AudienceRule,
    PersonBrief,
    PostListItem,
    PostOut,
    PostPage,
    ReadStats,
)
from campus.platform.users import service as users

STATS_DAYS = 14


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# ---------------------------------------------------------------- accounts


async def subscriber_counts(session: AsyncSession, account_ids: Sequence[int]) -> dict[int, int]:
    if not account_ids:
        return {}
    rows = await session.execute(
        select(Subscription.account_id, func.count())
        .where(Subscription.account_id.in_(account_ids))
        .group_by(Subscription.account_id)
    )
    return {account_id: int(n) for account_id, n in rows.all()}


async def subscribed_ids(session: AsyncSession, person_id: int) -> set[int]:
    rows = await session.scalars(
        select(Subscription.account_id).where(Subscription.person_id == person_id)
    )
    return set(rows)


async def editor_ids(session: AsyncSession, account_id: int) -> list[int]:
    rows = await session.scalars(
        select(AccountEditor.person_id)
        .where(AccountEditor.account_id == account_id)
        .order_by(AccountEditor.person_id)
    )
    return list(rows)


async def edited_by(session: AsyncSession, person_id: int) -> list[Account]:
    """The accounts the person edits, by name."""
    rows = await session.scalars(
        select(Account)
        .join(AccountEditor, AccountEditor.account_id == Account.id)
        .where(AccountEditor.person_id == person_id)
        .order_by(Account.name)
    )
    return list(rows)


async def mandatory_for(session: AsyncSession, member: Member | None) -> set[int]:
    """The active accounts whose mandatory rule covers the person (evaluated now)."""
    if member is None:
        return set()
    rows = await session.execute(
        select(Account.id, Account.mandatory).where(
            Account.active.is_(True), Account.mandatory.is_not(None)
        )
    )
    return {account_id for account_id, rule in rows.all() if covers(rule_of(rule), member)}


async def following_ids(session: AsyncSession, person_id: int, member: Member | None) -> set[int]:
    """Every active account the person follows: subscribed to, or mandatory for them."""
    subscribed = await session.scalars(
        select(Subscription.account_id)
        .join(Account, Account.id == Subscription.account_id)
        .where(Subscription.person_id == person_id, Account.active.is_(True))
    )
    return set(subscribed) | await mandatory_for(session, member)


async def rule_text(session: AsyncSession, rule: AudienceRule) -> str:
    units = await users.get_org_units(session, rule.org_unit_ids)
    names = [units[u].name for u in rule.org_unit_ids if u in units]
    return labels.describe(list(rule.person_types), names)


async def account_out(
    session: AsyncSession, found: AccountAccess, subscribers: int | None = None
) -> AccountOut:
    account = found.account
    unit = await users.get_org_unit(session, account.org_unit_id)
    if subscribers is None:
        subscribers = (await subscriber_counts(session, [account.id])).get(account.id, 0)
    editors: list[PersonBrief] = []
    if found.manager or found.editor:
        people = await users.get_people(session, await editor_ids(session, account.id))
        editors = [PersonBrief(id=p.id, name=p.name) for p in people.values()]
    audience = AudienceRule.model_validate(account.audience)
    mandatory = rule_of(account.mandatory)
    return AccountOut(
        id=account.id,
        code=account.code,
        name=account.name,
        description=account.description,
        category=account.category,
        icon=account.icon,
        avatar_url=urls.avatar_url(account.id, account.avatar_file_id),
        org_unit_id=account.org_unit_id,
        org_unit_name=unit.name if unit else "",
        audience=audience,
        mandatory=mandatory,
        audience_text=await rule_text(session, audience),
        mandatory_text=None if mandatory is None else await rule_text(session, mandatory),
        active=account.active,
        subscriber_count=subscribers,
        subscribed=found.following,
        mandatory_for_me=found.mandatory,
        may_publish=found.editor,
        editors=editors,
    )


def _account_filter(stmt: Select[Any], q: str | None, category: str | None) -> Select[Any]:
    if q:
        pattern = _like(q)
        stmt = stmt.where(
            or_(
                Account.name.like(pattern, escape="\\"),
                Account.description.like(pattern, escape="\\"),
            )
        )
    if category:
        stmt = stmt.where(Account.category == category)
    return stmt


async def directory(
    session: AsyncSession,
    principal_id: int,
    member: Member | None,
    *,
    manager: bool,
    q: str | None,
    category: str | None,
    paging: PageParams,
    following_only: bool = False,
    include_inactive: bool = False,
) -> AccountPage:
    """Accounts the person may discover: those meant for them (their audience) and those they
    follow; a manager sees every one. Accounts are few (tens to hundreds): the audience rules
    are evaluated in memory."""
    stmt = select(Account).order_by(Account.category, Account.name)
    if not include_inactive:
        stmt = stmt.where(Account.active.is_(True))
    accounts: list[Account] = list(await session.scalars(_account_filter(stmt, q, category)))
    subscribed = await subscribed_ids(session, principal_id)
    editing = {a.id for a in await edited_by(session, principal_id)}
    rows: list[AccountAccess] = []
    for account in accounts:
        found = AccountAccess(
            account=account,
            member=member,
            manager=manager,
            editor=account.id in editing,
            subscribed=account.id in subscribed,
            mandatory=account.active and covers(rule_of(account.mandatory), member),
        )
        visible = found.following if following_only else found.may_read
        if visible:
            rows.append(found)
    window = rows[paging.offset : paging.offset + paging.page_size]
    counts = await subscriber_counts(session, [f.account.id for f in window])
    items = [await account_out(session, f, counts.get(f.account.id, 0)) for f in window]
    return AccountPage.of(items, len(rows), paging)


# ---------------------------------------------------------------- posts


def _brief(account: Account) -> AccountBrief:
    return AccountBrief(
        id=account.id,
        name=account.name,
        icon=account.icon,
        avatar_url=urls.avatar_url(account.id, account.avatar_file_id),
    )


async def read_ids(session: AsyncSession, person_id: int, post_ids: Sequence[int]) -> set[int]:
    if not post_ids:
        return set()
    rows = await session.scalars(
        select(PostRead.post_id).where(
            PostRead.person_id == person_id, PostRead.post_id.in_(post_ids)
        )
    )
    return set(rows)


def summary_of(post: Post) -> str:
    return post.summary or excerpt(post.body, 100)


def _item(post: Post, account: Account, read: bool) -> PostListItem:
    return PostListItem(
        id=post.id,
        account=_brief(account),
        title=post.title,
        summary=summary_of(post),
        cover_url=urls.post_file_url(post.id, post.cover_file_id),
        status=post.status,
        publish_at=post.publish_at,
        published_at=post.published_at,
        read_count=post.read_count,
        like_count=post.like_count,
        read=read,
        hidden=post.hidden_at is not None,
    )


async def _page(
    session: AsyncSession, stmt: Select[Post, Account], person_id: int, paging: PageParams
) -> PostPage:
    total = int(
        await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )
    rows = (await session.execute(stmt.offset(paging.offset).limit(paging.page_size))).all()
    read = await read_ids(session, person_id, [post.id for post, _a in rows])
    items = [_item(post, account, post.id in read) for post, account in rows]
    return PostPage.of(items, total, paging)


def _published(*, include_hidden: bool = False) -> Select[Post, Account]:
    stmt = (
        select(Post, Account)
        .join(Account, Account.id == Post.account_id)
        .where(Post.status == "published")
        .order_by(Post.published_at.desc(), Post.id.desc())
    )
    return stmt if include_hidden else stmt.where(Post.hidden_at.is_(None))


async def timeline(
    session: AsyncSession,
    account_id: int,
    person_id: int,
    paging: PageParams,
    *,
    include_hidden: bool = False,
) -> PostPage:
    """An account's published posts, newest first; those hidden by a moderator only with
    ``include_hidden`` (its editors and managers, who see them marked)."""
    stmt = _published(include_hidden=include_hidden).where(Post.account_id == account_id)
    return await _page(session, stmt, person_id, paging)


async def unpublished(
    session: AsyncSession, account_id: int, person_id: int, paging: PageParams
) -> PostPage:
    """An account's drafts and scheduled posts, for its editors (the next due first)."""
    stmt = (
        select(Post, Account)
        .join(Account, Account.id == Post.account_id)
        .where(Post.account_id == account_id, Post.status != "published")
        .order_by(Post.publish_at.is_(None), Post.publish_at, Post.updated_at.desc())
    )
    return await _page(session, stmt, person_id, paging)


async def feed(
    session: AsyncSession, account_ids: Sequence[int], person_id: int, paging: PageParams
) -> PostPage:
    """The published posts of the accounts the person follows, newest first."""
    if not account_ids:
        return PostPage.of([], 0, paging)
    stmt = _published().where(Post.account_id.in_(list(account_ids)), Account.active.is_(True))
    return await _page(session, stmt, person_id, paging)


async def post_item(session: AsyncSession, post: Post, person_id: int) -> PostListItem:
    account = await session.get(Account, post.account_id)
    assert account is not None
    return _item(post, account, bool(await read_ids(session, person_id, [post.id])))


async def post_out(
    session: AsyncSession, post: Post, found: AccountAccess, person_id: int
) -> PostOut:
    item = await post_item(session, post, person_id)
    author = await users.get_person_ref(session, post.author_id)
    liked = await session.scalar(
        select(PostLike.person_id).where(
            PostLike.post_id == post.id, PostLike.person_id == person_id
        )
    )
    attachments = [
        AttachmentOut(
            id=f.id, name=f.name, size=f.size, url=urls.post_file_url(post.id, f.id) or ""
        )
        for f in await files.get_files(session, list(post.attachments or []))
    ]
    return PostOut(
        **item.model_dump(),
        body=post.body,
        body_html=str(render(post.body)),
        attachments=attachments,
        author_name=author.name if author else "",
        liked=liked is not None,
        may_edit=found.editor,
        hidden_note=post.hidden_note if post.hidden_at is not None else "",
    )


async def read_stats(session: AsyncSession, post: Post) -> ReadStats:
    """Unique readers per day (China time) over the first STATS_DAYS days after publication:
    one indexed count per day, however many read it."""
    start = post.published_at or post.created_at
    end = min(clock.now(), start + timedelta(days=STATS_DAYS))
    days: list[str] = []
    reads: list[int] = []
    day = local(start).date()
    while day <= local(end).date():
        since = start_of_day(day)
        n = await session.scalar(
            select(func.count())
            .select_from(PostRead)
            .where(
                PostRead.post_id == post.id,
                PostRead.read_at >= since,
                PostRead.read_at < since + timedelta(days=1),
            )
        )
        days.append(day.isoformat())
        reads.append(int(n or 0))
        day += timedelta(days=1)
    subscribers = (await subscriber_counts(session, [post.account_id])).get(post.account_id, 0)
    return ReadStats(
        post_id=post.id,
        read_count=post.read_count,
        audience_hint=subscribers,
        days=days,
        reads=reads,
    )
