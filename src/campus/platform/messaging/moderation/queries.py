"""Reads of moderation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.pagination import PageParams, paginate
from campus.platform.messaging.moderation.models import (
    Block,
    ModerationSetting,
    Report,
    SensitiveWord,
)
from campus.platform.messaging.moderation.schemas import (
    BlockOut,
    ReportOut,
    ReportPage,
    WordOut,
    WordPage,
)
from campus.platform.users import service as users
from campus.platform.users.schemas import PersonRef

RETENTION_KEY = "im.retention_days"
DEFAULT_RETENTION_DAYS = 365


async def is_blocked(session: AsyncSession, blocker_id: int, blocked_id: int) -> bool:
    found = await session.scalar(
        select(Block.blocker_id).where(
            Block.blocker_id == blocker_id, Block.blocked_id == blocked_id
        )
    )
    return found is not None


async def blocks_of(session: AsyncSession, person_id: int) -> list[BlockOut]:
    rows = (
        await session.scalars(
            select(Block).where(Block.blocker_id == person_id).order_by(Block.created_at.desc())
        )
    ).all()
    people = await users.get_people(session, [b.blocked_id for b in rows])
    return [
        BlockOut(
            person_id=b.blocked_id,
            name=people[b.blocked_id].name if b.blocked_id in people else "",
            created_at=b.created_at,
        )
        for b in rows
    ]


async def words(
    session: AsyncSession, paging: PageParams, q: str | None = None, level: str | None = None
) -> WordPage:
    stmt: Select[Any] = select(SensitiveWord).order_by(SensitiveWord.word)
    if q:
        stmt = stmt.where(SensitiveWord.word.contains(q.lower(), autoescape=True))
    if level:
        stmt = stmt.where(SensitiveWord.level == level)
    page = await paginate(session, stmt, paging.page, paging.page_size)
    return page.into(
        WordPage,
        lambda w: WordOut(id=w.id, word=w.word, level=w.level, created_at=w.created_at),
    )


async def reports(
    session: AsyncSession, paging: PageParams, status: str | None, kind: str | None
) -> ReportPage:
    stmt: Select[Any] = select(Report)
    if status:
        stmt = stmt.where(Report.status == status)
    if kind:
        stmt = stmt.where(Report.target_kind == kind)
    stmt = stmt.order_by(Report.created_at.desc(), Report.id.desc())
    page = await paginate(session, stmt, paging.page, paging.page_size)
    rows: list[Report] = list(page.items)
    counts = await _reports_per_target(session, rows)
    ids = {r.reporter_id for r in rows} | {r.author_id for r in rows if r.author_id}
    people = await users.get_people(session, list(ids))

    def out(r: Report) -> ReportOut:
        return report_out(r, people, counts.get((r.target_kind, r.target_id), 1))

    return page.into(ReportPage, out)


async def _reports_per_target(
    session: AsyncSession, rows: list[Report]
) -> dict[tuple[str, str], int]:
    if not rows:
        return {}
    targets = {(r.target_kind, r.target_id) for r in rows}
    stmt = (
        select(Report.target_kind, Report.target_id, func.count())
        .where(Report.target_id.in_({t for _k, t in targets}))
        .group_by(Report.target_kind, Report.target_id)
    )
    return {(k, t): int(n) for k, t, n in (await session.execute(stmt)).all() if (k, t) in targets}


def report_out(r: Report, people: dict[int, PersonRef], count: int = 1) -> ReportOut:
    reporter = people.get(r.reporter_id)
    author = people.get(r.author_id) if r.author_id else None
    return ReportOut(
        id=r.id,
        reporter_id=r.reporter_id,
        reporter_name=reporter.name if reporter else "",
        target_kind=r.target_kind,
        target_id=r.target_id,
        reason=r.reason,
        excerpt=r.excerpt,
        link=r.link,
        author_id=r.author_id,
        author_name=author.name if author else "",
        status=r.status,
        moderator_id=r.moderator_id,
        decision_note=r.decision_note,
        decided_at=r.decided_at,
        created_at=r.created_at,
        reports_on_target=count,
    )


async def setting(session: AsyncSession, key: str, default: int) -> int:
    value = await session.scalar(
        select(ModerationSetting.value).where(ModerationSetting.key == key)
    )
    return default if value is None else int(value)


async def retention_days(session: AsyncSession) -> int:
    """Days chat messages are kept; 0 keeps them for ever."""
    return await setting(session, RETENTION_KEY, DEFAULT_RETENTION_DAYS)
