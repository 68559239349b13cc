"""JSON API of the academic calendar: /api/v1/academic/terms/... Everyone signed in reads it;
``academic.calendar.manage`` changes it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import Response

from campus.domains.academic.calendar import actions, queries
from campus.domains.academic.permissions import CALENDAR_MANAGE
from campus.domains.academic.schemas import (
    CopyPeriods,
    PeriodGrid,
    PeriodGridIn,
    TeachingDay,
    TermCalendar,
    TermCreate,
    TermDayIn,
    TermDayOut,
    TermDays,
    TermOut,
    TermUpdate,
)
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.platform.access.service import require, signed_in

router = APIRouter(prefix="/api/v1/academic/terms", tags=["academic"])
READ = [signed_in()]
MANAGE = [require(CALENDAR_MANAGE)]


@router.get("", response_model=list[TermOut], dependencies=READ, summary="学期列表（新的在前）")
async def list_terms(session: ReadSessionDep) -> list[TermOut]:
    return [queries.term_out(t) for t in await queries.terms(session)]


@router.get("/current", response_model=TermOut, dependencies=READ, summary="当前学期")
async def current_term(session: ReadSessionDep) -> TermOut:
    term = await queries.current_term(session)
    if term is None:
        raise NotFound(_("尚未设置当前学期"))
    return queries.term_out(term)


@router.get(
    "/week",
    response_model=dict[str, int | str | None],
    dependencies=READ,
    summary="某日所在学期与教学周",
)
async def week_of_day(session: ReadSessionDep, day: date) -> dict[str, int | str | None]:
    term = await queries.term_of_date(session, day)
    return {
        "term_id": term.id if term else None,
        "term_code": term.code if term else None,
        "week": queries.week_of(term, day) if term else None,
    }


@router.post("", response_model=TermOut, status_code=201, dependencies=MANAGE, summary="新建学期")
async def create_term(body: TermCreate, session: SessionDep) -> TermOut:
    return queries.term_out(await actions.check_create_term(session, body))


@router.get("/{term_id}", response_model=TermOut, dependencies=READ, summary="学期详情")
async def get_term(term_id: int, session: ReadSessionDep) -> TermOut:
    return queries.term_out(await queries.term_or_404(session, term_id))


@router.put("/{term_id}", response_model=TermOut, dependencies=MANAGE, summary="修改学期")
async def update_term(term_id: int, body: TermUpdate, session: SessionDep) -> TermOut:
    return queries.term_out(await actions.check_update_term(session, term_id, body))


@router.delete("/{term_id}", status_code=204, dependencies=MANAGE, summary="删除学期（非当前学期）")
async def delete_term(term_id: int, session: SessionDep) -> Response:
    await actions.check_delete_term(session, term_id)
    return Response(status_code=204)


@router.post(
    "/{term_id}/current", response_model=TermOut, dependencies=MANAGE, summary="设为当前学期"
)
async def set_current(term_id: int, session: SessionDep) -> TermOut:
    return queries.term_out(await actions.check_set_current(session, term_id))


@router.get(
    "/{term_id}/calendar",
    response_model=TermCalendar,
    dependencies=READ,
    summary="校历：按周的日期网格",
)
async def term_calendar(term_id: int, session: ReadSessionDep) -> TermCalendar:
    return await queries.calendar(session, await queries.term_or_404(session, term_id))


@router.get(
    "/{term_id}/teaching-days",
    response_model=list[TeachingDay],
    dependencies=READ,
    summary="上课日（去掉节假日，加上调休上课日）",
)
async def teaching_days(term_id: int, session: ReadSessionDep) -> list[TeachingDay]:
    term = await queries.term_or_404(session, term_id)
    return queries.teaching_days_of(term, await queries.term_days(session, term.id))


# ---------------------------------------------------------------- holidays and make-up days


@router.get(
    "/{term_id}/days", response_model=list[TermDayOut], dependencies=READ, summary="节假日与调休"
)
async def list_days(term_id: int, session: ReadSessionDep) -> list[TermDayOut]:
    term = await queries.term_or_404(session, term_id)
    return [TermDayOut.model_validate(d) for d in await queries.term_days(session, term.id)]


@router.put(
    "/{term_id}/days",
    response_model=list[TermDayOut],
    dependencies=MANAGE,
    summary="整体设置节假日与调休",
)
async def replace_days(term_id: int, body: TermDays, session: SessionDep) -> list[TermDayOut]:
    rows = await actions.check_replace_days(session, term_id, body.days)
    return [TermDayOut.model_validate(d) for d in rows]


@router.post(
    "/{term_id}/days",
    response_model=list[TermDayOut],
    status_code=201,
    dependencies=MANAGE,
    summary="添加一天",
)
async def add_day(term_id: int, body: TermDayIn, session: SessionDep) -> list[TermDayOut]:
    rows = await actions.check_add_day(session, term_id, body)
    return [TermDayOut.model_validate(d) for d in rows]


@router.delete("/{term_id}/days/{day_id}", status_code=204, dependencies=MANAGE, summary="删除一天")
async def delete_day(term_id: int, day_id: int, session: SessionDep) -> Response:
    await actions.check_delete_day(session, term_id, day_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- the period grid


@router.get(
    "/{term_id}/periods",
    response_model=PeriodGrid,
    dependencies=READ,
    summary="作息时间（节次与大节）",
)
async def period_grid(term_id: int, session: ReadSessionDep) -> PeriodGrid:
    term = await queries.term_or_404(session, term_id)
    return queries.grid_of(term.id, await queries.periods(session, term.id))


@router.put(
    "/{term_id}/periods", response_model=PeriodGrid, dependencies=MANAGE, summary="设置作息时间"
)
async def replace_periods(term_id: int, body: PeriodGridIn, session: SessionDep) -> PeriodGrid:
    rows = await actions.check_replace_periods(session, term_id, body.periods)
    return queries.grid_of(term_id, rows)


@router.post(
    "/{term_id}/periods/copy",
    response_model=PeriodGrid,
    dependencies=MANAGE,
    summary="从另一学期复制作息时间",
)
async def copy_periods(term_id: int, body: CopyPeriods, session: SessionDep) -> PeriodGrid:
    rows = await actions.check_copy_periods(session, term_id, body.from_term_id)
    return queries.grid_of(term_id, rows)
