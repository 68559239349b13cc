"""Pages of grades: a teacher's sections and a reviewer's queue, one section's grade sheet
(set-up, marks, Excel, the way to publication, statistics with a chart), a student's own
results (phone-friendly, GPA on top) and the registrar's GPA ranking."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic import sheets
from campus.domains.academic.grades import actions, excel, policy, queries, results, scales
from campus.domains.academic.grades.access import (
    access_overseen_sheet,
    access_own_sheet,
    access_policy,
    access_sheet,
    may_change_policy,
    oversees,
)
from campus.domains.academic.grades.schemas import (
    ATTEMPT_LABELS,
    LEVEL_LABELS,
    MAKEUP_LABELS,
    RETAKE_LABELS,
    SCALE_LABELS,
    SPECIAL_LABELS,
    STATE_LABELS,
    CorrectionIn,
    EntryIn,
    PolicyIn,
    SetupIn,
    SheetOut,
)
from campus.domains.academic.offering.models import Section
from campus.domains.academic.permissions import GRADE_PUBLISH, GRADE_REVIEW
from campus.domains.academic.programmes.queries import current_term, term_or_404, terms
from campus.domains.academic.rooms.routes import read_upload
from campus.domains.academic.schemas import FilterInt
from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import back_with_problem, flash, form_errors, go_to, render
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["academic-pages"])
BASE = "/academic/grades"
COMPONENT_ROWS = 6
DEFAULT_COMPONENTS = [("平时", 30), ("期中", 20), ("期末", 50)]


def common() -> dict[str, Any]:
    return {
        "fmt": fmt,
        "SCALE_LABELS": SCALE_LABELS,
        "LEVEL_LABELS": LEVEL_LABELS,
        "SPECIAL_LABELS": SPECIAL_LABELS,
        "ATTEMPT_LABELS": ATTEMPT_LABELS,
        "STATE_LABELS": STATE_LABELS,
        "LEVELS_OF_SCALE": scales.LEVELS_OF_SCALE,
    }


@router.get(BASE)
async def sheets_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    term_id: FilterInt = None,
    state: str | None = None,
) -> Response:
    term = await term_or_404(session, term_id) if term_id else await current_term(session)
    mine: list[Any] = []
    overseen: list[Any] = []
    oversight = principal.can(GRADE_REVIEW) or principal.can(GRADE_PUBLISH)
    if term is not None:
        mine = await queries.sheet_rows(session, term.id, teacher_id=principal.person_id)
        if oversight:
            wanted = state if state in STATE_LABELS else None
            overseen = await queries.sheet_rows(session, term.id, principal=principal, state=wanted)
    tree = await users.org_directory(session)
    return render(
        request,
        "academic/grades/sheets.html",
        term=term,
        terms=await terms(session),
        mine=mine,
        overseen=overseen,
        oversight=oversight,
        state=state or "",
        unit_name=tree.name,
        **common(),
    )


# ---------------------------------------------------------------- one section's sheet


def _chart(sheet: SheetOut) -> dict[str, Any]:
    stats = queries.stats_of(sheet)
    labels = list(stats.buckets)
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 40, "right": 16, "top": 24, "bottom": 32},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "minInterval": 1, "name": "人数"},
        "series": [
            {
                "type": "bar",
                "name": "人数",
                "data": [stats.buckets[k] for k in labels],
                "label": {"show": True, "position": "top"},
                "itemStyle": {"color": "#206bc4"},
            }
        ],
    }


async def _sheet_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    section: Section,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    report: Any = None,
    status_code: int = 200,
) -> Response:
    sheet = await queries.sheet_out(session, section)
    teacher = principal.person_id in await queries.teacher_ids(session, section.id)
    components = [(c.name, c.weight) for c in sheet.components] or DEFAULT_COMPONENTS
    setup = {
        "scale": sheet.scale,
        "components": components + [("", "")] * (COMPONENT_ROWS - len(components)),
    }
    return render(
        request,
        "academic/grades/sheet.html",
        status_code=status_code,
        s=sheet,
        setup=values.get("setup", setup) if values else setup,
        entered=values.get("entered", {}) if values else {},
        errors=errors or {},
        report=report,
        teacher=teacher,
        editable=teacher and sheet.state == "draft",
        can_review=await oversees(session, principal, section, GRADE_REVIEW),
        can_publish=await oversees(session, principal, section, GRADE_PUBLISH),
        stats=queries.stats_of(sheet),
        chart=_chart(sheet),
        corrections=await queries.corrections_of(session, section.id),
        CORRECTION_STATES=CORRECTION_STATES,
        **common(),
    )


@router.get(BASE + "/sections/{section_id}")
async def sheet_page(
    request: Request,
    section_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    section = await access_sheet(session, principal, section_id)
    return await _sheet_page(request, session, principal, section)


def _url(section_id: int) -> str:
    return f"{BASE}/sections/{section_id}"


@router.post(BASE + "/sections/{section_id}/setup")
async def setup_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    section = await access_own_sheet(session, principal, section_id)
    form = await request.form()
    rows = [
        (str(form.get(f"name_{i}", "")).strip(), str(form.get(f"weight_{i}", "")).strip())
        for i in range(COMPONENT_ROWS)
    ]
    filled = [(n, w) for n, w in rows if n or w]
    values = {"setup": {"scale": str(form.get("scale", "")), "components": rows}}
    try:
        body = SetupIn.model_validate(
            {
                "scale": form.get("scale"),
                "components": [{"name": n, "weight": w or 0} for n, w in filled],
            }
        )
        await actions.check_setup(session, principal, section, body)
    except (Problem, ValidationError) as exc:
        await session.rollback()
        section = await access_own_sheet(session, principal, section_id)
        if isinstance(exc, Problem) and exc.status in (403, 404, 409):
            return back_with_problem(request, _url(section_id), exc)
        return await _sheet_page(
            request,
            session,
            principal,
            section,
            errors=form_errors(exc),
            values=values,
            status_code=422,
        )
    response = go_to(request, _url(section_id))
    flash(request, response, _("成绩构成已保存"))
    return response


def _choice(value: str, allowed: dict[str, str], default: str) -> str:
    return value if value in allowed else default


@router.post(BASE + "/sections/{section_id}/entries")
async def entries_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    section = await access_own_sheet(session, principal, section_id)
    form = await request.form()
    sheet = await queries.sheet_out(session, section)
    entered: dict[str, str] = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    entries: list[EntryIn] = []
    for e in sheet.entries:
        pid = e.person_id
        entries.append(
            EntryIn.model_validate(
                {
                    "person_id": pid,
                    "marks": {
                        c.key: entered.get(f"m_{pid}_{c.key}", "").strip() or None
                        for c in sheet.components
                    },
                    "level": entered.get(f"level_{pid}", "")[:12],
                    "special": _choice(entered.get(f"special_{pid}", ""), SPECIAL_LABELS, ""),
                    "attempt": _choice(entered.get(f"attempt_{pid}", ""), ATTEMPT_LABELS, "normal"),
                }
            )
        )
    try:
        await actions.check_entries(session, principal, section, entries)
    except Problem as exc:
        await session.rollback()
        section = await access_own_sheet(session, principal, section_id)
        if exc.status != 422:
            return back_with_problem(request, _url(section_id), exc)
        errors = {"_": str(exc.detail)}
        for err in exc.errors:
            field = err.field  # entries[i].marks.c1 | entries[i].level
            head, _dot, tail = field.partition(".")
            if head.startswith("entries[") and head[8:-1].isdigit():
                pid = entries[int(head[8:-1])].person_id
                name = f"m_{pid}_{tail[6:]}" if tail.startswith("marks.") else f"{tail}_{pid}"
                errors[name] = str(err.reason)
        return await _sheet_page(
            request,
            session,
            principal,
            section,
            errors=errors,
            values={"entered": entered},
            status_code=422,
        )
    response = go_to(request, _url(section_id))
    flash(request, response, _("成绩已保存"))
    return response


@router.post(BASE + "/sections/{section_id}/upload")
async def upload_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    file: Annotated[UploadFile, File()],
) -> Response:
    section = await access_own_sheet(session, principal, section_id)
    try:
        data = await read_upload(file, rt.settings.max_upload_bytes)
        sheet = await queries.sheet_out(session, section)
        count = await excel.check_upload(session, principal, section, sheet, data)
    except Problem as exc:
        await session.rollback()
        section = await access_own_sheet(session, principal, section_id)
        if exc.status in (403, 404, 409):
            return back_with_problem(request, _url(section_id), exc)
        report = exc.extra.get("report")
        errors = (
            {"_": str(exc.detail)} if report else {"file": str(exc.detail), "_": str(exc.detail)}
        )
        return await _sheet_page(
            request,
            session,
            principal,
            section,
            errors=errors,
            report=report,
            status_code=200 if request.headers.get("HX-Request") else 422,
        )
    return sheets.import_done(request, _url(section_id), _("已导入 {n} 名学生的成绩", n=count))


async def _step(
    request: Request, session: AsyncSession, section_id: int, run: Any, message: Any
) -> Response:
    try:
        await run()
    except Problem as exc:
        await session.rollback()
        return back_with_problem(request, _url(section_id), exc)
    response = go_to(request, _url(section_id))
    flash(request, response, message)
    return response


@router.post(BASE + "/sections/{section_id}/submit")
async def submit_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    section = await access_own_sheet(session, principal, section_id)
    return await _step(
        request,
        session,
        section_id,
        lambda: actions.check_submit(session, principal, section),
        _("成绩已提交，等待学院审核"),
    )


@router.post(BASE + "/sections/{section_id}/review")
async def review_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_REVIEW)],
) -> Response:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_REVIEW)
    return await _step(
        request,
        session,
        section_id,
        lambda: actions.check_review(session, principal, section),
        _("审核通过，等待教务处发布"),
    )


@router.post(BASE + "/sections/{section_id}/publish")
async def publish_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> Response:
    section = await access_overseen_sheet(session, principal, section_id, GRADE_PUBLISH)
    return await _step(
        request,
        session,
        section_id,
        lambda: actions.check_publish(session, principal, section),
        _("成绩已发布，学生可以查看"),
    )


@router.post(BASE + "/sections/{section_id}/return")
async def return_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    """A reviewer returns a submitted sheet, the registrar a reviewed one."""
    section = await access_sheet(session, principal, section_id)
    form = await request.form()
    reason = str(form.get("reason", ""))
    sheet = await queries.sheet_of(session, section.id)
    from_state = sheet.state if sheet is not None else "draft"
    code = GRADE_PUBLISH if from_state == "reviewed" else GRADE_REVIEW
    section = await access_overseen_sheet(session, principal, section_id, code)
    return await _step(
        request,
        session,
        section_id,
        lambda: actions.check_return(session, principal, section, reason, from_state),
        _("已退回任课教师"),
    )


CORRECTION_STATES = {
    "pending": "审批中",
    "approved": "已更正",
    "rejected": "未通过",
    "withdrawn": "已撤回",
}


@router.post(BASE + "/sections/{section_id}/corrections")
async def correction_submit(
    request: Request,
    section_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    """A teacher asks to correct a published result; the registrar approves it."""
    section = await access_own_sheet(session, principal, section_id)
    form = await request.form()
    try:
        body = CorrectionIn.model_validate(
            {
                "person_id": str(form.get("person_id", "")) or "0",
                "score": str(form.get("score", "")).strip() or None,
                "level": str(form.get("level", ""))[:12],
                "special": _choice(str(form.get("special", "")), SPECIAL_LABELS, ""),
                "reason": str(form.get("reason", "")),
            }
        )
    except ValidationError as exc:
        message = "；".join(form_errors(exc).values())
        return back_with_problem(request, _url(section_id), Problem(message))
    return await _step(
        request,
        session,
        section_id,
        lambda: actions.check_correction(session, principal, section, body),
        _("更正申请已提交，等待教务处审批"),
    )


# ---------------------------------------------------------------- a student's own results


@router.get(BASE + "/me")
async def my_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    scale: str = scales.DEFAULT_SCALE,
) -> Response:
    scale = scale if scale in scales.DEFAULT_SCALES else scales.DEFAULT_SCALE
    mine = await results.my_results(session, principal.person_id, scale)
    return render(
        request,
        "academic/grades/me.html",
        me=mine,
        scale=scale,
        gpa_scales=scales.DEFAULT_SCALES,
        **common(),
    )


# ---------------------------------------------------------------- the registrar's ranking


@router.get(BASE + "/ranking")
async def ranking_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
    major_id: FilterInt = None,
    class_id: FilterInt = None,
    grade: FilterInt = None,
    scale: str = scales.DEFAULT_SCALE,
) -> Response:
    scale = scale if scale in scales.DEFAULT_SCALES else scales.DEFAULT_SCALE
    tree = await users.org_directory(session)
    rows: list[Any] = []
    error = ""
    if major_id or class_id:
        try:
            rows = await results.ranking(session, principal, major_id, class_id, scale, grade)
        except Problem as exc:
            error = str(exc.detail)
    classes = await users.list_classes(session)
    return render(
        request,
        "academic/grades/ranking.html",
        rows=rows,
        error=error,
        majors=[
            (u, f"{tree.name(tree.nearest(u, 'college'))} · {tree.name(u)}")
            for u in tree.of_kind("major")
        ],
        classes=[c for c in classes if not major_id or c.org_unit_id == major_id],
        grades=sorted({c.grade for c in classes}, reverse=True),
        major_id=major_id,
        class_id=class_id,
        grade=grade,
        scale=scale,
        gpa_scales=scales.DEFAULT_SCALES,
    )


# ---------------------------------------------------------------- the registrar's grade policy

POLICY_URL = BASE + "/policy"
SPARE_BANDS = 4  # empty rows under each table's bands, to add one


def _policy_values(out: Any) -> dict[str, Any]:
    """A policy as the form shows it: the inputs' names are the API's field paths."""
    values: dict[str, Any] = {
        "pass_fail_counted": out.pass_fail_counted,
        "makeup": out.makeup,
        "retake": out.retake,
        "warning_credits": str(out.warning_credits),
    }
    for key, table in out.scales.items():
        at = f"scales.{key}"
        for i, band in enumerate(table.bands):
            values[f"{at}.bands.{i}.low"] = str(band.low)
            values[f"{at}.bands.{i}.points"] = str(band.points)
        values[f"{at}.rows"] = len(table.bands) + SPARE_BANDS
        for group in ("levels", "pass_fail"):
            for name, v in getattr(table, group).items():
                values[f"{at}.{group}.{name}"] = str(v)
    return values


def _row_count(form: Any, at: str) -> int:
    count = 0
    while f"{at}.bands.{count}.low" in form:
        count += 1
    return count


def _posted_bands(form: Any, at: str) -> tuple[list[dict[str, str]], list[int]]:
    """The filled band rows of one table and the form row each came from."""
    bands, rows = [], []
    for i in range(_row_count(form, at)):
        low = str(form.get(f"{at}.bands.{i}.low", "")).strip()
        points = str(form.get(f"{at}.bands.{i}.points", "")).strip()
        if low or points:
            bands.append({"low": low, "points": points})
            rows.append(i)
    return bands, rows


def _posted_policy(form: Any) -> tuple[dict[str, Any], dict[str, list[int]]]:
    body: dict[str, Any] = {
        "pass_fail_counted": form.get("pass_fail_counted") == "1",
        "makeup": str(form.get("makeup", "")),
        "retake": str(form.get("retake", "")),
        "warning_credits": str(form.get("warning_credits", "")).strip(),
        "scales": {},
    }
    rows = {}
    for key, table in scales.DEFAULT_SCALES.items():
        at = f"scales.{key}"
        bands, rows[key] = _posted_bands(form, at)
        body["scales"][key] = {
            "bands": bands,
            "levels": {lv: str(form.get(f"{at}.levels.{lv}", "")).strip() for lv in table.levels},
            "pass_fail": {
                k: str(form.get(f"{at}.pass_fail.{k}", "")).strip() for k in scales.PASS_FAIL
            },
        }
    return body, rows


def _on_form_rows(errors: dict[str, str], rows: dict[str, list[int]]) -> dict[str, str]:
    """Errors of the n-th filled band moved onto the form row it came from."""
    moved = {}
    for field, reason in errors.items():
        parts = field.split(".")
        if len(parts) >= 5 and parts[0] == "scales" and parts[3] == "bands":
            key, index = f"{parts[1]}.{parts[2]}", int(parts[4])
            if key in rows and index < len(rows[key]):
                parts[4] = str(rows[key][index])
        moved[".".join(parts)] = reason
    return moved


async def _policy_page(
    request: Request,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    stamp: Any = None,
    readonly: bool = False,
) -> Response:
    return render(
        request,
        "academic/grades/policy.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        stamp=stamp,
        readonly=readonly,
        gpa_scales=scales.DEFAULT_SCALES,
        MAKEUP_LABELS=MAKEUP_LABELS,
        RETAKE_LABELS=RETAKE_LABELS,
        **common(),
    )


@router.get(POLICY_URL)
async def policy_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> Response:
    out = await policy.policy_out(session)
    readonly = not may_change_policy(principal)  # a college's publishers read it
    return await _policy_page(request, _policy_values(out), stamp=out, readonly=readonly)


@router.post(POLICY_URL)
async def policy_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(GRADE_PUBLISH)],
) -> Response:
    access_policy(principal)
    form = await request.form()
    body, rows = _posted_policy(form)
    try:
        await actions.check_policy(session, principal, PolicyIn.model_validate(body))
    except (Problem, ValidationError) as exc:
        await session.rollback()
        values: dict[str, Any] = {k: v for k, v in form.items() if k != "csrf_token"}
        values["pass_fail_counted"] = body["pass_fail_counted"]
        for key in rows:
            values[f"scales.{key}.rows"] = _row_count(form, f"scales.{key}")
        errors = _on_form_rows(form_errors(exc), rows)
        if isinstance(exc, Problem):
            errors["_"] = str(exc.detail)
        return await _policy_page(request, values, errors, 422)
    response = go_to(request, POLICY_URL)
    flash(request, response, _("成绩规则已保存，此后计算的绩点与学业预警按新规则执行"))
    return response
