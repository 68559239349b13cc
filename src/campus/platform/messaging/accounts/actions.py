"""Writes of subscription push: ``check_*`` validates everything (input, state, the writer's
right), then ``do_*`` writes, audits and emits. A refusal changes nothing. Live frames go out
only after the transaction commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import Conflict, FieldError, InvalidInput
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.kernel.runtime import Runtime
from campus.platform.files import service as files
from campus.platform.messaging import live
from campus.platform.messaging import service as messaging
from campus.platform.messaging.accounts import events, urls
from campus.platform.messaging.accounts.access import (
    AccountAccess,
    access_account,
    editable_account,
    editable_post,
    is_public,
)
from campus.platform.messaging.accounts.models import (
    Account,
    AccountEditor,
    Post,
    PostLike,
    PostRead,
    Subscription,
)
from campus.platform.messaging.accounts.queries import summary_of
from campus.platform.messaging.accounts.schemas import (
    AccountCreate,
    AccountUpdate,
    AudienceRule,
    PostCreate,
    PostUpdate,
)
from campus.platform.messaging.moderation import filter as words
from campus.platform.users import service as users

# A scheduled time must leave the job a moment to pick it up, and not lie beyond a year.
SCHEDULE_MIN_LEAD = timedelta(minutes=1)
SCHEDULE_MAX_AHEAD = timedelta(days=365)
DUE_BATCH = 100
CAMPUS_SPREAD_SECONDS = 3
# What the sensitive-word filter screens in a post (the attachments' names are the files').
SCREENED_FIELDS = ("title", "summary", "body")
REPORT_KIND = "accounts.post"


# ---------------------------------------------------------------- accounts


async def _check_unit(session: AsyncSession, unit_id: int, field: str) -> None:
    if await users.get_org_unit(session, unit_id) is None:
        raise InvalidInput.on(field, _("单位 {id} 不存在", id=unit_id))


async def _check_rule(session: AsyncSession, rule: AudienceRule | None, field: str) -> None:
    if rule is None:
        return
    known = await users.get_org_units(session, rule.org_unit_ids)
    for index, unit_id in enumerate(rule.org_unit_ids):
        if unit_id not in known:
            raise InvalidInput.on(
                f"{field}.org_unit_ids.{index}", _("单位 {id} 不存在", id=unit_id)
            )


async def _check_editors(session: AsyncSession, person_ids: Sequence[int]) -> list[int]:
    wanted = list(dict.fromkeys(person_ids))
    known = await users.get_people(session, wanted)
    errors = [
        FieldError(f"editor_ids.{i}", _("人员 {id} 不存在", id=pid))
        for i, pid in enumerate(wanted)
        if pid not in known
    ]
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)
    return wanted


async def _check_unique(
    session: AsyncSession, column: Any, value: str, field: str, own_id: int | None = None
) -> None:
    stmt = select(Account.id).where(column == value)
    if own_id is not None:
        stmt = stmt.where(Account.id != own_id)
    if await session.scalar(stmt) is not None:
        raise Conflict.on(field, _("“{value}”已被其他服务号使用", value=value))


def _account_state(account: Account) -> dict[str, Any]:
    return {
        "code": account.code,
        "name": account.name,
        "category": account.category,
        "org_unit_id": account.org_unit_id,
        "audience": account.audience,
        "mandatory": account.mandatory,
        "active": account.active,
        "avatar_file_id": account.avatar_file_id,
    }


async def _set_editors(session: AsyncSession, account_id: int, person_ids: list[int]) -> None:
    await session.execute(delete(AccountEditor).where(AccountEditor.account_id == account_id))
    for person_id in person_ids:
        session.add(AccountEditor(account_id=account_id, person_id=person_id))


async def _emit_account(session: AsyncSession, name: str, account: Account) -> None:
    await emit(
        session,
        name,
        events.AccountChanged(
            account_id=account.id,
            code=account.code,
            name=account.name,
            active=account.active,
            mandatory=account.mandatory,
        ),
    )


async def check_create_account(
    session: AsyncSession, principal: Principal, body: AccountCreate
) -> int:
    await _check_unique(session, Account.code, body.code, "code")
    await _check_unique(session, Account.name, body.name, "name")
    await _check_unit(session, body.org_unit_id, "org_unit_id")
    await _check_rule(session, body.audience, "audience")
    await _check_rule(session, body.mandatory, "mandatory")
    editors = await _check_editors(session, body.editor_ids)
    # The avatar is checked as bound to nothing yet; it is bound once the account has an id.
    avatar = None
    if body.avatar_file_id:
        avatar = await files.check_image(
            session, principal.person_id, body.avatar_file_id, field="avatar_file_id"
        )
    return await do_create_account(session, principal, body, editors, avatar)


async def do_create_account(
    session: AsyncSession,
    principal: Principal,
    body: AccountCreate,
    editors: list[int],
    avatar: str | None,
) -> int:
    now = clock.now()
    account = Account(
        code=body.code,
        name=body.name,
        description=body.description,
        category=body.category,
        icon=body.icon,
        avatar_file_id=avatar,
        org_unit_id=body.org_unit_id,
        audience=body.audience.model_dump(),
        mandatory=body.mandatory.model_dump() if body.mandatory else None,
        active=True,
        created_by=principal.person_id,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    await session.flush()
    await _set_editors(session, account.id, editors)
    if avatar:
        await files.bind(session, [avatar], urls.FILES_MODULE, urls.account_key(account.id))
    audit.record(
        session,
        "messaging.account.create",
        "msg_account",
        account.id,
        after={**_account_state(account), "editor_ids": editors},
    )
    await _emit_account(session, events.ACCOUNT_CREATED, account)
    return account.id


async def check_update_account(
    session: AsyncSession, principal: Principal, found: AccountAccess, body: AccountUpdate
) -> None:
    """``found`` comes from ``access_account`` by a holder of messaging.account.manage."""
    account = found.account
    given = body.model_fields_set
    for key in given - {"mandatory", "avatar_file_id"}:
        if getattr(body, key) is None:
            raise InvalidInput.on(key, _("不能为空"))
    if body.name is not None:
        await _check_unique(session, Account.name, body.name, "name", account.id)
    if body.org_unit_id is not None:
        await _check_unit(session, body.org_unit_id, "org_unit_id")
    await _check_rule(session, body.audience, "audience")
    await _check_rule(session, body.mandatory, "mandatory")
    editors = None if body.editor_ids is None else await _check_editors(session, body.editor_ids)
    avatar = account.avatar_file_id
    if "avatar_file_id" in given:
        avatar = body.avatar_file_id and await files.check_image(
            session,
            principal.person_id,
            body.avatar_file_id,
            field="avatar_file_id",
            bound_to=(urls.FILES_MODULE, urls.account_key(account.id)),
        )
    await do_update_account(session, account, body, editors, avatar)


async def do_update_account(
    session: AsyncSession,
    account: Account,
    body: AccountUpdate,
    editors: list[int] | None,
    avatar: str | None,
) -> None:
    before = _account_state(account)
    given = body.model_fields_set
    for key in ("name", "description", "category", "icon", "org_unit_id", "active"):
        if key in given:
            setattr(account, key, getattr(body, key))
    if body.audience is not None:
        account.audience = body.audience.model_dump()
    if "mandatory" in given:
        account.mandatory = body.mandatory.model_dump() if body.mandatory else None
    if avatar != account.avatar_file_id:
        key = urls.account_key(account.id)
        await files.unbind(session, urls.FILES_MODULE, key, keep=[avatar] if avatar else [])
        if avatar:
            await files.bind(session, [avatar], urls.FILES_MODULE, key)
        account.avatar_file_id = avatar
    if editors is not None:
        await _set_editors(session, account.id, editors)
    account.updated_at = clock.now()
    after = _account_state(account)
    if editors is not None:
        after["editor_ids"] = editors
    audit.record(
        session, "messaging.account.update", "msg_account", account.id, before=before, after=after
    )
    await _emit_account(session, events.ACCOUNT_UPDATED, account)


# ---------------------------------------------------------------- subscriptions


async def check_subscribe(session: AsyncSession, principal: Principal, account_id: int) -> None:
    found = await access_account(session, principal, account_id)
    if not found.account.active:
        raise Conflict.on("account_id", _("服务号“{name}”已停用", name=found.account.name))
    if found.following:
        return  # already following (or mandatory): nothing to change
    await do_subscribe(session, found.account, principal.person_id)


async def do_subscribe(session: AsyncSession, account: Account, person_id: int) -> bool:
    row = {"account_id": account.id, "person_id": person_id, "subscribed_at": clock.now()}
    added = await insert_ignore(session, Subscription, [row], ["account_id", "person_id"]) > 0
    if added:
        audit.record(session, "messaging.account.subscribe", "msg_account", account.id)
        await emit(
            session,
            events.ACCOUNT_SUBSCRIBED,
            events.SubscriptionChanged(account_id=account.id, person_id=person_id),
        )
    return added


async def check_unsubscribe(session: AsyncSession, principal: Principal, account_id: int) -> None:
    found = await access_account(session, principal, account_id)
    if found.mandatory:
        raise Conflict.on(
            "account_id",
            _("“{name}”是您的必选服务号，不能取消关注", name=found.account.name),
        )
    if found.subscribed:
        await do_unsubscribe(session, found.account, principal.person_id)


async def do_unsubscribe(session: AsyncSession, account: Account, person_id: int) -> None:
    await session.execute(
        delete(Subscription).where(
            Subscription.account_id == account.id, Subscription.person_id == person_id
        )
    )
    audit.record(session, "messaging.account.unsubscribe", "msg_account", account.id)
    await emit(
        session,
        events.ACCOUNT_UNSUBSCRIBED,
        events.SubscriptionChanged(account_id=account.id, person_id=person_id),
    )


# ---------------------------------------------------------------- posts


@dataclass(frozen=True)
class CheckedPost:
    title: str
    summary: str
    body: str
    cover_file_id: str | None
    attachments: list[str]
    action: str
    publish_at: datetime | None


def _check_schedule(action: str, publish_at: datetime | None) -> datetime | None:
    if action != "schedule":
        return None
    if publish_at is None:
        raise InvalidInput.on("publish_at", _("定时发布请填写发布时间"))
    now = clock.now()
    if publish_at < now + SCHEDULE_MIN_LEAD:
        raise InvalidInput.on("publish_at", _("定时发布时间必须晚于现在至少 1 分钟"))
    if publish_at > now + SCHEDULE_MAX_AHEAD:
        raise InvalidInput.on("publish_at", _("定时发布时间不能超过一年以后"))
    return publish_at


async def _check_post_fields(
    session: AsyncSession, principal: Principal, values: dict[str, Any], post_id: int | None
) -> CheckedPost:
    for field in ("title", "body"):
        if not str(values[field] or "").strip():
            raise InvalidInput.on(field, _("不能为空"))
    screened = {
        field: await words.clean_text(session, str(values[field] or ""), field)
        for field in SCREENED_FIELDS
    }
    publish_at = _check_schedule(values["action"], values["publish_at"])
    key = urls.post_key(post_id) if post_id is not None else None
    bound_to = (urls.FILES_MODULE, key) if key else None
    cover = values["cover_file_id"]
    if cover:
        await files.check_image(
            session, principal.person_id, cover, field="cover_file_id", bound_to=bound_to
        )
    attachments = list(dict.fromkeys(values["attachments"]))
    if attachments:
        await files.check_attachable(
            session, principal.person_id, attachments, field="attachments", bound_to=bound_to
        )
    return CheckedPost(
        title=screened["title"],
        summary=screened["summary"],
        body=screened["body"],
        cover_file_id=cover or None,
        attachments=attachments,
        action=values["action"],
        publish_at=publish_at,
    )


def _post_state(post: Post) -> dict[str, Any]:
    return {
        "account_id": post.account_id,
        "title": post.title,
        "status": post.status,
        "publish_at": post.publish_at.isoformat() if post.publish_at else None,
        "cover_file_id": post.cover_file_id,
        "attachments": list(post.attachments or []),
    }


async def check_create_post(
    session: AsyncSession, runtime: Runtime, principal: Principal, account_id: int, body: PostCreate
) -> int:
    found = await editable_account(session, principal, account_id)
    if not found.account.active:
        raise Conflict.on("account_id", _("服务号“{name}”已停用", name=found.account.name))
    checked = await _check_post_fields(session, principal, body.model_dump(), None)
    return await do_create_post(session, runtime, principal, found.account, checked)


async def do_create_post(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    account: Account,
    checked: CheckedPost,
) -> int:
    now = clock.now()
    post = Post(
        account_id=account.id,
        title=checked.title,
        summary=checked.summary,
        body=checked.body,
        cover_file_id=checked.cover_file_id,
        attachments=checked.attachments,
        status="scheduled" if checked.action == "schedule" else "draft",
        publish_at=checked.publish_at,
        author_id=principal.person_id,
        read_count=0,
        like_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    await session.flush()
    await _bind_post_files(session, post, [])
    audit.record(session, "messaging.post.create", "msg_post", post.id, after=_post_state(post))
    if checked.action == "publish":
        await do_publish(session, runtime, post, account)
    return post.id


async def _bind_post_files(session: AsyncSession, post: Post, before: list[str]) -> None:
    key = urls.post_key(post.id)
    now_bound = [f for f in [post.cover_file_id, *(post.attachments or [])] if f]
    await files.unbind(session, urls.FILES_MODULE, key, keep=now_bound)
    added = [f for f in dict.fromkeys(now_bound) if f not in before]
    if added:
        await files.bind(session, added, urls.FILES_MODULE, key)


async def check_update_post(
    session: AsyncSession, runtime: Runtime, principal: Principal, post_id: int, body: PostUpdate
) -> None:
    post, found = await editable_post(session, principal, post_id)
    if post.status == "published":
        raise Conflict(_("已发布的文章不能修改"))
    given = body.model_fields_set
    for key in given - {"cover_file_id", "publish_at"}:
        if getattr(body, key) is None:
            raise InvalidInput.on(key, _("不能为空"))
    values: dict[str, Any] = {
        "title": post.title,
        "summary": post.summary,
        "body": post.body,
        "cover_file_id": post.cover_file_id,
        "attachments": list(post.attachments or []),
        "action": "schedule" if post.status == "scheduled" else "draft",
        "publish_at": post.publish_at,
    }
    values.update({key: getattr(body, key) for key in given})
    checked = await _check_post_fields(session, principal, values, post.id)
    await do_update_post(session, runtime, post, found.account, checked)


async def do_update_post(
    session: AsyncSession, runtime: Runtime, post: Post, account: Account, checked: CheckedPost
) -> None:
    before = _post_state(post)
    bound_before = [f for f in [post.cover_file_id, *(post.attachments or [])] if f]
    post.title = checked.title
    post.summary = checked.summary
    post.body = checked.body
    post.cover_file_id = checked.cover_file_id
    post.attachments = checked.attachments
    post.status = "scheduled" if checked.action == "schedule" else "draft"
    post.publish_at = checked.publish_at
    post.updated_at = clock.now()
    await _bind_post_files(session, post, bound_before)
    audit.record(
        session,
        "messaging.post.update",
        "msg_post",
        post.id,
        before=before,
        after=_post_state(post),
    )
    if checked.action == "publish":
        await do_publish(session, runtime, post, account)


async def check_publish_post(
    session: AsyncSession, runtime: Runtime, principal: Principal, post_id: int
) -> None:
    post, found = await editable_post(session, principal, post_id)
    if post.status == "published":
        raise Conflict(_("这篇文章已经发布"))
    if not found.account.active:
        raise Conflict.on("account_id", _("服务号“{name}”已停用", name=found.account.name))
    await screen_stored(session, post)
    await do_publish(session, runtime, post, found.account)


async def screen_stored(session: AsyncSession, post: Post) -> None:
    """The word list may have grown since the draft was saved: screen it again as it goes
    out (a 422 naming the field for a blocking word; mask-level words masked in place)."""
    cleaned = {f: await words.clean_text(session, getattr(post, f), f) for f in SCREENED_FIELDS}
    for field, text in cleaned.items():
        if text != getattr(post, field):
            setattr(post, field, text)


async def check_delete_post(session: AsyncSession, principal: Principal, post_id: int) -> None:
    post, _found = await editable_post(session, principal, post_id)
    audit.record(session, "messaging.post.delete", "msg_post", post.id, before=_post_state(post))
    await files.unbind(session, urls.FILES_MODULE, urls.post_key(post.id))
    await session.delete(post)


async def do_publish(session: AsyncSession, runtime: Runtime, post: Post, account: Account) -> None:
    """Publish now: the event for Web Push (sent by its handler after commit), and a live frame
    to open pages after commit."""
    before = _post_state(post)
    now = clock.now()
    post.status = "published"
    post.published_at = now
    post.updated_at = now
    audit.record(
        session,
        "messaging.post.publish",
        "msg_post",
        post.id,
        before=before,
        after=_post_state(post),
    )
    await emit(
        session,
        events.POST_PUBLISHED,
        events.PostPublished(
            post_id=post.id,
            account_id=account.id,
            account_name=account.name,
            title=post.title,
            summary=summary_of(post),
            url=urls.post_page(post.id),
            published_at=now,
            mandatory=account.mandatory is not None,
        ),
    )
    await _push_live(session, runtime, post, account)


async def _push_live(session: AsyncSession, runtime: Runtime, post: Post, account: Account) -> None:
    """A mandatory account may reach the whole campus: one campus-wide frame that each page
    keeps only if it follows the account (it knows which it follows), instead of a loop over
    everybody. Otherwise the frame names the subscribers and editors."""
    frame: dict[str, Any] = {"type": "post", "post_id": post.id, "account_id": account.id}
    if account.mandatory is not None:
        # Every page that keeps it fetches the post's card: spread those requests over a few
        # seconds instead of a burst from the whole campus at once.
        live.push_after_commit(session, runtime, None, {**frame, "spread": CAMPUS_SPREAD_SECONDS})
        return
    subscribers = await session.scalars(
        select(Subscription.person_id).where(Subscription.account_id == account.id)
    )
    editors = await session.scalars(
        select(AccountEditor.person_id).where(AccountEditor.account_id == account.id)
    )
    live.push_after_commit(session, runtime, {*subscribers, *editors}, frame)


async def do_publish_due(session: AsyncSession, runtime: Runtime) -> int:
    """Publish the scheduled posts whose time has come (the job, every few seconds)."""
    posts = list(
        await session.scalars(
            select(Post)
            .where(Post.status == "scheduled", Post.publish_at <= clock.now())
            .order_by(Post.publish_at, Post.id)
            .limit(DUE_BATCH)
            .with_for_update(skip_locked=True)
        )
    )
    for post in posts:
        account = await session.get(Account, post.account_id)
        if account is None or not account.active:
            continue  # stays scheduled; published once the account is active again
        try:
            await screen_stored(session, post)
        except InvalidInput as refused:
            _back_to_draft(session, post, refused)
            continue
        await do_publish(session, runtime, post, account)
    return len(posts)


def _back_to_draft(session: AsyncSession, post: Post, refused: InvalidInput) -> None:
    """A scheduled post that now holds a blocking word does not go out: it becomes a draft
    again for its editors to correct (the audit entry says why)."""
    before = _post_state(post)
    post.status = "draft"
    post.publish_at = None
    post.updated_at = clock.now()
    audit.record(
        session,
        "messaging.post.unschedule",
        "msg_post",
        post.id,
        before=before,
        after={**_post_state(post), "why": [e.render() for e in refused.errors]},
    )


# ---------------------------------------------------------------- reports and moderation


async def check_report(
    session: AsyncSession, principal: Principal, post: Post, found: AccountAccess, reason: str
) -> int:
    """A reader reports a post (``post`` from ``access_post``) into the messaging center's
    shared queue; the same reader reporting it again gets the same report."""
    if not is_public(post):
        raise Conflict.on("post_id", _("只能举报已发布的文章"))
    if found.editor:
        raise InvalidInput.on("post_id", _("不能举报自己服务号的文章"))
    return await messaging.report(
        session,
        principal.person_id,
        REPORT_KIND,
        str(post.id),
        reason,
        excerpt=f"{post.title}\n{summary_of(post)}",
        link=urls.post_page(post.id),
        author_id=post.author_id,
    )


async def do_hide_post(
    session: AsyncSession, rt: Runtime, post: Post, moderator_id: int, note: str
) -> bool:
    """A moderator's decision takes the post down: readers lose it (feeds, pages, cards),
    editors keep it marked hidden, its author is told. False when it already was hidden."""
    if post.hidden_at is not None:
        return False
    post.hidden_at = clock.now()
    post.hidden_by = moderator_id
    post.hidden_note = note[:300]
    audit.record(
        session,
        "messaging.post.hide",
        "msg_post",
        post.id,
        before={"hidden": False},
        after={"hidden": True, "note": post.hidden_note, "moderator_id": moderator_id},
    )
    await emit(
        session,
        events.POST_HIDDEN,
        events.PostHidden(
            post_id=post.id, account_id=post.account_id, moderator_id=moderator_id, note=note
        ),
    )
    await messaging.notify(
        session,
        rt,
        messaging.NotificationIn(
            title=str(_("你发布的文章“{title}”已被审核隐藏", title=post.title))[:200],
            body=str(_("原因：{note}", note=post.hidden_note or _("经举报核实"))),
            link=urls.post_page(post.id),
            category="push",
            audience=messaging.Audience(person_ids=[post.author_id]),
            source=f"accounts:post_hidden:{post.id}",
        ),
    )
    return True


# ---------------------------------------------------------------- reading, liking


async def do_mark_read(session: AsyncSession, post: Post, person_id: int) -> bool:
    """The person's first reading counts once; returns whether it was the first."""
    row = {"post_id": post.id, "person_id": person_id, "read_at": clock.now()}
    if await insert_ignore(session, PostRead, [row], ["post_id", "person_id"]) == 0:
        return False
    await session.execute(
        update(Post)
        .where(Post.id == post.id)
        .values(read_count=Post.read_count + 1)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(post, ["read_count"])
    return True


async def do_like(session: AsyncSession, post: Post, person_id: int, liked: bool) -> None:
    if liked:
        row = {"post_id": post.id, "person_id": person_id, "liked_at": clock.now()}
        changed = await insert_ignore(session, PostLike, [row], ["post_id", "person_id"])
        delta = 1
    else:
        result: Any = await session.execute(
            delete(PostLike).where(PostLike.post_id == post.id, PostLike.person_id == person_id)
        )
        changed = int(result.rowcount or 0)
        delta = -1
    if changed:
        await session.execute(
            update(Post)
            .where(Post.id == post.id)
            .values(like_count=Post.like_count + delta)
            .execution_options(synchronize_session=False)
        )
        await session.refresh(post, ["like_count"])
