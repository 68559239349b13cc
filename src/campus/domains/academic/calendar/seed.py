"""The demo calendar: the current academic year's two terms (the one under way, or next,
marked current), the Chinese public holidays in them with their make-up days (调休), and a
12-period day in 6 blocks."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.calendar.queries import default_name
from campus.kernel import clock

WEEKS = 20
TEACHING_WEEKS = 18

# 12 periods in 6 blocks: (block, starts, ends, part).
PERIODS: tuple[tuple[int, str, str, str], ...] = (
    (1, "08:00", "08:45", "morning"),
    (1, "08:55", "09:40", "morning"),
    (2, "10:00", "10:45", "morning"),
    (2, "10:55", "11:40", "morning"),
    (3, "14:00", "14:45", "afternoon"),
    (3, "14:55", "15:40", "afternoon"),
    (4, "16:00", "16:45", "afternoon"),
    (4, "16:55", "17:40", "afternoon"),
    (5, "18:30", "19:15", "evening"),
    (5, "19:25", "20:10", "evening"),
    (6, "20:20", "21:05", "evening"),
    (6, "21:15", "22:00", "evening"),
)

# Lunar holidays by Gregorian year (端午节, 中秋节).
DUANWU = {2025: date(2025, 5, 31), 2026: date(2026, 6, 19), 2027: date(2027, 6, 9),
          2028: date(2028, 5, 28), 2029: date(2029, 6, 16), 2030: date(2030, 6, 5),
          2031: date(2031, 6, 24), 2032: date(2032, 6, 12)}  # fmt: skip
ZHONGQIU = {2025: date(2025, 10, 6), 2026: date(2026, 9, 25), 2027: date(2027, 9, 15),
            2028: date(2028, 10, 3), 2029: date(2029, 9, 22), 2030: date(2030, 9, 12),
            2031: date(2031, 10, 1), 2032: date(2032, 9, 19)}  # fmt: skip


def first_monday_on_or_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def academic_year_of(today: date) -> int:
    """2026 for 2026-2027: a new academic year begins in August."""
    return today.year if today.month >= 8 else today.year - 1


def term_dates(year: int) -> tuple[date, date]:
    """The start Mondays of the autumn and the spring term of academic year ``year``."""
    autumn = first_monday_on_or_after(date(year, 9, 1))
    spring = first_monday_on_or_after(date(year + 1, 2, 20))
    return autumn, spring


def qingming(year: int) -> date:
    return date(year, 4, 4 if year % 4 in (0, 1) else 5)


Special = tuple[date, str, str, int | None]  # day, kind, name, as_weekday


def holiday_block(
    days: list[date], statutory: set[date], name: str, taken: set[date]
) -> list[Special]:
    """A run of holidays; the weekdays off beyond the statutory ones are made up on the nearest
    weekend days around the run (alternately before and after), in the order of the days off."""
    found: list[Special] = [(d, "holiday", name, None) for d in days]
    weekdays = [d for d in days if d.weekday() < 5]
    # Statutory days that fall on a weekend are given back as weekdays of the run.
    owed = max(0, len(weekdays) - len(statutory))
    off = [d for d in weekdays if d not in statutory]
    borrowed = off[len(off) - owed :] if owed else []
    before, after = min(days) - timedelta(days=1), max(days) + timedelta(days=1)
    makeups: list[date] = []
    turn = 0
    while len(makeups) < len(borrowed):
        if turn % 2 == 0:
            while before.weekday() < 5 or before in taken:
                before -= timedelta(days=1)
            makeups.append(before)
            before -= timedelta(days=1)
        else:
            while after.weekday() < 5 or after in taken:
                after += timedelta(days=1)
            makeups.append(after)
            after += timedelta(days=1)
        turn += 1
    for day, lent in zip(sorted(makeups), borrowed, strict=True):
        found.append((day, "makeup", f"{name}调休", lent.weekday()))
    return found


def single_holiday(day: date, name: str, taken: set[date]) -> list[Special]:
    """A one-day holiday made a long weekend: Tuesday takes Monday off (made up the Saturday
    before), Thursday takes Friday off (made up the Sunday after); on a weekend the Monday
    after is off instead."""
    weekday = day.weekday()
    if weekday == 1:
        return holiday_block([day - timedelta(days=1), day], {day}, name, taken)
    if weekday == 3:
        return holiday_block([day, day + timedelta(days=1)], {day}, name, taken)
    if weekday >= 5:
        monday = day + timedelta(days=7 - weekday)
        return [(day, "holiday", name, None), (monday, "holiday", name, None)]
    return [(day, "holiday", name, None)]


def holidays_between(start: date, end: date) -> list[Special]:
    """The public holidays and their make-up days from ``start`` to ``end``."""
    found: list[Special] = []
    taken: set[date] = set()

    def add(items: list[Special]) -> None:
        for item in items:
            if item[0] not in taken:
                taken.add(item[0])
                found.append(item)

    for year in range(start.year, end.year + 1):
        national = [date(year, 10, d) for d in range(1, 8)]
        zq = ZHONGQIU.get(year)
        if zq is not None and date(year, 9, 30) <= zq <= date(year, 10, 8):
            national = [date(year, 10, d) for d in range(1, 9)]
            add(
                holiday_block(
                    national, {*national[:3], zq}, "国庆节、中秋节", taken | set(national)
                )
            )
        else:
            add(holiday_block(national, set(national[:3]), "国庆节", taken | set(national)))
            if zq is not None:
                add(single_holiday(zq, "中秋节", taken))
        add(single_holiday(date(year, 1, 1), "元旦", taken))
        add(single_holiday(qingming(year), "清明节", taken))
        labour = [date(year, 5, d) for d in range(1, 6)]
        add(holiday_block(labour, set(labour[:2]), "劳动节", taken | set(labour)))
        if year in DUANWU:
            add(single_holiday(DUANWU[year], "端午节", taken))
    return sorted((s for s in found if start <= s[0] <= end), key=lambda s: s[0])


async def seed_calendar(session: AsyncSession) -> list[int]:
    """The two terms of the current academic year; returns their ids (autumn, spring)."""
    if await session.scalar(select(Term.id).limit(1)) is not None:
        return list(await session.scalars(select(Term.id).order_by(Term.start_date)))
    today = clock.today()
    year = academic_year_of(today)
    autumn, spring = term_dates(year)
    current_season = 1 if today < spring else 2
    ids = []
    for season, start in ((1, autumn), (2, spring)):
        code = f"{year}-{year + 1}-{season}"
        end = start + timedelta(days=WEEKS * 7 - 1)
        term = Term(
            code=code,
            name=default_name(code),
            academic_year=year,
            season=season,
            start_date=start,
            end_date=end,
            teaching_weeks=TEACHING_WEEKS,
            exam_week_from=TEACHING_WEEKS + 1,
            exam_week_to=WEEKS,
            days_per_week=5,
            current=season == current_season,
            created_at=clock.now(),
        )
        session.add(term)
        await session.flush()
        ids.append(term.id)
        days = [
            {"term_id": term.id, "day": d, "kind": kind, "name": name, "as_weekday": wd}
            for d, kind, name, wd in holidays_between(start, end)
        ]
        if days:
            await session.execute(insert(TermDay), days)
        await session.execute(
            insert(Period),
            [
                {
                    "term_id": term.id,
                    "number": n,
                    "block": block,
                    "starts": time.fromisoformat(starts),
                    "ends": time.fromisoformat(ends),
                    "part": part,
                }
                for n, (block, starts, ends, part) in enumerate(PERIODS, 1)
            ],
        )
    return ids
