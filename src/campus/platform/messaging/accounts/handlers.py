"""Reactions to events: a published post goes out by Web Push to the devices of the people who
follow its account; a moderator's removal of a reported post hides it. The devices are read in
the handler's transaction; the requests to the push services are made after it commits (they
take seconds, and must not hold the database)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import runtime as runtime_module
from campus.kernel.db import after_commit
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.messaging.accounts import actions, events, webpush
from campus.platform.messaging.accounts.models import Account, Post, Subscription
from campus.platform.messaging.accounts.rules import BulkRules, rule_of
from campus.platform.messaging.moderation import service as moderation

ICON = "/static/icons/campus-192.png"


async def followers_with_devices(session: AsyncSession, account: Account) -> set[int]:
    """Subscribers, and — for a mandatory account — the device holders its rule covers (only
    people with a device matter here, so the campus is never expanded)."""
    people = set(
        await session.scalars(
            select(Subscription.person_id).where(Subscription.account_id == account.id)
        )
    )
    rule = rule_of(account.mandatory)
    if rule is not None:
        people |= await BulkRules().covered(session, rule, await webpush.holders(session))
    return people


async def on_post_published(session: AsyncSession, event: Event) -> None:
    published = events.PostPublished.model_validate(event.payload)
    account = await session.get(Account, published.account_id)
    if account is None or not account.active:
        return
    devices = await webpush.devices_for(
        session, sorted(await followers_with_devices(session, account))
    )
    if not devices:
        return
    key = await webpush.ensure_key(session)
    payload = {
        "title": published.title,
        "body": f"{published.account_name}：{published.summary}"[:200],
        "url": published.url,
        "tag": f"post-{published.post_id}",
        "icon": ICON,
    }
    runtime = runtime_module.current()

    async def push() -> None:
        await webpush.deliver(runtime, devices, payload, key)

    after_commit(session, push)


def _removes_a_post(event: Event) -> bool:
    """A shared-queue moderator's removal of a post (with ``by_owner`` the module owning
    the content has acted already)."""
    payload = event.payload
    return (
        payload.get("target_kind") == actions.REPORT_KIND
        and payload.get("action") == "remove"
        and not payload.get("by_owner")
    )


async def on_report_decided(session: AsyncSession, event: Event) -> None:
    """Hide the reported post; a redelivery finds it hidden and changes nothing."""
    if not _removes_a_post(event):
        return
    decision = moderation.ReportDecided.model_validate(event.payload)
    if not decision.target_id.isdigit():
        return
    post = await session.get(Post, int(decision.target_id))
    if post is not None:
        await actions.do_hide_post(
            session, runtime_module.current(), post, decision.moderator_id, decision.note
        )


# The Web Push handler first: the tests (and the worker's logs) name it by position.
HANDLERS = (
    EventHandler("messaging.accounts.webpush", events.POST_PUBLISHED, on_post_published),
    EventHandler(
        "messaging.accounts.report_decided",
        moderation.REPORT_DECIDED,
        on_report_decided,
        when=_removes_a_post,
    ),
)
