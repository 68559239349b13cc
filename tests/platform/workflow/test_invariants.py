"""Property test: whatever people do, in whatever order, an instance never loses a task.

While an instance runs, every step the engine waits on has someone to act on it, and nobody has
an open task on a step the engine is not waiting on; once it has ended, nobody has an open task,
and it ended once."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.context import Principal
from campus.kernel.errors import Problem
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.users import service as users
from campus.platform.workflow import actions
from campus.platform.workflow.engine.runner import Run
from campus.platform.workflow.models import Instance, ProcessVersion, Task
from campus.platform.workflow.schemas import (
    AddSigner,
    Chain,
    Decision,
    ProcessCreate,
    SendBack,
    Transfer,
)

MODES = ("all", "any", "percent", "veto", "sequential")
ACTIONS = (
    "approve",
    "approve",
    "approve",
    "reject",
    "send_back",
    "transfer",
    "add_signer",
    "withdraw",
    "resubmit",
)

steps_strategy = st.lists(
    st.tuples(st.sampled_from(MODES), st.integers(1, 3), st.integers(1, 100)),
    min_size=1,
    max_size=3,
)
script_strategy = st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50)), max_size=25)


def _who(person_id: int) -> Principal:
    return Principal(person_id=person_id, name="", login="")


async def _staff(session: AsyncSession) -> list[int]:
    office = await users.find_org_unit_by_code(session, "803")
    assert office is not None
    return [p.id for p in await users.members_of_org(session, office.id)][:6]


async def _open_tasks(session: AsyncSession, instance_id: int) -> list[Task]:
    return list(
        await session.scalars(
            select(Task)
            .where(Task.instance_id == instance_id, Task.status.in_(("pending", "waiting")))
            .execution_options(populate_existing=True)
        )
    )


async def _check(session: AsyncSession, instance_id: int) -> None:
    instance = await session.get(Instance, instance_id, populate_existing=True)
    assert instance is not None
    tasks = await _open_tasks(session, instance_id)
    if instance.status in ("approved", "rejected", "withdrawn"):
        assert not tasks, "an ended instance has no open task"
        outcomes = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name.like("workflow.instance.%"))
        )
        ended = [
            p
            for p in outcomes
            if p["instance_id"] == instance_id
            and p["status"] in ("approved", "rejected", "withdrawn")
        ]
        assert len(ended) == 1, "it ended exactly once"
        return
    if instance.status == "returned":
        assert not tasks
        return
    version = await session.get(ProcessVersion, instance.process_version_id)
    assert version is not None
    run = Run.load(version.spec, instance.state, instance.data)
    waiting_on = {s.spiff_task_id for s in run.ready_steps()}
    assert waiting_on, "a running instance waits on something"
    pending = {t.spiff_task_id for t in tasks if t.status == "pending"}
    assert {t.spiff_task_id for t in tasks} == waiting_on
    assert pending == waiting_on, "every step waited on has someone to act now"


async def _do(
    session: AsyncSession, instance: Instance, action: str, pick: int, pool: list[int]
) -> None:
    tasks = [t for t in await _open_tasks(session, instance.id) if t.status == "pending"]
    task = tasks[pick % len(tasks)] if tasks else None
    me = _who(task.assignee_id) if task else None
    applicant = _who(instance.applicant_id)
    match action:
        case "approve" | "reject" if task and me:
            await actions.check_decide(
                session, me, task.id, action == "approve", Decision(comment="理由")
            )
        case "send_back" if task and me:
            await actions.check_send_back(session, me, task.id, SendBack())
        case "transfer" if task and me:
            await actions.check_transfer(
                session, me, task.id, Transfer(to_person_id=pool[pick % len(pool)])
            )
        case "add_signer" if task and me:
            await actions.check_add_signers(
                session, me, task.id, AddSigner(person_ids=[pool[pick % len(pool)]])
            )
        case "withdraw":
            await actions.check_withdraw(session, applicant, instance.id)
        case "resubmit":
            await actions.check_resubmit(session, applicant, instance.id, None, None)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(step_specs=steps_strategy, script=script_strategy)
async def test_an_instance_never_loses_a_task(
    db: Runtime, step_specs: list[tuple[str, int, int]], script: list[tuple[str, int]]
) -> None:
    async with db.db.transaction() as session:
        pool = await _staff(session)
        nodes: list[dict[str, Any]] = [
            {
                "type": "approve",
                "name": f"第{i + 1}步",
                "mode": mode,
                "percent": percent,
                "assignee": {"kind": "person", "ids": pool[i : i + size]},
            }
            for i, (mode, size, percent) in enumerate(step_specs)
        ]
        key = f"prop_{abs(hash((tuple(step_specs), tuple(script)))) % 10**12}"
        if await session.scalar(select(Instance.id).where(Instance.process_key == key).limit(1)):
            return  # hypothesis replayed an example already run in this transaction
        await actions.check_create_process(
            session,
            ProcessCreate(key=key, name="性质", chain=Chain.model_validate({"nodes": nodes})),
            None,
        )
        instance = await actions.do_start(
            session,
            actions.StartRequest(process_key=key, applicant_id=pool[-1], title="t", data={}),
        )
        await _check(session, instance.id)
        for action, pick in script:
            try:
                async with session.begin_nested():
                    await _do(session, instance, action, pick, pool)
            except Problem:
                pass  # refused (not allowed now): must have changed nothing
            await _check(session, instance.id)
