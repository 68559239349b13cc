"""Pages of the user center: people list and detail, the org tree, the Excel import."""

from __future__ import annotations

import secrets
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from campus.kernel import context
from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.errors import InvalidInput, NotFound, Problem
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParamsDep
from campus.kernel.templating import is_htmx, render
from campus.platform.access.service import require, signed_in
from campus.platform.users import actions, excel, labels, queries, routes, service
from campus.platform.users.permissions import (
    ORG_MANAGE,
    ORG_READ,
    PERSON_MANAGE,
    PERSON_READ,
)

router = APIRouter(tags=["users-pages"])
IMPORT_TTL_SECONDS = 1800.0
REPORT_ROWS_SHOWN = 500


def _page_values() -> dict[str, Any]:
    return {
        "type_labels": labels.PERSON_TYPE_LABELS,
        "status_labels": labels.STATUS_LABELS,
        "kind_labels": labels.ORG_KIND_LABELS,
    }


@router.get("/users", dependencies=[require(PERSON_READ)])
async def users_home() -> Response:
    return RedirectResponse("/users/people", status_code=303)


@router.get("/users/people")
async def people_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PERSON_READ)],
    paging: PageParamsDep,
    org_unit: Annotated[str | None, Query(alias="org_unit_id", max_length=20)] = None,
    subtree: bool = True,
    type_: Annotated[str | None, Query(alias="type", max_length=20)] = None,
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    class_: Annotated[str | None, Query(alias="class_id", max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    sort: str = queries.DEFAULT_SORT,
) -> Response:
    # A filter form sends its empty fields as "", which means "any" here.
    org_unit_id = _optional_id(org_unit, "org_unit_id")
    class_id = _optional_id(class_, "class_id")
    person_type = _optional_choice(type_, "type", labels.PERSON_TYPE_LABELS)
    status = _optional_choice(status_, "status", labels.STATUS_LABELS)
    f = await routes.people_filter(session, org_unit_id, subtree, person_type, status, class_id, q)
    result = await routes.people_page(
        session, principal, f, params=paging, sort=routes.check_sort(sort), always_mask=True
    )
    params = {
        "org_unit_id": org_unit_id,
        "subtree": "true" if subtree else "false",
        "type": person_type,
        "status": status,
        "class_id": class_id,
        "q": f.q,
        "sort": sort,
        "page_size": paging.page_size,
    }
    query = _query(params)
    # Clicking a column sorts by it; clicking it again reverses the order.
    sort_queries = {
        key: _query({**params, "sort": f"-{key}" if sort == key else key})
        for key in queries.SORTABLE
    }
    values = {
        **_page_values(),
        "result": result,
        "f": f,
        "params": params,
        "query": query,
        "sort_queries": sort_queries,
        "can_manage": principal.can(PERSON_MANAGE),
    }
    if is_htmx(request):
        return render(request, "users/partials/people_table.html", **values)
    units = [(u, u.path.count("/") - 2) for u in await _tree_order(session)]
    return render(request, "users/people.html", units=units, **values)


def _optional_id(value: str | None, field: str) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput.on(field, _("应为整数"))
    return int(value)


def _optional_choice(value: str | None, field: str, choices: dict[str, str]) -> str | None:
    if not value:
        return None
    if value not in choices:
        raise InvalidInput.on(field, _("应为以下之一：{expected}", expected="、".join(choices)))
    return value


def _query(params: dict[str, Any]) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


async def _tree_order(session: ReadSessionDep) -> list[Any]:
    """Every org unit, each followed by the units below it (for an indented drop-down)."""
    units = await queries.all_org_units(session)
    children: dict[int | None, list[Any]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered: list[Any] = []

    def visit(parent_id: int | None) -> None:
        for unit in children.get(parent_id, []):
            ordered.append(unit)
            visit(unit.id)

    visit(None)
    return ordered


@router.get("/users/people/{person_id}")
async def person_page(
    request: Request,
    person_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Response:
    detail = await routes.detail_for(session, principal, person_id)
    org_path = [u.id for u in detail.org_path]
    counselors = await service.counselors_in(session, detail.class_id, org_path)
    return render(
        request,
        "users/person.html",
        person=detail,
        counselors=counselors,
        full=not detail.masked,
        can_list=principal.can(PERSON_READ),
        **_page_values(),
    )


@router.get("/users/org")
async def org_page(
    request: Request,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ORG_READ)],
) -> Response:
    roots = await service.org_children(session, None)
    # The root is shown open with its first level loaded; deeper levels load when opened.
    first_level = {r.id: await service.org_children(session, r.id) for r in roots}
    return render(
        request,
        "users/org.html",
        roots=roots,
        first_level=first_level,
        can_list=principal.can(PERSON_READ),
        can_manage=principal.can(ORG_MANAGE),
        **_page_values(),
    )


@router.get("/users/org/{org_unit_id}/children")
async def org_children_partial(
    request: Request,
    org_unit_id: int,
    session: ReadSessionDep,
    principal: Annotated[Principal, require(ORG_READ)],
) -> Response:
    if await service.get_org_unit(session, org_unit_id) is None:
        raise NotFound(_("组织机构 {id} 不存在", id=org_unit_id))
    nodes = await service.org_children(session, org_unit_id)
    return render(
        request,
        "users/partials/org_nodes.html",
        nodes=nodes,
        can_list=principal.can(PERSON_READ),
        **_page_values(),
    )


@router.get("/users/import", dependencies=[require(PERSON_MANAGE)])
async def import_page(request: Request) -> Response:
    return render(request, "users/import.html", max_rows=excel.MAX_ROWS, columns=excel.COLUMNS)


def _upload_key(principal: Principal, token: str) -> str:
    return f"users:import:{principal.person_id}:{token}"


@router.post("/users/import/check")
async def import_check(
    request: Request,
    session: ReadSessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(PERSON_MANAGE)],
    file: Annotated[UploadFile, File()],
) -> Response:
    """Check the uploaded sheet and keep it for a while, so that the administrator can choose
    how to import it without uploading it again."""
    try:
        data = await routes.read_upload(file, rt)
        report = await actions.check_import_people(session, data, only_valid=False, dry_run=True)
    except Problem as problem:
        return _import_error(request, problem)
    token = secrets.token_urlsafe(16)
    await rt.cache.set(_upload_key(principal, token), data, IMPORT_TTL_SECONDS)
    return render(
        request,
        "users/partials/import_report.html",
        report=report,
        token=token,
        shown=report.problems[:REPORT_ROWS_SHOWN],
    )


@router.post("/users/import/commit")
async def import_commit(
    request: Request,
    session: SessionDep,
    rt: RuntimeDep,
    principal: Annotated[Principal, require(PERSON_MANAGE)],
    token: Annotated[str, Form(max_length=64)],
    only_valid: Annotated[bool, Form()] = False,
) -> Response:
    key = _upload_key(principal, token)
    data = await rt.cache.get(key)
    if data is None:
        return _import_error(request, Problem(_("上传的文件已过期，请重新上传"), status=410))
    try:
        report = await actions.check_import_people(session, data, only_valid=only_valid)
    except Problem as problem:
        return _import_error(request, problem)
    await rt.cache.delete(key)
    return render(request, "users/partials/import_result.html", report=report)


def _import_error(request: Request, problem: Problem) -> Response:
    # htmx swaps only 2xx answers into the page, so it gets the explanation with a 200.
    status = 200 if is_htmx(request) else problem.status
    return render(
        request,
        "users/partials/import_error.html",
        status,
        message=str(problem.detail or problem.title),
        errors=[e.render() for e in problem.errors],
        report=problem.extra.get("report"),
    )


@router.get("/users/me", dependencies=[signed_in()])
async def my_record() -> Response:
    principal = context.current().principal
    assert principal is not None
    return RedirectResponse(f"/users/people/{principal.person_id}", status_code=303)
