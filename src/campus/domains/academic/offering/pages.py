"""Pages of course offering: the term's sections with filters (and merging, generating,
exporting), one section's form (teachers, capacity, weeks, rooms) with splitting, and a
teacher's own sections."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.offering import actions, queries
from campus.domains.academic.offering.schemas import (
    GENDER_ONLY,
    OfferingGenerate,
    SectionUpdate,
    SplitIn,
    TeacherIn,
)
from campus.domains.academic.permissions import OFFERING_MANAGE
from campus.domains.academic.programmes.queries import current_term, term_or_404, terms
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.domains.academic.schemas import FilterInt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, form_errors, render
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-pages"])
PAGE_LIMIT = 300  # sections listed at once; filters narrow a larger term
PICKER_LIMIT = 10  # people a teacher picker lists at once


@router.get("/academic/offering")
async def offering_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: FilterInt = None,
    college_id: FilterInt = None,
    course_id: FilterInt = None,
    teacher_id: FilterInt = None,
    unassigned: bool = False,
    q: Annotated[str | None, Query(max_length=40)] = None,
    teacher: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    term = await term_or_404(session, term_id) if term_id else await current_term(session)
    tree = await users.org_directory(session)
    rows: list[Any] = []
    total = 0
    teacher = (teacher or "").strip()
    if teacher:
        person = await users.find_person_by_login(session, teacher)
        teacher_id = person.id if person is not None else 0
    if term is not None:
        f = queries.SectionFilter(
            college_id, course_id, teacher_id, unassigned, q=(q or "").strip() or None
        )
        found = await queries.section_rows(session, term.id, f)
        total = len(found)
        rows = await queries.sections_out(session, found[:PAGE_LIMIT])
    return render(
        request,
        "academic/offering/list.html",
        term=term,
        terms=await terms(session),
        colleges=[(u, tree.name(u)) for u in tree.of_kind("college")],
        college_id=college_id,
        course_id=course_id,
        teacher_id=teacher_id,
        unassigned=unassigned,
        q=q or "",
        teacher=teacher,
        rows=rows,
        total=total,
        can_manage=principal.can(OFFERING_MANAGE),
    )


@router.get("/academic/my/sections")
async def my_sections_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: int | None = None,
) -> Response:
    term = await term_or_404(session, term_id) if term_id else await current_term(session)
    rows: list[Any] = []
    if term is not None:
        f = queries.SectionFilter(teacher_id=principal.person_id)
        rows = await queries.sections_out(session, await queries.section_rows(session, term.id, f))
    return render(
        request, "academic/offering/mine.html", term=term, terms=await terms(session), rows=rows
    )


async def _section_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    section_id: int,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    section = await queries.section_or_404(session, section_id)
    out = await queries.section_out(session, section)
    tree = await users.org_directory(session)
    editable = access.allows(principal, OFFERING_MANAGE, tree.path(section.org_unit_id))
    form = values or {
        "main": [_chosen(t.person_id, t.name, t.number) for t in out.teachers if t.main],
        "assistants": [_chosen(t.person_id, t.name, t.number) for t in out.teachers if not t.main],
        "capacity": out.capacity,
        "lectures_per_week": out.lectures_per_week,
        "min_days": out.min_days,
        "week_from": out.week_from,
        "week_to": out.week_to,
        "week_parity": out.week_parity,
        "room_type": out.room_type,
        "gender": out.gender,
        "note": out.note,
    }
    return render(
        request,
        "academic/offering/section.html",
        status_code=status_code,
        s=out,
        form=form,
        errors=errors or {},
        editable=editable,
        room_types=ROOM_TYPE_LABELS,
        genders=GENDER_ONLY,
    )


def _chosen(person_id: int, name: str, number: str | None) -> dict[str, Any]:
    """A person as the teacher pickers show one."""
    return {"id": person_id, "name": name, "number": number or ""}


@router.get("/academic/offering/sections/{section_id}")
async def section_page(
    request: Request,
    section_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    return await _section_page(request, session, principal, section_id)


@router.get("/academic/offering/sections/{section_id}/teachers")
async def teacher_picker(
    section_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    q: Annotated[str, Query(min_length=1, max_length=40)],
) -> Response:
    """Who the section's teacher pickers find: its owning college's active staff."""
    section = await queries.section_or_404(session, section_id)
    found = await queries.teacher_choices(session, section, q, PICKER_LIMIT)
    tree = await users.org_directory(session)
    return JSONResponse(
        [{**_chosen(p.id, p.name, p.number), "unit": tree.name(p.org_unit_id)} for p in found]
    )


def _teacher_field(key: str, mains: int) -> str:
    """The picker a refusal of ``teachers.N…`` belongs to: the main teachers come first."""
    parts = key.split(".")
    if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) >= mains:
        return "assistants"
    return "main"


@router.post("/academic/offering/sections/{section_id}")
async def section_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    main: Annotated[list[int] | None, Form()] = None,
    assistants: Annotated[list[int] | None, Form()] = None,
    capacity: Annotated[str, Form(max_length=6)] = "",
    lectures_per_week: Annotated[str, Form(max_length=3)] = "",
    min_days: Annotated[str, Form(max_length=3)] = "",
    week_from: Annotated[str, Form(max_length=3)] = "",
    week_to: Annotated[str, Form(max_length=3)] = "",
    week_parity: Annotated[str, Form(max_length=4)] = "all",
    room_type: Annotated[str, Form(max_length=20)] = "",
    gender: Annotated[str, Form(max_length=2)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    mains, helpers = main or [], assistants or []
    teachers = [TeacherIn(person_id=i, main=True) for i in mains]
    teachers += [TeacherIn(person_id=i, main=False) for i in helpers]
    try:
        body = SectionUpdate.model_validate(
            {
                "capacity": capacity or None,
                "lectures_per_week": lectures_per_week or None,
                "min_days": min_days or None,
                "week_from": week_from or None,
                "week_to": week_to or None,
                "week_parity": week_parity,
                "room_type": room_type or None,
                "gender": gender,
                "note": note,
                "teachers": [t.model_dump() for t in teachers],
            }
        )
        await actions.check_update(session, principal, section_id, body)
    except (ValidationError, Problem) as exc:
        errors = {
            (_teacher_field(k, len(mains)) if k.startswith("teachers") else k): v
            for k, v in form_errors(exc).items()
        }
        people = await users.get_people(session, mains + helpers)
        picked = {i: _chosen(p.id, p.name, p.number) for i, p in people.items()}
        values = {
            "main": [picked[i] for i in mains if i in picked],
            "assistants": [picked[i] for i in helpers if i in picked],
            "capacity": capacity,
            "lectures_per_week": lectures_per_week,
            "min_days": min_days,
            "week_from": week_from,
            "week_to": week_to,
            "week_parity": week_parity,
            "room_type": room_type,
            "gender": gender,
            "note": note,
        }
        return await _section_page(
            request, session, principal, section_id, errors, values, status_code=422
        )
    response = RedirectResponse(f"/academic/offering/sections/{section_id}", status_code=303)
    flash(request, response, _("教学班已保存"))
    return response


@router.post("/academic/offering/sections/{section_id}/split")
async def split_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    class_ids: Annotated[list[int] | None, Form()] = None,
    count: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """Split the chosen classes off into a new section (or, without classes, into ``count``)."""
    url = f"/academic/offering/sections/{section_id}"
    try:
        if class_ids:
            current = await queries.class_ids_of(session, section_id)
            rest = [c for c in current if c not in class_ids]
            body = SplitIn(groups=[rest, [c for c in current if c in class_ids]])
        else:
            body = SplitIn(count=int(count) if count.isdigit() else None)
        ids = await actions.check_split(session, principal, section_id, body)
    except ValidationError:
        response = RedirectResponse(url, status_code=303)
        flash(request, response, _("请选择要拆出的班级（不能是全部班级）"), "danger")
        return response
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(url, status_code=303)
    flash(request, response, _("已拆分为 {n} 个教学班", n=len(ids)))
    return response


@router.post("/academic/offering/merge")
async def merge_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    section_ids: Annotated[list[int] | None, Form()] = None,
    back: Annotated[str, Form(max_length=300)] = "/academic/offering",
) -> Response:
    url = back if back.startswith("/academic/offering") else "/academic/offering"
    if not section_ids or len(section_ids) < 2:
        response = RedirectResponse(url, status_code=303)
        flash(request, response, _("请选择至少两个同一课程的教学班"), "danger")
        return response
    try:
        merged = await actions.check_merge(session, principal, section_ids)
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(f"/academic/offering/sections/{merged}", status_code=303)
    flash(request, response, _("已合班"))
    return response


@router.post("/academic/offering/generate")
async def generate_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(OFFERING_MANAGE)],
    term_id: Annotated[int, Form()],
    merge_capacity: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    url = f"/academic/offering?term_id={term_id}"
    try:
        body = OfferingGenerate(
            term_id=term_id,
            merge_capacity=int(merge_capacity) if merge_capacity.isdigit() else None,
        )
        report = await actions.check_generate(session, principal, body)
    except ValidationError:
        response = RedirectResponse(url, status_code=303)
        flash(request, response, _("合班人数应在 30 到 400 之间"), "danger")
        return response
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(url, status_code=303)
    flash(request, response, _("已按教学计划新开 {n} 个教学班", n=report.created))
    return response
