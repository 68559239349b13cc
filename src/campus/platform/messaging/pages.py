"""Pages of the notifications core: my inbox, one notification, my preferences, the send page
with its audience picker, the sender's list and statistics, and template management. Also the
two scripts: ``live.js`` (every page: the live stream and the bell) and ``messaging.js`` (these
pages: charts, pickers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.clock import fmt
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import NotFound, Problem, validation_field_errors
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, PageParamsDep
from campus.kernel.templating import flash, is_htmx, render
from campus.platform.access import service as access
from campus.platform.access.service import public, require, signed_in
from campus.platform.messaging import actions, queries, routes
from campus.platform.messaging.models import Template
from campus.platform.messaging.permissions import NOTIFY_SEND, NOTIFY_SEND_ALL, TEMPLATE_MANAGE
from campus.platform.messaging.schemas import (
    CATEGORIES,
    CHANNEL_TITLES,
    CHANNELS,
    DEFAULT_CHANNELS,
    PRIORITY_TITLES,
    NotificationIn,
    PreferencesIn,
    TemplateIn,
    category_title,
)
from campus.platform.users import service as users

router = APIRouter(tags=["messaging-pages"])
STATIC = Path(__file__).with_name("static") / "messaging"
PICKER_LIMIT = 10
RECEIPTS_PAGE_SIZE = 50


def common() -> dict[str, Any]:
    return {
        "fmt": fmt,
        "categories": {k: str(v) for k, v in CATEGORIES.items()},
        "category_title": category_title,
        "priority_titles": {k: str(v) for k, v in PRIORITY_TITLES.items()},
        "channel_titles": {k: str(v) for k, v in CHANNEL_TITLES.items()},
    }


def _errors(problem: Problem) -> dict[str, str]:
    found = {e.field: str(e.reason) for e in problem.errors}
    return found or {"_": str(problem.detail or problem.title)}


def _validation_errors(exc: ValidationError) -> dict[str, str]:
    errors = validation_field_errors([dict(x) for x in exc.errors()])
    return {e.field: str(e.reason) for e in errors}


# Served under /static/ like every script of the site (the CSP test holds pages to it) from the
# module's own folder: these routes come before the app's /static mount.
def _script(name: str) -> Response:
    return Response(
        (STATIC / name).read_bytes(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/static/messaging/live.js", dependencies=[public()])
async def live_script() -> Response:
    """The site-wide script: one live stream per page, ``campus:<type>`` window events, the bell."""
    return _script("live.js")


@router.get("/static/messaging/messaging.js", dependencies=[public()])
async def page_script() -> Response:
    """The module pages' script: the statistics chart, the audience and template pickers."""
    return _script("messaging.js")


@router.get("/messaging", dependencies=[signed_in()])
async def messaging_home() -> Response:
    return RedirectResponse("/messaging/inbox", status_code=303)


# ---------------------------------------------------------------- my inbox


@router.get("/messaging/inbox")
async def inbox_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    category: Annotated[str | None, Query(max_length=20)] = None,
    unread: bool = False,
) -> Response:
    reader = await queries.reader_of(session, principal.person_id)
    f = queries.InboxFilter(category=category or None, unread=unread)
    result = await queries.inbox(session, reader, f, paging)
    query = urlencode(
        {k: v for k, v in {"category": category, "unread": unread or None}.items() if v}
    )
    name = "messaging/partials/inbox_rows.html" if is_htmx(request) else "messaging/inbox.html"
    return render(
        request,
        name,
        result=result,
        category=category or "",
        unread=unread,
        query=query,
        can_send=principal.can(NOTIFY_SEND),
        **common(),
    )


@router.post("/messaging/inbox/read-all")
async def read_all_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    reader = await queries.reader_of(session, principal.person_id)
    count = await actions.do_mark_all_read(session, runtime, reader)
    response = RedirectResponse("/messaging/inbox", status_code=303)
    flash(request, response, _("已将 {n} 条消息标为已读", n=count))
    return response


@router.get("/messaging/notifications/{notification_id}")
async def notification_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    notification_id: int,
) -> Response:
    """One notification; opening it is its read receipt."""
    reader = await queries.reader_of(session, principal.person_id)
    found = await queries.for_reader(session, reader, notification_id)
    if found is None:
        raise NotFound(_("通知 {id} 不存在", id=notification_id))
    notification, read_at = found
    if read_at is None:
        await actions.do_mark_read(session, runtime, reader, notification_id)
    sender = (
        await users.get_person_ref(session, notification.sender_id)
        if notification.sender_id
        else None
    )
    may_see_stats = notification.sender_id == principal.person_id or principal.can(NOTIFY_SEND_ALL)
    return render(
        request,
        "messaging/notification.html",
        notification=notification,
        sender=sender,
        may_see_stats=may_see_stats and principal.can(NOTIFY_SEND),
        **common(),
    )


@router.post("/messaging/notifications/{notification_id}/read")
async def mark_read_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, signed_in()],
    notification_id: int,
) -> Response:
    reader = await queries.reader_of(session, principal.person_id)
    await actions.do_mark_read(session, runtime, reader, notification_id)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse(request.headers.get("referer") or "/messaging/inbox", status_code=303)


# ---------------------------------------------------------------- my preferences


def _chosen(pref: Any, category: str, channel: str) -> bool:
    if pref is not None:
        return bool(getattr(pref, channel))
    return channel in DEFAULT_CHANNELS.get(category, frozenset())


def _choices(chosen: dict[str, Any]) -> list[dict[str, Any]]:
    """Every known category (and any other the person has a choice for), with their channels."""
    rows: list[dict[str, Any]] = []
    for category in [*CATEGORIES, *sorted(set(chosen) - set(CATEGORIES))]:
        pref = chosen.get(category)
        rows.append(
            {
                "category": category,
                "title": category_title(category),
                **{c: _chosen(pref, category, c) for c in CHANNELS},
            }
        )
    return rows


async def _preferences(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    errors: dict[str, str] | None = None,
    quiet: dict[str, Any] | None = None,
) -> Response:
    saved = await routes.preferences_of(session, principal.person_id)
    chosen = await queries.preferences(session, principal.person_id)
    hours = quiet or (
        saved.quiet_hours.model_dump()
        if saved.quiet_hours
        else {"enabled": False, "start": "22:00", "end": "07:00"}
    )
    return render(
        request,
        "messaging/preferences.html",
        422 if errors else 200,
        rows=_choices(chosen),
        quiet=hours,
        errors=errors or {},
        channels=CHANNELS,
        **common(),
    )


@router.get("/messaging/preferences")
async def preferences_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    return await _preferences(request, session, principal)


@router.post("/messaging/preferences")
async def save_preferences_page(
    request: Request, session: SessionDep, principal: Annotated[Principal, signed_in()]
) -> Response:
    form = await request.form()
    quiet = {
        "enabled": form.get("quiet_enabled") == "on",
        "start": str(form.get("quiet_start") or "22:00"),
        "end": str(form.get("quiet_end") or "07:00"),
    }
    try:
        body = PreferencesIn.model_validate(
            {
                "channels": [
                    {
                        "category": category,
                        **{c: form.get(f"{category}.{c}") == "on" for c in CHANNELS},
                    }
                    for category in form.getlist("category")
                    if isinstance(category, str)
                ],
                "quiet_hours": quiet,
            }
        )
        await actions.do_save_preferences(session, principal.person_id, body)
    except ValidationError as exc:
        return await _preferences(request, session, principal, _validation_errors(exc), quiet)
    except Problem as problem:
        return await _preferences(request, session, principal, _errors(problem), quiet)
    response = RedirectResponse("/messaging/preferences", status_code=303)
    flash(request, response, _("接收设置已保存"))
    return response


# ---------------------------------------------------------------- sending


async def _send_values(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """What the send page offers: templates, roles, org units (indented), classes."""
    tree = await users.org_tree(session)
    units: list[tuple[int, str, int]] = []

    def walk(nodes: list[Any], depth: int) -> None:
        for node in nodes:
            units.append((node.id, node.name, depth))
            walk(node.children, depth + 1)

    walk(tree, 0)
    templates = await queries.templates(session)
    return {
        "templates": templates,
        "templates_json": [
            {"code": t.code, "name": t.name, "variables": list(t.variables or [])}
            for t in templates
        ],
        "roles": await access.role_names(session),
        "units": units,
        "classes": await users.list_classes(session),
        "may_send_all": principal.can(NOTIFY_SEND_ALL),
    }


def _ints(values: list[Any]) -> list[int]:
    return [int(v) for v in values if isinstance(v, str) and v.strip().isdigit()]


def _send_form(form: Any) -> dict[str, Any]:
    """What the form sent, as the template shows it again and as NotificationIn reads it."""
    variables = {
        key[len("var.") :]: str(value)
        for key, value in form.multi_items()
        if isinstance(key, str) and key.startswith("var.") and str(value).strip()
    }
    expires = str(form.get("expires_at") or "").strip()
    return {
        "title": str(form.get("title") or ""),
        "body": str(form.get("body") or ""),
        "link": str(form.get("link") or "").strip() or None,
        "category": str(form.get("category") or "system"),
        "priority": str(form.get("priority") or "normal"),
        "template": str(form.get("template") or "") or None,
        "variables": variables,
        "expires_at": expires or None,
        "audience": {
            "everyone": form.get("everyone") == "on",
            "person_types": [t for t in form.getlist("person_types") if t in ("student", "staff")],
            "person_ids": _ints(form.getlist("person_ids")),
            "role_codes": [r for r in form.getlist("role_codes") if isinstance(r, str) and r],
            "org_unit_ids": _ints(form.getlist("org_unit_ids")),
            "class_ids": _ints(form.getlist("class_ids")),
        },
    }


async def _send_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    chosen = await users.get_people(session, values["audience"]["person_ids"])
    return render(
        request,
        "messaging/send.html",
        422 if errors else 200,
        values=values,
        errors=errors or {},
        chosen_people=[{"id": p.id, "name": p.name, "number": p.number} for p in chosen.values()],
        **await _send_values(session, principal),
        **common(),
    )


EMPTY_SEND: dict[str, Any] = {
    "title": "",
    "body": "",
    "link": None,
    "category": "system",
    "priority": "normal",
    "template": None,
    "variables": {},
    "expires_at": None,
    "audience": {
        "everyone": False,
        "person_types": [],
        "person_ids": [],
        "role_codes": [],
        "org_unit_ids": [],
        "class_ids": [],
    },
}


@router.get("/messaging/send")
async def send_page(
    request: Request, session: ReadSessionDep, principal: Annotated[Principal, require(NOTIFY_SEND)]
) -> Response:
    return await _send_page(request, session, principal, EMPTY_SEND)


@router.post("/messaging/send")
async def send_submit(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
) -> Response:
    values = _send_form(await request.form())
    try:
        item = NotificationIn.model_validate(values)
        checked = await actions.check_send(session, principal, item)
        notification_id = await actions.do_notify(session, runtime, checked)
    except ValidationError as exc:
        return await _send_page(request, session, principal, values, _validation_errors(exc))
    except Problem as problem:
        if problem.status == 403:
            raise
        return await _send_page(request, session, principal, values, _errors(problem))
    response = RedirectResponse(f"/messaging/sent/{notification_id}", status_code=303)
    flash(request, response, _("通知已发送，共 {n} 人", n=checked.audience.size))
    return response


@router.get("/messaging/pickers/people")
async def people_picker(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    q: Annotated[str, Query(min_length=1, max_length=40)],
) -> Response:
    """People to address, by the start of a name or number, within the sender's reach of
    ``users.person.read`` (a sender without it types numbers they know)."""
    found = await users.search_people_for(session, principal, q, PICKER_LIMIT)
    return JSONResponse([{"id": p.id, "name": p.name, "number": p.number} for p in found])


# ---------------------------------------------------------------- the sender's side


@router.get("/messaging/sent")
async def sent_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    paging: PageParamsDep,
    everyone: bool = False,
) -> Response:
    wide = everyone and principal.can(NOTIFY_SEND_ALL)
    result = await queries.sent(session, None if wide else principal.person_id, paging)
    return render(
        request,
        "messaging/sent.html",
        result=result,
        everyone=wide,
        may_see_all=principal.can(NOTIFY_SEND_ALL),
        **common(),
    )


@router.get("/messaging/sent/{notification_id}")
async def stats_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTIFY_SEND)],
    notification_id: int,
    state: Annotated[str | None, Query(pattern="^(read|unread)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    notification = await routes.access_sent(session, principal, notification_id)
    stats = await queries.stats(session, notification)
    paging = PageParams(page=page, page_size=RECEIPTS_PAGE_SIZE)
    receipts = await routes.receipt_page(session, notification, state, paging)
    chart = {
        "labels": [fmt(b.at, "%m-%d %H:%M") for b in stats.reads_over_time],
        "read": [b.read for b in stats.reads_over_time],
        "cumulative": [b.cumulative for b in stats.reads_over_time],
    }
    name = "messaging/partials/receipt_rows.html" if is_htmx(request) else "messaging/stats.html"
    return render(
        request,
        name,
        notification=notification,
        stats=stats,
        chart=chart,
        receipts=receipts,
        state=state or "",
        **common(),
    )


# ---------------------------------------------------------------- templates


async def _templates_page(
    request: Request,
    session: AsyncSession,
    editing: Template | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "messaging/templates.html",
        422 if errors else 200,
        templates=await queries.templates(session),
        editing=editing,
        values=values,
        errors=errors or {},
        **common(),
    )


def _template_values(template: Template | None) -> dict[str, Any]:
    if template is None:
        return {
            "code": "",
            "name": "",
            "category": "system",
            "title": "",
            "body": "",
            "variables": "",
        }
    return {
        "code": template.code,
        "name": template.name,
        "category": template.category,
        "title": template.title,
        "body": template.body,
        "variables": ", ".join(template.variables or []),
    }


@router.get("/messaging/templates")
async def templates_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    edit: int | None = None,
) -> Response:
    editing = await session.get(Template, edit) if edit else None
    if edit and editing is None:
        raise NotFound(_("模板 {id} 不存在", id=edit))
    return await _templates_page(request, session, editing, _template_values(editing))


@router.post("/messaging/templates")
async def save_template_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    code: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=100)] = "",
    category: Annotated[str, Form(max_length=40)] = "system",
    title: Annotated[str, Form(max_length=400)] = "",
    body: Annotated[str, Form(max_length=20_000)] = "",
    variables: Annotated[str, Form(max_length=1000)] = "",
    template_id: Annotated[int | None, Form()] = None,
) -> Response:
    values = {
        "code": code,
        "name": name,
        "category": category,
        "title": title,
        "body": body,
        "variables": variables,
    }
    editing = await session.get(Template, template_id) if template_id else None
    names = [v.strip() for v in variables.replace("，", ",").split(",") if v.strip()]
    try:
        data = TemplateIn(**{**values, "variables": names})
        template = await actions.check_save_template(session, data, template_id)
        await actions.do_save_template(session, template, data, principal.person_id)
    except ValidationError as exc:
        return await _templates_page(request, session, editing, values, _validation_errors(exc))
    except Problem as problem:
        if problem.status == 404:
            raise
        return await _templates_page(request, session, editing, values, _errors(problem))
    response = RedirectResponse("/messaging/templates", status_code=303)
    flash(request, response, _("模板“{name}”已保存", name=data.name))
    return response


@router.post("/messaging/templates/{template_id}/delete")
async def delete_template_page(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(TEMPLATE_MANAGE)],
    template_id: int,
) -> Response:
    template = await actions.check_delete_template(session, template_id)
    await actions.do_delete_template(session, template)
    response = RedirectResponse("/messaging/templates", status_code=303)
    flash(request, response, _("模板已删除"))
    return response
