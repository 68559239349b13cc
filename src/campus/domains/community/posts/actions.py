"""Writes of posts, comments, likes, follows and views: ``check_*`` validates everything (the
board's rules, bans, the sensitive-word filter, the pictures, the rate limit), then ``do_*``
writes, audits and emits. A refusal changes nothing.

Counters (likes, comments, views) are updated in SQL (``x = x + 1``), never from a value read
before: concurrent requests each add their own one. A like is a row whose primary key is
(post, person): liking twice is idempotent — the second like inserts nothing and counts nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community import events, images, limits, notify
from campus.domains.community.access import BoardAccess, access_board, refuse_posting
from campus.domains.community.models import Comment, CommentLike, Follow, Post, PostLike
from campus.domains.community.pseudonyms import pseudonym
from campus.domains.community.schemas import EXTRA_MODELS, CommentIn, LikeOut, PostIn
from campus.kernel import audit, clock, runtime
from campus.kernel.clock import aware, fmt
from campus.kernel.context import Principal
from campus.kernel.db import insert_ignore
from campus.kernel.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidInput,
    NotFound,
    validation_field_errors,
)
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.messaging import service as messaging
from campus.platform.users import service as users

# A view is counted once per person and post in this time.
VIEW_WINDOW_SECONDS = 3600.0
EXTRA_TEXT_FIELDS = ("place",)


# ---------------------------------------------------------------- shared checks


async def clean_text(session: AsyncSession, text: str, field: str) -> str:
    """The text once through the sensitive-word filter: a 422 naming ``field`` for a blocking
    word, masked (＊) for a masking one."""
    await messaging.check_clean(session, text, field)
    return (await messaging.screen_text(session, text)).text


def refuse_banned(found: BoardAccess) -> None:
    if found.banned_until is not None:
        reason = _(
            "您在“{board}”被禁言至 {until}",
            board=found.board.name,
            until=fmt(found.banned_until),
        )
        raise Forbidden(reason, errors=[FieldError("board_id", reason)])


def check_anonymous(found: BoardAccess, anonymous: bool) -> None:
    if anonymous and not found.board.allow_anonymous:
        raise InvalidInput.on("anonymous", _("“{board}”不允许匿名发布", board=found.board.name))


async def _board_for_posting(
    session: AsyncSession, principal: Principal, board_id: int
) -> BoardAccess:
    try:
        found = await access_board(session, principal, board_id)
    except NotFound:
        raise InvalidInput.on("board_id", _("板块不存在")) from None
    if not found.board.active:
        raise InvalidInput.on("board_id", _("板块已停用"))
    if not found.may_post:
        raise await refuse_posting(principal, found)
    refuse_banned(found)
    return found


# ---------------------------------------------------------------- extra fields


def _extra_errors(exc: ValidationError) -> InvalidInput:
    errors = [
        FieldError(f"extra.{e.field}" if e.field != "body" else "extra", e.reason)
        for e in validation_field_errors([dict(x) for x in exc.errors()])
    ]
    return InvalidInput(_("附加信息有误，请检查标出的字段"), errors=errors)


def check_extra(kind: str, extra: dict[str, Any] | None) -> dict[str, Any] | None:
    """The board kind's extra fields, validated and normalised (times in China time unless a
    zone is given), or None for a kind without any."""
    model = EXTRA_MODELS.get(kind)
    if model is None:
        if extra:
            raise InvalidInput.on("extra", _("该板块的帖子没有附加字段"))
        return None
    try:
        value = model.model_validate(extra or {})
    except ValidationError as exc:
        raise _extra_errors(exc) from None
    data = value.model_dump()
    for key, item in data.items():
        if isinstance(item, datetime):
            data[key] = aware(item)
    now = clock.now()
    if kind == "lost_found" and data["time"] > now + timedelta(hours=1):
        raise InvalidInput.on("extra.time", _("时间不能晚于现在"))
    if kind == "event" and data.get("ends_at") and data["ends_at"] < data["starts_at"]:
        raise InvalidInput.on("extra.ends_at", _("结束时间不能早于开始时间"))
    dumped: dict[str, Any] = model.model_validate(data).model_dump(mode="json")
    if "price" in dumped:
        dumped["price"] = float(dumped["price"])  # a JSON number, not Decimal's string
    return dumped


async def _clean_extra(session: AsyncSession, extra: dict[str, Any] | None) -> None:
    for key in EXTRA_TEXT_FIELDS:
        if extra and isinstance(extra.get(key), str):
            extra[key] = await clean_text(session, extra[key], f"extra.{key}")


# ---------------------------------------------------------------- posts


async def check_create_post(session: AsyncSession, principal: Principal, body: PostIn) -> int:
    found = await _board_for_posting(session, principal, body.board_id)
    check_anonymous(found, body.anonymous)
    extra = check_extra(found.board.kind, body.extra)
    title = await clean_text(session, body.title, "title")
    text = await clean_text(session, body.body, "body")
    await _clean_extra(session, extra)
    picture_ids = await images.check(session, principal.person_id, body.images)
    await limits.spend(limits.POSTS, principal.person_id)
    return await do_create_post(
        session,
        author_id=principal.person_id,
        board_id=found.board.id,
        title=title,
        body=text,
        picture_ids=picture_ids,
        anonymous=body.anonymous,
        extra=extra,
    )


async def do_create_post(
    session: AsyncSession,
    *,
    author_id: int,
    board_id: int,
    title: str,
    body: str,
    picture_ids: list[str],
    anonymous: bool,
    extra: dict[str, Any] | None,
    at: datetime | None = None,
) -> int:
    now = at or clock.now()
    post = Post(
        board_id=board_id,
        author_id=author_id,
        anonymous=anonymous,
        title=title,
        body=body,
        images=picture_ids,
        extra=extra,
        status="visible",
        like_count=0,
        comment_count=0,
        view_count=0,
        created_ts=int(now.timestamp()),
        moderation_note="",
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    await session.flush()
    await images.bind(session, picture_ids, post.id)
    audit.record(session, "community.post.create", "cmty_post", post.id, after=_state(post))
    await emit(
        session,
        events.POST_CREATED,
        events.PostCreated(
            post_id=post.id,
            board_id=board_id,
            author_id=author_id,
            anonymous=anonymous,
            title=title,
            images=len(picture_ids),
            created_at=now,
        ),
    )
    return post.id


def _state(post: Post) -> dict[str, Any]:
    return {
        "board_id": post.board_id,
        "title": post.title,
        "anonymous": post.anonymous,
        "status": post.status,
        "images": list(post.images or []),
    }


async def check_delete_post(session: AsyncSession, principal: Principal, post: Post) -> None:
    """The author takes their own post down (moderators hide instead)."""
    if post.author_id != principal.person_id:
        raise Forbidden(_("只能删除自己的帖子"))
    await do_delete_post(session, post, principal.person_id)


async def do_delete_post(session: AsyncSession, post: Post, by_id: int) -> None:
    before = _state(post)
    post.status = "deleted"
    post.updated_at = clock.now()
    audit.record(
        session, "community.post.delete", "cmty_post", post.id, before=before, after=_state(post)
    )
    await emit(
        session,
        events.POST_DELETED,
        events.PostGone(
            post_id=post.id, board_id=post.board_id, author_id=post.author_id, by_id=by_id
        ),
    )


async def count_view(session: AsyncSession, post: Post, person_id: int) -> bool:
    """Count the person's view of the post, once an hour at most; whether it counted."""
    cache = runtime.current().cache
    fresh = await cache.set_if_absent(
        f"cmty:viewed:{post.id}:{person_id}", b"1", ttl=VIEW_WINDOW_SECONDS
    )
    if fresh:
        await session.execute(
            update(Post)
            .where(Post.id == post.id)
            .values(view_count=Post.view_count + 1)
            .execution_options(synchronize_session=False)
        )
    return fresh


# ---------------------------------------------------------------- comments


async def _check_parent(session: AsyncSession, post: Post, parent_id: int | None) -> Comment | None:
    if parent_id is None:
        return None
    parent = await session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id or parent.status != "visible":
        raise InvalidInput.on("parent_id", _("要回复的评论不存在或已被隐藏"))
    if parent.parent_id is not None:
        raise InvalidInput.on("parent_id", _("只能回复一级评论"))
    return parent


async def _refuse_if_blocked(
    session: AsyncSession, principal: Principal, post: Post, parent: Comment | None
) -> None:
    """Someone who blocked the commenter is not written to. Only named writers are checked:
    a refusal on an anonymous one would tell who is behind it."""
    target = parent if parent is not None else post
    if target.anonymous or target.author_id == principal.person_id:
        return
    if await messaging.is_blocked(session, target.author_id, principal.person_id):
        field = "parent_id" if parent is not None else "post_id"
        reason = _("对方已将您屏蔽，无法回复")
        raise Forbidden(reason, errors=[FieldError(field, reason)])


async def check_comment(
    session: AsyncSession, principal: Principal, post: Post, found: BoardAccess, body: CommentIn
) -> int:
    if post.status != "visible":
        raise Conflict.on("post_id", _("帖子已被隐藏或删除，不能评论"))
    if not found.board.active:
        raise Conflict.on("post_id", _("板块已停用，不能评论"))
    refuse_banned(found)
    check_anonymous(found, body.anonymous)
    parent = await _check_parent(session, post, body.parent_id)
    await _refuse_if_blocked(session, principal, post, parent)
    text = await clean_text(session, body.body, "body")
    await limits.spend(limits.COMMENTS, principal.person_id)
    return await do_comment(
        session, post, parent, author_id=principal.person_id, body=text, anonymous=body.anonymous
    )


async def do_comment(
    session: AsyncSession,
    post: Post,
    parent: Comment | None,
    *,
    author_id: int,
    body: str,
    anonymous: bool,
    at: datetime | None = None,
    tell: bool = True,
) -> int:
    comment = Comment(
        post_id=post.id,
        parent_id=parent.id if parent else None,
        author_id=author_id,
        anonymous=anonymous,
        body=body,
        status="visible",
        like_count=0,
        moderation_note="",
        created_at=at or clock.now(),
    )
    session.add(comment)
    await session.flush()
    await add_comments(session, post.id, 1)
    audit.record(
        session,
        "community.comment.create",
        "cmty_comment",
        comment.id,
        after={"post_id": post.id, "parent_id": comment.parent_id, "anonymous": anonymous},
    )
    await emit(
        session,
        events.COMMENT_CREATED,
        events.CommentCreated(
            comment_id=comment.id,
            post_id=post.id,
            board_id=post.board_id,
            parent_id=comment.parent_id,
            author_id=author_id,
            anonymous=anonymous,
        ),
    )
    if tell:
        await _tell_about_comment(session, post, parent, comment)
    return comment.id


async def _tell_about_comment(
    session: AsyncSession, post: Post, parent: Comment | None, comment: Comment
) -> None:
    """The post's author (or the replied comment's) hears of it, under the name the comment
    shows."""
    if comment.anonymous:
        who = pseudonym(post.id, comment.author_id)
    else:
        person = await users.get_person_ref(session, comment.author_id)
        who = person.name if person else str(_("有人"))
    to = parent.author_id if parent is not None else post.author_id
    if to == comment.author_id:
        return
    title = (
        _("{who} 回复了你的评论", who=who)
        if parent is not None
        else _("{who} 评论了你的帖子“{title}”", who=who, title=post.title)
    )
    await notify.person(
        session,
        to,
        str(title),
        comment.body,
        link=f"/community/posts/{post.id}#comment-{comment.id}",
        source=f"community:comment:{comment.id}",
    )


async def add_comments(session: AsyncSession, post_id: int, amount: int) -> None:
    await session.execute(
        update(Post)
        .where(Post.id == post_id)
        .values(comment_count=Post.comment_count + amount)
        .execution_options(synchronize_session=False)
    )


async def check_delete_comment(
    session: AsyncSession, principal: Principal, comment: Comment, post: Post
) -> None:
    if comment.author_id != principal.person_id:
        raise Forbidden(_("只能删除自己的评论"))
    was_visible = comment.status == "visible"
    comment.status = "deleted"
    if was_visible:
        await add_comments(session, post.id, -1)
    audit.record(session, "community.comment.delete", "cmty_comment", comment.id)
    await emit(
        session,
        events.COMMENT_DELETED,
        events.CommentGone(
            comment_id=comment.id,
            post_id=post.id,
            board_id=post.board_id,
            author_id=comment.author_id,
            by_id=principal.person_id,
        ),
    )


# ---------------------------------------------------------------- likes


def _refuse_unless_visible(status: str, field: str) -> None:
    if status != "visible":
        raise Conflict.on(field, _("内容已被隐藏，不能点赞"))


async def do_like_post(session: AsyncSession, post: Post, person_id: int, like: bool) -> LikeOut:
    """Like (or take the like back) once: a repeated like or unlike changes nothing."""
    _refuse_unless_visible(post.status, "post_id")
    changed = await _toggle(session, PostLike, {"post_id": post.id, "person_id": person_id}, like)
    count = await _add_to(session, Post, post.id, (1 if like else -1) if changed else 0)
    if changed:
        await emit(
            session,
            events.POST_LIKED,
            events.PostLiked(post_id=post.id, person_id=person_id, liked=like, like_count=count),
        )
    return LikeOut(liked=like, like_count=count)


async def do_like_comment(
    session: AsyncSession, comment: Comment, person_id: int, like: bool
) -> LikeOut:
    _refuse_unless_visible(comment.status, "comment_id")
    key = {"comment_id": comment.id, "person_id": person_id}
    changed = await _toggle(session, CommentLike, key, like)
    count = await _add_to(session, Comment, comment.id, (1 if like else -1) if changed else 0)
    return LikeOut(liked=like, like_count=count)


async def _toggle(session: AsyncSession, model: Any, key: dict[str, int], on: bool) -> bool:
    """Insert (``on``) or delete the row of a like or a follow; whether anything changed. A
    repeated insert or delete changes nothing, so a counter updated only on ``True`` stays
    exact."""
    if on:
        return await insert_ignore(session, model, [{**key, "created_at": clock.now()}]) > 0
    result: Any = await session.execute(delete(model).filter_by(**key))
    return bool(result.rowcount)


async def _add_to(session: AsyncSession, model: Any, row_id: int, amount: int) -> int:
    """Add to the row's like counter in SQL; the count after it."""
    stmt = (
        update(model)
        .where(model.id == row_id)
        .values(like_count=model.like_count + amount)
        .returning(model.like_count)
        .execution_options(synchronize_session=False)
    )
    return int((await session.execute(stmt)).scalar_one())


# ---------------------------------------------------------------- follows


async def check_follow(
    session: AsyncSession, principal: Principal, person_id: int, follow: bool
) -> bool:
    """Follow (or stop following) a person; whether anything changed."""
    if person_id == principal.person_id:
        raise InvalidInput.on("person_id", _("不能关注自己"))
    if await users.get_person_ref(session, person_id) is None:
        raise NotFound(_("用户不存在"))
    if follow and await messaging.is_blocked(session, person_id, principal.person_id):
        reason = _("对方已将您屏蔽，无法关注")
        raise Forbidden(reason, errors=[FieldError("person_id", reason)])
    return await do_follow(session, principal.person_id, person_id, follow)


async def do_follow(
    session: AsyncSession, follower_id: int, followee_id: int, follow: bool
) -> bool:
    key = {"follower_id": follower_id, "followee_id": followee_id}
    changed = await _toggle(session, Follow, key, follow)
    if changed:
        await emit(
            session,
            events.FOLLOWED,
            events.Followed(follower_id=follower_id, followee_id=followee_id, following=follow),
        )
    return changed
