"""Writes of the academic calendar: ``check_*`` validates everything (and answers 422 per
field, 409 for a clash with another term), then ``do_*`` writes and audits. A refusal changes
nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import events
from campus.domains.academic.calendar import queries
from campus.domains.academic.calendar.models import Period, Term, TermDay
from campus.domains.academic.schemas import (
    PeriodIn,
    TermCreate,
    TermDayIn,
    TermFields,
    TermUpdate,
)
from campus.kernel import audit, clock
from campus.kernel.errors import Conflict, FieldError, InvalidInput, NotFound
from campus.kernel.events import emit
from campus.kernel.i18n import _

WEEKDAYS = queries.WEEKDAY_LABELS
PART_ORDER = {"morning": 0, "afternoon": 1, "evening": 2}


def _raise(errors: list[FieldError]) -> None:
    if errors:
        raise InvalidInput(errors[0].reason, errors=errors)


def _state(term: Term) -> dict[str, Any]:
    return {
        "code": term.code,
        "name": term.name,
        "start_date": term.start_date.isoformat(),
        "end_date": term.end_date.isoformat(),
        "teaching_weeks": term.teaching_weeks,
        "exam_weeks": [term.exam_week_from, term.exam_week_to],
        "days_per_week": term.days_per_week,
        "current": term.current,
    }


# ---------------------------------------------------------------- terms


def _check_fields(body: TermFields) -> list[FieldError]:
    errors: list[FieldError] = []
    if body.start_date.weekday() != 0:
        errors.append(
            FieldError(
                "start_date",
                _(
                    "开学日期应为星期一（{d} 是{w}）",
                    d=body.start_date.isoformat(),
                    w=WEEKDAYS[body.start_date.weekday()],
                ),
            )
        )
    if body.teaching_weeks > body.weeks:
        errors.append(
            FieldError("teaching_weeks", _("教学周数不能多于学期总周数 {n}", n=body.weeks))
        )
    if body.exam_week_from > body.exam_week_to:
        errors.append(FieldError("exam_week_from", _("考试周的开始不能晚于结束")))
    if body.exam_week_to > body.weeks or body.exam_week_from > body.weeks:
        errors.append(FieldError("exam_week_to", _("考试周超出了学期（共 {n} 周）", n=body.weeks)))
    return errors


async def _check_clash(
    session: AsyncSession, start: date, end: date, except_id: int | None
) -> None:
    other = await queries.overlapping(session, start, end, except_id)
    if other is not None:
        raise Conflict.on(
            "start_date",
            _(
                "与学期“{name}”（{start} 至 {end}）时间重叠",
                name=other.name,
                start=other.start_date.isoformat(),
                end=other.end_date.isoformat(),
            ),
        )


def _end_of(body: TermFields) -> date:
    return body.start_date + timedelta(days=body.weeks * 7 - 1)


async def check_create_term(session: AsyncSession, body: TermCreate) -> Term:
    errors = _check_fields(body)
    first, second, season = (int(x) for x in body.code.split("-"))
    if second != first + 1:
        errors.append(FieldError("code", _("学年应为相邻的两年，如 2026-2027-1")))
    _raise(errors)
    if await queries.term_by_code(session, body.code) is not None:
        raise Conflict.on("code", _("学期代码 {code} 已存在", code=body.code))
    await _check_clash(session, body.start_date, _end_of(body), None)
    return await do_create_term(session, body, first, season)


async def do_create_term(
    session: AsyncSession, body: TermCreate, academic_year: int, season: int
) -> Term:
    first = await queries.current_term(session) is None
    term = Term(
        code=body.code,
        name=body.name.strip() or queries.default_name(body.code),
        academic_year=academic_year,
        season=season,
        start_date=body.start_date,
        end_date=_end_of(body),
        teaching_weeks=body.teaching_weeks,
        exam_week_from=body.exam_week_from,
        exam_week_to=body.exam_week_to,
        days_per_week=body.days_per_week,
        current=False,
        created_at=clock.now(),
    )
    session.add(term)
    await session.flush()
    audit.record(session, "academic.term.create", "term", term.id, after=_state(term))
    if body.current or first:
        await do_set_current(session, term)
    return term


async def check_update_term(session: AsyncSession, term_id: int, body: TermUpdate) -> Term:
    term = await queries.term_or_404(session, term_id)
    _raise(_check_fields(body))
    end = _end_of(body)
    await _check_clash(session, body.start_date, end, term.id)
    # The special days must still fit the term as changed.
    shape = _Shape(body.start_date, end, body.days_per_week)
    days = await queries.term_days(session, term.id)
    _raise(
        _check_days(
            shape,
            [TermDayIn(day=d.day, kind=d.kind, name=d.name, as_weekday=d.as_weekday) for d in days],
            "start_date",
        )
    )
    return await do_update_term(session, term, body, end)


async def do_update_term(session: AsyncSession, term: Term, body: TermUpdate, end: date) -> Term:
    before = _state(term)
    term.name = body.name.strip() or term.name
    term.start_date = body.start_date
    term.end_date = end
    term.teaching_weeks = body.teaching_weeks
    term.exam_week_from = body.exam_week_from
    term.exam_week_to = body.exam_week_to
    term.days_per_week = body.days_per_week
    await session.flush()
    audit.record(
        session, "academic.term.update", "term", term.id, before=before, after=_state(term)
    )
    return term


async def check_set_current(session: AsyncSession, term_id: int) -> Term:
    term = await queries.term_or_404(session, term_id)
    if not term.current:
        await do_set_current(session, term)
    return term


async def do_set_current(session: AsyncSession, term: Term) -> None:
    """Exactly one term is current: this one."""
    await session.execute(update(Term).where(Term.id != term.id).values(current=False))
    term.current = True
    await session.flush()
    audit.record(session, "academic.term.current", "term", term.id, after={"code": term.code})
    await emit(
        session,
        events.TERM_CURRENT_CHANGED,
        events.TermCurrentChanged(term_id=term.id, code=term.code, name=term.name),
    )


async def check_delete_term(session: AsyncSession, term_id: int) -> None:
    term = await queries.term_or_404(session, term_id)
    if term.current:
        raise Conflict(_("不能删除当前学期；请先把另一个学期设为当前学期"))
    before = _state(term)
    try:
        async with session.begin_nested():
            await session.execute(delete(TermDay).where(TermDay.term_id == term.id))
            await session.execute(delete(Period).where(Period.term_id == term.id))
            await session.delete(term)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("该学期已有开课、课表或考试安排，不能删除")) from exc
    audit.record(session, "academic.term.delete", "term", term_id, before=before)


# ---------------------------------------------------------------- holidays and make-up days


class _Shape:
    """What checking special days needs of a term."""

    def __init__(self, start: date, end: date, days_per_week: int) -> None:
        self.start, self.end, self.days_per_week = start, end, days_per_week


def _check_days(
    shape: _Shape, days: Sequence[TermDayIn], prefix: str | None = None
) -> list[FieldError]:
    errors: list[FieldError] = []
    seen: dict[date, int] = {}

    def field(index: int, name: str) -> str:
        return prefix or f"days.{index}.{name}"

    for index, d in enumerate(days):
        label = d.day.isoformat()
        if d.day < shape.start or d.day > shape.end:
            errors.append(
                FieldError(
                    field(index, "day"),
                    _(
                        "{d}（{name}）不在学期内（{start} 至 {end}）",
                        d=label,
                        name=d.name,
                        start=shape.start.isoformat(),
                        end=shape.end.isoformat(),
                    ),
                )
            )
            continue
        if d.day in seen:
            errors.append(FieldError(field(index, "day"), _("{d} 重复", d=label)))
            continue
        seen[d.day] = index
        if d.kind == "makeup":
            if d.day.weekday() < shape.days_per_week:
                errors.append(
                    FieldError(field(index, "day"), _("调休上课日 {d} 本来就是上课日", d=label))
                )
            elif d.as_weekday is None or d.as_weekday >= shape.days_per_week:
                errors.append(
                    FieldError(
                        field(index, "as_weekday"),
                        _(
                            "调休上课日须指明按周几上课（周一至{w}）",
                            w=WEEKDAYS[shape.days_per_week - 1],
                        ),
                    )
                )
        elif d.as_weekday is not None:
            errors.append(FieldError(field(index, "as_weekday"), _("放假日不需要指定按周几上课")))
    return errors


async def check_replace_days(
    session: AsyncSession, term_id: int, days: list[TermDayIn]
) -> list[TermDay]:
    term = await queries.term_or_404(session, term_id)
    _raise(_check_days(_Shape(term.start_date, term.end_date, term.days_per_week), days))
    return await do_replace_days(session, term, days)


async def do_replace_days(
    session: AsyncSession, term: Term, days: list[TermDayIn]
) -> list[TermDay]:
    await session.execute(delete(TermDay).where(TermDay.term_id == term.id))
    rows = [
        TermDay(
            term_id=term.id,
            day=d.day,
            kind=d.kind,
            name=d.name.strip(),
            as_weekday=d.as_weekday if d.kind == "makeup" else None,
        )
        for d in sorted(days, key=lambda d: d.day)
    ]
    session.add_all(rows)
    await session.flush()
    audit.record(
        session,
        "academic.term.days",
        "term",
        term.id,
        after={"days": [[r.day.isoformat(), r.kind, r.name] for r in rows]},
    )
    return rows


async def check_add_day(session: AsyncSession, term_id: int, day: TermDayIn) -> list[TermDay]:
    term = await queries.term_or_404(session, term_id)
    existing = await queries.term_days(session, term.id)
    if any(d.day == day.day for d in existing):
        raise Conflict.on(
            "day",
            _(
                "{d} 已设置为“{name}”",
                d=day.day.isoformat(),
                name=next(d.name for d in existing if d.day == day.day),
            ),
        )
    shape = _Shape(term.start_date, term.end_date, term.days_per_week)
    errors = _check_days(shape, [day])
    _raise([FieldError(e.field.removeprefix("days.0."), e.reason) for e in errors])
    kept = [
        TermDayIn(day=d.day, kind=d.kind, name=d.name, as_weekday=d.as_weekday) for d in existing
    ]
    return await do_replace_days(session, term, [*kept, day])


async def check_delete_day(session: AsyncSession, term_id: int, day_id: int) -> list[TermDay]:
    term = await queries.term_or_404(session, term_id)
    existing = await queries.term_days(session, term.id)
    if not any(d.id == day_id for d in existing):
        raise NotFound(_("该日期设置不存在"))
    kept = [
        TermDayIn(day=d.day, kind=d.kind, name=d.name, as_weekday=d.as_weekday)
        for d in existing
        if d.id != day_id
    ]
    return await do_replace_days(session, term, kept)


# ---------------------------------------------------------------- the period grid


def check_grid(periods: Sequence[PeriodIn]) -> list[FieldError]:
    """Periods numbered 1..n in order, each ending after it starts and starting after the one
    before ends; blocks 1..m, each a run of consecutive periods within one part of the day."""
    errors: list[FieldError] = []
    for index, p in enumerate(periods):
        f = f"periods.{index}"
        if p.number != index + 1:
            errors.append(
                FieldError(
                    f"{f}.number", _("节次应从 1 起连续编号：此处应为第 {n} 节", n=index + 1)
                )
            )
        if p.ends <= p.starts:
            errors.append(
                FieldError(f"{f}.ends", _("第 {n} 节的下课时间应晚于上课时间", n=p.number))
            )
        if index == 0:
            if p.block != 1:
                errors.append(FieldError(f"{f}.block", _("第 1 节应属于第 1 大节")))
            continue
        prev = periods[index - 1]
        if p.starts < prev.ends:
            errors.append(FieldError(f"{f}.starts", _("第 {n} 节与上一节时间重叠", n=p.number)))
        if p.block not in (prev.block, prev.block + 1):
            errors.append(
                FieldError(
                    f"{f}.block",
                    _(
                        "大节应连续：第 {n} 节应属于第 {a} 或第 {b} 大节",
                        n=p.number,
                        a=prev.block,
                        b=prev.block + 1,
                    ),
                )
            )
        if PART_ORDER[p.part] < PART_ORDER[prev.part]:
            errors.append(FieldError(f"{f}.part", _("上午、下午、晚上的顺序不对")))
        elif p.block == prev.block and p.part != prev.part:
            errors.append(FieldError(f"{f}.part", _("同一大节的节次应在同一时段")))
    return errors


async def check_replace_periods(
    session: AsyncSession, term_id: int, periods: list[PeriodIn]
) -> list[Period]:
    term = await queries.term_or_404(session, term_id)
    _raise(check_grid(periods))
    return await do_replace_periods(session, term, periods)


async def do_replace_periods(
    session: AsyncSession, term: Term, periods: Sequence[PeriodIn], source: str = "edit"
) -> list[Period]:
    await session.execute(delete(Period).where(Period.term_id == term.id))
    await session.flush()
    rows = [
        Period(
            term_id=term.id,
            number=p.number,
            block=p.block,
            starts=p.starts,
            ends=p.ends,
            part=p.part,
        )
        for p in periods
    ]
    session.add_all(rows)
    await session.flush()
    audit.record(
        session,
        "academic.term.periods",
        "term",
        term.id,
        after={
            "source": source,
            "periods": [
                [p.number, p.block, p.starts.isoformat("minutes"), p.ends.isoformat("minutes")]
                for p in rows
            ],
        },
    )
    return rows


async def check_copy_periods(
    session: AsyncSession, term_id: int, from_term_id: int
) -> list[Period]:
    term = await queries.term_or_404(session, term_id)
    if from_term_id == term_id:
        raise InvalidInput.on("from_term_id", _("请选择另一个学期"))
    source = await session.get(Term, from_term_id)
    if source is None:
        raise InvalidInput.on("from_term_id", _("学期 {id} 不存在", id=from_term_id))
    rows = await queries.periods(session, source.id)
    if not rows:
        raise InvalidInput.on("from_term_id", _("学期“{name}”还没有作息时间", name=source.name))
    periods = [
        PeriodIn(number=p.number, block=p.block, starts=p.starts, ends=p.ends, part=p.part)
        for p in rows
    ]
    return await do_replace_periods(session, term, periods, source=f"copy:{source.code}")
