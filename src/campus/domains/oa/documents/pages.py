"""Pages of documents: the lists (my drafts, the office's work, everything I may see), the
editor, one document with its approval, seal, distribution and progress, and the 收文 inbox."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa import attachments, people
from campus.domains.oa.documents import actions, queries
from campus.domains.oa.documents.access import DocumentAccess, access_document
from campus.domains.oa.pages import common
from campus.domains.oa.permissions import DOCUMENT_DRAFT, DOCUMENT_SEAL
from campus.domains.oa.schemas import AddresseeIn, DocumentCreate, DocumentUpdate
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.errors import InvalidInput, NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import Page, PageParams, PageParamsDep
from campus.kernel.templating import errors_of, flash, form_errors, is_htmx, render
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import service as users
from campus.platform.workflow import service as workflow

router = APIRouter(tags=["oa-pages"])
RECEIPT_PAGE_SIZE = 50


@router.get("/oa/documents")
async def documents_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    box: Annotated[str | None, Query(pattern="^(mine|office|all)$")] = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    can_draft, can_seal = principal.can(DOCUMENT_DRAFT), principal.can(DOCUMENT_SEAL)
    box = box or ("mine" if can_draft else ("office" if can_seal else "all"))
    q = (q or "").strip() or None
    result = await queries.documents_page(
        session, principal, queries.DocumentFilter(box=box, q=q), paging
    )
    query = urlencode({k: v for k, v in {"box": box, "q": q}.items() if v})
    values: dict[str, Any] = {"result": result, "box": box, "q": q or "", "query": query}
    name = "oa/partials/document_rows.html" if is_htmx(request) else "oa/documents.html"
    return render(request, name, can_draft=can_draft, can_seal=can_seal, **values, **common())


@router.get("/oa/inbox")
async def inbox_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    paging: PageParamsDep,
    unread: bool = False,
) -> Response:
    result = await queries.inbox(session, principal.person_id, paging, unread=unread)
    return render(request, "oa/inbox.html", result=result, unread=unread, **common())


# ---------------------------------------------------------------- one document


@router.get("/oa/documents/{document_id}/receipts")
async def document_receipts_page(
    request: Request,
    document_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    state: Annotated[str | None, Query(pattern="^(read|unread)$")] = None,
    unit: int | None = None,
) -> Response:
    document, level = await access_document(session, principal, document_id)
    if not level.sees_progress or document.status != "distributed":
        return RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    found = await queries.progress(session, document.id)
    directory = await users.org_directory(session)
    group_of = people.group_units(directory, {r.org_unit_id for r in found.rows})
    rows = [
        r
        for r in found.rows
        if (state is None or (state == "read") == (r.read_at is not None))
        and (unit is None or group_of[r.org_unit_id] == unit)
    ]
    start = (page - 1) * RECEIPT_PAGE_SIZE
    params = PageParams(page=page, page_size=RECEIPT_PAGE_SIZE)
    listing = Page.of(rows[start : start + RECEIPT_PAGE_SIZE], len(rows), params)
    units = found.summary.units[:30]
    return render(
        request,
        "oa/document_receipts.html",
        document=document,
        summary=found.summary,
        listing=listing,
        state=state,
        unit=unit,
        query=urlencode({k: v for k, v in {"state": state, "unit": unit}.items() if v}),
        chart={
            "units": [u.name for u in units],
            "read": [u.read for u in units],
            "unread": [u.total - u.read for u in units],
        },
        **common(),
    )


async def _flash_result(
    request: Request, redirect: Response, problem: Problem | None, success: Any
) -> Response:
    if problem is None:
        flash(request, redirect, success)
    else:
        flash(request, redirect, "；".join(errors_of(problem).values()), "danger")
    return redirect


@router.post("/oa/documents/{document_id}/submit")
async def submit_submit(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> Response:
    redirect = RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    try:
        await actions.check_submit(session, principal, document_id)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await _flash_result(request, redirect, problem, None)
    return await _flash_result(request, redirect, None, _("已送审"))


@router.post("/oa/documents/{document_id}/seal")
async def seal_submit(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_SEAL)],
    seal_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    redirect = RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    name = seal_name.strip()
    try:
        if not name or len(name) > 60:
            raise InvalidInput.on("seal_name", _("请填写印章名称（60 字以内）"))
        await actions.check_seal(session, principal, document_id, name)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await _flash_result(request, redirect, problem, None)
    return await _flash_result(request, redirect, None, _("已用印：{seal}", seal=name))


@router.post("/oa/documents/{document_id}/distribute")
async def distribute_submit(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_SEAL)],
) -> Response:
    redirect = RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    try:
        count = await actions.check_distribute(session, principal, document_id)
    except Problem as problem:
        if problem.status in (403, 404):
            raise
        return await _flash_result(request, redirect, problem, None)
    return await _flash_result(request, redirect, None, _("已分发给 {n} 人", n=count))


@router.post("/oa/documents/{document_id}/delete")
async def delete_submit(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> Response:
    await actions.check_delete_document(session, principal, document_id)
    redirect = RedirectResponse("/oa/documents?box=mine", status_code=303)
    flash(request, redirect, _("草稿已删除"))
    return redirect


# ---------------------------------------------------------------- the editor


class DocumentForm:
    def __init__(
        self,
        title: Annotated[str, Form(max_length=400)] = "",
        kind: Annotated[str, Form(max_length=12)] = "notice",
        issuing_org_id: Annotated[str, Form(max_length=20)] = "",
        urgency: Annotated[str, Form(max_length=12)] = "normal",
        secrecy: Annotated[str, Form(max_length=12)] = "public",
        body: Annotated[str, Form(max_length=50_000)] = "",
        attachments: Annotated[list[str] | None, Form()] = None,
        main_org: Annotated[list[int] | None, Form()] = None,
        main_person: Annotated[list[int] | None, Form()] = None,
        copy_org: Annotated[list[int] | None, Form()] = None,
        copy_person: Annotated[list[int] | None, Form()] = None,
        then: Annotated[str, Form(max_length=10)] = "save",
    ) -> None:
        self.values: dict[str, Any] = {
            "title": title,
            "kind": kind,
            "issuing_org_id": int(issuing_org_id) if issuing_org_id.isdigit() else None,
            "urgency": urgency,
            "secrecy": secrecy,
            "body": body,
            "attachments": attachments or [],
            "main_org": main_org or [],
            "main_person": main_person or [],
            "copy_org": copy_org or [],
            "copy_person": copy_person or [],
        }
        self.submit = then == "submit"

    def payload(self) -> dict[str, Any]:
        v = self.values

        def addressees(orgs: list[int], persons: list[int]) -> list[AddresseeIn]:
            return [AddresseeIn(kind="org", id=o) for o in orgs] + [
                AddresseeIn(kind="person", id=p) for p in persons
            ]

        return {
            "title": v["title"],
            "kind": v["kind"],
            "issuing_org_id": v["issuing_org_id"],
            "urgency": v["urgency"],
            "secrecy": v["secrecy"],
            "body": v["body"],
            "attachments": v["attachments"],
            "main": addressees(v["main_org"], v["main_person"]),
            "copy_to": addressees(v["copy_org"], v["copy_person"]),
        }


async def _editor(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    document_id: int | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> Response:
    directory = await users.org_directory(session)
    issuing = [
        row
        for row in directory.ordered()
        if access.allows(principal, DOCUMENT_DRAFT, directory.path(row[0]))
    ]
    persons = await users.get_people(session, [*values["main_person"], *values["copy_person"]])

    def chosen(ids: list[int]) -> list[dict[str, Any]]:
        return [
            {"id": i, "name": persons[i].name, "number": persons[i].number or ""}
            for i in ids
            if i in persons
        ]

    errors = errors or {}
    files = await attachments.listed(session, values["attachments"])
    return render(
        request,
        "oa/document_form.html",
        422 if errors else 200,
        document_id=document_id,
        values=values,
        errors=errors,
        issuing_units=issuing,
        all_units=directory.ordered(),
        main_people=chosen(values["main_person"]),
        copy_people=chosen(values["copy_person"]),
        attachment_files=[f.model_dump() for f in files],
        **common(),
    )


async def _save(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    document_id: int | None,
    form: DocumentForm,
) -> Response:
    errors: dict[str, str] = {}
    given_id = document_id
    try:
        payload = form.payload()
        if document_id is None:
            document_id = await actions.check_create_document(
                session, principal, DocumentCreate(**payload)
            )
        else:
            await actions.check_update_document(
                session, principal, document_id, DocumentUpdate(**payload)
            )
        if form.submit:
            await actions.check_submit(session, principal, document_id)
    except (ValidationError, Problem) as exc:
        errors = form_errors(exc)
    if errors:
        # A draft created before a refused submission goes with the rolled-back request.
        await session.rollback()
        return await _editor(
            request, session, principal, document_id=given_id, values=form.values, errors=errors
        )
    assert document_id is not None
    redirect = RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    flash(request, redirect, _("已送审") if form.submit else _("草稿已保存"))
    return redirect


@router.get("/oa/documents/new")
async def new_document_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> Response:
    me = await users.get_person_ref(session, principal.person_id)
    values = DocumentForm(issuing_org_id=str(me.org_unit_id) if me else "").values
    return await _editor(request, session, principal, document_id=None, values=values)


@router.post("/oa/documents/new")
async def new_document_submit(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
    form: Annotated[DocumentForm, Depends()],
) -> Response:
    return await _save(request, session, principal, None, form)


@router.get("/oa/documents/{document_id}")
async def document_page(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    document, level = await access_document(session, principal, document_id)
    # Opening a document distributed to oneself is its read receipt (签收).
    await actions.do_mark_read(session, document.id, principal.person_id)
    out = await queries.document_out(session, document, principal.person_id)
    instance = None
    if document.instance_id is not None and level is not DocumentAccess.RECIPIENT:
        try:
            instance = await workflow.get_instance(session, document.instance_id)
        except NotFound:
            instance = None
    directory = await users.org_directory(session)
    may_seal = access.allows(principal, DOCUMENT_SEAL, directory.path(document.issuing_org_id))
    return render(
        request,
        "oa/document.html",
        document=out,
        level=level.value,
        sees_progress=level.sees_progress,
        may_seal=may_seal,
        instance=instance,
        **common(),
    )


@router.get("/oa/documents/{document_id}/edit")
async def edit_document_page(
    request: Request,
    document_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
) -> Response:
    document, level = await access_document(session, principal, document_id)
    if level is not DocumentAccess.DRAFTER or document.status != "draft":
        return RedirectResponse(f"/oa/documents/{document_id}", status_code=303)
    rows = await queries.addressees_of(session, document_id)

    def ids(role: str, kind: str) -> list[int]:
        return [r.target_id for r in rows if r.role == role and r.kind == kind]

    values = {
        "title": document.title,
        "kind": document.kind,
        "issuing_org_id": document.issuing_org_id,
        "urgency": document.urgency,
        "secrecy": document.secrecy,
        "body": document.body,
        "attachments": list(document.attachments or []),
        "main_org": ids("main", "org"),
        "main_person": ids("main", "person"),
        "copy_org": ids("copy", "org"),
        "copy_person": ids("copy", "person"),
    }
    return await _editor(request, session, principal, document_id=document_id, values=values)


@router.post("/oa/documents/{document_id}/edit")
async def edit_document_submit(
    request: Request,
    document_id: int,
    session: SessionDep,
    principal: Annotated[Principal, require(DOCUMENT_DRAFT)],
    form: Annotated[DocumentForm, Depends()],
) -> Response:
    return await _save(request, session, principal, document_id, form)
