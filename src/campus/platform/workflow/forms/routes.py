"""JSON API of forms: /api/v1/workflow/forms/... Thin: parse, authorise, call one action or
query, answer with schemas.

Designing needs ``workflow.form.manage``, reading the designs ``workflow.form.read``; a
published version is read by anyone signed in (they fill it in), and the pickers of the form
renderer answer anyone signed in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, Field

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, SessionDep
from campus.kernel.i18n import _
from campus.platform.access.service import denied, require, signed_in
from campus.platform.users import service as users
from campus.platform.workflow.forms import actions, checks, queries, validate
from campus.platform.workflow.forms.permissions import FORM_MANAGE, FORM_READ
from campus.platform.workflow.forms.schemas import (
    DraftSave,
    FieldDef,
    FormCreate,
    FormDetail,
    FormSummary,
    FormUpdate,
    FormVersionBrief,
    FormVersionOut,
    SchemaPair,
)

router = APIRouter(prefix="/api/v1/workflow/forms", tags=["workflow-forms"])
PICKER_LIMIT = 10


class FieldList(BaseModel):
    fields: list[FieldDef]


class Submission(BaseModel):
    data: dict[str, Any] = Field(description="按字段键填写的数据")


class Cleaned(BaseModel):
    data: dict[str, Any] = Field(description="服务器清理后的数据：隐藏字段已去掉，计算字段已重算")


class PickerPerson(BaseModel):
    id: int
    name: str
    number: str | None


class PickerOrgUnit(BaseModel):
    id: int
    name: str
    kind: str
    depth: int


async def access_version(principal: Principal, version: FormVersionOut) -> FormVersionOut:
    """A published version is read by anyone signed in; a draft by form readers only."""
    if not version.published and not principal.can(FORM_READ):
        raise await denied(
            principal,
            FORM_READ,
            _("您没有查看表单草稿的权限"),
            target_type="form_version",
            target_id=version.id,
        )
    return version


# ---------------------------------------------------------------- forms


@router.get(
    "", response_model=list[FormSummary], dependencies=[require(FORM_READ)], summary="表单列表"
)
async def list_forms(
    session: ReadSessionDep, q: Annotated[str | None, Query(max_length=60)] = None
) -> list[FormSummary]:
    return await queries.forms(session, q.strip() if q else None)


@router.post(
    "",
    response_model=FormDetail,
    status_code=201,
    dependencies=[require(FORM_MANAGE)],
    summary="新建表单（带字段时同时保存版本 1 草稿）",
)
async def create_form(body: FormCreate, session: SessionDep) -> FormDetail:
    return await queries.form_detail(session, await actions.check_create_form(session, body))


@router.get(
    "/{form_id}",
    response_model=FormDetail,
    dependencies=[require(FORM_READ)],
    summary="表单及其版本",
)
async def get_form(form_id: int, session: ReadSessionDep) -> FormDetail:
    return await queries.form_detail(session, form_id)


@router.patch(
    "/{form_id}",
    response_model=FormDetail,
    dependencies=[require(FORM_MANAGE)],
    summary="修改名称、说明",
)
async def update_form(form_id: int, body: FormUpdate, session: SessionDep) -> FormDetail:
    await actions.check_update_form(session, form_id, body)
    return await queries.form_detail(session, form_id)


@router.get(
    "/{form_id}/versions",
    response_model=list[FormVersionBrief],
    dependencies=[require(FORM_READ)],
    summary="表单的版本，新的在前",
)
async def list_versions(form_id: int, session: ReadSessionDep) -> list[FormVersionBrief]:
    return (await queries.form_detail(session, form_id)).versions


@router.put(
    "/{form_id}/draft",
    response_model=FormVersionOut,
    dependencies=[require(FORM_MANAGE)],
    summary="保存草稿：字段列表，或导入的 schema 与 ui_schema；最新版本已发布时新建下一版本",
)
async def save_draft(form_id: int, body: DraftSave, session: SessionDep) -> FormVersionOut:
    return await queries.form_version(
        session, await actions.check_save_draft(session, form_id, body)
    )


@router.post(
    "/{form_id}/publish",
    response_model=FormVersionOut,
    dependencies=[require(FORM_MANAGE)],
    summary="发布草稿；已发布的版本不再改变",
)
async def publish(form_id: int, session: SessionDep) -> FormVersionOut:
    return await queries.form_version(session, await actions.check_publish(session, form_id))


# ---------------------------------------------------------------- versions


@router.get(
    "/versions/{version_id}",
    response_model=FormVersionOut,
    summary="表单的一个版本（已发布的版本登录即可读取）",
)
async def get_version(
    version_id: int, session: ReadSessionDep, principal: Annotated[Principal, signed_in()]
) -> FormVersionOut:
    return await access_version(principal, await queries.form_version(session, version_id))


@router.get(
    "/versions/{version_id}/fields",
    response_model=FieldList,
    dependencies=[require(FORM_READ)],
    summary="版本的设计器字段列表",
)
async def version_fields(version_id: int, session: ReadSessionDep) -> FieldList:
    return FieldList(fields=(await queries.form_version(session, version_id)).fields)


@router.get(
    "/versions/{version_id}/export",
    response_model=SchemaPair,
    dependencies=[require(FORM_READ)],
    summary="导出 JSON Schema 与 UI schema",
)
async def export_version(version_id: int, session: ReadSessionDep) -> SchemaPair:
    version = await queries.form_version(session, version_id)
    return SchemaPair(schema=version.schema, ui_schema=version.ui_schema)


@router.post(
    "/versions/{version_id}/validate",
    response_model=Cleaned,
    summary="按此版本校验一份填写（不保存）：返回清理后的数据或逐项的错误",
)
async def validate_submission(
    version_id: int,
    body: Submission,
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
) -> Cleaned:
    version = await access_version(principal, await queries.form_version(session, version_id))
    return Cleaned(data=await validate.clean_submission(session, version, body.data))


@router.get(
    "/by-key/{key}/published",
    response_model=FormVersionOut,
    dependencies=[signed_in()],
    summary="表单最新发布的版本",
)
async def published(key: str, session: ReadSessionDep) -> FormVersionOut:
    return await queries.published_version(session, key)


# ---------------------------------------------------------------- the designer's helpers


@router.post(
    "/compile",
    response_model=SchemaPair,
    dependencies=[require(FORM_MANAGE)],
    summary="把设计器的字段列表编译为 JSON Schema 与 UI schema（并检查）",
)
async def compile_fields(body: FieldList) -> SchemaPair:
    schema, ui_schema = checks.check_fields(body.fields)
    return SchemaPair(schema=schema, ui_schema=ui_schema)


@router.post(
    "/decompile",
    response_model=FieldList,
    dependencies=[require(FORM_MANAGE)],
    summary="读入 JSON Schema 与 UI schema，得到设计器的字段列表（并检查）",
)
async def decompile(body: Annotated[SchemaPair, Body()]) -> FieldList:
    fields, _schema, _ui = checks.check_import(body.schema, body.ui_schema)
    return FieldList(fields=fields)


# ---------------------------------------------------------------- pickers of the renderer


@router.get(
    "/pickers/people",
    response_model=list[PickerPerson],
    summary="人员选择器：按姓名或学工号开头查找",
)
async def pick_people(
    session: ReadSessionDep,
    principal: Annotated[Principal, signed_in()],
    q: Annotated[str, Query(min_length=1, max_length=60)],
) -> list[PickerPerson]:
    """Those who may look people up find them within their reach (as the user center's search);
    everyone else finds the teachers and staff, whom forms name as supervisors or approvers."""
    if users.may_search_people(principal):
        found = await users.search_people_for(session, principal, q, PICKER_LIMIT)
    else:
        found = await users.search_staff(session, q, PICKER_LIMIT)
    return [PickerPerson(id=p.id, name=p.name, number=p.number) for p in found]


@router.get(
    "/pickers/org-units",
    response_model=list[PickerOrgUnit],
    dependencies=[signed_in()],
    summary="组织机构选择器：整棵树，按层级展开为列表",
)
async def pick_org_units(session: ReadSessionDep) -> list[PickerOrgUnit]:
    ordered: list[PickerOrgUnit] = []

    def visit(nodes: list[Any], depth: int) -> None:
        for node in nodes:
            if node.active:
                unit = PickerOrgUnit(id=node.id, name=node.name, kind=node.kind, depth=depth)
                ordered.append(unit)
                visit(node.children, depth + 1)

    visit(await users.org_tree(session), 0)
    return ordered
