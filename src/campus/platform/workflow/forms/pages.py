"""Pages of the form designer: the list of forms, a form with its versions, the designer (an
Alpine.js page saving through the JSON API), its live preview and the try-out of a version."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from starlette.datastructures import ImmutableMultiDict

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep
from campus.kernel.errors import FieldError, InvalidInput, validation_field_errors
from campus.kernel.i18n import _, translate
from campus.kernel.templating import render
from campus.platform.access.service import public, require
from campus.platform.workflow.forms import checks, queries, validate
from campus.platform.workflow.forms.fields import (
    COLUMN_WIDGETS,
    OPS,
    PREFILL_WIDGETS,
    PREFILLS,
    WIDGETS,
    FieldDef,
)
from campus.platform.workflow.forms.permissions import FORM_MANAGE, FORM_READ
from campus.platform.workflow.forms.prefill import prefill
from campus.platform.workflow.forms.schemas import FormDetail, FormVersionOut

router = APIRouter(tags=["workflow-forms-pages"])
STATIC = Path(__file__).with_name("static")
FIELD_LIST = TypeAdapter(list[FieldDef])
MAX_PREVIEW_INPUTS = 5000
# What the designer's script says, in the page's language ({n} is filled in by the script).
DESIGNER_MESSAGES = {
    "option_a": _("选项一"),
    "option_b": _("选项二"),
    "column_item": _("项目"),
    "column_amount": _("金额"),
    "column_n": _("列{n}"),
    "min_length": _("最少字数"),
    "max_length": _("最多字数"),
    "min_rows": _("最少行数"),
    "max_rows": _("最多行数"),
    "min_items": _("最少项数"),
    "max_items": _("最多项数"),
    "min_value": _("最小值"),
    "max_value": _("最大值"),
    "request_failed": _("请求失败（{status}）"),
    "saving": _("正在保存…"),
    "publishing": _("正在发布…"),
    "published": _("已发布版本 v{n}，此版本不会再改变；再次保存将生成新的草稿版本。"),
    "saved": _("已保存为草稿 v{n}，发布后才能使用。"),
    "save_failed": _("保存失败"),
    "not_json": _("不是有效的 JSON 文件"),
    "not_a_pair": _("文件中应有 schema 与 ui_schema"),
    "replace_fields": _("导入将替换当前的全部字段，确定吗？"),
    "imported": _("已导入 {n} 个字段，保存后生效。"),
}
CHINA_TIME = timezone(timedelta(hours=8), "CST")


def when(value: datetime | None) -> str:
    """A moment in Beijing time, as the pages show it."""
    return value.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") if value else ""


def _script(name: str) -> Response:
    return Response(
        (STATIC / name).read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/workflow/forms/forms.js", dependencies=[public()])
async def renderer_script() -> Response:
    """The form renderer's script (the CSP allows no inline script)."""
    return _script("forms.js")


@router.get("/workflow/forms/designer.js", dependencies=[public()])
async def designer_script() -> Response:
    return _script("designer.js")


# ---------------------------------------------------------------- lists and details


@router.get("/workflow/forms")
async def forms_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(FORM_READ)],
    q: str | None = None,
) -> Response:
    term = (q or "").strip()[:60]
    return render(
        request,
        "workflow/forms/list.html",
        forms=await queries.forms(session, term or None),
        q=term,
        can_manage=principal.can(FORM_MANAGE),
        when=when,
    )


def _designer_config(form: FormDetail | None, fields: list[FieldDef]) -> dict[str, Any]:
    """What the designer's script starts from: the form, its fields and the choices it offers."""
    return {
        "form": None
        if form is None
        else {
            "id": form.id,
            "key": form.key,
            "name": form.name,
            "description": form.description,
            "latest_version": form.latest_version,
            "published_version": form.published_version,
            "has_draft": form.has_draft,
        },
        "fields": [f.model_dump(mode="json") for f in fields],
        # Lists, not objects: the order is the one to show (tojson sorts an object's keys).
        "widgets": [{"value": k, "title": str(v)} for k, v in WIDGETS.items()],
        "column_widgets": [{"value": k, "title": str(v)} for k, v in COLUMN_WIDGETS.items()],
        "ops": [{"value": k, "title": str(v)} for k, v in OPS.items()],
        "prefills": [
            {"value": k, "title": str(v), "widgets": sorted(PREFILL_WIDGETS[k])}
            for k, v in PREFILLS.items()
        ],
        # The script fills the placeholders in, so the messages go without their parameters.
        "messages": {k: translate(m.message) for k, m in DESIGNER_MESSAGES.items()},
    }


@router.get("/workflow/forms/new")
async def new_form_page(
    request: Request, principal: Annotated[Principal, require(FORM_MANAGE)]
) -> Response:
    return render(
        request, "workflow/forms/designer.html", form=None, config=_designer_config(None, [])
    )


@router.get("/workflow/forms/{form_id}")
async def form_page(
    request: Request,
    form_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(FORM_READ)],
) -> Response:
    form = await queries.form_detail(session, form_id)
    latest = await queries.form_version(session, form.versions[0].id) if form.versions else None
    return render(
        request,
        "workflow/forms/detail.html",
        form=form,
        latest=latest,
        can_manage=principal.can(FORM_MANAGE),
        when=when,
    )


@router.get("/workflow/forms/{form_id}/design", dependencies=[require(FORM_MANAGE)])
async def design_page(request: Request, form_id: int, session: ReadSessionDep) -> Response:
    form = await queries.form_detail(session, form_id)
    latest = await queries.form_version(session, form.versions[0].id) if form.versions else None
    fields = latest.fields if latest is not None else []
    return render(
        request, "workflow/forms/designer.html", form=form, config=_designer_config(form, fields)
    )


# ---------------------------------------------------------------- trying a version out


@router.get("/workflow/forms/versions/{version_id}")
async def version_page(
    request: Request,
    version_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(FORM_READ)],
) -> Response:
    """The version filled in as the signed-in person would start it (prefilled for them)."""
    version = await queries.form_version(session, version_id)
    values = await prefill(session, principal.person_id, version)
    return render(
        request,
        "workflow/forms/version.html",
        version=version,
        values=values,
        errors={},
        clean=None,
        labels=await queries.value_labels(session, version, values),
    )


@router.post("/workflow/forms/versions/{version_id}", dependencies=[require(FORM_READ)])
async def version_try(request: Request, version_id: int, session: ReadSessionDep) -> Response:
    """Fill the version in as an applicant would and see what the server makes of it
    (nothing is saved)."""
    version = await queries.form_version(session, version_id)
    values = validate.data_from_form(version, await request.form())
    try:
        clean = await validate.clean_submission(session, version, values)
    except InvalidInput as problem:
        errors = validate.errors_by_field(problem)
        labels = await queries.value_labels(session, version, values)
        return render(
            request,
            "workflow/forms/version.html",
            422,
            version=version,
            values=values,
            errors=errors,
            labels=labels,
            clean=None,
        )
    return render(
        request,
        "workflow/forms/version.html",
        version=version,
        values=values,
        errors={},
        clean=clean,
        labels=await queries.value_labels(session, version, clean),
    )


# ---------------------------------------------------------------- the designer's preview


def _preview_version(fields: list[FieldDef]) -> FormVersionOut:
    schema, ui_schema = checks.check_fields(fields)
    return FormVersionOut(
        id=0,
        form_id=0,
        form_key="preview",
        form_name=str(_("预览")),
        version=0,
        schema=schema,
        ui_schema=ui_schema,
        published=False,
    )


def _posted_pairs(raw: Any) -> ImmutableMultiDict[str, str]:
    """The preview's inputs as the designer's script sends them: [[name, value], …]."""
    pairs = [
        (str(p[0]), str(p[1]))
        for p in (raw if isinstance(raw, list) else [])[:MAX_PREVIEW_INPUTS]
        if isinstance(p, list) and len(p) == 2
    ]
    return ImmutableMultiDict(pairs)


@router.post("/workflow/forms/preview", dependencies=[require(FORM_MANAGE)])
async def preview(
    request: Request,
    session: ReadSessionDep,
    body: Annotated[dict[str, Any], Body()],
) -> Response:
    """The designer's fields rendered as an applicant sees them (an HTML fragment); with
    ``check``, the preview's inputs in ``data`` are cleaned as a submission would be."""
    try:
        fields = FIELD_LIST.validate_python(body.get("fields") or [])
        version = _preview_version(fields)
    except ValidationError as exc:
        found = validation_field_errors([dict(x) for x in exc.errors()])
        problems = [FieldError(f"fields.{e.field}", e.reason) for e in found]
        return _preview_problems(request, problems)
    except InvalidInput as problem:
        return _preview_problems(request, problem.errors)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    clean = None
    if body.get("check"):
        values = validate.data_from_form(version, _posted_pairs(body.get("data")))
        try:
            clean = await validate.clean_submission(session, version, values)
        except InvalidInput as problem:
            errors = validate.errors_by_field(problem)
    return render(
        request,
        "workflow/forms/partials/preview.html",
        version=version,
        values=values,
        errors=errors,
        clean=clean,
        labels=await queries.value_labels(session, version, values) if values else {},
    )


def _preview_problems(request: Request, errors: list[FieldError]) -> Response:
    return render(
        request,
        "workflow/forms/partials/preview.html",
        422,
        version=None,
        problems=[(e.field, str(e.reason)) for e in errors],
    )
