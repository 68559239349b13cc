"""JSON API of the user center: /api/v1/users/... Thin: parse, authorise, call one action or
query, answer with schemas."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.downloads import xlsx_response
from campus.kernel.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, PageParamsDep
from campus.platform.access import service as access
from campus.platform.access.service import require, signed_in
from campus.platform.users import actions, excel, queries, service, standards, validation
from campus.platform.users.models import Person
from campus.platform.users.permissions import (
    ORG_MANAGE,
    ORG_READ,
    PERSON_MANAGE,
    PERSON_READ,
    PERSON_SENSITIVE,
)
from campus.platform.users.schemas import (
    ClassCreate,
    ClassOut,
    CodeOut,
    CodeTableOut,
    ImportReport,
    OrgTreeNode,
    OrgUnitCreate,
    OrgUnitMove,
    OrgUnitOut,
    OrgUnitUpdate,
    PersonCreate,
    PersonDetail,
    PersonListItem,
    PersonPage,
    PersonRef,
    PersonStatus,
    PersonType,
    PersonUpdate,
    PositionAssign,
    PositionOut,
    StatusChange,
)
from campus.platform.users.service import PersonAccess, access_person

router = APIRouter(prefix="/api/v1/users", tags=["users"])


# ---------------------------------------------------------------- people: lists and files


async def people_filter(
    session: AsyncSession,
    org_unit_id: int | None,
    subtree: bool,
    person_type: str | None,
    status: str | None,
    class_id: int | None,
    q: str | None,
) -> queries.PeopleFilter:
    """The list filter from query parameters; an unknown org unit is a 422 on that field."""
    org_path = None
    if org_unit_id is not None:
        unit = await queries.org_unit(session, org_unit_id)
        if unit is None:
            raise InvalidInput.on("org_unit_id", _("组织机构 {id} 不存在", id=org_unit_id))
        org_path = unit.path if subtree else None
    return queries.PeopleFilter(
        org_unit_id=org_unit_id,
        org_path=org_path,
        person_type=person_type,
        status=status,
        class_id=class_id,
        q=q.strip() if q and q.strip() else None,
    )


def check_sort(sort: str) -> str:
    if sort.lstrip("-") not in queries.SORTABLE:
        raise InvalidInput.on(
            "sort", _("应为以下之一：{expected}", expected="、".join(queries.SORTABLE))
        )
    return sort


def list_item(row: queries.PersonRow, full: bool) -> PersonListItem:
    p = row.person
    return PersonListItem(
        id=p.id,
        name=p.name,
        gender=p.gender,
        gender_name=standards.gender().name_of(p.gender),
        number=row.number,
        person_type=p.person_type,
        status=p.status,
        org_unit_id=p.org_unit_id,
        org_unit_name=row.org_name,
        class_id=p.class_id,
        class_name=row.class_name,
        phone=p.phone if full else validation.mask_phone(p.phone),
        created_at=p.created_at,
    )


async def people_page(
    session: ReadSessionDep,
    principal: Principal,
    f: queries.PeopleFilter,
    *,
    params: PageParams,
    sort: str,
    always_mask: bool = False,
) -> PersonPage:
    """A page of the people the reader's ``users.person.read`` reaches; phones unmasked only
    where ``users.person.sensitive`` reaches as far, and never when ``always_mask`` (a list on
    screen does not need them)."""
    rows = await queries.people_page(session, within_reach(principal, f), sort=sort, params=params)
    full = sensitive_everywhere(principal) and not always_mask
    return rows.into(PersonPage, lambda row: list_item(row, full), sort=sort)


def reach_clause(principal: Principal) -> ColumnElement[bool]:
    """The people ``users.person.read`` reaches for the reader, as a WHERE clause."""
    return access.scope_filter(principal, PERSON_READ, Person.org_unit_id, Person.id)


def within_reach(principal: Principal, f: queries.PeopleFilter) -> queries.PeopleFilter:
    """The filter limited to the people ``users.person.read`` reaches for the reader."""
    return dataclasses.replace(f, within=reach_clause(principal))


def sensitive_everywhere(principal: Principal) -> bool:
    return access.reach_includes(principal, PERSON_SENSITIVE, PERSON_READ)


@router.get("/people", response_model=PersonPage)
async def list_people(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PERSON_READ)],
    paging: PageParamsDep,
    org_unit_id: int | None = None,
    subtree: bool = False,
    person_type: Annotated[PersonType | None, Query(alias="type")] = None,
    status: PersonStatus | None = None,
    class_id: int | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    sort: str = queries.DEFAULT_SORT,
) -> PersonPage:
    """People, a page at a time, filtered and sorted (``-name`` sorts descending)."""
    f = await people_filter(session, org_unit_id, subtree, person_type, status, class_id, q)
    return await people_page(session, principal, f, params=paging, sort=check_sort(sort))


@router.get("/people/search", response_model=list[PersonRef])
async def search_people(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PERSON_READ)],
    q: Annotated[str, Query(min_length=1, max_length=60)],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[PersonRef]:
    """Quick search by the start of a name or number, for pickers (within the reader's reach)."""
    return await service.search_people(session, q, limit, within=reach_clause(principal))


@router.get("/people/export.xlsx")
async def export_people(
    session: ReadSessionDep,
    principal: Annotated[Principal, require(PERSON_READ)],
    org_unit_id: int | None = None,
    subtree: bool = False,
    person_type: Annotated[PersonType | None, Query(alias="type")] = None,
    status: PersonStatus | None = None,
    class_id: int | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    sort: str = queries.DEFAULT_SORT,
) -> Response:
    """The people matching the list's filters as an .xlsx in the import template's columns."""
    f = await people_filter(session, org_unit_id, subtree, person_type, status, class_id, q)
    rows = await queries.people_rows(session, within_reach(principal, f), sort=check_sort(sort))
    data = excel.export(rows, full=sensitive_everywhere(principal))
    return xlsx_response(data, "人员名单.xlsx", "people.xlsx")


@router.get("/people/import-template.xlsx", dependencies=[require(PERSON_MANAGE)])
async def import_template(session: ReadSessionDep) -> Response:
    """An empty sheet with the import columns, drop-down lists and the org and class codes."""
    units = [(u.code, u.name) for u in await queries.all_org_units(session) if u.active]
    classes = [(c.code, c.name) for c, _n in await queries.classes(session, None, None)]
    return xlsx_response(
        excel.template(units, classes), "人员导入模板.xlsx", "people-import-template.xlsx"
    )


async def read_upload(file: UploadFile, rt: RuntimeDep) -> bytes:
    limit = rt.settings.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(_("上传内容不能超过 {mb} MB", mb=limit // 1048576))
    return data


@router.post("/people/import", response_model=ImportReport, dependencies=[require(PERSON_MANAGE)])
async def import_people(
    session: SessionDep,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="按导入模板填写的 .xlsx 文件")],
    only_valid: Annotated[bool, Form(description="有错误行时只导入校验通过的行")] = False,
    dry_run: Annotated[bool, Form(description="只校验，不导入")] = False,
) -> ImportReport:
    """Check every row; import all when all are valid (or only the valid ones when asked).
    Rows with errors and no ``only_valid`` answer 422 with the report, and nothing is written."""
    data = await read_upload(file, rt)
    return await actions.check_import_people(session, data, only_valid=only_valid, dry_run=dry_run)


# ---------------------------------------------------------------- people: one at a time


async def detail_for(session: AsyncSession, principal: Principal, person_id: int) -> PersonDetail:
    """The record as the reader may see it: refused (and audited) outside the reach of their
    ``users.person.read``, masked outside the reach of ``users.person.sensitive``."""
    level = access_person(principal, person_id)
    if level is PersonAccess.NONE:
        raise await refuse(principal, person_id)
    detail = await service.person_detail(session, person_id, level)
    if detail is None:
        raise NotFound(_("人员 {id} 不存在", id=person_id))
    if person_id == principal.person_id:
        return detail
    org_path = [unit.id for unit in detail.org_path]
    if not access.allows(principal, PERSON_READ, org_path, person_id):
        raise await refuse(principal, person_id)
    if not detail.masked and not access.allows(principal, PERSON_SENSITIVE, org_path, person_id):
        return service.masked(detail)
    return detail


async def ensure_manages(session: AsyncSession, principal: Principal, person_id: int) -> None:
    """Refuse (and audit) a write about a person outside the reach of the writer's
    ``users.person.manage``: a college's administrator manages their college only."""
    detail = await service.person_detail(session, person_id, PersonAccess.MASKED)
    if detail is None:
        raise NotFound(_("人员 {id} 不存在", id=person_id))
    if not access.allows(principal, PERSON_MANAGE, [u.id for u in detail.org_path], person_id):
        raise await access.denied(
            principal,
            PERSON_MANAGE,
            _("只能管理权限范围内的人员"),
            target_type="person",
            target_id=person_id,
        )


async def refuse(principal: Principal, person_id: int) -> Forbidden:
    return await access.denied(
        principal, PERSON_READ, _("只能查看本人的信息"), target_type="person", target_id=person_id
    )


@router.post("/people", response_model=PersonDetail, status_code=201)
async def create_person(
    body: PersonCreate,
    session: SessionDep,
    principal: Annotated[Principal, require(PERSON_MANAGE)],
) -> PersonDetail:
    person_id = await actions.check_create_person(session, body)
    await ensure_manages(session, principal, person_id)  # the new place is within reach
    return await detail_for(session, principal, person_id)


@router.get("/people/{person_id}", response_model=PersonDetail)
async def get_person(
    person_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> PersonDetail:
    """A person's record: one's own always; others' with ``users.person.read``, the identity
    number and phone masked without ``users.person.sensitive``."""
    return await detail_for(session, principal, person_id)


@router.patch("/people/{person_id}", response_model=PersonDetail)
async def update_person(
    person_id: int,
    body: PersonUpdate,
    session: SessionDep,
    principal: Annotated[Principal, require(PERSON_MANAGE)],
) -> PersonDetail:
    await ensure_manages(session, principal, person_id)
    await actions.check_update_person(session, person_id, body)
    await ensure_manages(session, principal, person_id)  # and so is where it moved to
    return await detail_for(session, principal, person_id)


@router.post("/people/{person_id}/status", response_model=PersonDetail)
async def change_status(
    person_id: int,
    body: StatusChange,
    session: SessionDep,
    principal: Annotated[Principal, require(PERSON_MANAGE)],
) -> PersonDetail:
    await ensure_manages(session, principal, person_id)
    await actions.check_change_status(session, person_id, body)
    return await detail_for(session, principal, person_id)


@router.get("/people/{person_id}/counselors", response_model=list[PersonRef])
async def counselors(
    person_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> list[PersonRef]:
    """The counselors of a student (their own, or anyone's with ``users.person.read``)."""
    detail = await detail_for(session, principal, person_id)
    return await service.counselors_in(session, detail.class_id, [u.id for u in detail.org_path])


# ---------------------------------------------------------------- org units


@router.get("/org-units/tree", response_model=list[OrgTreeNode], dependencies=[require(ORG_READ)])
async def org_tree(session: ReadSessionDep, root_id: int | None = None) -> list[OrgTreeNode]:
    """The whole org tree, or the subtree under ``root_id``."""
    return await service.org_tree(session, root_id)


@router.get("/org-units", response_model=list[OrgTreeNode], dependencies=[require(ORG_READ)])
async def org_children(session: ReadSessionDep, parent_id: int | None = None) -> list[OrgTreeNode]:
    """The units directly below ``parent_id`` (the root without it), with child counts."""
    return await service.org_children(session, parent_id)


async def org_out(session: AsyncSession, org_unit_id: int) -> OrgUnitOut:
    unit = await service.get_org_unit(session, org_unit_id)
    if unit is None:
        raise NotFound(_("组织机构 {id} 不存在", id=org_unit_id))
    return unit


@router.get("/org-units/{org_unit_id}", response_model=OrgUnitOut, dependencies=[require(ORG_READ)])
async def get_org_unit(org_unit_id: int, session: ReadSessionDep) -> OrgUnitOut:
    return await org_out(session, org_unit_id)


@router.post(
    "/org-units", response_model=OrgUnitOut, status_code=201, dependencies=[require(ORG_MANAGE)]
)
async def create_org_unit(body: OrgUnitCreate, session: SessionDep) -> OrgUnitOut:
    return await org_out(session, await actions.check_create_org_unit(session, body))


@router.patch(
    "/org-units/{org_unit_id}", response_model=OrgUnitOut, dependencies=[require(ORG_MANAGE)]
)
async def update_org_unit(org_unit_id: int, body: OrgUnitUpdate, session: SessionDep) -> OrgUnitOut:
    await actions.check_update_org_unit(session, org_unit_id, body)
    return await org_out(session, org_unit_id)


@router.post(
    "/org-units/{org_unit_id}/move", response_model=OrgUnitOut, dependencies=[require(ORG_MANAGE)]
)
async def move_org_unit(org_unit_id: int, body: OrgUnitMove, session: SessionDep) -> OrgUnitOut:
    """Put a unit (with everything below it) under another parent; cycles are refused."""
    await actions.check_move_org_unit(session, org_unit_id, body)
    return await org_out(session, org_unit_id)


# ---------------------------------------------------------------- classes and positions


@router.get("/classes", response_model=list[ClassOut], dependencies=[require(ORG_READ)])
async def list_classes(
    session: ReadSessionDep,
    org_unit_id: int | None = None,
    grade: Annotated[int | None, Query(ge=1949, le=2100)] = None,
) -> list[ClassOut]:
    """Classes within an org unit's subtree (all without it), of one grade when given."""
    org_path = None
    if org_unit_id is not None:
        unit = await queries.org_unit(session, org_unit_id)
        if unit is None:
            raise InvalidInput.on("org_unit_id", _("组织机构 {id} 不存在", id=org_unit_id))
        org_path = unit.path
    return [
        ClassOut.model_validate(c).model_copy(update={"student_count": n})
        for c, n in await queries.classes(session, org_path, grade)
    ]


@router.post(
    "/classes", response_model=ClassOut, status_code=201, dependencies=[require(ORG_MANAGE)]
)
async def create_class(body: ClassCreate, session: SessionDep) -> ClassOut:
    class_id = await actions.check_create_class(session, body)
    found = await service.get_class(session, class_id)
    assert found is not None
    return found


@router.get("/classes/{class_id}", response_model=ClassOut, dependencies=[require(ORG_READ)])
async def get_class(class_id: int, session: ReadSessionDep) -> ClassOut:
    found = await service.get_class(session, class_id)
    if found is None:
        raise NotFound(_("行政班 {id} 不存在", id=class_id))
    return found


@router.get(
    "/classes/{class_id}/members",
    response_model=list[PersonRef],
)
async def class_members(
    class_id: int, session: ReadSessionDep, principal: Annotated[Principal, require(PERSON_READ)]
) -> list[PersonRef]:
    """The class's people the reader's ``users.person.read`` reaches."""
    if await service.get_class(session, class_id) is None:
        raise NotFound(_("行政班 {id} 不存在", id=class_id))
    return await service.members_of_class(session, class_id, within=reach_clause(principal))


@router.post(
    "/positions", response_model=PositionOut, status_code=201, dependencies=[require(ORG_MANAGE)]
)
async def assign_position(body: PositionAssign, session: SessionDep) -> PositionOut:
    """Make a person counselor of a class, dean of a college, head of an office…"""
    position_id = await actions.check_assign_position(session, body)
    positions = await service.positions_of(session, body.person_id)
    return next(p for p in positions if p.id == position_id)


@router.delete("/positions/{position_id}", status_code=204, dependencies=[require(ORG_MANAGE)])
async def end_position(position_id: int, session: SessionDep) -> Response:
    await actions.check_end_position(session, position_id)
    return Response(status_code=204)


# ---------------------------------------------------------------- code tables


def table_out(name: str, q: str | None = None, limit: int | None = None) -> CodeTableOut:
    table = standards.table(name)
    codes = table.codes
    if q:
        codes = tuple(c for c in codes if c.code.startswith(q) or q in c.full_name)
    if limit is not None:
        codes = codes[:limit]
    return CodeTableOut(
        table=table.table,
        standard=table.standard,
        title=table.title,
        version=table.version,
        source=table.source,
        effective=table.effective,
        count=len(table),
        codes=[CodeOut(code=c.code, name=c.name, full_name=c.full_name) for c in codes],
    )


@router.get("/standards", response_model=list[CodeTableOut], dependencies=[signed_in()])
async def list_standards() -> list[CodeTableOut]:
    """The code tables people are checked against, with their standards and sources."""
    return [table_out(name, limit=0) for name in standards.TABLE_NAMES]


@router.get("/standards/{name}", response_model=CodeTableOut, dependencies=[signed_in()])
async def get_standard(
    name: str,
    q: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 5000,
) -> CodeTableOut:
    """One code table; ``q`` keeps codes starting with it or names containing it."""
    if name not in standards.TABLE_NAMES:
        raise NotFound(_("代码表 {name} 不存在", name=name))
    return table_out(name, q, limit)
