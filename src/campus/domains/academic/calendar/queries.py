"""Reads of the academic calendar: terms, their special days and period grid, and what follows
from them (week numbers, the weeks as a grid, the days actually taught)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.schemas import (
    BlockOut,
    CalendarDay,
    CalendarWeek,
    PeriodGrid,
    PeriodOut,
    TeachingDay,
    TermCalendar,
    TermDayOut,
    TermOut,
)
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _

SEASON_NAMES = {1: "第一学期", 2: "第二学期", 3: "夏季小学期"}
PART_LABELS = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
WEEKDAY_LABELS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def weeks_of(term: Term) -> int:
    return ((term.end_date - term.start_date).days + 1) // 7


def term_out(term: Term) -> TermOut:
    return TermOut(
        id=term.id,
        code=term.code,
        name=term.name,
        academic_year=term.academic_year,
        season=term.season,
        start_date=term.start_date,
        end_date=term.end_date,
        weeks=weeks_of(term),
        teaching_weeks=term.teaching_weeks,
        exam_week_from=term.exam_week_from,
        exam_week_to=term.exam_week_to,
        days_per_week=term.days_per_week,
        current=term.current,
    )


def default_name(code: str) -> str:
    first, second, season = code.split("-")
    return f"{first}-{second}学年{SEASON_NAMES.get(int(season), '')}"


async def terms(session: AsyncSession) -> list[Term]:
    return list(await session.scalars(select(Term).order_by(Term.start_date.desc())))


async def term_or_404(session: AsyncSession, term_id: int) -> Term:
    term = await session.get(Term, term_id)
    if term is None:
        raise NotFound(_("学期 {id} 不存在", id=term_id))
    return term


async def term_by_code(session: AsyncSession, code: str) -> Term | None:
    found: Term | None = await session.scalar(select(Term).where(Term.code == code))
    return found


async def current_term(session: AsyncSession) -> Term | None:
    found: Term | None = await session.scalar(
        select(Term).where(Term.current.is_(True)).order_by(Term.start_date.desc()).limit(1)
    )
    return found


async def term_of_date(session: AsyncSession, day: date) -> Term | None:
    found: Term | None = await session.scalar(
        select(Term).where(Term.start_date <= day, Term.end_date >= day).limit(1)
    )
    return found


async def overlapping(
    session: AsyncSession, start: date, end: date, except_id: int | None
) -> Term | None:
    stmt = select(Term).where(Term.start_date <= end, Term.end_date >= start)
    if except_id is not None:
        stmt = stmt.where(Term.id != except_id)
    found: Term | None = await session.scalar(stmt.order_by(Term.start_date).limit(1))
    return found


async def term_days(session: AsyncSession, term_id: int) -> list[TermDay]:
    return list(
        await session.scalars(
            select(TermDay).where(TermDay.term_id == term_id).order_by(TermDay.day)
        )
    )


async def periods(session: AsyncSession, term_id: int) -> list[Period]:
    return list(
        await session.scalars(
            select(Period).where(Period.term_id == term_id).order_by(Period.number)
        )
    )


# ---------------------------------------------------------------- what follows from a term


def week_of(term: Term | TermOut, day: date) -> int | None:
    """The week ``day`` falls in (1-based), or None outside the term."""
    if day < term.start_date or day > term.end_date:
        return None
    return (day - term.start_date).days // 7 + 1


def date_of(term: Term | TermOut, week: int, weekday: int) -> date:
    """The date of ``weekday`` (0 Monday) of ``week``."""
    return term.start_date + timedelta(days=(week - 1) * 7 + weekday)


def grid_of(term_id: int, rows: list[Period]) -> PeriodGrid:
    blocks: dict[int, list[Period]] = {}
    for p in rows:
        blocks.setdefault(p.block, []).append(p)
    return PeriodGrid(
        term_id=term_id,
        periods=[PeriodOut.model_validate(p) for p in rows],
        blocks=[
            BlockOut(
                number=n,
                periods=[p.number for p in members],
                starts=members[0].starts,
                ends=members[-1].ends,
                part=members[0].part,
            )
            for n, members in sorted(blocks.items())
        ],
    )


def teaching_days_of(
    term: Term | TermOut, days: list[TermDay] | list[TermDayOut]
) -> list[TeachingDay]:
    """The days taught in the teaching weeks: the weekdays up to ``days_per_week`` less the
    holidays, plus the make-up days (taught as the weekday they stand for)."""
    holidays = {d.day for d in days if d.kind == "holiday"}
    makeups = {d.day: d.as_weekday for d in days if d.kind == "makeup"}
    found: list[TeachingDay] = []
    for week in range(1, term.teaching_weeks + 1):
        for weekday in range(7):
            day = date_of(term, week, weekday)
            if day in makeups and makeups[day] is not None:
                found.append(TeachingDay(day=day, week=week, weekday=int(makeups[day] or 0)))
            elif weekday < term.days_per_week and day not in holidays:
                found.append(TeachingDay(day=day, week=week, weekday=weekday))
    return found


def calendar_of(term: Term, days: list[TermDay]) -> TermCalendar:
    holidays = {d.day: d.name for d in days if d.kind == "holiday"}
    makeups = {d.day: d for d in days if d.kind == "makeup"}
    weeks = []
    for week in range(1, weeks_of(term) + 1):
        teaching_week = week <= term.teaching_weeks
        cells = []
        for weekday in range(7):
            day = date_of(term, week, weekday)
            makeup = makeups.get(day)
            cells.append(
                CalendarDay(
                    day=day,
                    weekday=weekday,
                    teaching=teaching_week
                    and (
                        makeup is not None or (weekday < term.days_per_week and day not in holidays)
                    ),
                    holiday=holidays.get(day),
                    makeup=makeup.name if makeup else None,
                    as_weekday=makeup.as_weekday if makeup else None,
                )
            )
        weeks.append(
            CalendarWeek(
                number=week,
                monday=date_of(term, week, 0),
                exam=term.exam_week_from <= week <= term.exam_week_to,
                teaching=teaching_week,
                days=cells,
            )
        )
    return TermCalendar(
        term=term_out(term),
        weeks=weeks,
        days=[TermDayOut.model_validate(d) for d in days],
    )


async def calendar(session: AsyncSession, term: Term) -> TermCalendar:
    return calendar_of(term, await term_days(session, term.id))
