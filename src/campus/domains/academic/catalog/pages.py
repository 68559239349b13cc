"""Pages of the course catalogue: the search list and a course's page (everyone signed in), the
form and the Excel import (``academic.course.manage``, within its reach)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.catalog import actions, queries
from campus.domains.academic.catalog.access import (
    access_course_manage,
    course_or_404,
    managed_owners,
    may_manage_unit,
    owners,
)
from campus.domains.academic.catalog.models import Course
from campus.domains.academic.permissions import COURSE_MANAGE
from campus.domains.academic.rooms.queries import ROOM_TYPE_LABELS
from campus.domains.academic.rooms.routes import read_upload
from campus.domains.academic.schemas import CourseIn
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-pages"])


def labels() -> dict[str, Any]:
    return {
        "assessments": queries.ASSESSMENT_LABELS,
        "types": ROOM_TYPE_LABELS,
        "credits_text": actions.credits_text,
    }


@router.get("/academic/courses")
async def courses_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    q: Annotated[str | None, Query(max_length=60)] = None,
    org_unit_id: Annotated[str | None, Query(max_length=12)] = None,
    mine: bool = False,
) -> Response:
    q = (q or "").strip() or None
    unit = int(org_unit_id) if org_unit_id and org_unit_id.isdigit() else None
    within = access.scope_filter(principal, COURSE_MANAGE, Course.org_unit_id) if mine else None
    f = queries.CourseFilter(q=q, org_unit_id=unit, within=within)
    result = await queries.course_page(session, f, paging)
    index = await users.org_directory(session)
    query = urlencode(
        {k: v for k, v in {"q": q, "org_unit_id": unit, "mine": mine or None}.items() if v}
    )
    name = (
        "academic/catalog/partials/rows.html" if is_htmx(request) else "academic/catalog/list.html"
    )
    return render(
        request,
        name,
        result=result,
        q=q or "",
        org_unit_id=unit,
        mine=mine,
        query=query,
        owners=owners(index),
        can_manage=principal.can(COURSE_MANAGE),
        **labels(),
    )


# ---------------------------------------------------------------- the form


class CourseForm:
    def __init__(
        self,
        code: Annotated[str, Form(max_length=40)] = "",
        name: Annotated[str, Form(max_length=120)] = "",
        name_en: Annotated[str, Form(max_length=220)] = "",
        credits: Annotated[str, Form(max_length=6)] = "",
        lecture_hours: Annotated[str, Form(max_length=5)] = "",
        lab_hours: Annotated[str, Form(max_length=5)] = "0",
        assessment: Annotated[str, Form(max_length=10)] = "exam",
        org_unit_id: Annotated[str, Form(max_length=12)] = "",
        room_type: Annotated[str, Form(max_length=20)] = "multimedia",
        description: Annotated[str, Form(max_length=6000)] = "",
        active: Annotated[str | None, Form(max_length=2)] = None,
    ) -> None:
        self.values: dict[str, Any] = {
            "code": code.strip(),
            "name": name.strip(),
            "name_en": name_en.strip(),
            "credits": credits.strip(),
            "lecture_hours": lecture_hours.strip(),
            "lab_hours": lab_hours.strip() or "0",
            "assessment": assessment,
            "org_unit_id": org_unit_id,
            "room_type": room_type,
            "description": description,
            "active": bool(active),
        }

    def body(self) -> CourseIn:
        v = self.values
        blanks = ("credits", "lecture_hours", "org_unit_id")
        return CourseIn.model_validate({**v, **{k: v[k] or None for k in blanks}})


async def _form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    course_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    errors = errors or {}
    index = await users.org_directory(session)
    return render(
        request,
        "academic/catalog/form.html",
        422 if errors else 200,
        course_id=course_id,
        values=values,
        errors=errors,
        owners=managed_owners(principal, index),
        **labels(),
    )


@router.get("/academic/courses/new")
async def new_course_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
) -> Response:
    values = {"assessment": "exam", "room_type": "multimedia", "lab_hours": 0, "active": True}
    return await _form(request, session, principal, None, values)


async def _save_course(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    course_id: int | None,
    form: CourseForm,
) -> Response:
    try:
        if course_id is None:
            course = await actions.check_create_course(session, principal, form.body())
        else:
            course = await actions.check_update_course(session, principal, course_id, form.body())
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
        await session.rollback()
        return await _form(request, session, principal, course_id, form.values, errors)
    response = RedirectResponse(f"/academic/courses/{course.id}", status_code=303)
    flash(request, response, _("课程已创建") if course_id is None else _("课程已保存"))
    return response


@router.post("/academic/courses/new")
async def new_course_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
    form: Annotated[CourseForm, Depends()],
) -> Response:
    return await _save_course(request, session, principal, None, form)


@router.get("/academic/courses/import")
async def import_page(
    request: Request, principal: Annotated[Principal, require(COURSE_MANAGE)]
) -> Response:
    return render(request, "academic/catalog/import.html", report=None, errors={})


@router.post("/academic/courses/import")
async def import_submit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
    file: Annotated[UploadFile, File()],
) -> Response:
    try:
        data = await read_upload(file, rt.settings.max_upload_bytes)
        report = await actions.check_import(session, principal, data)
    except Problem as exc:
        await session.rollback()
        return sheets.import_refused(request, "academic/catalog/import.html", exc)
    return sheets.import_done(
        request, "/academic/courses?mine=true", _("已导入 {n} 门课程", n=report.imported)
    )


@router.get("/academic/courses/{course_id}")
async def course_page(
    request: Request,
    course_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    course = await course_or_404(session, course_id)
    out = (await queries.courses_out(session, [course.id]))[course.id]
    index = await users.org_directory(session)
    return render(
        request,
        "academic/catalog/detail.html",
        course=out,
        can_edit=may_manage_unit(principal, index, course.org_unit_id),
        **labels(),
    )


@router.get("/academic/courses/{course_id}/edit")
async def edit_course_page(
    request: Request,
    course_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
) -> Response:
    course = await access_course_manage(session, principal, course_id)
    values = {c: getattr(course, c) for c in CourseIn.model_fields}
    values["credits"] = actions.credits_text(course.credits)
    return await _form(request, session, principal, course_id, values)


@router.post("/academic/courses/{course_id}/edit")
async def edit_course_submit(
    request: Request,
    course_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(COURSE_MANAGE)],
    form: Annotated[CourseForm, Depends()],
) -> Response:
    await access_course_manage(session, principal, course_id)
    return await _save_course(request, session, principal, course_id, form)
