"""Writes of moderation: ``check_*`` validates, ``do_*`` writes, audits and emits. The word
list's version is bumped only after the commit, so no process compiles a list that may still
be rolled back under the new version."""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import audit, clock, runtime
from campus.kernel.context import Principal
from campus.kernel.db import after_commit
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.messaging.moderation import events, filter
from campus.platform.messaging.moderation.models import (
    Block,
    ModerationSetting,
    Report,
    SensitiveWord,
)
from campus.platform.messaging.moderation.queries import RETENTION_KEY
from campus.platform.messaging.moderation.schemas import Decision, ReportDecided, WordIn
from campus.platform.users import service as users

WORD_MAX = 60
REASON_MAX = 500
EXCERPT_MAX = 500
DECISION_NOTE_MAX = 300
KIND_PATTERN = r"^[a-z_]+\.[a-z_]+$"


def _bump_after_commit(session: AsyncSession) -> None:
    async def bump() -> None:
        await filter.bump_version(runtime.current().cache)

    after_commit(session, bump)


# ---------------------------------------------------------------- the word list


def clean_words(raw: list[str]) -> list[str]:
    """Each word folded and trimmed, each once; a 422 naming ``words.{i}`` for a bad one."""
    errors: list[FieldError] = []
    seen: dict[str, None] = {}
    for index, item in enumerate(raw):
        word = filter.fold(item.strip())
        if not word:
            errors.append(FieldError(f"words.{index}", _("不能为空")))
        elif len(word) > WORD_MAX:
            errors.append(FieldError(f"words.{index}", _("不能超过 {n} 个字", n=WORD_MAX)))
        else:
            seen.setdefault(word, None)
    if errors:
        raise InvalidInput(_("词语有误，请检查标出的项"), errors=errors)
    return list(seen)


async def check_add_words(session: AsyncSession, principal: Principal, body: WordIn) -> int:
    """Adds the words (a word already listed takes the new level); returns how many changed."""
    return await do_add_words(session, principal, clean_words(body.words), body.level)


async def do_add_words(
    session: AsyncSession,
    principal: Principal | None,
    words: list[str],
    level: str,
    *,
    announce: bool = True,
) -> int:
    """``announce=False`` (seeding, before any process serves): no version bump to send."""
    existing = {
        w.word: w
        for w in (
            await session.scalars(select(SensitiveWord).where(SensitiveWord.word.in_(words)))
        ).all()
    }
    now = clock.now()
    changed = 0
    for word in words:
        row = existing.get(word)
        if row is None:
            session.add(
                SensitiveWord(
                    word=word,
                    level=level,
                    created_by=principal.person_id if principal else None,
                    created_at=now,
                )
            )
            changed += 1
        elif row.level != level:
            row.level = level
            changed += 1
    if changed:
        await session.flush()
        audit.record(
            session,
            "messaging.word.add",
            "msg_sensitive_word",
            after={"words": words, "level": level},
        )
        if announce:
            _bump_after_commit(session)
    return changed


async def check_delete_word(session: AsyncSession, word_id: int) -> None:
    row = await session.get(SensitiveWord, word_id)
    if row is None:
        raise NotFound(_("词语不存在"))
    await session.delete(row)
    audit.record(
        session, "messaging.word.delete", "msg_sensitive_word", word_id, before={"word": row.word}
    )
    _bump_after_commit(session)


# ---------------------------------------------------------------- reports


async def report(
    session: AsyncSession,
    reporter_id: int,
    target_kind: str,
    target_id: str,
    reason: str,
    *,
    excerpt: str = "",
    link: str | None = None,
    author_id: int | None = None,
) -> int:
    """Queue a report; the caller has checked that the reporter may see the content. A second
    report of the same content by the same person returns the first one's id."""
    reason = reason.strip()
    if not re.match(KIND_PATTERN, target_kind) or len(target_kind) > 40:
        raise InvalidInput.on("target_kind", _("举报对象类型不正确"))
    if not target_id or len(target_id) > 64:
        raise InvalidInput.on("target_id", _("举报对象不正确"))
    if not reason:
        raise InvalidInput.on("reason", _("请填写举报理由"))
    if len(reason) > REASON_MAX:
        raise InvalidInput.on("reason", _("不能超过 {n} 个字", n=REASON_MAX))
    found = await session.scalar(
        select(Report.id).where(
            Report.reporter_id == reporter_id,
            Report.target_kind == target_kind,
            Report.target_id == target_id,
        )
    )
    if found is not None:
        return int(found)
    row = Report(
        reporter_id=reporter_id,
        target_kind=target_kind,
        target_id=target_id,
        reason=reason,
        excerpt=excerpt[:EXCERPT_MAX],
        link=link,
        author_id=author_id,
        status="pending",
        decision_note="",
        created_at=clock.now(),
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        "messaging.report.create",
        "msg_report",
        row.id,
        after={"target": f"{target_kind}:{target_id}", "reason": reason},
    )
    await emit(
        session,
        events.REPORTED,
        {"report_id": row.id, "target_kind": target_kind, "target_id": target_id},
    )
    return row.id


async def check_decide(
    session: AsyncSession, principal: Principal, report_id: int, decision: Decision
) -> ReportDecided:
    """Decides every pending report on the same content at once."""
    row = await session.get(Report, report_id)
    if row is None:
        raise NotFound(_("举报不存在"))
    if row.status != "pending":
        raise Conflict.on("action", _("该举报已处理"))
    return await do_decide(session, principal, row, decision)


async def _close_pending(
    session: AsyncSession,
    moderator_id: int,
    target_kind: str,
    target_id: str,
    action: str,
    note: str,
) -> list[int]:
    """Every pending report on the content decided at once; their ids."""
    same_target = (
        Report.target_kind == target_kind,
        Report.target_id == target_id,
        Report.status == "pending",
    )
    ids = list((await session.scalars(select(Report.id).where(*same_target))).all())
    if ids:
        await session.execute(
            update(Report)
            .where(Report.id.in_(ids))
            .values(
                status="removed" if action == "remove" else "dismissed",
                moderator_id=moderator_id,
                decision_note=note,
                decided_at=clock.now(),
            )
        )
    return ids


async def do_decide(
    session: AsyncSession, principal: Principal, row: Report, decision: Decision
) -> ReportDecided:
    note = decision.note.strip()
    ids = await _close_pending(
        session, principal.person_id, row.target_kind, row.target_id, decision.action, note
    )
    payload = ReportDecided(
        report_ids=ids,
        target_kind=row.target_kind,
        target_id=row.target_id,
        action=decision.action,
        moderator_id=principal.person_id,
        note=note,
    )
    audit.record(
        session, "messaging.report.decide", "msg_report", row.id, after=payload.model_dump()
    )
    await emit(session, events.REPORT_DECIDED, payload)
    return payload


async def settle_reports(
    session: AsyncSession,
    moderator_id: int,
    target_kind: str,
    target_id: str,
    action: str,
    note: str = "",
) -> list[int]:
    """The module owning ``target_kind`` decided its content itself (a community board's
    moderator hid or cleared a post): the pending shared reports on it are closed the same
    way, audited, and ``messaging.report.decided`` is emitted with ``by_owner=True`` (the
    owner has acted already; its handler ignores such events). With nothing pending nothing
    is written or emitted, so a repeat — or the owner settling again while it reacts to a
    decision of the shared queue — cannot echo. Returns the ids closed."""
    if action not in ("remove", "dismiss"):
        raise InvalidInput.on("action", _("处理方式不正确"))
    if not re.match(KIND_PATTERN, target_kind) or len(target_kind) > 40:
        raise InvalidInput.on("target_kind", _("举报对象类型不正确"))
    note = note.strip()[:DECISION_NOTE_MAX]
    ids = await _close_pending(session, moderator_id, target_kind, target_id, action, note)
    if not ids:
        return []
    payload = ReportDecided(
        report_ids=ids,
        target_kind=target_kind,
        target_id=target_id,
        action="remove" if action == "remove" else "dismiss",
        moderator_id=moderator_id,
        note=note,
        by_owner=True,
    )
    audit.record(
        session, "messaging.report.settle", "msg_report", ids[0], after=payload.model_dump()
    )
    await emit(session, events.REPORT_DECIDED, payload)
    return ids


# ---------------------------------------------------------------- blocks


async def check_block(session: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    if blocker_id == blocked_id:
        raise InvalidInput.on("person_id", _("不能屏蔽自己"))
    if await users.get_person_ref(session, blocked_id) is None:
        raise InvalidInput.on("person_id", _("人员不存在"))
    exists = await session.get(Block, (blocker_id, blocked_id))
    if exists is None:
        session.add(Block(blocker_id=blocker_id, blocked_id=blocked_id, created_at=clock.now()))
        audit.record(session, "messaging.block", "person", blocked_id)


async def do_unblock(session: AsyncSession, blocker_id: int, blocked_id: int) -> None:
    result = await session.execute(
        delete(Block).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
    )
    if getattr(result, "rowcount", 0):
        audit.record(session, "messaging.unblock", "person", blocked_id)


# ---------------------------------------------------------------- settings


async def set_setting(session: AsyncSession, principal: Principal, key: str, value: int) -> None:
    row = await session.get(ModerationSetting, key)
    before = None if row is None else {"value": row.value}
    if row is None:
        row = ModerationSetting(key=key, value=value, updated_at=clock.now())
        session.add(row)
    row.value = value
    row.updated_by = principal.person_id
    row.updated_at = clock.now()
    audit.record(
        session,
        "messaging.setting",
        "msg_moderation_setting",
        key,
        before=before,
        after={"value": value},
    )


async def set_retention_days(session: AsyncSession, principal: Principal, days: int) -> None:
    if days < 0 or days > 3650:
        raise InvalidInput.on("days", _("应在 0 到 3650 之间"))
    await set_setting(session, principal, RETENTION_KEY, days)
