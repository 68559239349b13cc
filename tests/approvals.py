"""What the tests of modules built on the workflow engine share to drive an approval to its end:
clients signed in as anyone, every open task decided by its assignee, and the instance's outcome
events handed to the module's handlers as the worker would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import httpx
from sqlalchemy import select

from campus.kernel.bus import Dispatcher, EventHandler
from campus.kernel.events import Event, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.auth import service as auth_service
from campus.platform.users import service as users
from campus.platform.workflow import events as workflow_events
from campus.platform.workflow import service as workflow
from tests.conftest import _client

WORKFLOW = "/api/v1/workflow"

Clients = Callable[[int], Awaitable[httpx.AsyncClient]]


class People:
    """``await people(person_id)``: a client signed in as that person (given ``password`` and
    logged in by their number on first use); ``known`` clients are handed out as they are.
    ``aclose()`` closes the clients it signed in."""

    def __init__(
        self,
        app: object,
        db: Runtime,
        password: str,
        known: dict[int, httpx.AsyncClient] | None = None,
    ) -> None:
        self.app, self.db, self.password = app, db, password
        self.known = dict(known or {})
        self.made: dict[int, httpx.AsyncClient] = {}

    async def __call__(self, person_id: int) -> httpx.AsyncClient:
        if person_id in self.known:
            return self.known[person_id]
        if person_id in self.made:
            return self.made[person_id]
        async with self.db.db.transaction() as session:
            await auth_service.set_password(session, person_id, self.password)
            person = await users.get_person_ref(session, person_id)
        assert person is not None and person.number
        client = await _client(self.app)
        response = await client.post(
            "/api/v1/auth/login", json={"login": person.number, "password": self.password}
        )
        assert response.status_code == 200, response.text
        self.made[person_id] = client
        return client

    async def aclose(self) -> None:
        for client in self.made.values():
            await client.aclose()


async def outcome_events(db: Runtime, instance_id: int) -> list[Event]:
    """The outcome events (approved, rejected, withdrawn…) of the instance, oldest first."""
    async with db.db.read() as session:
        rows = list(
            await session.scalars(
                select(OutboxRow)
                .where(OutboxRow.name.in_(workflow_events.OUTCOMES))
                .order_by(OutboxRow.id)
            )
        )
        return [r.to_event() for r in rows if r.payload.get("instance_id") == instance_id]


async def deliver_outcomes(
    db: Runtime, instance_id: int, *, handlers: Iterable[EventHandler]
) -> None:
    """Hand the instance's outcome events to the handlers that want them, as the worker would."""
    handlers = list(handlers)
    dispatcher = Dispatcher(db.db)
    for event in await outcome_events(db, instance_id):
        for handler in handlers:
            if handler.pattern == event.name and handler.wants(event):
                await dispatcher.run_once(handler, event)


async def open_tasks(db: Runtime, instance_id: int) -> list[tuple[int, int]]:
    """The instance's pending tasks: (task id, assignee id)."""
    async with db.db.read() as session:
        instance = await workflow.get_instance(session, instance_id)
    return [(t.id, t.assignee_id) for t in instance.tasks if t.status == "pending"]


async def decide_all(
    db: Runtime,
    people: Clients,
    instance_id: int,
    decision: str = "approve",
    *,
    handlers: Iterable[EventHandler],
    comment: str,
) -> list[str]:
    """Every open task decided by its assignee (a rejection ends it) until the instance ends;
    then its outcome is delivered to ``handlers``. Returns the tasks' resulting statuses."""
    steps: list[str] = []
    for _round in range(10):
        tasks = await open_tasks(db, instance_id)
        if not tasks:
            break
        task_id, assignee = tasks[0]
        client = await people(assignee)
        response = await client.post(
            f"{WORKFLOW}/tasks/{task_id}/{decision}", json={"comment": comment}
        )
        assert response.status_code == 200, response.text
        steps.append(response.json()["status"])
        if decision == "reject":
            break
    await deliver_outcomes(db, instance_id, handlers=handlers)
    return steps
