"""Writes of moderation: reports (into the messaging center's shared queue, mirrored here by
board), hiding and restoring posts and comments, bans (禁言) and resolving reports. Only a
board's moderators act on it; every act is audited, emitted, and told to the person it
concerns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.community import events, limits, notify
from campus.domains.community.access import BoardAccess, access_board
from campus.domains.community.models import Ban, Comment, Post, Report
from campus.domains.community.posts.actions import add_comments
from campus.domains.community.schemas import BanIn, ReportIn, ResolveIn
from campus.domains.community.text import excerpt
from campus.kernel import audit, clock
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.access import service as access
from campus.platform.messaging import service as messaging
from campus.platform.users import service as users

TargetKind = Literal["post", "comment"]
SHARED_KINDS = {"post": "community.post", "comment": "community.comment"}


async def refuse_unless_moderator(principal: Principal, found: BoardAccess) -> None:
    if not found.moderator:
        raise await access.denied(
            principal,
            "community.moderate",
            _("您不是“{board}”的版主", board=found.board.name),
            target_type="cmty_board",
            target_id=found.board.id,
        )


# ---------------------------------------------------------------- reports


async def check_report(
    session: AsyncSession,
    principal: Principal,
    post: Post,
    comment: Comment | None,
    body: ReportIn,
) -> tuple[int, int]:
    """Report a post or comment the reporter can read; (local id, shared queue id). Reporting
    the same content again is idempotent: the first report's ids come back."""
    kind: TargetKind = "comment" if comment is not None else "post"
    target_id = comment.id if comment is not None else post.id
    existing = await session.scalar(
        select(Report).where(
            Report.reporter_id == principal.person_id,
            Report.target_kind == kind,
            Report.target_id == target_id,
        )
    )
    if existing is not None:
        return existing.id, existing.report_id
    if (comment or post).author_id == principal.person_id:
        raise InvalidInput.on("reason", _("不能举报自己发布的内容"))
    await limits.spend(limits.REPORTS, principal.person_id)
    return await do_report(session, principal.person_id, post, comment, body.reason)


async def do_report(
    session: AsyncSession, reporter_id: int, post: Post, comment: Comment | None, reason: str
) -> tuple[int, int]:
    kind: TargetKind = "comment" if comment is not None else "post"
    target = comment if comment is not None else post
    text = comment.body if comment is not None else f"{post.title}\n{post.body}"
    link = f"/community/posts/{post.id}" + (f"#comment-{comment.id}" if comment else "")
    shared_id = await messaging.report(
        session,
        reporter_id,
        SHARED_KINDS[kind],
        str(target.id),
        reason,
        excerpt=excerpt(text, 300),
        link=link,
        author_id=target.author_id,
    )
    row = Report(
        report_id=shared_id,
        board_id=post.board_id,
        post_id=post.id,
        target_kind=kind,
        target_id=target.id,
        reporter_id=reporter_id,
        reason=reason,
        status="pending",
        note="",
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        "community.report",
        f"cmty_{kind}",
        target.id,
        after={"reason": reason, "report_id": shared_id},
    )
    await emit(
        session,
        events.REPORTED,
        events.Reported(
            report_id=shared_id,
            board_id=post.board_id,
            target_kind=kind,
            target_id=target.id,
            reporter_id=reporter_id,
        ),
    )
    return row.id, shared_id


# ---------------------------------------------------------------- hiding and restoring


def _moderate(
    session: AsyncSession, row: Post | Comment, kind: TargetKind, hide: bool, by_id: int, note: str
) -> None:
    """Hide (or restore) a post or comment as a moderator, with the audit entry."""
    before, after = ("visible", "hidden") if hide else ("hidden", "visible")
    row.status = after
    row.moderation_note = note
    row.moderated_by = by_id
    row.moderated_at = clock.now()
    audit.record(
        session,
        f"community.{kind}.{'hide' if hide else 'restore'}",
        f"cmty_{kind}",
        row.id,
        before={"status": before},
        after={"status": after, "note": note} if hide else {"status": after},
    )


async def do_hide_post(session: AsyncSession, post: Post, moderator_id: int, note: str) -> bool:
    """Hide a visible post; whether it changed (a hidden or deleted one stays as it is)."""
    if post.status != "visible":
        return False
    _moderate(session, post, "post", True, moderator_id, note)
    await emit(
        session,
        events.POST_HIDDEN,
        events.PostGone(
            post_id=post.id,
            board_id=post.board_id,
            author_id=post.author_id,
            by_id=moderator_id,
            note=note,
        ),
    )
    await notify.person(
        session,
        post.author_id,
        str(_("你的帖子“{title}”已被版主隐藏", title=post.title)),
        str(_("原因：{note}", note=note)),
        link=f"/community/posts/{post.id}",
        source=f"community:post_hidden:{post.id}:{int(clock.now().timestamp())}",
    )
    return True


async def check_restore_post(session: AsyncSession, post: Post, moderator_id: int) -> None:
    if post.status != "hidden":
        raise Conflict.on("status", _("只能恢复被隐藏的帖子"))
    _moderate(session, post, "post", False, moderator_id, "")
    await emit(
        session,
        events.POST_RESTORED,
        events.PostGone(
            post_id=post.id, board_id=post.board_id, author_id=post.author_id, by_id=moderator_id
        ),
    )


async def do_hide_comment(
    session: AsyncSession, comment: Comment, post: Post, moderator_id: int, note: str
) -> bool:
    if comment.status != "visible":
        return False
    _moderate(session, comment, "comment", True, moderator_id, note)
    await add_comments(session, post.id, -1)
    await emit(
        session,
        events.COMMENT_HIDDEN,
        events.CommentGone(
            comment_id=comment.id,
            post_id=post.id,
            board_id=post.board_id,
            author_id=comment.author_id,
            by_id=moderator_id,
            note=note,
        ),
    )
    await notify.person(
        session,
        comment.author_id,
        str(_("你在“{title}”下的评论已被版主隐藏", title=post.title)),
        str(_("原因：{note}", note=note)),
        link=f"/community/posts/{post.id}",
        source=f"community:comment_hidden:{comment.id}",
    )
    return True


async def check_restore_comment(
    session: AsyncSession, comment: Comment, post: Post, moderator_id: int
) -> None:
    if comment.status != "hidden":
        raise Conflict.on("status", _("只能恢复被隐藏的评论"))
    _moderate(session, comment, "comment", False, moderator_id, "")
    await add_comments(session, post.id, 1)
    await emit(
        session,
        events.COMMENT_RESTORED,
        events.CommentGone(
            comment_id=comment.id,
            post_id=post.id,
            board_id=post.board_id,
            author_id=comment.author_id,
            by_id=moderator_id,
        ),
    )


# ---------------------------------------------------------------- bans


async def _banned_person(session: AsyncSession, board_id: int, body: BanIn) -> int:
    """Whom the ban is for: the person named, or the author of the post or comment named (an
    anonymous author too: the moderator bans them without the name being shown anywhere)."""
    given = [x for x in (body.person_id, body.post_id, body.comment_id) if x is not None]
    if len(given) != 1:
        raise InvalidInput.on("person_id", _("请指定一个人，或一篇帖子、一条评论的作者"))
    if body.person_id is not None:
        if await users.get_person_ref(session, body.person_id) is None:
            raise InvalidInput.on("person_id", _("用户不存在"))
        return body.person_id
    if body.post_id is not None:
        post = await session.get(Post, body.post_id)
        if post is None or post.board_id != board_id:
            raise InvalidInput.on("post_id", _("本板块没有这篇帖子"))
        return post.author_id
    comment = await session.get(Comment, body.comment_id)
    post = await session.get(Post, comment.post_id) if comment is not None else None
    if comment is None or post is None or post.board_id != board_id:
        raise InvalidInput.on("comment_id", _("本板块没有这条评论"))
    return comment.author_id


async def check_ban(
    session: AsyncSession, principal: Principal, found: BoardAccess, body: BanIn
) -> int:
    person_id = await _banned_person(session, found.board.id, body)
    if person_id == principal.person_id:
        raise InvalidInput.on("person_id", _("不能禁言自己"))
    return await do_ban(session, found, person_id, body.days, body.reason, principal.person_id)


async def do_ban(
    session: AsyncSession, found: BoardAccess, person_id: int, days: int, reason: str, by_id: int
) -> int:
    now = clock.now()
    ban = Ban(
        board_id=found.board.id,
        person_id=person_id,
        until=now + timedelta(days=days),
        reason=reason,
        banned_by=by_id,
        created_at=now,
    )
    session.add(ban)
    await session.flush()
    audit.record(
        session,
        "community.ban",
        "cmty_ban",
        ban.id,
        after={"board_id": found.board.id, "person_id": person_id, "days": days, "reason": reason},
    )
    await emit(
        session,
        events.BANNED,
        events.Banned(
            ban_id=ban.id,
            board_id=found.board.id,
            person_id=person_id,
            until=ban.until,
            by_id=by_id,
        ),
    )
    await notify.person(
        session,
        person_id,
        str(_("你在“{board}”被禁言至 {until}", board=found.board.name, until=fmt(ban.until))),
        str(_("原因：{note}", note=reason)),
        link=f"/community/b/{found.board.code}",
        source=f"community:ban:{ban.id}",
    )
    return ban.id


async def check_lift_ban(session: AsyncSession, principal: Principal, ban_id: int) -> None:
    ban = await session.get(Ban, ban_id)
    if ban is None or ban.lifted_at is not None:
        raise NotFound(_("禁言记录不存在或已解除"))
    found = await access_board(session, principal, ban.board_id)
    await refuse_unless_moderator(principal, found)
    ban.lifted_at = clock.now()
    audit.record(
        session, "community.ban.lift", "cmty_ban", ban.id, after={"person_id": ban.person_id}
    )


# ---------------------------------------------------------------- resolving reports


async def check_resolve(
    session: AsyncSession,
    principal: Principal,
    found: BoardAccess,
    kind: TargetKind,
    target_id: int,
    body: ResolveIn,
) -> int:
    """Decide every pending report on one post or comment of the board: ``remove`` hides it,
    ``dismiss`` leaves it. Returns how many reports it closed."""
    pending = list(
        (
            await session.scalars(
                select(Report).where(
                    Report.board_id == found.board.id,
                    Report.target_kind == kind,
                    Report.target_id == target_id,
                    Report.status == "pending",
                )
            )
        ).all()
    )
    if not pending:
        raise Conflict.on("action", _("没有待处理的举报"))
    note = body.note.strip() or str(_("经举报核实"))
    if body.action == "remove":
        await hide_target(session, kind, target_id, principal.person_id, note)
    return await do_resolve(session, pending, body.action, principal.person_id, note)


async def hide_target(
    session: AsyncSession, kind: TargetKind, target_id: int, moderator_id: int, note: str
) -> None:
    if kind == "post":
        post = await session.get(Post, target_id)
        if post is not None:
            await do_hide_post(session, post, moderator_id, note)
        return
    comment = await session.get(Comment, target_id)
    if comment is not None:
        post = await session.get(Post, comment.post_id)
        assert post is not None
        await do_hide_comment(session, comment, post, moderator_id, note)


async def do_resolve(
    session: AsyncSession,
    pending: list[Report],
    action: str,
    moderator_id: int,
    note: str,
    *,
    settle_shared: bool = True,
) -> int:
    """Close the community's reports; unless the decision came from the shared queue
    (``settle_shared=False``), its reports on the same content are closed there too."""
    status = "removed" if action == "remove" else "dismissed"
    first = pending[0]
    ids = [r.id for r in pending]
    values: dict[str, Any] = {
        "status": status,
        "decided_by": moderator_id,
        "decided_at": clock.now(),
        "note": note,
    }
    await session.execute(
        update(Report)
        .where(Report.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    audit.record(
        session,
        "community.report.resolve",
        f"cmty_{first.target_kind}",
        first.target_id,
        after={"action": action, "reports": ids, "note": note},
    )
    await emit(
        session,
        events.REPORT_RESOLVED,
        events.ReportResolved(
            board_id=first.board_id,
            target_kind=first.target_kind,
            target_id=first.target_id,
            action=action,
            moderator_id=moderator_id,
            report_ids=[r.report_id for r in pending],
        ),
    )
    if settle_shared:
        await messaging.settle_reports(
            session,
            moderator_id,
            SHARED_KINDS[first.target_kind],
            str(first.target_id),
            action,
            note,
        )
    return len(ids)


async def _pending_on(session: AsyncSession, kind: str, target_id: int) -> list[Report]:
    return list(
        (
            await session.scalars(
                select(Report).where(
                    Report.target_kind == kind,
                    Report.target_id == target_id,
                    Report.status == "pending",
                )
            )
        ).all()
    )


async def do_hide(
    session: AsyncSession, post: Post, comment: Comment | None, moderator_id: int, note: str
) -> bool:
    """A moderator hides a post or comment by hand: the pending reports on it, here and in the
    shared queue, are closed as removed. Whether it changed (already hidden: nothing)."""
    if comment is None:
        changed = await do_hide_post(session, post, moderator_id, note)
    else:
        changed = await do_hide_comment(session, comment, post, moderator_id, note)
    kind: TargetKind = "comment" if comment is not None else "post"
    pending = await _pending_on(session, kind, (comment or post).id) if changed else []
    if pending:
        await do_resolve(session, pending, "remove", moderator_id, note)
    return changed


async def on_shared_decision(
    session: AsyncSession,
    kind: TargetKind,
    target_id: int,
    action: str,
    moderator_id: int,
    note: str,
) -> None:
    """A moderator of the messaging center decided reports on community content in the shared
    queue: take it down on ``remove``, and close the community's mirror of those reports."""
    if action == "remove":
        await hide_target(session, kind, target_id, moderator_id, note or str(_("经举报核实")))
    pending = await _pending_on(session, kind, target_id)
    if pending:
        await do_resolve(session, pending, action, moderator_id, note, settle_shared=False)
