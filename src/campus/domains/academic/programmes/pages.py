"""Pages of training programmes and teaching plans: the list, one programme (its groups, its
versions and their actions), comparing versions, the student's own programme (a phone page),
and the teaching plan of a term by college, major and class."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.permissions import PROGRAMME_MANAGE
from campus.domains.academic.programmes import actions, editor, queries
from campus.domains.academic.programmes.access import access_programme, may_edit, visible
from campus.domains.academic.programmes.routes import my_programme_out
from campus.domains.academic.programmes.schemas import ProgrammeContent, ProgrammeCreate
from campus.domains.academic.schemas import FilterInt
from campus.domains.academic.status.queries import classes_of
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, form_errors, render
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-pages"])


@router.get("/academic/programmes")
async def programmes_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    college_id: FilterInt = None,
    cohort: FilterInt = None,
) -> Response:
    tree = await users.org_directory(session)
    f = queries.ProgrammeFilter(college_id=college_id, cohort=cohort)
    rows = await queries.list_programmes(session, f, visible(principal))
    return render(
        request,
        "academic/programmes/list.html",
        rows=rows,
        colleges=[(u, tree.name(u)) for u in tree.of_kind("college")],
        college_id=college_id,
        cohort=cohort,
        cohorts=sorted({r.cohort for r in rows}, reverse=True),
        can_manage=principal.can(PROGRAMME_MANAGE),
    )


# ---------------------------------------------------------------- the editor


async def _editor(
    request: Request,
    session: AsyncSession,
    form: editor.EditorForm,
    *,
    programme: Any = None,
    majors: list[tuple[int, str]] | None = None,
    major_id: int | None = None,
    cohort: str = "",
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "academic/programmes/editor.html",
        status_code=status_code,
        form=form,
        programme=programme,
        majors=majors or [],
        major_id=major_id,
        cohort=cohort,
    )


def _unknown_codes(form: editor.EditorForm, known: set[str]) -> bool:
    found = False
    for group in form.groups:
        for row in group.rows:
            if row.code not in known:
                row.error = str(_("课程代码 {code} 不在课程库中", code=row.code))
                found = True
    return found


async def _save(
    session: AsyncSession,
    principal: Principal,
    form: editor.EditorForm,
    programme_id: int | None,
    major_id: int | None,
    cohort: str,
) -> int | None:
    """Create or replace from the form; None (with errors placed on the form) when refused."""
    body = await editor.to_body(session, form)
    ids = [row["course_id"] for g in body["groups"] for row in g["courses"] if row["course_id"]]
    known = {course.code for course in (await queries.courses_by_id(session, ids)).values()}
    if _unknown_codes(form, known):
        form.messages.append(str(_("有课程代码不在课程库中")))
        return None
    try:
        if programme_id is None:
            create = ProgrammeCreate.model_validate(
                {**body, "major_id": major_id or 0, "cohort": cohort or 0}
            )
            return await actions.check_create(session, principal, create)
        content = ProgrammeContent.model_validate(body)
        await actions.check_replace(session, principal, programme_id, content)
        return programme_id
    except (ValidationError, Problem) as exc:
        editor.place_errors(form, form_errors(exc))
        return None


async def _manageable_majors(session: AsyncSession, principal: Principal) -> list[tuple[int, str]]:
    tree = await users.org_directory(session)
    return [
        (u, f"{tree.name(tree.nearest(u, 'college'))} · {tree.name(u)}")
        for u in tree.of_kind("major")
        if access.allows(principal, PROGRAMME_MANAGE, tree.path(u))
    ]


@router.get("/academic/programmes/new")
async def new_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    form = editor.EditorForm(
        total_credits="160",
        groups=[
            editor.Group(name=n)
            for n in ("通识必修", "通识选修", "学科基础", "专业必修", "专业选修", "实践环节")
        ],
    )
    return await _editor(
        request, session, form.padded(), majors=await _manageable_majors(session, principal)
    )


@router.post("/academic/programmes/new")
async def new_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    data = await request.form()
    form = editor.read(data)
    major = str(data.get("major_id") or "")
    cohort = str(data.get("cohort") or "").strip()
    major_id = int(major) if major.isdigit() else None
    saved = await _save(session, principal, form, None, major_id, cohort)
    if saved is None:
        return await _editor(
            request,
            session,
            form.padded(),
            majors=await _manageable_majors(session, principal),
            major_id=major_id,
            cohort=cohort,
            status_code=422,
        )
    response = RedirectResponse(f"/academic/programmes/{saved}", status_code=303)
    flash(request, response, _("培养方案草稿已保存"))
    return response


@router.get("/academic/programmes/{programme_id}/edit")
async def edit_page(
    request: Request,
    programme_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    programme = await access_programme(session, principal, programme_id)
    out = await queries.programme_out(session, programme)
    return await _editor(request, session, editor.of_programme(out).padded(), programme=out)


@router.post("/academic/programmes/{programme_id}/edit")
async def edit_submit(
    request: Request,
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    programme = await access_programme(session, principal, programme_id)
    out = await queries.programme_out(session, programme)
    form = editor.read(await request.form())
    saved = await _save(session, principal, form, programme_id, None, "")
    if saved is None:
        return await _editor(request, session, form.padded(), programme=out, status_code=422)
    response = RedirectResponse(f"/academic/programmes/{programme_id}", status_code=303)
    flash(request, response, _("培养方案草稿已保存"))
    return response


async def _versions(
    session: AsyncSession, principal: Principal, major_id: int, cohort: int
) -> list[Any]:
    return [
        v
        for v in await queries.versions_of(session, major_id, cohort)
        if v.status == "published" or principal.can(PROGRAMME_MANAGE)
    ]


@router.get("/academic/programmes/{programme_id}")
async def programme_page(
    request: Request,
    programme_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    programme = await access_programme(session, principal, programme_id)
    out = await queries.programme_out(session, programme)
    tree = await users.org_directory(session)
    return render(
        request,
        "academic/programmes/detail.html",
        p=out,
        editable=may_edit(principal, programme, tree),
        versions=await _versions(session, principal, programme.major_id, programme.cohort),
    )


@router.get("/academic/programmes/{programme_id}/compare/{other_id}")
async def compare_page(
    request: Request,
    programme_id: int,
    other_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    left = await queries.programme_out(
        session, await access_programme(session, principal, programme_id)
    )
    right = await queries.programme_out(
        session, await access_programme(session, principal, other_id)
    )
    return render(request, "academic/programmes/compare.html", diff=queries.compare(left, right))


@router.post("/academic/programmes/{programme_id}/publish")
async def publish_submit(
    request: Request,
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    url = f"/academic/programmes/{programme_id}"
    try:
        await actions.check_publish(session, principal, programme_id)
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(url, status_code=303)
    flash(request, response, _("培养方案已发布"))
    return response


@router.post("/academic/programmes/{programme_id}/versions")
async def version_submit(
    request: Request,
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    try:
        new_id = await actions.check_new_version(session, principal, programme_id)
    except Problem as problem:
        return back_with_problem(request, f"/academic/programmes/{programme_id}", problem)
    response = RedirectResponse(f"/academic/programmes/{new_id}", status_code=303)
    flash(request, response, _("已建立新版本（草稿）"))
    return response


@router.post("/academic/programmes/{programme_id}/copy")
async def copy_submit(
    request: Request,
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
    cohort: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    url = f"/academic/programmes/{programme_id}"
    if not cohort.isdigit() or not 2000 <= int(cohort) <= 2100:
        response = RedirectResponse(url, status_code=303)
        flash(request, response, _("请填写正确的年级（入学年份）"), "danger")
        return response
    try:
        new_id = await actions.check_copy(session, principal, programme_id, int(cohort))
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(f"/academic/programmes/{new_id}", status_code=303)
    flash(request, response, _("已复制为 {cohort} 级培养方案（草稿）", cohort=cohort))
    return response


@router.post("/academic/programmes/{programme_id}/delete")
async def delete_submit(
    request: Request,
    programme_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
) -> Response:
    try:
        await actions.check_delete(session, principal, programme_id)
    except Problem as problem:
        return back_with_problem(request, f"/academic/programmes/{programme_id}", problem)
    response = RedirectResponse("/academic/programmes", status_code=303)
    flash(request, response, _("草稿已删除"))
    return response


@router.get("/academic/my/programme")
async def my_programme_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    try:
        out = await my_programme_out(session, principal)
    except NotFound as missing:
        return render(request, "academic/programmes/mine.html", p=None, reason=str(missing.detail))
    terms: dict[int, list[Any]] = {}
    for g in out.groups:
        for c in g.courses:
            terms.setdefault(c.term, []).append((g.name, c))
    return render(
        request,
        "academic/programmes/mine.html",
        p=out,
        terms=sorted(terms.items()),
        reason="",
    )


# ---------------------------------------------------------------- teaching plans


@router.get("/academic/plans")
async def plans_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: FilterInt = None,
    college_id: FilterInt = None,
    major_id: FilterInt = None,
    class_id: FilterInt = None,
) -> Response:
    terms = await queries.terms(session)
    term = None
    if term_id is not None:
        term = await queries.term_or_404(session, term_id)
    else:
        term = await queries.current_term(session)
    tree = await users.org_directory(session)
    items = []
    if term is not None:
        f = queries.PlanFilter(college_id, major_id, class_id)
        items = await queries.plan_items(session, term.id, f)
    by_class: dict[str, list[Any]] = {}
    for item in items:
        by_class.setdefault(item.class_name, []).append(item)
    return render(
        request,
        "academic/programmes/plans.html",
        terms=terms,
        term=term,
        colleges=[(u, tree.name(u)) for u in tree.of_kind("college")],
        majors=[
            (u, tree.name(u))
            for u in tree.of_kind("major")
            if college_id is None or tree.within(u, college_id)
        ],
        college_id=college_id,
        major_id=major_id,
        class_id=class_id,
        classes=await classes_of(session, major_id) if major_id else [],
        by_class=by_class,
        can_generate=principal.can(PROGRAMME_MANAGE),
    )


@router.post("/academic/plans/generate")
async def generate_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(PROGRAMME_MANAGE)],
    term_id: Annotated[int, Form()],
) -> Response:
    url = f"/academic/plans?term_id={term_id}"
    try:
        report = await actions.check_generate_plan(session, principal, term_id)
    except Problem as problem:
        return back_with_problem(request, url, problem)
    response = RedirectResponse(url, status_code=303)
    message = _(
        "已生成 {classes} 个班级的教学计划：新增 {added}，删除 {removed}，更新 {updated}",
        classes=report.classes,
        added=report.added,
        removed=report.removed,
        updated=report.updated,
    )
    flash(request, response, message)
    return response
