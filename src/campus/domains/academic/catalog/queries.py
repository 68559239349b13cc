"""Reads of the course catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.schemas import CourseOut, CoursePage
from campus.kernel.pagination import PageParams, paginate
from campus.platform.users import service as users

ASSESSMENT_LABELS = {"exam": "考试", "check": "考查"}


@dataclass(frozen=True)
class CourseFilter:
    q: str | None = None
    org_unit_id: int | None = None
    active: bool | None = None
    within: ColumnElement[bool] | None = None  # a data scope (only the courses one may manage)


def course_matches(q: str) -> ColumnElement[bool]:
    """A course whose code starts with ``q`` or whose Chinese or English name contains it."""
    like = f"%{q}%"
    return or_(Course.code.ilike(f"{q}%"), Course.name.ilike(like), Course.name_en.ilike(like))


def _stmt(f: CourseFilter) -> Select[Any]:
    stmt = select(Course)
    if f.q:
        stmt = stmt.where(course_matches(f.q))
    if f.org_unit_id is not None:
        stmt = stmt.where(Course.org_unit_id == f.org_unit_id)
    if f.active is not None:
        stmt = stmt.where(Course.active.is_(f.active))
    if f.within is not None:
        stmt = stmt.where(f.within)
    return stmt.order_by(Course.code)


async def _outs(session: AsyncSession, courses: Sequence[Course]) -> list[CourseOut]:
    units = await users.get_org_units(session, sorted({c.org_unit_id for c in courses}))
    return [
        CourseOut.model_validate(c).model_copy(
            update={"org_unit_name": units[c.org_unit_id].name if c.org_unit_id in units else ""}
        )
        for c in courses
    ]


async def course_page(session: AsyncSession, f: CourseFilter, paging: PageParams) -> CoursePage:
    page = await paginate(session, _stmt(f), paging.page, paging.page_size)
    outs = await _outs(session, page.items)
    return page.into(CoursePage, lambda c: next(o for o in outs if o.id == c.id))


async def all_courses(session: AsyncSession, f: CourseFilter) -> list[CourseOut]:
    return await _outs(session, list(await session.scalars(_stmt(f))))


async def courses_out(session: AsyncSession, course_ids: Sequence[int]) -> dict[int, CourseOut]:
    if not course_ids:
        return {}
    rows = list(await session.scalars(select(Course).where(Course.id.in_(list(course_ids)))))
    return {o.id: o for o in await _outs(session, rows)}


async def course_by_code(session: AsyncSession, code: str) -> Course | None:
    found: Course | None = await session.scalar(select(Course).where(Course.code == code))
    return found


async def courses_of_units(
    session: AsyncSession, org_unit_ids: Sequence[int], active_only: bool
) -> list[CourseOut]:
    f = CourseFilter(active=True if active_only else None)
    stmt = _stmt(f).where(Course.org_unit_id.in_(list(org_unit_ids)))
    return await _outs(session, list(await session.scalars(stmt)))


async def taken_codes(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = sorted(set(codes))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        found |= set(await session.scalars(select(Course.code).where(Course.code.in_(chunk))))
    return found
