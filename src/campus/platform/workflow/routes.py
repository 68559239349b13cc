"""JSON API of the workflow engine: /api/v1/workflow/... Thin: parse, authorise, call one action
or query, answer with schemas."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from campus.kernel.context import Principal
from campus.kernel.deps import ReadSessionDep, RuntimeDep, SessionDep
from campus.kernel.pagination import PageParamsDep
from campus.platform.access.service import require, signed_in
from campus.platform.files import service as files
from campus.platform.workflow import actions, hall, queries, stats
from campus.platform.workflow.models import Instance, ProcessVersion
from campus.platform.workflow.permissions import PROCESS_MANAGE, SERVICE_MANAGE, STATS_READ
from campus.platform.workflow.schemas import (
    AddSigner,
    Applied,
    BatchDecision,
    BatchResult,
    Decision,
    DelegationCreate,
    DelegationOut,
    HallServiceIn,
    HallServiceOut,
    HallServicePatch,
    HallStats,
    InstanceOut,
    InstancePage,
    InstanceStart,
    InstanceStatus,
    ProcessCreate,
    ProcessDesign,
    ProcessOut,
    Resubmit,
    SendBack,
    TaskPage,
    TaskResult,
    TodoCounts,
    Transfer,
)

router = APIRouter(prefix="/api/v1/workflow", tags=["workflow"])
Me = Annotated[Principal, signed_in()]
Designer = Annotated[Principal, require(PROCESS_MANAGE)]


# ---------------------------------------------------------------- processes


@router.get("/processes", response_model=list[ProcessOut], summary="流程列表")
async def list_processes(session: ReadSessionDep, _p: Designer) -> list[ProcessOut]:
    return await queries.processes(session)


@router.post("/processes", response_model=ProcessOut, status_code=201, summary="新建流程")
async def create_process(body: ProcessCreate, session: SessionDep, p: Designer) -> ProcessOut:
    process = await actions.check_create_process(session, body, p.person_id)
    return await queries.process_out(session, process)


@router.get("/processes/{key}", response_model=ProcessOut, summary="流程及其版本")
async def get_process(key: str, session: ReadSessionDep, _p: Designer) -> ProcessOut:
    return await queries.process_out(session, await queries.process_by_key(session, key))


@router.post(
    "/processes/{key}/versions",
    response_model=ProcessOut,
    status_code=201,
    summary="保存流程的新版本（审批链或 BPMN XML）",
)
async def add_version(
    key: str, body: ProcessDesign, session: SessionDep, p: Designer
) -> ProcessOut:
    process = await queries.process_by_key(session, key)
    await actions.check_add_version(session, process, body, p.person_id)
    return await queries.process_out(session, process)


@router.post(
    "/processes/{key}/versions/{number}/publish", response_model=ProcessOut, summary="发布版本"
)
async def publish_version(key: str, number: int, session: SessionDep, _p: Designer) -> ProcessOut:
    version = await queries.process_version(session, key, number)
    await actions.check_publish(session, version.id)
    return await queries.process_out(session, await queries.process_by_key(session, key))


@router.get(
    "/processes/{key}/versions/{number}/bpmn",
    response_class=Response,
    summary="导出 BPMN 2.0 XML",
)
async def export_bpmn(key: str, number: int, session: ReadSessionDep, _p: Designer) -> Response:
    version = await queries.process_version(session, key, number)
    return Response(
        version.bpmn_xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{key}-v{number}.bpmn"'},
    )


# ---------------------------------------------------------------- instances


@router.get("/instances/mine", response_model=InstancePage, summary="我的申请")
async def my_instances(
    session: ReadSessionDep, me: Me, paging: PageParamsDep, status: InstanceStatus | None = None
) -> InstancePage:
    return await queries.my_instances(session, me.person_id, paging, status)


@router.get("/instances/{instance_id}", response_model=InstanceOut, summary="申请详情与时间线")
async def get_instance(instance_id: int, session: ReadSessionDep, me: Me) -> InstanceOut:
    instance = await queries.access_instance(session, me, instance_id)
    return await queries.instance_out(session, instance, me.person_id)


@router.get(
    "/instances/{instance_id}/diagram",
    response_class=Response,
    summary="流程图（BPMN XML），用于标出申请所处的位置",
)
async def instance_diagram(instance_id: int, session: ReadSessionDep, me: Me) -> Response:
    instance = await queries.access_instance(session, me, instance_id)
    version = await session.get(ProcessVersion, instance.process_version_id)
    assert version is not None
    return Response(version.bpmn_xml, media_type="application/xml")


@router.get(
    "/instances/{instance_id}/files/{file_id}",
    response_class=Response,
    summary="下载申请的附件（表单附件和审批意见的附件）",
)
async def instance_file(
    instance_id: int, file_id: str, session: ReadSessionDep, rt: RuntimeDep, me: Me
) -> Response:
    await queries.access_instance(session, me, instance_id)
    opened = await files.open_file(
        rt, session, file_id, bound_to=("workflow", actions.files_key(instance_id))
    )
    return files.download_response(opened)


def _result(instance: Instance) -> TaskResult:
    return TaskResult(
        instance_id=instance.id, status=instance.status, current_steps=instance.current_steps
    )


async def _answer(session: SessionDep, instance_id: int, me: Principal) -> InstanceOut:
    return await queries.instance_out(
        session, await queries.instance_row(session, instance_id), me.person_id
    )


@router.post("/instances/{instance_id}/withdraw", response_model=InstanceOut, summary="撤回")
async def withdraw(instance_id: int, session: SessionDep, me: Me) -> InstanceOut:
    await actions.check_withdraw(session, me, instance_id)
    return await _answer(session, instance_id, me)


@router.post("/instances/{instance_id}/urge", response_model=InstanceOut, summary="催办")
async def urge(instance_id: int, session: SessionDep, me: Me) -> InstanceOut:
    await actions.check_urge(session, me, instance_id)
    return await _answer(session, instance_id, me)


@router.post(
    "/instances/{instance_id}/resubmit", response_model=InstanceOut, summary="退回后重新提交"
)
async def resubmit(instance_id: int, body: Resubmit, session: SessionDep, me: Me) -> InstanceOut:
    data = await hall.clean_for_resubmit(session, me, instance_id, body.data)
    await actions.check_resubmit(session, me, instance_id, data, body.comment)
    return await _answer(session, instance_id, me)


@router.post("/instances/{instance_id}/comments", response_model=InstanceOut, summary="评论")
async def comment(instance_id: int, body: Decision, session: SessionDep, me: Me) -> InstanceOut:
    instance = await queries.access_instance(session, me, instance_id)
    await actions.check_comment(session, instance, me, body)
    return await _answer(session, instance_id, me)


# ---------------------------------------------------------------- tasks


@router.get("/tasks", response_model=TaskPage, summary="待办、已办、抄送我的")
async def task_box(
    session: ReadSessionDep,
    me: Me,
    paging: PageParamsDep,
    box: Annotated[queries.TaskBox, Query()] = "todo",
) -> TaskPage:
    return await queries.task_box(session, me.person_id, box, paging)


@router.get("/tasks/counts", response_model=TodoCounts, summary="待办数量")
async def task_counts(session: ReadSessionDep, me: Me) -> TodoCounts:
    return await queries.counts(session, me.person_id)


@router.post("/tasks/{task_id}/approve", response_model=TaskResult, summary="同意")
async def approve(task_id: int, body: Decision, session: SessionDep, me: Me) -> TaskResult:
    instance = await actions.check_decide(session, me, task_id, True, body)
    return _result(instance)


@router.post("/tasks/{task_id}/reject", response_model=TaskResult, summary="驳回")
async def reject(task_id: int, body: Decision, session: SessionDep, me: Me) -> TaskResult:
    instance = await actions.check_decide(session, me, task_id, False, body)
    return _result(instance)


@router.post(
    "/tasks/{task_id}/send-back", response_model=TaskResult, summary="退回（前面的节点或申请人）"
)
async def send_back(task_id: int, body: SendBack, session: SessionDep, me: Me) -> TaskResult:
    instance = await actions.check_send_back(session, me, task_id, body)
    return _result(instance)


@router.post("/tasks/{task_id}/transfer", response_model=TaskResult, summary="转办")
async def transfer(task_id: int, body: Transfer, session: SessionDep, me: Me) -> TaskResult:
    instance = await actions.check_transfer(session, me, task_id, body)
    return _result(instance)


@router.post("/tasks/{task_id}/add-signers", response_model=TaskResult, summary="加签")
async def add_signers(task_id: int, body: AddSigner, session: SessionDep, me: Me) -> TaskResult:
    instance = await actions.check_add_signers(session, me, task_id, body)
    return _result(instance)


@router.post("/tasks/{task_id}/read", status_code=204, summary="抄送已阅")
async def read_copy(task_id: int, session: SessionDep, me: Me) -> Response:
    await actions.check_read_copy(session, me, task_id)
    return Response(status_code=204)


@router.post("/tasks/batch", response_model=BatchResult, summary="批量同意或驳回")
async def batch(body: BatchDecision, session: SessionDep, me: Me) -> BatchResult:
    return await actions.check_batch(session, me, body)


# ---------------------------------------------------------------- the service hall


@router.get("/services", response_model=list[HallServiceOut], summary="办事大厅的服务目录")
async def list_services(
    session: ReadSessionDep,
    me: Me,
    q: Annotated[str | None, Query(max_length=60)] = None,
    category: Annotated[str | None, Query(max_length=40)] = None,
) -> list[HallServiceOut]:
    return await hall.catalog(session, me.person_id, q=q, category=category)


@router.get("/services/{key}", response_model=HallServiceOut, summary="服务与办事指南")
async def get_service(key: str, session: ReadSessionDep, me: Me) -> HallServiceOut:
    return await hall.service_by_key(session, key, me.person_id)


@router.post(
    "/services/{key}/apply", response_model=Applied, status_code=201, summary="申请：填写表单并提交"
)
async def apply(key: str, body: InstanceStart, session: SessionDep, me: Me) -> Applied:
    instance = await hall.check_apply(session, me, key, body.data)
    return Applied(instance_id=instance.id, status=instance.status)


@router.put("/services/{key}/favourite", status_code=204, summary="收藏服务")
async def favourite(key: str, session: SessionDep, me: Me) -> Response:
    await hall.check_favourite(session, me.person_id, key, True)
    return Response(status_code=204)


@router.delete("/services/{key}/favourite", status_code=204, summary="取消收藏")
async def unfavourite(key: str, session: SessionDep, me: Me) -> Response:
    await hall.check_favourite(session, me.person_id, key, False)
    return Response(status_code=204)


@router.post(
    "/services",
    response_model=HallServiceOut,
    status_code=201,
    dependencies=[require(SERVICE_MANAGE)],
    summary="新建服务",
)
async def create_service(body: HallServiceIn, session: SessionDep) -> HallServiceOut:
    service = await hall.check_create_service(session, body)
    return await hall.service_by_key(session, service.key)


@router.patch(
    "/services/{key}",
    response_model=HallServiceOut,
    dependencies=[require(SERVICE_MANAGE)],
    summary="修改服务（含上架、下架）",
)
async def update_service(key: str, body: HallServicePatch, session: SessionDep) -> HallServiceOut:
    await hall.check_update_service(session, key, body)
    return await hall.service_by_key(session, key)


@router.get(
    "/stats", response_model=HallStats, dependencies=[require(STATS_READ)], summary="办事统计"
)
async def hall_stats(
    session: ReadSessionDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> HallStats:
    return await stats.hall_stats(session, days)


# ---------------------------------------------------------------- delegation


@router.get("/delegations", response_model=list[DelegationOut], summary="我的委托")
async def my_delegations(session: ReadSessionDep, me: Me) -> list[DelegationOut]:
    return await queries.delegations(session, me.person_id)


@router.post(
    "/delegations", response_model=list[DelegationOut], status_code=201, summary="外出委托"
)
async def delegate(body: DelegationCreate, session: SessionDep, me: Me) -> list[DelegationOut]:
    await actions.check_delegate(session, me, body)
    return await queries.delegations(session, me.person_id)


@router.delete("/delegations/{delegation_id}", status_code=204, summary="取消委托")
async def end_delegation(delegation_id: int, session: SessionDep, me: Me) -> Response:
    await actions.check_end_delegation(session, me, delegation_id)
    return Response(status_code=204)
