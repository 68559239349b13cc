"""Writes of the workflow engine: processes, instances and the actions people take on tasks.

Each action claims what it acts on first (a conditional UPDATE of the task row, then the
instance row locked), so two people acting at once are serialised and exactly one of two
decisions on one task wins. The engine's state, the tasks, the timeline, the audit entry and the
events of one action commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from campus.kernel import audit, clock
from campus.kernel.context import Principal
from campus.kernel.db import on_connection
from campus.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from campus.kernel.events import emit
from campus.kernel.i18n import _
from campus.platform.files import service as files
from campus.platform.users import service as users
from campus.platform.workflow import assignment, events, steps, writes
from campus.platform.workflow.engine.chain import chain_to_bpmn
from campus.platform.workflow.engine.definitions import check_bpmn
from campus.platform.workflow.engine.layout import with_diagram
from campus.platform.workflow.engine.runner import Definition, ReadyStep, Run
from campus.platform.workflow.models import (
    Delegation,
    Instance,
    Process,
    ProcessVersion,
    Task,
)
from campus.platform.workflow.schemas import (
    AddSigner,
    BatchDecision,
    BatchResult,
    Chain,
    Decision,
    DelegationCreate,
    ProcessCreate,
    ProcessDesign,
    SendBack,
    TodoPush,
    Transfer,
)

URGE_INTERVAL = timedelta(hours=1)
OPEN = steps.OPEN

# The statements of every engine step, built once (building one costs about 0.1 ms).
_PUBLISHED_SPEC = (
    select(ProcessVersion.id, cast(ProcessVersion.spec, Text))
    .join(Process, Process.id == ProcessVersion.process_id)
    .where(Process.key == bindparam("key"), ProcessVersion.published.is_(True))
    .order_by(ProcessVersion.version.desc())
    .limit(1)
)
_SPEC_OF_VERSION = select(cast(ProcessVersion.spec, Text)).where(
    ProcessVersion.id == bindparam("version_id")
)
_OPEN_SPIFF_TASKS = select(Task.spiff_task_id).where(
    Task.instance_id == bindparam("instance_id"), Task.status.in_(OPEN)
)
_CLOSE_OPEN = (
    update(Task)
    .where(Task.instance_id == bindparam("b_instance"), Task.status.in_(OPEN))
    .values(status="cancelled")
    .execution_options(synchronize_session=False)
)
_CLOSE_OPEN_OF_STEP = _CLOSE_OPEN.where(Task.activation == bindparam("b_activation"))
_ANSWERS = (
    select(Task.instance_id, Task.activation, Task.status, func.count())
    .where(Task.instance_id.in_(bindparam("instance_ids", expanding=True)))
    .group_by(Task.instance_id, Task.activation, Task.status)
)
_OWNER_OF_TASK = select(Task.instance_id).where(Task.id == bindparam("b_task")).scalar_subquery()
_LOCK_OF_TASK = (
    update(Instance)
    .where(Instance.id == _OWNER_OF_TASK)
    .values(activations=Instance.activations)
    .execution_options(synchronize_session=False)
)
_INSTANCE_OF_TASK = (
    select(Instance).where(Instance.id == _OWNER_OF_TASK).execution_options(populate_existing=True)
)


# ---------------------------------------------------------------- processes


async def check_create_process(
    session: AsyncSession, body: ProcessCreate, actor_id: int | None
) -> Process:
    if await session.scalar(select(Process.id).where(Process.key == body.key)) is not None:
        raise Conflict.on("key", _("流程标识 {key} 已存在", key=body.key))
    process = Process(key=body.key, name=body.name, description=body.description)
    session.add(process)
    await session.flush()
    design = ProcessDesign(chain=body.chain, bpmn=body.bpmn, publish=True)
    await check_add_version(session, process, design, actor_id)
    audit.record(
        session, "workflow.process.create", "wf_process", process.id, after={"key": body.key}
    )
    return process


async def check_add_version(
    session: AsyncSession, process: Process, design: ProcessDesign, actor_id: int | None
) -> ProcessVersion:
    """A new version from a chain or BPMN XML, published at once unless asked otherwise."""
    if design.chain is not None:
        xml = _compile_chain(process, design.chain)
        chain: dict[str, Any] | None = design.chain.model_dump(mode="json")
    else:
        assert design.bpmn is not None
        xml, chain = design.bpmn, None
    definition = check_bpmn(xml)
    xml = with_diagram(xml)  # a viewer needs shapes: lay out what came without them
    number = (
        await session.scalar(
            select(func.max(ProcessVersion.version)).where(ProcessVersion.process_id == process.id)
        )
        or 0
    ) + 1
    now = clock.now()
    version = ProcessVersion(
        process_id=process.id,
        version=number,
        bpmn_xml=xml,
        chain=chain,
        spec=definition.spec,
        steps=[s.model_dump() for s in definition.steps],
        published=design.publish,
        published_at=now if design.publish else None,
        created_by=actor_id,
        created_at=now,
    )
    session.add(version)
    await session.flush()
    audit.record(
        session, "workflow.process.version", "wf_process", process.id, after={"version": number}
    )
    return version


def _compile_chain(process: Process, chain: Chain) -> str:
    try:
        return chain_to_bpmn(process.key, process.name, chain)
    except ValueError as exc:
        raise InvalidInput.on(
            "chain", _("审批链不完整：每组条件分支需要且只需要一个默认分支")
        ) from exc


async def check_publish(session: AsyncSession, version_id: int) -> ProcessVersion:
    version = await session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_("流程版本不存在"))
    if not version.published:
        version.published, version.published_at = True, clock.now()
        audit.record(session, "workflow.process.publish", "wf_process_version", version.id)
    return version


async def ensure_process(
    session: AsyncSession, key: str, name: str, chain: Chain, description: str = ""
) -> int:
    """The published version id of process ``key``, creating it from ``chain`` if it is missing
    (modules and the demo seed declare the processes they need this way)."""
    process = await session.scalar(select(Process).where(Process.key == key))
    if process is None:
        body = ProcessCreate(key=key, name=name, description=description, chain=chain)
        process = await check_create_process(session, body, None)
    version = await published_version(session, key)
    return version.id


async def published_version(session: AsyncSession, key: str) -> ProcessVersion:
    version = await session.scalar(
        select(ProcessVersion)
        .join(Process, Process.id == ProcessVersion.process_id)
        .where(Process.key == key, ProcessVersion.published.is_(True))
        .order_by(ProcessVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(_("流程 {key} 不存在或尚未发布", key=key))
    return version


# ---------------------------------------------------------------- starting


@dataclass(frozen=True)
class StartRequest:
    process_key: str
    applicant_id: int
    title: str
    data: dict[str, Any]
    source: str = "workflow"
    business_key: str | None = None
    form_version_id: int | None = None
    service_id: int | None = None


async def do_start(session: AsyncSession, request: StartRequest) -> Instance:
    version_id, spec = await _published_spec(session, request.process_key)
    run = Run.new(spec, request.data)
    values: dict[str, Any] = {
        "process_version_id": version_id,
        "process_key": request.process_key,
        "form_version_id": request.form_version_id,
        "service_id": request.service_id,
        "applicant_id": request.applicant_id,
        "title": request.title,
        "status": "running",
        "data": request.data,
        "state": {},
        "current_steps": [],
        "source": request.source,
        "business_key": request.business_key,
        "started_at": clock.now(),
        "ended_at": None,
        "urged_at": None,
        "activations": 0,
        "lock_version": 1,
    }
    # Inserted in SQL and attached to the session as if loaded: no unit of work to run.
    instance = Instance(id=await writes.insert_instance(session, values), **values)
    make_transient_to_detached(instance)
    session.add(instance)
    _timeline(session, instance, request.applicant_id, "submit")
    writes.event(session, events.INSTANCE_STARTED, _instance_event(instance))
    await _advance(session, instance, run, open_ids=set())
    writes.audit(
        session,
        "workflow.instance.start",
        "wf_instance",
        instance.id,
        after={"process": request.process_key, "title": request.title},
    )
    await _save(session)
    return instance


async def _published_spec(session: AsyncSession, key: str) -> tuple[int, str]:
    """The id and stored definition (as JSON text: the runner caches it by content) of process
    ``key``'s published version."""
    row: Any = (await on_connection(session, _PUBLISHED_SPEC, {"key": key})).first()
    if row is None:
        raise NotFound(_("流程 {key} 不存在或尚未发布", key=key))
    return int(row[0]), str(row[1])


# ---------------------------------------------------------------- moving the engine on


async def _advance(
    session: AsyncSession, instance: Instance, run: Run, open_ids: set[str] | None = None
) -> None:
    """Creates tasks for every step the engine now waits on, passes copy-to steps at once, and
    finishes the instance when the engine reaches its end. ``open_ids``: the engine tasks that
    already have open tasks, when the caller knows them (none, for a new instance)."""
    if open_ids is None:
        open_ids = set(await session.scalars(_OPEN_SPIFF_TASKS, {"instance_id": instance.id}))
    activation = instance.activations
    progressed = True
    while progressed:
        progressed = False
        for step in run.ready_steps():
            if step.spiff_task_id in open_ids:
                continue
            if step.settings.kind == "cc":
                await _copy_to(session, instance, step)
                run.complete(step.spiff_task_id, {})
                progressed = True
                break
            activation += 1
            await _assign(session, instance, step, activation)
            open_ids.add(step.spiff_task_id)
    _store(
        session,
        instance,
        run,
        activations=activation,
        current_steps=[s.name for s in run.ready_steps()],
    )
    if run.finished:
        await _finish(session, instance, "approved", None)


def _store(session: AsyncSession, instance: Instance, run: Run, **values: Any) -> None:
    """The run's state (and ``values``) as the instance's new row; the run kept for the next
    action on the instance."""
    state = run.dump()
    writes.set_instance(session, instance, state=state, **values)
    run.keep(instance.id, state)


async def _people_for(session: AsyncSession, instance: Instance, step: ReadyStep) -> list[int]:
    people = await assignment.resolve(
        session, step.settings.assignee, instance.applicant_id, instance.data
    )
    if not people:
        people = await assignment.fallback(session, instance.applicant_id)
    if not people:
        raise Conflict(_("“{step}”找不到审批人，请联系流程管理员", step=step.name))
    return people


async def _assign(
    session: AsyncSession, instance: Instance, step: ReadyStep, activation: int
) -> None:
    people = await _people_for(session, instance, step)
    now = clock.now()
    due = (
        now + timedelta(hours=step.settings.timeout_hours) if step.settings.timeout_hours else None
    )
    away = await assignment.delegates(session, people, instance.process_key, now)
    sequential = step.settings.mode == "sequential"
    rows = [
        _task_row(
            instance,
            "approve",
            step,
            away.get(pid, pid),
            "waiting" if sequential and i else "pending",
            now,
            activation=activation,
            spiff_task_id=step.spiff_task_id,
            delegated_from=pid if pid in away else None,
            mode=step.settings.mode,
            percent=step.settings.percent,
            seq=i,
            due_at=due,
        )
        for i, pid in enumerate(people)
    ]
    tasks = _refs(rows, await writes.insert_tasks(session, rows))
    await _emit_tasks(session, instance, step.step_id, step.name, tasks, None)


@dataclass(frozen=True)
class TaskRef:
    """A task just inserted, as its events describe it."""

    id: int
    assignee_id: int
    step_id: str
    step_name: str
    title: str


def _task_row(
    instance: Instance,
    kind: str,
    step: ReadyStep,
    assignee_id: int,
    status: str,
    now: datetime,
    **values: Any,
) -> dict[str, Any]:
    """A task row with every column named (a multi-row INSERT needs the same in each)."""
    row: dict[str, Any] = {
        "kind": kind,
        "instance_id": instance.id,
        "activation": 0,
        "spiff_task_id": None,
        "step_id": step.step_id,
        "step_name": step.name,
        "assignee_id": assignee_id,
        "delegated_from": None,
        "added_by": None,
        "status": status,
        "mode": "any",
        "percent": 50,
        "seq": 0,
        "title": instance.title,
        "source": instance.source,
        "business_key": instance.business_key,
        "link": None,
        "comment": None,
        "created_at": now,
        "due_at": None,
        "overdue_handled": False,
        "acted_at": None,
    }
    row.update(values)
    return row


def _refs(rows: list[dict[str, Any]], ids: list[int]) -> list[TaskRef]:
    return [
        TaskRef(task_id, row["assignee_id"], row["step_id"], row["step_name"], row["title"])
        for task_id, row in zip(ids, rows, strict=True)
    ]


async def _copy_to(session: AsyncSession, instance: Instance, step: ReadyStep) -> None:
    people = await assignment.resolve(
        session, step.settings.assignee, instance.applicant_id, instance.data
    )
    now = clock.now()
    rows = [_task_row(instance, "cc", step, pid, "unread", now) for pid in people]
    tasks = _refs(rows, await writes.insert_tasks(session, rows))
    _timeline(
        session,
        instance,
        None,
        "cc",
        step_id=step.step_id,
        step_name=step.name,
        detail={"people": people},
    )
    await _emit_tasks(session, instance, step.step_id, step.name, tasks, "cc")


async def _finish(
    session: AsyncSession, instance: Instance, status: str, actor_id: int | None
) -> None:
    writes.set_instance(session, instance, status=status, ended_at=clock.now(), current_steps=[])
    await _close_open_tasks(session, instance.id)
    if status != "approved":
        _timeline(session, instance, actor_id, status)
    else:
        _timeline(session, instance, None, "approved")
    name = {
        "approved": events.INSTANCE_APPROVED,
        "rejected": events.INSTANCE_REJECTED,
        "withdrawn": events.INSTANCE_WITHDRAWN,
    }[status]
    writes.event(session, name, _instance_event(instance))


async def _close_open_tasks(
    session: AsyncSession, instance_id: int, activation: int | None = None
) -> None:
    if activation is None:
        await session.execute(_CLOSE_OPEN, {"b_instance": instance_id})
    else:
        params = {"b_instance": instance_id, "b_activation": activation}
        await session.execute(_CLOSE_OPEN_OF_STEP, params)


# ---------------------------------------------------------------- claiming


@dataclass
class Claimed:
    """A task taken for a decision, with its (locked) instance; the engine is loaded only when
    the answer moves it."""

    task: Task
    instance: Instance
    loaded: Run | None = None

    async def run(self, session: AsyncSession) -> Run:
        if self.loaded is None:
            self.loaded = await load_run(session, self.instance)
        return self.loaded


async def load_run(session: AsyncSession, instance: Instance) -> Run:
    """The instance's engine: the one its last save kept in this process when that is still
    what is stored, else restored with its definition (read without the rest of the row)."""
    kept = Run.kept(instance.id, instance.state, instance.data)
    if kept is not None:
        return kept
    found = await on_connection(
        session, _SPEC_OF_VERSION, {"version_id": instance.process_version_id}
    )
    spec: Definition | None = found.scalar()
    assert spec is not None
    return Run.load(spec, instance.state, instance.data)


async def _claim(
    session: AsyncSession, principal: Principal, task_id: int, new_status: str, body: Decision
) -> Claimed:
    """Takes an open task of the principal's for a decision. The instance is locked first, so
    everyone acting on one instance queues in the same order (no deadlock) and exactly one of
    two people acting on the same task at once gets it."""
    instance = await _lock_instance_of_task(session, task_id)
    task = await session.scalar(
        update(Task)
        .where(
            Task.id == task_id,
            Task.status == "pending",
            Task.kind == "approve",
            Task.assignee_id == principal.person_id,
        )
        .values(status=new_status, comment=body.comment, acted_at=clock.now())
        .returning(Task)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    if task is None or instance is None:
        await _why_not_claimed(session, principal, task_id)
    assert task is not None and instance is not None
    return Claimed(task, instance)


async def _why_not_claimed(session: AsyncSession, principal: Principal, task_id: int) -> None:
    task = await session.get(Task, task_id)
    if task is None or task.kind == "external":
        raise NotFound(_("待办不存在"))
    if task.assignee_id != principal.person_id:
        raise Forbidden(_("这不是你的待办，不能处理"))
    if task.kind == "cc":
        raise Conflict(_("抄送只需阅读，不能审批"))
    if task.status == "waiting":
        raise Conflict(_("还没有轮到你审批"))
    raise Conflict(_("该待办已处理或已失效，请刷新"))


async def _lock_instance(session: AsyncSession, instance_id: int) -> Instance:
    instance = await _lock_where(session, Instance.id == instance_id)
    if instance is None:
        raise NotFound(_("申请不存在"))
    return instance


async def _lock_instance_of_task(session: AsyncSession, task_id: int) -> Instance | None:
    """Locks the instance a task belongs to; ``None`` (nothing locked) for an unknown task."""
    await session.execute(_LOCK_OF_TASK, {"b_task": task_id})
    return await session.scalar(_INSTANCE_OF_TASK, {"b_task": task_id})


async def _lock_where(session: AsyncSession, where: Any) -> Instance | None:
    locked = await _lock_all(session, where)
    return locked[0] if locked else None


async def _lock_all(session: AsyncSession, where: Any) -> list[Instance]:
    # A no-op write is the first statement: it takes the row locks on PostgreSQL and the write
    # lock on SQLite before anything is read, so what follows reads the latest state.
    await session.execute(
        update(Instance)
        .where(where)
        .values(activations=Instance.activations)
        .execution_options(synchronize_session=False)
    )
    return list(
        await session.scalars(
            select(Instance).where(where).execution_options(populate_existing=True)
        )
    )


async def _save(session: AsyncSession) -> None:
    """Writes what the action gathered (``writes``) and what the session holds."""
    await writes.flush(session)
    try:
        await session.flush()
    except StaleDataError as exc:
        raise Conflict(_("该申请刚被他人处理，请刷新后重试")) from exc


# ---------------------------------------------------------------- decisions


async def check_decide(
    session: AsyncSession, principal: Principal, task_id: int, approve: bool, body: Decision
) -> Instance:
    if not approve and not (body.comment or "").strip():
        # A rejection ends the application: the applicant is owed the reason.
        raise InvalidInput.on("comment", _("驳回时请填写意见，告诉申请人原因"))
    c = await _claim(session, principal, task_id, "approved" if approve else "rejected", body)
    if c.instance.status != "running":
        raise Conflict(_(ENDED))
    await attach(session, principal.person_id, c.instance, body.attachments, "attachments")
    await _record_decisions(session, principal, c.instance, [c.task], approve, body)
    await _settle_step(session, c, principal.person_id)
    await _save(session)
    return c.instance


ENDED = "该申请已结束或已退回，不能再审批"


async def _record_decisions(
    session: AsyncSession,
    principal: Principal,
    instance: Instance,
    tasks: list[Task],
    approve: bool,
    body: Decision,
) -> None:
    """The timeline entry, the event and the audit entry of each decision taken."""
    action = "approve" if approve else "reject"
    for task in tasks:
        _timeline(session, instance, principal.person_id, action, task=task, body=body)
        await _emit_tasks(session, instance, task.step_id, task.step_name, [task], action)
        writes.audit(
            session,
            f"workflow.task.{action}",
            "wf_task",
            task.id,
            after={"instance": instance.id, "comment": body.comment},
        )


Step = tuple[int, int]  # (instance, activation): the tasks of one step of one instance


async def _answers(session: AsyncSession, wanted: set[Step]) -> dict[Step, dict[str, int]]:
    """How many of each step's tasks stand at each status, for several steps in one query."""
    counts: dict[Step, dict[str, int]] = {step: {} for step in wanted}
    rows = await session.execute(_ANSWERS, {"instance_ids": sorted({step[0] for step in wanted})})
    for instance_id, activation, status, n in rows:
        if (step := (instance_id or 0, activation)) in counts:
            counts[step][status] = n
    return counts


def _decides(task: Task, counts: dict[str, int]) -> bool:
    """Whether the answers move the step on (pass, fail, or hand it to the next in line)."""
    if _outcome(task, counts) is not None:
        return True
    return task.mode == "sequential" and bool(counts.get("waiting")) and not counts.get("pending")


def _outcome(task: Task, counts: dict[str, int]) -> steps.Outcome:
    counted = [
        status
        for status, n in counts.items()
        if status not in ("transferred", "cancelled")
        for _ in range(n)
    ]
    return steps.outcome(task.mode, task.percent, counted)  # type: ignore[arg-type]


async def _settle_step(
    session: AsyncSession, c: Claimed, actor_id: int | None, counts: dict[str, int] | None = None
) -> None:
    """Passes or fails the step when its answers (counted here unless given) decide it."""
    step = (Task.instance_id == c.instance.id, Task.activation == c.task.activation)
    if counts is None:
        counts = (await _answers(session, {(c.instance.id, c.task.activation)}))[
            c.instance.id, c.task.activation
        ]
    result = _outcome(c.task, counts)
    if result == "reject":
        run = await c.run(session)
        run.cancel()
        _store(session, c.instance, run)
        await _finish(session, c.instance, "rejected", actor_id)
    elif result == "pass":
        if any(counts.get(status) for status in OPEN):
            await _close_open_tasks(session, c.instance.id, c.task.activation)
        run = await c.run(session)
        run.complete(c.task.spiff_task_id or "", {c.task.step_id: "approved"})
        await _advance(session, c.instance, run)
    elif _decides(c.task, counts):  # a sequential step: the next signer's turn
        await _next_in_line(session, c, step)


async def _next_in_line(session: AsyncSession, c: Claimed, step: tuple[Any, Any]) -> None:
    following = await session.scalar(
        select(Task).where(*step, Task.status == "waiting").order_by(Task.seq, Task.id).limit(1)
    )
    if following is not None:
        following.status = "pending"
        following.created_at = clock.now()
        await _emit_tasks(session, c.instance, c.task.step_id, c.task.step_name, [following], None)


async def check_send_back(
    session: AsyncSession, principal: Principal, task_id: int, body: SendBack
) -> Instance:
    c = await _claim(session, principal, task_id, "returned", body)
    if c.instance.status != "running":
        raise Conflict(_("该申请已结束或已退回"))
    await attach(session, principal.person_id, c.instance, body.attachments, "attachments")
    run = await c.run(session)
    if body.to_step is not None:
        if body.to_step not in run.completed_step_ids() or body.to_step == c.task.step_id:
            raise InvalidInput.on("to_step", _("只能退回到已经审批过的前面的节点"))
        await _close_open_tasks(session, c.instance.id)
        run.reset_to(body.to_step)
        await _advance(session, c.instance, run)
    else:
        await _close_open_tasks(session, c.instance.id)
        writes.set_instance(session, c.instance, status="returned", current_steps=[])
    _timeline(
        session,
        c.instance,
        principal.person_id,
        "send_back",
        task=c.task,
        body=body,
        detail={"to_step": body.to_step},
    )
    writes.event(
        session, events.INSTANCE_RETURNED, _instance_event(c.instance, step_id=body.to_step)
    )
    await _save(session)
    audit.record(
        session,
        "workflow.task.send_back",
        "wf_task",
        task_id,
        after={"to_step": body.to_step, "comment": body.comment},
    )
    return c.instance


async def check_transfer(
    session: AsyncSession, principal: Principal, task_id: int, body: Transfer
) -> Instance:
    c = await _claim(session, principal, task_id, "transferred", body)
    target = await _active_person(session, body.to_person_id, "to_person_id")
    if target == principal.person_id:
        raise InvalidInput.on("to_person_id", _("不能转办给自己"))
    await _refuse_if_in_step(session, c.task, [target], "to_person_id")
    await attach(session, principal.person_id, c.instance, body.attachments, "attachments")
    new = _task_like(c.task, target, status="pending", seq=c.task.seq)
    session.add(new)
    await session.flush()
    _timeline(
        session,
        c.instance,
        principal.person_id,
        "transfer",
        task=c.task,
        body=body,
        detail={"to": target},
    )
    writes.event(
        session, events.TASK_TRANSFERRED, _task_event(c.instance, c.task, [new], "transfer")
    )
    await _save(session)
    audit.record(session, "workflow.task.transfer", "wf_task", task_id, after={"to": target})
    return c.instance


async def check_add_signers(
    session: AsyncSession, principal: Principal, task_id: int, body: AddSigner
) -> Instance:
    """加签: more people decide on this step with me; after me when the step is sequential."""
    instance = await _lock_instance_of_task(session, task_id)
    task = await session.get(Task, task_id, populate_existing=True)
    if (
        instance is None
        or task is None
        or task.assignee_id != principal.person_id
        or task.status != "pending"
    ):
        await _why_not_claimed(session, principal, task_id)
    assert task is not None and instance is not None
    people = [
        await _active_person(session, pid, "person_ids") for pid in dict.fromkeys(body.person_ids)
    ]
    await _refuse_if_in_step(session, task, people, "person_ids")
    await attach(session, principal.person_id, instance, body.attachments, "attachments")
    sequential = task.mode == "sequential"
    if sequential:
        await session.execute(
            update(Task)
            .where(
                Task.instance_id == instance.id,
                Task.activation == task.activation,
                Task.seq > task.seq,
            )
            .values(seq=Task.seq + len(people))
            .execution_options(synchronize_session=False)
        )
    added = [
        _task_like(
            task,
            pid,
            status="waiting" if sequential else "pending",
            seq=task.seq + 1 + i,
            added_by=principal.person_id,
        )
        for i, pid in enumerate(people)
    ]
    session.add_all(added)
    await session.flush()
    _timeline(
        session,
        instance,
        principal.person_id,
        "add_signer",
        task=task,
        body=body,
        detail={"people": people},
    )
    await _emit_tasks(session, instance, task.step_id, task.step_name, added, "add_signer")
    await _save(session)
    audit.record(session, "workflow.task.add_signer", "wf_task", task_id, after={"people": people})
    return instance


def _task_like(
    task: Task, assignee_id: int, *, status: str, seq: int, added_by: int | None = None
) -> Task:
    return Task(
        kind="approve",
        instance_id=task.instance_id,
        activation=task.activation,
        spiff_task_id=task.spiff_task_id,
        step_id=task.step_id,
        step_name=task.step_name,
        assignee_id=assignee_id,
        added_by=added_by,
        status=status,
        mode=task.mode,
        percent=task.percent,
        seq=seq,
        title=task.title,
        source=task.source,
        business_key=task.business_key,
        created_at=clock.now(),
        due_at=task.due_at,
    )


async def _refuse_if_in_step(
    session: AsyncSession, task: Task, people: list[int], field: str
) -> None:
    already = set(
        await session.scalars(
            select(Task.assignee_id).where(
                Task.instance_id == task.instance_id,
                Task.activation == task.activation,
                Task.status.in_(("pending", "waiting", "approved")),
                Task.assignee_id.in_(people),
            )
        )
    )
    if already:
        raise InvalidInput.on(field, _("所选人员已经是本节点的审批人"))


async def _active_person(session: AsyncSession, person_id: int, field: str) -> int:
    person = await users.get_person_ref(session, person_id)
    if person is None or person.status != "active":
        raise InvalidInput.on(field, _("人员不存在或已离校"))
    return person.id


# ---------------------------------------------------------------- the applicant's actions


async def _own_instance(session: AsyncSession, principal: Principal, instance_id: int) -> Instance:
    instance = await _lock_instance(session, instance_id)
    if instance.applicant_id != principal.person_id:
        raise NotFound(_("申请不存在"))
    return instance


async def check_withdraw(session: AsyncSession, principal: Principal, instance_id: int) -> Instance:
    instance = await _own_instance(session, principal, instance_id)
    if instance.status not in ("running", "returned"):
        raise Conflict(_("申请已经结束，不能撤回"))
    run = await load_run(session, instance)
    run.cancel()
    _store(session, instance, run)
    await _finish(session, instance, "withdrawn", principal.person_id)
    await _save(session)
    audit.record(session, "workflow.instance.withdraw", "wf_instance", instance.id)
    return instance


async def check_urge(session: AsyncSession, principal: Principal, instance_id: int) -> Instance:
    instance = await _own_instance(session, principal, instance_id)
    if instance.status != "running":
        raise Conflict(_("只有审批中的申请可以催办"))
    now = clock.now()
    if instance.urged_at is not None and now - instance.urged_at < URGE_INTERVAL:
        raise Conflict(_("一小时内只能催办一次"))
    writes.set_instance(session, instance, urged_at=now)
    pending = list(
        await session.scalars(
            select(Task).where(Task.instance_id == instance.id, Task.status == "pending")
        )
    )
    _timeline(
        session,
        instance,
        principal.person_id,
        "urge",
        detail={"people": [t.assignee_id for t in pending]},
    )
    writes.event(session, events.INSTANCE_URGED, _instance_event(instance))
    await _save(session)
    return instance


async def check_resubmit(
    session: AsyncSession,
    principal: Principal,
    instance_id: int,
    data: dict[str, Any] | None,
    comment: str | None,
) -> Instance:
    instance = await _own_instance(session, principal, instance_id)
    if instance.status != "returned":
        raise Conflict(_("只有被退回的申请可以重新提交"))
    if data is not None:
        writes.set_instance(session, instance, data=data)
    run = await load_run(session, instance)
    run.restart(instance.data)
    writes.set_instance(session, instance, status="running")
    _timeline(session, instance, principal.person_id, "resubmit", body=Decision(comment=comment))
    writes.event(session, events.INSTANCE_RESUBMITTED, _instance_event(instance))
    await _advance(session, instance, run)
    await _save(session)
    audit.record(session, "workflow.instance.resubmit", "wf_instance", instance.id)
    return instance


async def check_comment(
    session: AsyncSession, instance: Instance, principal: Principal, body: Decision
) -> None:
    if not body.comment and not body.attachments:
        raise InvalidInput.on("comment", _("评论不能为空"))
    await attach(session, principal.person_id, instance, body.attachments, "attachments")
    _timeline(session, instance, principal.person_id, "comment", body=body)
    await _save(session)
    audit.record(session, "workflow.instance.comment", "wf_instance", instance.id)


async def check_read_copy(session: AsyncSession, principal: Principal, task_id: int) -> None:
    await session.execute(
        update(Task)
        .where(
            Task.id == task_id,
            Task.kind == "cc",
            Task.assignee_id == principal.person_id,
            Task.status == "unread",
        )
        .values(status="read", acted_at=clock.now())
        .execution_options(synchronize_session=False)
    )


# ---------------------------------------------------------------- delegation


async def check_delegate(
    session: AsyncSession, principal: Principal, body: DelegationCreate
) -> Delegation:
    if body.ends_at <= body.starts_at:
        raise InvalidInput.on("ends_at", _("结束时间必须晚于开始时间"))
    if body.delegate_id == principal.person_id:
        raise InvalidInput.on("delegate_id", _("不能委托给自己"))
    await _active_person(session, body.delegate_id, "delegate_id")
    delegation = Delegation(
        person_id=principal.person_id,
        delegate_id=body.delegate_id,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        process_key=body.process_key,
        created_at=clock.now(),
    )
    session.add(delegation)
    await session.flush()
    audit.record(
        session,
        "workflow.delegation.create",
        "wf_delegation",
        delegation.id,
        after={"delegate": body.delegate_id},
    )
    return delegation


async def check_end_delegation(
    session: AsyncSession, principal: Principal, delegation_id: int
) -> None:
    delegation = await session.get(Delegation, delegation_id)
    if delegation is None or delegation.person_id != principal.person_id:
        raise NotFound(_("委托不存在"))
    await session.delete(delegation)
    audit.record(session, "workflow.delegation.delete", "wf_delegation", delegation_id)


async def check_batch(
    session: AsyncSession, principal: Principal, body: BatchDecision
) -> BatchResult:
    """批量审批: the tasks are claimed in one statement and their records written together; a
    step the answers decide is moved on in a savepoint of its own, so that one which cannot
    move (no approver for the next step) is handed back and listed with its reason while the
    others stand."""
    approve = body.action == "approve"
    if not approve and not (body.comment or "").strip():
        raise InvalidInput.on("comment", _("驳回时请填写意见，告诉申请人原因"))
    if body.attachments:
        raise InvalidInput.on("attachments", _("批量处理不能附加附件，请逐项处理"))
    ids = list(dict.fromkeys(body.task_ids))
    owners = select(Task.instance_id).where(Task.id.in_(ids)).scalar_subquery()
    instances = {i.id: i for i in await _lock_all(session, Instance.id.in_(owners))}
    claimed = await _claim_all(session, principal, ids, "approved" if approve else "rejected", body)
    failed = await _why_not_claimed_all(session, principal, set(ids) - {t.id for t in claimed})
    by_step: dict[Step, list[Task]] = {}
    for task in claimed:
        by_step.setdefault((task.instance_id or 0, task.activation), []).append(task)
    answers = await _answers(session, set(by_step))
    deciding: list[tuple[Claimed, list[Task], dict[str, int]]] = []
    for step, tasks in by_step.items():
        c = Claimed(tasks[-1], instances[step[0]])
        if c.instance.status != "running":
            await _hand_back(session, tasks)
            failed.update({t.id: str(_(ENDED)) for t in tasks})
        elif _decides(c.task, answers[step]):
            deciding.append((c, tasks, answers[step]))
        else:
            await _record_decisions(session, principal, c.instance, tasks, approve, body)
    # The answers that decide nothing are written first, together; then each step they
    # decide moves on in a savepoint of its own.
    await _save(session)
    for c, tasks, counts in deciding:
        reason = await _decide_step(session, principal, c, tasks, approve, body, counts)
        if reason is not None:
            await _hand_back(session, tasks)
            failed.update({t.id: reason for t in tasks})
    return BatchResult(done=[i for i in ids if i not in failed], failed=failed)


async def _decide_step(
    session: AsyncSession,
    principal: Principal,
    c: Claimed,
    tasks: list[Task],
    approve: bool,
    body: Decision,
    counts: dict[str, int],
) -> str | None:
    """Records one step's decisions, which decide it, and moves the step on (in a savepoint);
    the reason it cannot, or ``None``."""
    try:
        async with session.begin_nested():
            await _record_decisions(session, principal, c.instance, tasks, approve, body)
            await _settle_step(session, c, principal.person_id, counts)
            await _save(session)
    except Problem as exc:
        # What was gathered for the savepoint goes with it; the instance is read again.
        writes.discard(session)
        session.expire(c.instance)
        return str(exc.detail or exc.title)
    return None


async def _claim_all(
    session: AsyncSession, principal: Principal, ids: list[int], new_status: str, body: Decision
) -> list[Task]:
    """Takes those of the tasks that are the principal's and open, in one statement (their
    instances locked first)."""
    return list(
        await session.scalars(
            update(Task)
            .where(
                Task.id.in_(ids),
                Task.status == "pending",
                Task.kind == "approve",
                Task.assignee_id == principal.person_id,
            )
            .values(status=new_status, comment=body.comment, acted_at=clock.now())
            .returning(Task)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
    )


async def _hand_back(session: AsyncSession, tasks: list[Task]) -> None:
    """Undoes a claim whose step could not be moved on: the tasks are open again."""
    await session.execute(
        update(Task)
        .where(Task.id.in_([t.id for t in tasks]))
        .values(status="pending", comment=None, acted_at=None)
        .execution_options(synchronize_session=False)
    )


async def _why_not_claimed_all(
    session: AsyncSession, principal: Principal, ids: set[int]
) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for task_id in sorted(ids):
        try:
            await _why_not_claimed(session, principal, task_id)
        except Problem as exc:
            reasons[task_id] = str(exc.detail or exc.title)
    return reasons


# ---------------------------------------------------------------- to-dos of other modules


async def do_push_todo(session: AsyncSession, body: TodoPush) -> Task:
    existing = await session.scalar(
        select(Task).where(
            Task.kind == "external",
            Task.source == body.source,
            Task.business_key == body.business_key,
            Task.assignee_id == body.person_id,
            Task.status == "pending",
        )
    )
    if existing is not None:
        existing.title, existing.link, existing.due_at = body.title, body.link, body.due_at
        return existing
    task = Task(
        kind="external",
        assignee_id=body.person_id,
        status="pending",
        title=body.title,
        source=body.source,
        business_key=body.business_key,
        link=body.link,
        created_at=clock.now(),
        due_at=body.due_at,
    )
    session.add(task)
    await session.flush()
    await emit(
        session,
        events.TODO_PUSHED,
        events.TodoPushed(
            task_id=task.id, person_id=body.person_id, source=body.source, title=body.title
        ),
    )
    return task


async def do_close_todo(
    session: AsyncSession, source: str, business_key: str, person_id: int | None = None
) -> int:
    where = [
        Task.kind == "external",
        Task.source == source,
        Task.business_key == business_key,
        Task.status == "pending",
    ]
    if person_id is not None:
        where.append(Task.assignee_id == person_id)
    result = await session.execute(
        update(Task)
        .where(*where)
        .values(status="done", acted_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- timeouts


async def do_handle_overdue(session: AsyncSession, task_id: int) -> None:
    """Applies a step's timeout rule to one overdue task (remind, escalate, approve, reject)."""
    instance = await _lock_instance_of_task(session, task_id)
    task = await session.get(Task, task_id, populate_existing=True)
    if instance is None or task is None or task.status != "pending" or task.overdue_handled:
        return
    task.overdue_handled = True
    run = await load_run(session, instance)
    ready = {s.spiff_task_id: s for s in run.ready_steps()}
    step = ready.get(task.spiff_task_id or "")
    if step is None or instance.status != "running":
        return
    action = step.settings.timeout_action
    writes.event(session, events.TASK_OVERDUE, _task_event(instance, task, [task], action))
    _timeline(session, instance, None, "overdue", task=task, detail={"rule": action})
    if action in ("approve", "reject"):
        task.status, task.acted_at = (
            ("approved" if action == "approve" else "rejected"),
            clock.now(),
        )
        task.comment = str(_("超时自动处理"))
        await _settle_step(session, Claimed(task, instance, run), None)
        _store(session, instance, run)
    elif action == "escalate" and step.settings.escalate_to is not None:
        people = await assignment.resolve(
            session, step.settings.escalate_to, instance.applicant_id, instance.data
        )
        if people:
            task.status, task.acted_at = "transferred", clock.now()
            added = [_task_like(task, pid, status="pending", seq=task.seq) for pid in people]
            session.add_all(added)
            await session.flush()
            await _emit_tasks(session, instance, task.step_id, task.step_name, added, "escalate")
    await _save(session)


# ---------------------------------------------------------------- helpers


def files_key(instance_id: int) -> str:
    """What an instance's files are bound to in the files module."""
    return f"instance:{instance_id}"


async def attach(
    session: AsyncSession, person_id: int, instance: Instance, ids: list[str], field: str
) -> None:
    """Binds files the person uploaded to the instance (refusing others' or bound ones)."""
    if ids:
        key = files_key(instance.id)
        await files.check_attachable(
            session, person_id, ids, field=field, bound_to=("workflow", key)
        )
        await files.bind(session, ids, "workflow", key)


def _timeline(
    session: AsyncSession,
    instance: Instance,
    actor_id: int | None,
    action: str,
    *,
    task: Task | None = None,
    body: Decision | None = None,
    step_id: str = "",
    step_name: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    writes.timeline(
        session,
        instance.id,
        actor_id,
        action,
        step_id=task.step_id if task else step_id,
        step_name=task.step_name if task else step_name,
        comment=body.comment if body else None,
        attachments=list(body.attachments) if body else [],
        detail=detail,
    )


def _instance_event(instance: Instance, step_id: str | None = None) -> events.InstanceEvent:
    return events.InstanceEvent(
        instance_id=instance.id,
        process_key=instance.process_key,
        source=instance.source,
        business_key=instance.business_key,
        applicant_id=instance.applicant_id,
        status=instance.status,
        step_id=step_id,
        title=instance.title,
    )


def _task_event(
    instance: Instance, task: Task | TaskRef, tasks: Sequence[Task | TaskRef], action: str | None
) -> events.TaskEvent:
    return events.TaskEvent(
        instance_id=instance.id,
        process_key=instance.process_key,
        step_id=task.step_id,
        step_name=task.step_name,
        task_ids=[t.id for t in tasks],
        assignee_ids=[t.assignee_id for t in tasks],
        action=action,
        title=task.title or instance.title,
    )


async def _emit_tasks(
    session: AsyncSession,
    instance: Instance,
    step_id: str,
    step_name: str,
    tasks: Sequence[Task | TaskRef],
    action: str | None,
) -> None:
    if not tasks:
        return
    name = events.TASK_DECIDED if action in ("approve", "reject") else events.TASK_ASSIGNED
    writes.event(session, name, _task_event(instance, tasks[0], tasks, action))


def overdue_before(now: datetime) -> Any:
    return (Task.status == "pending") & (Task.due_at < now) & (Task.overdue_handled.is_(False))
