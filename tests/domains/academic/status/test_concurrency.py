"""Races on a student status change, against a database of the module's own where every request
really commits (no per-test rollback, so a row lock really makes the other request wait): of two
holders of the registrar's step approving at once exactly one wins and the change is applied
once; its outcome delivered twice at once, and once more under another event id, applies it once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from campus.domains.academic.status import models
from campus.domains.academic.status.handlers import HANDLERS
from campus.entrypoints.http import build_runtime, create_app
from campus.kernel import runtime as runtime_module
from campus.kernel.bus import Dispatcher, Outcome
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext, seed_all
from campus.platform.users import service as users
from tests import approvals
from tests.approvals import People
from tests.domains.academic.status.conftest import (
    PASSWORD,
    WORKFLOW,
    assert_problem,
    changed_events,
    deliver_outcomes,
    filed,
    open_tasks,
    outcome_events,
    record,
)
from tests.own_database import migrated_database


@dataclass
class World:
    runtime: Runtime
    app: FastAPI
    demo: SeedContext


@pytest.fixture(scope="module")
async def world(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = await migrated_database("acad_status", tmp_path_factory.mktemp("acad_status"))
    own = settings.model_copy(update={"database_url": url})
    own_runtime = build_runtime(own)
    demo = await seed_all(own_runtime, "small", 2026)
    yield World(own_runtime, create_app(own, own_runtime), demo)
    await own_runtime.close()
    # The kernel serves one runtime per process; give the other tests theirs back.
    runtime_module.set_current(runtime)


@pytest.fixture
async def people(world: World) -> AsyncIterator[People]:
    """``await people(person_id)``: a client of the world's app signed in as that person."""
    made = People(world.app, world.runtime, PASSWORD)
    yield made
    await made.aclose()


@pytest.fixture
async def registrar(world: World, people: People) -> httpx.AsyncClient:
    """The world's demo "staff" person, who holds the registrar (教务处) role."""
    login = next(x.login for x in world.demo.logins if x.role == "staff")
    async with world.runtime.db.read() as session:
        staff = await users.find_person_by_login(session, login)
    assert staff is not None
    return await people(staff.id)


async def suspension_filed(world: World, people: People) -> tuple[int, dict[str, Any]]:
    """A term's suspension filed by a seeded student still studying who has never had a change:
    their id and the change."""
    async with world.runtime.db.read() as session:
        touched = select(models.StatusChange.person_id).union(
            select(models.StatusHistory.person_id)
        )
        person_id = await session.scalar(
            select(models.StudentStatus.person_id)
            .where(
                models.StudentStatus.status == "studying",
                models.StudentStatus.person_id.not_in(touched),
            )
            .order_by(models.StudentStatus.person_id)
            .limit(1)
        )
    assert person_id is not None, "the seed has students without a change"
    return person_id, await filed(await people(person_id), kind="suspend", terms=1)


async def up_to_a_shared_step(
    db: Runtime, people: People, instance_id: int
) -> list[tuple[int, int]]:
    """Decide the steps of one holder each until one with several holders (the registrar's,
    mode "any"); its open tasks."""
    for _round in range(5):
        tasks = await open_tasks(db, instance_id)
        if len(tasks) != 1:
            break
        task_id, assignee = tasks[0]
        step = await (await people(assignee)).post(f"{WORKFLOW}/tasks/{task_id}/approve", json={})
        assert step.status_code == 200, step.text
    tasks = await open_tasks(db, instance_id)
    assert len(tasks) >= 2, "the registrar's step has several holders"
    return tasks


async def assert_suspended_once(
    db: Runtime, registrar: httpx.AsyncClient, person_id: int, change_id: int
) -> None:
    after = await record(registrar, person_id)
    assert (after["status"], after["in_school"]) == ("suspended", False)
    assert [(c["id"], c["state"]) for c in after["changes"]] == [(change_id, "approved")]
    assert [h["kind"] for h in after["history"]] == ["suspend"]
    assert [e["kind"] for e in await changed_events(db, person_id)] == ["suspend"]


async def test_two_approvals_at_once_apply_the_change_exactly_once(
    world: World, people: People, registrar: httpx.AsyncClient
) -> None:
    db = world.runtime
    person_id, change = await suspension_filed(world, people)
    instance_id = change["instance_id"]
    tasks = (await up_to_a_shared_step(db, people, instance_id))[:2]
    holders = [await people(assignee) for _task, assignee in tasks]
    answers = await asyncio.gather(
        *(
            holder.post(f"{WORKFLOW}/tasks/{task_id}/approve", json={})
            for holder, (task_id, _a) in zip(holders, tasks, strict=True)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert_problem(next(a for a in answers if a.status_code == 409), 409)
    assert next(a for a in answers if a.status_code == 200).json()["status"] == "approved"
    assert await open_tasks(db, instance_id) == []
    assert len(await outcome_events(db, instance_id)) == 1
    await deliver_outcomes(db, instance_id)
    await assert_suspended_once(db, registrar, person_id, change["id"])


async def test_the_outcome_delivered_twice_at_once_applies_the_change_once(
    world: World, people: People, registrar: httpx.AsyncClient
) -> None:
    db = world.runtime
    person_id, change = await suspension_filed(world, people)
    instance_id = change["instance_id"]
    # Approved by everyone, the outcome not yet handed to the module.
    decide = partial(approvals.decide_all, handlers=(), comment="同意")
    steps = await decide(db, people, instance_id)
    assert steps and steps[-1] == "approved", steps
    assert (await record(registrar, person_id))["status"] == "studying"
    [event] = await outcome_events(db, instance_id)
    handler = next(h for h in HANDLERS if h.pattern == event.name)
    dispatcher = Dispatcher(db.db)
    twin = event.model_copy(update={"id": uuid.uuid4().hex})
    outcomes = await asyncio.gather(
        dispatcher.run_once(handler, event),
        dispatcher.run_once(handler, event),
        dispatcher.run_once(handler, twin),
    )
    # The same event once handled, once a duplicate; the twin is handled but finds the change
    # no longer pending.
    assert sorted(o.value for o in outcomes) == sorted(
        [Outcome.HANDLED.value, Outcome.DUPLICATE.value, Outcome.HANDLED.value]
    )
    await deliver_outcomes(db, instance_id)
    await assert_suspended_once(db, registrar, person_id, change["id"])
