"""HTML pages of the process designer (approval-chain designer, versions, BPMN import and the
bpmn-js modeler) and of the services management, and the static files they and the process
diagram need. The pages read on the server and write through the JSON API (routes.py) from the
browser, so a page and a script show the same errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep
from campus.kernel.errors import NotFound
from campus.kernel.i18n import LazyText, _
from campus.kernel.templating import render
from campus.platform.access.service import public, require
from campus.platform.users import service as users
from campus.platform.workflow import hall, queries
from campus.platform.workflow.forms import queries as form_queries
from campus.platform.workflow.permissions import PROCESS_MANAGE, SERVICE_MANAGE
from campus.platform.workflow.schemas import HallServiceOut, ProcessOut

router = APIRouter(tags=["workflow designer pages"])

ASSETS = Path(__file__).parent / "static" / "designer"
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
Designer = Annotated[Principal, require(PROCESS_MANAGE)]
ServiceManager = Annotated[Principal, require(SERVICE_MANAGE)]

POSITIONS: dict[str, LazyText] = {
    "counselor": _("辅导员"),
    "head_teacher": _("班主任"),
    "head": _("负责人"),
    "dean": _("院长"),
    "vice_dean": _("副院长"),
    "party_secretary": _("党委书记"),
    "president": _("校长"),
}
MODES: dict[str, LazyText] = {
    "any": _("或签（一人同意即可）"),
    "all": _("会签（全部同意）"),
    "percent": _("按比例（达到比例即通过）"),
    "veto": _("一票否决（一人反对即驳回）"),
    "sequential": _("依次审批（按顺序逐一审批）"),
}
MODE_SHORT: dict[str, LazyText] = {
    "any": _("或签"),
    "all": _("会签"),
    "percent": _("按比例"),
    "veto": _("一票否决"),
    "sequential": _("依次审批"),
}
TIMEOUT_ACTIONS: dict[str, LazyText] = {
    "remind": _("提醒审批人"),
    "escalate": _("转交给他人"),
    "approve": _("自动同意"),
    "reject": _("自动驳回"),
}
ASSIGNEE_KINDS: dict[str, LazyText] = {
    "position": _("申请人的上级（按职务）"),
    "person": _("指定人员"),
    "role": _("角色"),
    "org": _("指定部门的职务"),
    "field": _("表单中的人员字段"),
    "applicant": _("申请人本人"),
    "union": _("多个规则的合集"),
}
OPERATORS: dict[str, LazyText] = {
    "eq": _("等于"),
    "ne": _("不等于"),
    "gt": _("大于"),
    "ge": _("大于等于"),
    "lt": _("小于"),
    "le": _("小于等于"),
    "in": _("属于（逗号分隔）"),
    "contains": _("包含"),
}
AUDIENCES: dict[str, LazyText] = {"all": _("全体"), "student": _("学生"), "staff": _("教职工")}


# ---------------------------------------------------------------- static files


@router.get("/workflow/designer/assets/{name}", dependencies=[public()])
async def designer_asset(name: str) -> Response:
    """The diagram's and the designers' scripts and styles (public: the hall's pages use them)."""
    path = ASSETS / name
    media_type = ASSET_TYPES.get(path.suffix)
    if "/" in name or media_type is None or not path.is_file():
        raise NotFound(_("没有这个文件"))
    return FileResponse(
        path, media_type=media_type, headers={"cache-control": "public, max-age=3600"}
    )


# ---------------------------------------------------------------- processes


@router.get("/workflow/processes")
async def processes_page(request: Request, session: ReadSessionDep, _p: Designer) -> Response:
    return render(
        request, "workflow/designer/processes.html", processes=await queries.processes(session)
    )


@router.get("/workflow/processes/new")
async def new_process_page(request: Request, session: ReadSessionDep, _p: Designer) -> Response:
    return render(
        request,
        "workflow/designer/process_design.html",
        process=None,
        designer=await _designer_data(session, None),
        modes=_texts(MODES),
    )


@router.get("/workflow/processes/{key}/design")
async def design_process_page(
    request: Request, key: str, session: ReadSessionDep, _p: Designer
) -> Response:
    process = await queries.process_out(session, await queries.process_by_key(session, key))
    return render(
        request,
        "workflow/designer/process_design.html",
        process=process,
        designer=await _designer_data(session, process),
        modes=_texts(MODES),
    )


@router.get("/workflow/processes/{key}/modeler")
async def modeler_page(
    request: Request,
    key: str,
    session: ReadSessionDep,
    _p: Designer,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    process = await queries.process_out(session, await queries.process_by_key(session, key))
    if not process.versions:
        raise NotFound(_("流程版本不存在"))
    numbers = [v.version for v in process.versions]
    if version is not None and version not in numbers:
        raise NotFound(_("流程版本不存在"))
    chosen = version or process.published_version or numbers[0]
    return render(
        request,
        "workflow/designer/modeler.html",
        process=process,
        version=chosen,
        labels=_modeler_labels(),
    )


async def _designer_data(session: AsyncSession, process: ProcessOut | None) -> dict[str, Any]:
    """What the chain designer's script starts from: the process, the chain of its newest
    version designed as a chain, the names of the people and units it names, and the labels."""
    start = next((v for v in process.versions if v.chain is not None), None) if process else None
    chain = start.chain if start else None
    return {
        "process": process.model_dump(mode="json") if process else None,
        "chain": chain,
        "chain_version": start.version if start else None,
        "people": await _people_named(session, chain),
        "org_units": await _org_units(session),
        "labels": _designer_labels(),
    }


def _person_ids(value: Any) -> set[int]:
    """Every person id in the assignee rules anywhere inside a chain."""
    found: set[int] = set()
    if isinstance(value, dict):
        if value.get("kind") == "person":
            found |= {i for i in value.get("ids", []) if isinstance(i, int)}
        for item in value.values():
            found |= _person_ids(item)
    elif isinstance(value, list):
        for item in value:
            found |= _person_ids(item)
    return found


async def _people_named(session: AsyncSession, chain: Any) -> dict[str, str]:
    people = await users.get_people(session, sorted(_person_ids(chain)))
    return {str(person_id): person.name for person_id, person in people.items()}


async def _org_units(session: AsyncSession) -> list[dict[str, Any]]:
    """Every active org unit as {id, name, depth}, each followed by the units below it."""
    ordered: list[dict[str, Any]] = []

    def visit(nodes: list[Any], depth: int) -> None:
        for node in nodes:
            if node.active:
                ordered.append({"id": node.id, "name": node.name, "depth": depth})
                visit(node.children, depth + 1)

    visit(await users.org_tree(session), 0)
    return ordered


def _texts(mapping: dict[str, LazyText]) -> dict[str, str]:
    return {key: str(value) for key, value in mapping.items()}


def _designer_labels() -> dict[str, Any]:
    return {
        "positions": _texts(POSITIONS),
        "modes": _texts(MODE_SHORT),
        "actions": _texts(TIMEOUT_ACTIONS),
        "kinds": _texts(ASSIGNEE_KINDS),
        "operators": _texts(OPERATORS),
        "text": {
            "approve": str(_("审批")),
            "cc": str(_("抄送")),
            "new_approve": str(_("审批人")),
            "new_cc": str(_("抄送人")),
            "condition": str(_("条件 {n}")),
            "otherwise": str(_("其他情况")),
            "applicant": str(_("申请人本人")),
            "applicants": str(_("申请人的{position}")),
            "field": str(_("表单字段“{field}”中的人员")),
            "nobody": str(_("未选择")),
            "saved": str(_("已保存为版本 {n}")),
            "published": str(_("已发布版本 {n}")),
            "imported": str(_("已导入为版本 {n}")),
            "failed": str(_("保存失败，请检查标出的错误")),
            "network": str(_("网络错误，请稍后重试")),
            "no_search": str(_("没有查找人员的权限")),
            "no_match": str(_("没有找到")),
            "loaded": str(_("已载入版本 {n} 的审批链")),
            "unsaved": str(_("有未保存的修改，确定离开吗？")),
            "rule_n": str(_("（规则 {n}）")),
            "field_names": {
                "name": str(_("名称")),
                "assignee": str(_("审批人")),
                "mode": str(_("审批方式")),
                "percent": str(_("通过比例")),
                "timeout_hours": str(_("超时时长")),
                "timeout_action": str(_("超时处理")),
                "escalate_to": str(_("超时转交给")),
                "condition": str(_("条件")),
                "branches": str(_("分支")),
                "nodes": str(_("节点")),
            },
        },
    }


def _modeler_labels() -> dict[str, Any]:
    return {
        "modes": _texts(MODES),
        "actions": _texts(TIMEOUT_ACTIONS),
        "text": {
            "bad_json": str(_("不是合法的 JSON")),
            "saved": str(_("已保存为版本 {n}")),
            "failed": str(_("保存失败")),
            "network": str(_("网络错误，请稍后重试")),
            "load_failed": str(_("流程图加载失败")),
            "unsaved": str(_("有未保存的修改，确定离开吗？")),
        },
    }


# ---------------------------------------------------------------- services


@router.get("/workflow/services")
async def services_page(request: Request, session: ReadSessionDep, _p: ServiceManager) -> Response:
    services = await hall.catalog(session, None, include_unpublished=True)
    return render(
        request,
        "workflow/designer/services.html",
        services=services,
        processes={p.key: p.name for p in await queries.processes(session)},
        forms=await _form_names(session),
        audiences=_texts(AUDIENCES),
    )


@router.get("/workflow/services/new")
async def new_service_page(
    request: Request, session: ReadSessionDep, _p: ServiceManager
) -> Response:
    return await _service_form(request, session, None)


@router.get("/workflow/services/{key}/edit")
async def edit_service_page(
    request: Request, key: str, session: ReadSessionDep, _p: ServiceManager
) -> Response:
    return await _service_form(request, session, await hall.service_by_key(session, key))


async def _service_form(
    request: Request, session: AsyncSession, service: HallServiceOut | None
) -> Response:
    values = service.model_dump(mode="json") if service else _new_service_values()
    return render(
        request,
        "workflow/designer/service_form.html",
        service=service,
        values=values,
        forms=await _form_names(session),
        processes={p.key: p.name for p in await queries.processes(session)},
        org_units=await _org_units(session),
        categories=sorted(
            {s.category for s in await hall.catalog(session, None, include_unpublished=True)}
        ),
        audiences=_texts(AUDIENCES),
    )


def _new_service_values() -> dict[str, Any]:
    return {
        "key": "",
        "name": "",
        "category": "",
        "department_id": None,
        "audience": "all",
        "kind": "form",
        "form_key": "",
        "process_key": "",
        "link": "",
        "summary": "",
        "guide": "",
        "expected_days": 3,
        "icon": "file-text",
        "published": False,
        "sort_order": 100,
    }


async def _form_names(session: AsyncSession) -> dict[str, str]:
    return {f.key: f.name for f in await form_queries.forms(session)}
