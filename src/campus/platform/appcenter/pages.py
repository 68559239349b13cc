"""Pages of the app center: the catalog people use (/apps), the click-through that counts a use,
and the administrators' list and forms (/appcenter/manage)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import clock
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import Problem
from campus.kernel.i18n import _
from campus.kernel.templating import flash, form_errors, go_to, render
from campus.platform.access.service import require, signed_in
from campus.platform.appcenter import actions, catalog, queries
from campus.platform.appcenter.permissions import APP_MANAGE
from campus.platform.appcenter.routes import me, stored_app, visible_card
from campus.platform.appcenter.schemas import AppIn, AppPatch
from campus.platform.files import service as files

USAGE_CHART_APPS = 15
router = APIRouter(tags=["appcenter-pages"])

CENTER = "/apps"
MANAGE = "/appcenter/manage"
FIELDS = ("code", "name", "kind", "description", "category", "icon", "url", "sso_client", "order")


@router.get(CENTER, dependencies=[signed_in()])
async def center_page(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    q: Annotated[str, Query(max_length=40)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    cards = await catalog.catalog(session, rt.modules, me())
    term = q.strip()
    shown = [
        c
        for c in cards
        if (not term or catalog.matches(c, term)) and (not category or c.category == category)
    ]
    return render(
        request,
        "appcenter/center.html",
        apps=shown,
        categories=catalog.categories(cards),
        q=term,
        category=category,
        most_used=[c for c in sorted(cards, key=lambda c: -c.uses) if c.uses][:8],
    )


@router.get(CENTER + "/{code}/open", dependencies=[signed_in()])
async def open_app(code: str, session: SessionDep, rt: RuntimeDep) -> Response:
    card = await visible_card(session, rt, code)
    await actions.do_count_use(session, me().person_id, code)
    return RedirectResponse(card.url, status_code=303)


@router.post(CENTER + "/{code}/favourite", dependencies=[signed_in()])
async def favourite_submit(
    request: Request,
    code: str,
    session: SessionDep,
    rt: RuntimeDep,
    on: Annotated[bool, Form()] = True,
    back: Annotated[str, Form(max_length=200)] = CENTER,
) -> Response:
    card = await visible_card(session, rt, code)
    await actions.do_favourite(session, me().person_id, code, on)
    response = go_to(request, back if back.startswith(CENTER) else CENTER)
    name = card.name
    flash(
        request,
        response,
        _("已收藏“{name}”", name=name) if on else _("已取消收藏“{name}”", name=name),
    )
    return response


# ---------------------------------------------------------------- administration


@router.get("/appcenter/usage", dependencies=[require(APP_MANAGE)])
async def usage_page(request: Request, session: ReadSessionDep, rt: RuntimeDep) -> Response:
    rows = await catalog.usage(session, rt.modules)
    top = rows[:USAGE_CHART_APPS][::-1]  # the chart's bars, the most used on top
    chart = {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 10, "right": 20, "top": 10, "bottom": 10, "containLabel": True},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": [r.name for r in top]},
        "series": [{"type": "bar", "name": str(_("打开次数")), "data": [r.uses for r in top]}],
    }
    return render(request, "appcenter/usage.html", rows=rows, chart=chart, fmt=clock.fmt)


@router.get(MANAGE, dependencies=[require(APP_MANAGE)])
async def manage_page(request: Request, session: ReadSessionDep) -> Response:
    apps = await queries.to_outs(session, await queries.all_apps(session))
    return render(request, "appcenter/manage.html", apps=apps, fmt=clock.fmt)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]


def _form_fields(form: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: form[k] for k in FIELDS if k in form}
    fields["roles"] = _split(form.get("roles", ""))
    fields["org_units"] = _split(form.get("org_units", ""))
    fields["enabled"] = form.get("enabled") == "on"
    # The upload field posts the picture's id while one is kept; none posted: no picture.
    fields["icon_file_id"] = form.get("icon_file_id", "")
    return fields


async def _form(
    request: Request,
    session: AsyncSession,
    status: int = 200,
    *,
    code: str | None = None,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    if form is None and code is not None:
        out = await queries.to_out(session, await stored_app(session, code))
        data = out.model_dump()
        form = {k: str(data[k] or "") for k in FIELDS}
        form["icon_file_id"] = out.icon_file_id or ""
        form |= {"roles": ", ".join(out.roles), "org_units": ", ".join(out.org_units)}
        form["enabled"] = "on" if out.enabled else ""
    form = form or {
        "kind": "link",
        "category": "其他",
        "icon": "apps",
        "order": "100",
        "enabled": "on",
    }
    picture = form.get("icon_file_id")
    pictures = await files.get_files(session, [picture]) if picture else []
    return render(
        request,
        "appcenter/form.html",
        status,
        code=code,
        form=form,
        icon_files=[{"id": f.id, "name": f.name} for f in pictures],
        errors=errors or {},
    )


@router.get(MANAGE + "/new", dependencies=[require(APP_MANAGE)])
async def new_page(request: Request, session: ReadSessionDep) -> Response:
    return await _form(request, session)


@router.get(MANAGE + "/{code}", dependencies=[require(APP_MANAGE)])
async def edit_page(request: Request, code: str, session: ReadSessionDep) -> Response:
    return await _form(request, session, code=code)


@router.post(MANAGE + "/new", dependencies=[require(APP_MANAGE)])
async def create_submit(request: Request, session: SessionDep) -> Response:
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        body = AppIn(**_form_fields(form))
        async with session.begin_nested():
            await actions.do_create_app(session, body, person_id=me().person_id)
    except (Problem, ValidationError) as exc:
        return await _form(request, session, 422, form=form, errors=form_errors(exc))
    return _saved(request)


@router.post(MANAGE + "/{code}", dependencies=[require(APP_MANAGE)])
async def update_submit(request: Request, code: str, session: SessionDep) -> Response:
    app = await stored_app(session, code)
    form = {k: str(v) for k, v in (await request.form()).items()}
    fields = _form_fields(form)
    fields.pop("code", None)
    try:
        body = AppPatch(**fields)
        async with session.begin_nested():
            await actions.do_update_app(session, app, body, person_id=me().person_id)
    except (Problem, ValidationError) as exc:
        return await _form(request, session, 422, code=code, form=form, errors=form_errors(exc))
    return _saved(request)


def _saved(request: Request) -> Response:
    response = go_to(request, MANAGE)
    flash(request, response, _("应用已保存"))
    return response
