"""People acting at the same moment, and a restart in the middle of a process, against a database
of the test's own where every request really commits (no per-test rollback): exactly one of two
decisions on one task wins, a step passes exactly once, and instances survive a restart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from campus.entrypoints.http import build_runtime, create_app
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.seeding import SeedContext, seed_all
from campus.platform.workflow.models import Instance
from tests.own_database import migrated_database
from tests.platform.workflow.conftest import FORM, FORM_DATA, step

ROLES = ("admin", "student", "counselor", "staff", "teacher", "user_admin")


@dataclass
class World:
    settings: Settings
    runtime: Runtime
    demo: SeedContext


@pytest.fixture(scope="module")
async def world(
    settings: Settings, runtime: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    url = await migrated_database("workflow", tmp_path_factory.mktemp("workflow"))
    own = settings.model_copy(update={"database_url": url})
    own_runtime = build_runtime(own)
    demo = await seed_all(own_runtime, "small", 2026)
    yield World(own, own_runtime, demo)
    await own_runtime.close()
    # The kernel serves one runtime per process; give the other tests theirs back.
    runtime_module.set_current(runtime)


@dataclass
class Clients:
    by_role: dict[str, httpx.AsyncClient]
    ids: dict[str, int]


async def _clients(world: World, runtime: Runtime) -> Clients:
    app = create_app(world.settings, runtime)
    by_role, ids = {}, {}
    for role in ROLES:
        login = next(x for x in world.demo.logins if x.role == role)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        await client.get("/login")
        client.headers["X-CSRF-Token"] = client.cookies["campus_csrf"]
        signed = await client.post(
            "/api/v1/auth/login", json={"login": login.login, "password": login.password}
        )
        assert signed.status_code == 200, signed.text
        by_role[role] = client
        ids[role] = signed.json()["person_id"]
    return Clients(by_role, ids)


@pytest.fixture
async def clients(world: World) -> AsyncIterator[Clients]:
    made = await _clients(world, world.runtime)
    yield made
    for client in made.by_role.values():
        await client.aclose()


_serial = iter(range(1, 10_000))


async def _service(c: Clients, nodes: list[dict[str, Any]]) -> str:
    key = f"c_flow_{next(_serial)}"
    admin = c.by_role["admin"]
    made = await admin.post(
        "/api/v1/workflow/processes", json={"key": key, "name": "并发", "chain": {"nodes": nodes}}
    )
    assert made.status_code == 201, made.text
    service = await admin.post(
        "/api/v1/workflow/services",
        json={
            "key": key,
            "name": "并发",
            "category": "测试",
            "audience": "student",
            "form_key": FORM,
            "process_key": key,
        },
    )
    assert service.status_code == 201, service.text
    return key


async def _apply(c: Clients, key: str) -> dict[str, Any]:
    made = await c.by_role["student"].post(
        f"/api/v1/workflow/services/{key}/apply", json={"data": FORM_DATA}
    )
    assert made.status_code == 201, made.text
    return await _instance(c, made.json()["instance_id"])


async def _instance(c: Clients, instance_id: int) -> dict[str, Any]:
    got = await c.by_role["student"].get(f"/api/v1/workflow/instances/{instance_id}")
    assert got.status_code == 200, got.text
    out: dict[str, Any] = got.json()
    return out


def _task_of(inst: dict[str, Any], person_id: int) -> int:
    return next(
        t["id"] for t in inst["tasks"] if t["assignee_id"] == person_id and t["status"] == "pending"
    )


async def _outcome_events(world: World, instance_id: int) -> int:
    async with world.runtime.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == "workflow.instance.approved")
        )
        return sum(1 for payload in rows if payload["instance_id"] == instance_id)


async def test_two_decisions_on_one_task_exactly_one_wins(world: World, clients: Clients) -> None:
    key = await _service(clients, [step("辅导员", clients.ids["counselor"])])
    inst = await _apply(clients, key)
    task = _task_of(inst, clients.ids["counselor"])
    counselor = clients.by_role["counselor"]
    answers = await asyncio.gather(
        counselor.post(f"/api/v1/workflow/tasks/{task}/approve", json={"comment": "a"}),
        counselor.post(f"/api/v1/workflow/tasks/{task}/reject", json={"comment": "b"}),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    final = await _instance(clients, inst["id"])
    winner = next(a for a in answers if a.status_code == 200).json()["status"]
    assert final["status"] == winner
    decisions = [e for e in final["timeline"] if e["action"] in ("approve", "reject")]
    assert len(decisions) == 1


async def test_or_sign_by_two_at_once_passes_the_step_once(world: World, clients: Clients) -> None:
    ids = clients.ids
    key = await _service(
        clients,
        [step("或签", ids["counselor"], ids["staff"], mode="any"), step("终审", ids["teacher"])],
    )
    inst = await _apply(clients, key)
    answers = await asyncio.gather(
        clients.by_role["counselor"].post(
            f"/api/v1/workflow/tasks/{_task_of(inst, ids['counselor'])}/approve", json={}
        ),
        clients.by_role["staff"].post(
            f"/api/v1/workflow/tasks/{_task_of(inst, ids['staff'])}/approve", json={}
        ),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    final = await _instance(clients, inst["id"])
    last_step = [t for t in final["tasks"] if t["step_name"] == "终审"]
    assert len(last_step) == 1 and last_step[0]["status"] == "pending"


async def test_countersign_all_at_once_completes_exactly_once(
    world: World, clients: Clients
) -> None:
    people = ["counselor", "staff", "teacher", "user_admin", "admin"]
    key = await _service(clients, [step("会签", *(clients.ids[p] for p in people), mode="all")])
    inst = await _apply(clients, key)
    answers = await asyncio.gather(
        *(
            clients.by_role[p].post(
                f"/api/v1/workflow/tasks/{_task_of(inst, clients.ids[p])}/approve", json={}
            )
            for p in people
        )
    )
    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    final = await _instance(clients, inst["id"])
    assert final["status"] == "approved"
    assert await _outcome_events(world, inst["id"]) == 1


async def test_countersigners_batch_approving_at_once_settle_each_step_once(
    world: World, clients: Clients
) -> None:
    """The five signers of a countersign each approve all their to-dos in one batch call, all
    at the same moment, over several applications: every step passes exactly once."""
    people = ["counselor", "staff", "teacher", "user_admin", "admin"]
    key = await _service(
        clients,
        [
            step("会签", *(clients.ids[p] for p in people), mode="all"),
            step("终审", clients.ids["counselor"]),
        ],
    )
    applied = [await _apply(clients, key) for _ in range(6)]
    answers = await asyncio.gather(
        *(
            clients.by_role[p].post(
                "/api/v1/workflow/tasks/batch",
                json={
                    "task_ids": [_task_of(inst, clients.ids[p]) for inst in applied],
                    "action": "approve",
                },
            )
            for p in people
        )
    )
    assert all(a.status_code == 200 and not a.json()["failed"] for a in answers), [
        a.text for a in answers
    ]
    for inst in applied:
        final = await _instance(clients, inst["id"])
        last = [t for t in final["tasks"] if t["step_name"] == "终审"]
        assert final["current_steps"] == ["终审"] and len(last) == 1, final["tasks"]
        assert [e["action"] for e in final["timeline"]].count("approve") == 5


async def test_an_instance_survives_a_restart(world: World, clients: Clients) -> None:
    ids = clients.ids
    key = await _service(
        clients, [step("辅导员", ids["counselor"]), step("教务处", ids["staff"], mode="all")]
    )
    inst = await _apply(clients, key)
    first = await clients.by_role["counselor"].post(
        f"/api/v1/workflow/tasks/{_task_of(inst, ids['counselor'])}/approve", json={}
    )
    assert first.status_code == 200

    # A new process: nothing is shared with the old runtime but the database.
    restarted = build_runtime(world.settings)
    try:
        again = await _clients(world, restarted)
        pending = await again.by_role["staff"].get("/api/v1/workflow/tasks")
        task = next(t for t in pending.json()["items"] if t["instance_id"] == inst["id"])
        done = await again.by_role["staff"].post(
            f"/api/v1/workflow/tasks/{task['id']}/approve", json={}
        )
        assert done.status_code == 200, done.text
        assert done.json()["status"] == "approved"
        for client in again.by_role.values():
            await client.aclose()
    finally:
        await restarted.close()
        runtime_module.set_current(world.runtime)


async def test_many_applications_at_once_all_start(world: World, clients: Clients) -> None:
    key = await _service(clients, [step("辅导员", clients.ids["counselor"])])
    student = clients.by_role["student"]
    answers = await asyncio.gather(
        *(
            student.post(f"/api/v1/workflow/services/{key}/apply", json={"data": FORM_DATA})
            for _ in range(20)
        )
    )
    assert [a.status_code for a in answers] == [201] * 20, [
        a.text for a in answers if a.status_code != 201
    ]
    async with world.runtime.db.read() as session:
        count = await session.scalar(
            select(func.count()).select_from(Instance).where(Instance.process_key == key)
        )
    assert count == 20
