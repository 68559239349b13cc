"""Who may see, edit or manage one account or post: every object-level read and write of
subscription push goes through ``access_account`` or ``access_post``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.messaging.accounts.models import Account, AccountEditor, Post, Subscription
from campus.platform.messaging.accounts.rules import Member, covers, member_of, rule_of
from campus.platform.messaging.permissions import ACCOUNT_MANAGE

PUBLISH = "messaging.account.publish"  # the name refusals are audited under (no role grants it)


@dataclass(frozen=True)
class AccountAccess:
    """The account and what the principal may do with it."""

    account: Account
    member: Member | None
    manager: bool  # messaging.account.manage: settings, editors, mandatory audience
    editor: bool  # writes and publishes posts, sees their read counts
    subscribed: bool  # a subscription row of theirs
    mandatory: bool  # the mandatory rule covers them: subscribed, and cannot unsubscribe

    @property
    def in_audience(self) -> bool:
        return covers(rule_of(self.account.audience), self.member)

    @property
    def following(self) -> bool:
        return self.subscribed or self.mandatory

    @property
    def may_read(self) -> bool:
        if self.manager or self.editor:
            return True
        return self.account.active and (self.in_audience or self.following)


async def account_or_404(session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(_("服务号 {id} 不存在", id=account_id))
    return account


async def is_editor(session: AsyncSession, account_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(AccountEditor.person_id).where(
            AccountEditor.account_id == account_id, AccountEditor.person_id == person_id
        )
    )
    return found is not None


async def is_subscribed(session: AsyncSession, account_id: int, person_id: int) -> bool:
    found = await session.scalar(
        select(Subscription.person_id).where(
            Subscription.account_id == account_id, Subscription.person_id == person_id
        )
    )
    return found is not None


async def level_of(
    session: AsyncSession, principal: Principal, account: Account, member: Member | None = None
) -> AccountAccess:
    member = member or await member_of(session, principal.person_id)
    return AccountAccess(
        account=account,
        member=member,
        manager=principal.can(ACCOUNT_MANAGE),
        editor=await is_editor(session, account.id, principal.person_id),
        subscribed=await is_subscribed(session, account.id, principal.person_id),
        mandatory=account.active and covers(rule_of(account.mandatory), member),
    )


async def access_account(
    session: AsyncSession, principal: Principal, account_id: int
) -> AccountAccess:
    """The account and the principal's access to it; a refusal is a 403 in the audit log."""
    found = await level_of(session, principal, await account_or_404(session, account_id))
    if not found.may_read:
        raise await access.denied(
            principal,
            "messaging.account.read",
            _("服务号“{name}”不面向您", name=found.account.name),
            target_type="msg_account",
            target_id=account_id,
        )
    return found


async def editable_account(
    session: AsyncSession, principal: Principal, account_id: int
) -> AccountAccess:
    """The account when the principal is one of its editors (who alone publish for it)."""
    found = await level_of(session, principal, await account_or_404(session, account_id))
    if not found.editor:
        raise await access.denied(
            principal,
            PUBLISH,
            _("您不是服务号“{name}”的编辑，不能以它的名义发布", name=found.account.name),
            target_type="msg_account",
            target_id=account_id,
        )
    return found


async def post_or_404(session: AsyncSession, post_id: int) -> Post:
    post = await session.get(Post, post_id)
    if post is None:
        raise NotFound(_("文章 {id} 不存在", id=post_id))
    return post


def is_public(post: Post) -> bool:
    """Published and not hidden by a moderator: what every reader of the account sees."""
    return post.status == "published" and post.hidden_at is None


async def access_post(
    session: AsyncSession, principal: Principal, post_id: int
) -> tuple[Post, AccountAccess]:
    """A published post to whoever may read its account; a draft, scheduled or hidden one to
    its account's editors and managers only (to others it does not exist)."""
    post = await post_or_404(session, post_id)
    if not is_public(post):
        found = await level_of(session, principal, await account_or_404(session, post.account_id))
        if not (found.editor or found.manager):
            raise NotFound(_("文章 {id} 不存在", id=post_id))
        return post, found
    return post, await access_account(session, principal, post.account_id)


async def editable_post(
    session: AsyncSession, principal: Principal, post_id: int
) -> tuple[Post, AccountAccess]:
    post = await post_or_404(session, post_id)
    found = await editable_account(session, principal, post.account_id)
    return post, found
