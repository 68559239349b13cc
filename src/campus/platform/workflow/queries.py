"""Reads of the workflow engine: processes, instances with their timeline, and people's lists
(my applications, to-dos, done, copied to me)."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.errors import NotFound
from campus.kernel.i18n import _
from campus.kernel.pagination import PageParams, paginate
from campus.platform.access import service as access
from campus.platform.users import service as users
from campus.platform.workflow.engine.runner import Run
from campus.platform.workflow.models import (
    Delegation,
    Instance,
    Process,
    ProcessVersion,
    Task,
    TimelineEntry,
)
from campus.platform.workflow.permissions import INSTANCE_READ_ALL
from campus.platform.workflow.schemas import (
    DelegationOut,
    InstanceOut,
    InstancePage,
    InstanceSummary,
    ProcessOut,
    ProcessVersionOut,
    StepInfo,
    StepState,
    TaskOut,
    TaskPage,
    TimelineOut,
    TodoCounts,
)

TaskBox = Literal["todo", "done", "cc"]


# ---------------------------------------------------------------- processes


async def processes(session: AsyncSession) -> list[ProcessOut]:
    rows = await session.scalars(select(Process).order_by(Process.key))
    return [await process_out(session, p) for p in rows]


async def process_by_key(session: AsyncSession, key: str) -> Process:
    process = await session.scalar(select(Process).where(Process.key == key))
    if process is None:
        raise NotFound(_("流程 {key} 不存在", key=key))
    return process


async def process_out(session: AsyncSession, process: Process) -> ProcessOut:
    versions = list(
        await session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process.id)
            .order_by(ProcessVersion.version.desc())
        )
    )
    published = next((v.version for v in versions if v.published), None)
    return ProcessOut(
        id=process.id,
        key=process.key,
        name=process.name,
        description=process.description,
        versions=[ProcessVersionOut.model_validate(v) for v in versions],
        published_version=published,
    )


async def process_version(session: AsyncSession, key: str, number: int) -> ProcessVersion:
    version = await session.scalar(
        select(ProcessVersion)
        .join(Process, Process.id == ProcessVersion.process_id)
        .where(Process.key == key, ProcessVersion.version == number)
    )
    if version is None:
        raise NotFound(_("流程版本不存在"))
    return version


# ---------------------------------------------------------------- one instance


async def instance_row(session: AsyncSession, instance_id: int) -> Instance:
    instance = await session.get(Instance, instance_id)
    if instance is None:
        raise NotFound(_("申请不存在"))
    return instance


async def access_instance(
    session: AsyncSession, principal: Principal, instance_id: int
) -> Instance:
    """The instance if the reader may see it: the applicant, anyone it was assigned or copied
    to, or an overseer whose scope covers the applicant; otherwise it does not exist for them."""
    instance = await instance_row(session, instance_id)
    if instance.applicant_id == principal.person_id:
        return instance
    involved = await session.scalar(
        select(Task.id)
        .where(
            Task.instance_id == instance.id,
            (Task.assignee_id == principal.person_id)
            | (Task.delegated_from == principal.person_id),
        )
        .limit(1)
    )
    if involved is not None:
        return instance
    if principal.can(INSTANCE_READ_ALL):
        path = await users.org_path_of(session, instance.applicant_id)
        if access.allows(principal, INSTANCE_READ_ALL, path, instance.applicant_id):
            return instance
    raise NotFound(_("申请不存在"))


async def instance_out(
    session: AsyncSession, instance: Instance, reader_id: int | None = None
) -> InstanceOut:
    tasks = list(
        await session.scalars(select(Task).where(Task.instance_id == instance.id).order_by(Task.id))
    )
    timeline = list(
        await session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.instance_id == instance.id)
            .order_by(TimelineEntry.id)
        )
    )
    ids = {instance.applicant_id, *(t.assignee_id for t in tasks)}
    ids |= {e.actor_id for e in timeline if e.actor_id is not None}
    names = {pid: ref.name for pid, ref in (await users.get_people(session, list(ids))).items()}
    version = await session.get(ProcessVersion, instance.process_version_id)
    assert version is not None
    mine = next(
        (
            t.id
            for t in tasks
            if t.assignee_id == reader_id and t.status == "pending" and t.kind == "approve"
        ),
        None,
    )
    own = reader_id == instance.applicant_id
    return InstanceOut(
        **_summary(instance, names).model_dump(),
        data=instance.data,
        form_version_id=instance.form_version_id,
        process_version_id=instance.process_version_id,
        tasks=[_task_out(t, names) for t in tasks],
        timeline=[_timeline_out(e, names) for e in timeline],
        steps=_step_states(version, instance),
        can_withdraw=own and instance.status in ("running", "returned"),
        can_urge=own and instance.status == "running",
        can_resubmit=own and instance.status == "returned",
        my_open_task_id=mine,
    )


def _step_states(version: ProcessVersion, instance: Instance) -> list[StepState]:
    steps = [StepInfo.model_validate(s) for s in version.steps]
    if not instance.state:
        return [StepState(**s.model_dump(), state="future") for s in steps]
    run = Run.load(version.spec, instance.state, instance.data)
    done = run.completed_step_ids()
    active = {s.step_id for s in run.ready_steps()} if instance.status == "running" else set()
    return [
        StepState(
            **s.model_dump(),
            state="active" if s.id in active else "done" if s.id in done else "future",
        )
        for s in steps
    ]


def _summary(instance: Instance, names: dict[int, str]) -> InstanceSummary:
    summary = InstanceSummary.model_validate(instance)
    summary.applicant_name = names.get(instance.applicant_id)
    return summary


def _task_out(task: Task, names: dict[int, str]) -> TaskOut:
    out = TaskOut.model_validate(task)
    out.assignee_name = names.get(task.assignee_id)
    return out


def _timeline_out(entry: TimelineEntry, names: dict[int, str]) -> TimelineOut:
    out = TimelineOut.model_validate(entry)
    out.actor_name = names.get(entry.actor_id) if entry.actor_id is not None else None
    return out


# ---------------------------------------------------------------- people's lists


async def my_instances(
    session: AsyncSession, person_id: int, params: PageParams, status: str | None = None
) -> InstancePage:
    stmt = select(Instance).where(Instance.applicant_id == person_id)
    if status:
        stmt = stmt.where(Instance.status == status)
    page = await paginate(
        session,
        stmt.order_by(Instance.started_at.desc(), Instance.id.desc()),
        params.page,
        params.page_size,
    )
    names = await _names(session, [person_id])
    return InstancePage(
        **{**page.model_dump(exclude={"items"}), "items": [_summary(i, names) for i in page.items]}
    )


def _box_select(person_id: int, box: TaskBox) -> Select[Any]:
    stmt = select(Task).where(Task.assignee_id == person_id)
    if box == "todo":
        return stmt.where(
            Task.status == "pending", Task.kind.in_(("approve", "external"))
        ).order_by(Task.created_at.desc(), Task.id.desc())
    if box == "cc":
        return stmt.where(Task.kind == "cc").order_by(Task.created_at.desc(), Task.id.desc())
    return stmt.where(
        Task.kind.in_(("approve", "external")),
        Task.status.in_(("approved", "rejected", "returned", "transferred", "done")),
    ).order_by(Task.acted_at.desc(), Task.id.desc())


async def task_box(
    session: AsyncSession, person_id: int, box: TaskBox, params: PageParams
) -> TaskPage:
    page = await paginate(session, _box_select(person_id, box), params.page, params.page_size)
    tasks: list[Task] = list(page.items)
    applicants = await _applicants(session, [t.instance_id for t in tasks if t.instance_id])
    names = await _names(session, list(applicants.values()))
    items = []
    for task in tasks:
        out = TaskOut.model_validate(task)
        if task.instance_id in applicants:
            out.applicant_name = names.get(applicants[task.instance_id])
        items.append(out)
    return TaskPage(**{**page.model_dump(exclude={"items"}), "items": items})


async def counts(session: AsyncSession, person_id: int) -> TodoCounts:
    todo = await session.scalar(
        select(func.count()).where(
            Task.assignee_id == person_id,
            Task.status == "pending",
            Task.kind.in_(("approve", "external")),
        )
    )
    unread = await session.scalar(
        select(func.count()).where(
            Task.assignee_id == person_id, Task.kind == "cc", Task.status == "unread"
        )
    )
    running = await session.scalar(
        select(func.count()).where(Instance.applicant_id == person_id, Instance.status == "running")
    )
    return TodoCounts(todo=todo or 0, copied_unread=unread or 0, mine_running=running or 0)


async def delegations(session: AsyncSession, person_id: int) -> list[DelegationOut]:
    rows = list(
        await session.scalars(
            select(Delegation)
            .where(Delegation.person_id == person_id)
            .order_by(Delegation.starts_at)
        )
    )
    names = await _names(session, [d.delegate_id for d in rows])
    out = []
    for row in rows:
        item = DelegationOut.model_validate(row)
        item.delegate_name = names.get(row.delegate_id)
        out.append(item)
    return out


async def _applicants(session: AsyncSession, instance_ids: list[int]) -> dict[int, int]:
    if not instance_ids:
        return {}
    rows = await session.execute(
        select(Instance.id, Instance.applicant_id).where(Instance.id.in_(instance_ids))
    )
    return {row.id: row.applicant_id for row in rows}


async def _names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    people = await users.get_people(session, list(set(person_ids)))
    return {pid: ref.name for pid, ref in people.items()}


# ---------------------------------------------------------------- for the hall's pages


async def access_task(session: AsyncSession, principal: Principal, task_id: int) -> Task:
    """One of the reader's own work items (a decision, a copy or another module's to-do);
    anyone else's does not exist for them."""
    task = await session.get(Task, task_id)
    if task is None or task.assignee_id != principal.person_id:
        raise NotFound(_("待办不存在"))
    return task
