"""Pages of notices: my notices, the publisher's list, one notice (opening it is the read
receipt), the editor, and the read receipts with their chart."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, people, richtext
from campus.domains.oa.notices import actions, queries
from campus.domains.oa.notices.access import NoticeAccess, access_notice
from campus.domains.oa.pages import common
from campus.domains.oa.permissions import NOTICE_PUBLISH
from campus.domains.oa.schemas import NoticeCreate, NoticeUpdate, TargetIn
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParams, PageParamsDep
from campus.kernel.templating import flash, form_errors, is_htmx, render
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users

router = APIRouter(tags=["oa-pages"])
RECEIPT_PAGE_SIZE = 50


@router.get("/oa/notices")
async def notices_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    tab: Annotated[str, Query(pattern="^(inbox|managed)$")] = "inbox",
    unread: bool = False,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    q = (q or "").strip() or None
    can_publish = principal.can(NOTICE_PUBLISH)
    if tab == "managed":
        result = await queries.managed_notices(session, principal, paging, None, q)
    else:
        reader = await people.reader_of(session, principal.person_id)
        if reader is None:
            raise NotFound(_("您的人员信息不存在"))
        result = await queries.my_notices(
            session, reader, queries.InboxFilter(unread=unread, q=q), paging
        )
    query = urlencode(
        {k: v for k, v in {"tab": tab, "unread": unread or None, "q": q}.items() if v}
    )
    values: dict[str, Any] = {
        "result": result,
        "tab": tab,
        "unread": unread,
        "q": q or "",
        "query": query,
    }
    name = "oa/partials/notice_rows.html" if is_htmx(request) else "oa/notices.html"
    return render(request, name, can_publish=can_publish, **values, **common())


# ---------------------------------------------------------------- the editor


async def _editor_values(session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """The units the publisher may publish as or to, and the classes they look after."""
    directory = await users.org_directory(session)
    units = [
        (unit_id, name, depth)
        for unit_id, name, depth in directory.ordered()
        if access.allows(principal, NOTICE_PUBLISH, directory.path(unit_id))
    ]
    classes = []
    for position in await users.positions_of(session, principal.person_id):
        if position.class_id is not None:
            found = await users.get_class(session, position.class_id)
            if found is not None and access.allows(
                principal, NOTICE_PUBLISH, directory.path(found.org_unit_id)
            ):
                classes.append(found)
    everywhere = bool(directory.roots) and people.reaches_units(
        principal,
        NOTICE_PUBLISH,
        [u for root in directory.roots for u in directory.subtree(root)],
        directory,
    )
    return {"units": units, "classes": classes, "may_campus": everywhere}


def _form_values(
    title: str,
    body: str,
    org_unit_id: str,
    audience: str,
    campus: str | None,
    orgs: list[str],
    classes: list[str],
    pinned: str | None,
    expires_on: str,
    attachments: list[str],
) -> dict[str, Any]:
    """What the form sent, as the template shows it again."""
    org_rows = []
    for value in orgs:
        unit, _sep, subtree = value.partition(":")
        if unit.isdigit():
            org_rows.append({"id": int(unit), "subtree": subtree != "0"})
    return {
        "title": title,
        "body": body,
        "org_unit_id": int(org_unit_id) if org_unit_id.isdigit() else None,
        "people": audience,
        "campus": bool(campus),
        "orgs": org_rows,
        "classes": [int(c) for c in classes if c.isdigit()],
        "pinned": bool(pinned),
        "expires_on": expires_on,
        "attachments": attachments,
    }


def _targets(values: dict[str, Any]) -> list[TargetIn]:
    targets = [TargetIn(kind="campus")] if values["campus"] else []
    targets += [TargetIn(kind="org", id=o["id"], subtree=o["subtree"]) for o in values["orgs"]]
    targets += [TargetIn(kind="class", id=c, subtree=False) for c in values["classes"]]
    return targets


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": values["title"],
        "body": values["body"],
        "org_unit_id": values["org_unit_id"],
        "people": values["people"],
        "targets": _targets(values),
        "pinned": values["pinned"],
        "expires_on": date.fromisoformat(values["expires_on"]) if values["expires_on"] else None,
        "attachments": values["attachments"],
    }


async def _editor(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    notice_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    errors = errors or {}
    files = await attachments.listed(session, values["attachments"])
    return render(
        request,
        "oa/notice_form.html",
        422 if errors else 200,
        notice_id=notice_id,
        values=values,
        errors=errors,
        target_error=next((v for k, v in sorted(errors.items()) if k.startswith("targets")), None),
        attachment_files=[f.model_dump() for f in files],
        **await _editor_values(session, principal),
        **common(),
    )


@router.get("/oa/notices/new")
async def new_notice_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> Response:
    me = await users.get_person_ref(session, principal.person_id)
    unit = str(me.org_unit_id) if me else ""
    values = _form_values("", "", unit, "all", None, [], [], None, "", [])
    return await _editor(request, session, principal, notice_id=None, values=values)


FormText = Annotated[str, Form(max_length=20_000)]


class NoticeForm:
    """The editor's fields, as a dependency shared by the new and the edit page."""

    def __init__(
        self,
        title: Annotated[str, Form(max_length=400)] = "",
        body: FormText = "",
        org_unit_id: Annotated[str, Form(max_length=20)] = "",
        audience: Annotated[str, Form(max_length=10)] = "all",
        campus: Annotated[str | None, Form(max_length=2)] = None,
        org: Annotated[list[str] | None, Form()] = None,
        class_id: Annotated[list[str] | None, Form()] = None,
        pinned: Annotated[str | None, Form(max_length=2)] = None,
        expires_on: Annotated[str, Form(max_length=10)] = "",
        attachments: Annotated[list[str] | None, Form()] = None,
        then: Annotated[str, Form(max_length=10)] = "save",
    ) -> None:
        self.values = _form_values(
            title,
            body,
            org_unit_id,
            audience,
            campus,
            org or [],
            class_id or [],
            pinned,
            expires_on,
            attachments or [],
        )
        self.publish = then == "publish"


async def _save(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    notice_id: int | None,
    form: NoticeForm,
) -> Response:
    """Create or update the draft, publish it if asked; the editor again with the errors."""
    errors: dict[str, str] = {}
    given_id = notice_id
    try:
        payload = _payload(form.values)
        if notice_id is None:
            notice_id = await actions.check_create_notice(
                session, principal, NoticeCreate(**payload)
            )
        else:
            await actions.check_update_notice(
                session, principal, notice_id, NoticeUpdate(**payload)
            )
        if form.publish:
            await actions.check_publish(session, principal, notice_id)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
    except ValueError:
        errors = {"expires_on": str(_("日期格式不正确，应为 YYYY-MM-DD"))}
    if errors:
        # Nothing of a refused save may stay: the draft created before a refused publication
        # is rolled back with the request's transaction.
        await session.rollback()
        return await _editor(
            request, session, principal, notice_id=given_id, values=form.values, errors=errors
        )
    assert notice_id is not None
    response = RedirectResponse(f"/oa/notices/{notice_id}", status_code=303)
    flash(request, response, _("通知已发布") if form.publish else _("草稿已保存"))
    return response


@router.post("/oa/notices/new")
async def new_notice_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
    form: Annotated[NoticeForm, Depends()],
) -> Response:
    return await _save(request, session, principal, None, form)


@router.get("/oa/notices/{notice_id}")
async def notice_page(
    request: Request,
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    notice, level = await access_notice(session, principal, notice_id)
    reader = await people.reader_of(session, principal.person_id)
    if (
        reader is not None
        and notice.status == "published"
        and await queries.is_addressed(session, notice.id, reader)
    ):
        await actions.do_mark_read(session, notice, reader)
    out = await queries.notice_out(session, notice, principal.person_id)
    return render(request, "oa/notice.html", notice=out, level=level.value, **common())


@router.get("/oa/notices/{notice_id}/progress")
async def progress_partial(
    request: Request,
    notice_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    """The read progress of the notice page, loaded after the page (expanding a campus-wide
    audience reads every person)."""
    notice, level = await access_notice(session, principal, notice_id)
    if level is NoticeAccess.READER or notice.status == "draft":
        return Response(status_code=204)
    summary = (await queries.receipts(session, notice)).summary()
    return render(request, "oa/partials/notice_progress.html", notice=notice, summary=summary)


@router.get("/oa/notices/{notice_id}/edit")
async def edit_notice_page(
    request: Request,
    notice_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> Response:
    notice, level = await access_notice(session, principal, notice_id)
    if level is not NoticeAccess.PUBLISHER or notice.status != "draft":
        return RedirectResponse(f"/oa/notices/{notice_id}", status_code=303)
    targets = await queries.targets_of(session, notice_id)
    values = {
        "title": notice.title,
        "body": notice.body,
        "org_unit_id": notice.org_unit_id,
        "people": notice.people,
        "campus": any(t.kind == "campus" for t in targets),
        "orgs": [{"id": t.target_id, "subtree": t.subtree} for t in targets if t.kind == "org"],
        "classes": [t.target_id for t in targets if t.kind == "class"],
        "pinned": notice.pinned,
        "expires_on": notice.expires_on.isoformat() if notice.expires_on else "",
        "attachments": list(notice.attachments or []),
    }
    return await _editor(request, session, principal, notice_id=notice_id, values=values)


@router.post("/oa/notices/{notice_id}/edit")
async def edit_notice_submit(
    request: Request,
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
    form: Annotated[NoticeForm, Depends()],
) -> Response:
    return await _save(request, session, principal, notice_id, form)


@router.post("/oa/notices/preview", dependencies=[signed_in()])
async def preview(request: Request, body: FormText = "") -> Response:
    """The body as it will be shown (htmx, from the editor)."""
    return render(request, "oa/partials/preview.html", html=richtext.render(body))


# ---------------------------------------------------------------- publishing, withdrawing


@router.post("/oa/notices/{notice_id}/publish")
async def publish_submit(
    request: Request,
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> Response:
    response = RedirectResponse(f"/oa/notices/{notice_id}", status_code=303)
    try:
        await actions.check_publish(session, principal, notice_id)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("通知已发布"))
    return response


@router.post("/oa/notices/{notice_id}/withdraw")
async def withdraw_submit(
    request: Request,
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
    reason: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    response = RedirectResponse(f"/oa/notices/{notice_id}", status_code=303)
    reason = reason.strip()
    if not reason or len(reason) > 200:
        flash(request, response, _("请填写撤回原因（200 字以内）"), "danger")
        return response
    try:
        await actions.check_withdraw(session, principal, notice_id, reason)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        flash(request, response, str(problem.detail or problem.title), "danger")
        return response
    flash(request, response, _("通知已撤回"))
    return response


@router.post("/oa/notices/{notice_id}/delete")
async def delete_submit(
    request: Request,
    notice_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(NOTICE_PUBLISH)],
) -> Response:
    await actions.check_delete_notice(session, principal, notice_id)
    response = RedirectResponse("/oa/notices?tab=managed", status_code=303)
    flash(request, response, _("草稿已删除"))
    return response


# ---------------------------------------------------------------- read receipts


@router.get("/oa/notices/{notice_id}/receipts")
async def receipts_page(
    request: Request,
    notice_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    state: Annotated[str | None, Query(pattern="^(read|unread)$")] = None,
    unit: int | None = None,
) -> Response:
    notice, level = await access_notice(session, principal, notice_id)
    if level is NoticeAccess.READER or notice.status == "draft":
        return RedirectResponse(f"/oa/notices/{notice_id}", status_code=303)
    found = await queries.receipts(session, notice)
    summary = found.summary()
    rows = found.people(state, unit)
    start = (page - 1) * RECEIPT_PAGE_SIZE
    params = PageParams(page=page, page_size=RECEIPT_PAGE_SIZE)
    listing = Page.of(rows[start : start + RECEIPT_PAGE_SIZE], len(rows), params)
    query = urlencode({k: v for k, v in {"state": state, "unit": unit}.items() if v})
    chart = {
        "units": [u.name for u in summary.units[:30]],
        "read": [u.read for u in summary.units[:30]],
        "unread": [u.total - u.read for u in summary.units[:30]],
    }
    return render(
        request,
        "oa/notice_receipts.html",
        notice=notice,
        summary=summary,
        listing=listing,
        state=state,
        unit=unit,
        query=query,
        chart=chart,
        **common(),
    )
