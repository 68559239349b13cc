"""Steps past their time limit: the scheduled job reminds, escalates, or decides automatically,
once per task."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from campus.kernel import clock
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.workflow.handlers import handle_overdue
from tests.platform.workflow.conftest import Cast, apply, instance, make_service, step


async def overdue_run(monkeypatch: pytest.MonkeyPatch, hours: float = 3) -> None:
    later = clock.now() + timedelta(hours=hours)
    monkeypatch.setattr(clock, "now", lambda: later)
    await handle_overdue()


async def overdue_events(db: Runtime, instance_id: int) -> list[dict[str, Any]]:
    async with db.db.read() as session:
        rows = await session.scalars(
            select(OutboxRow.payload).where(OutboxRow.name == "workflow.task.overdue")
        )
        return [p for p in rows if p["instance_id"] == instance_id]


async def test_remind_emits_once(cast: Cast, db: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await make_service(cast, [step("辅导员", cast.ids["counselor"], timeout_hours=2)])
    inst = await apply(cast, key)
    assert inst["tasks"][0]["due_at"] is not None
    await overdue_run(monkeypatch, hours=1)
    assert await overdue_events(db, inst["id"]) == []
    await overdue_run(monkeypatch)
    await overdue_run(monkeypatch, hours=4)
    events = await overdue_events(db, inst["id"])
    assert len(events) == 1 and events[0]["action"] == "remind"
    assert events[0]["assignee_ids"] == [cast.ids["counselor"]]
    assert (await instance(cast, inst["id"]))["status"] == "running"


async def test_automatic_approval(cast: Cast, db: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    key = await make_service(
        cast,
        [
            step("辅导员", cast.ids["counselor"], timeout_hours=2, timeout_action="approve"),
            step("教务处", cast.ids["staff"]),
        ],
    )
    inst = await apply(cast, key)
    await overdue_run(monkeypatch)
    inst = await instance(cast, inst["id"])
    assert inst["current_steps"] == ["教务处"]
    assert inst["tasks"][0]["comment"] == "超时自动处理"


async def test_automatic_rejection(
    cast: Cast, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await make_service(
        cast, [step("辅导员", cast.ids["counselor"], timeout_hours=2, timeout_action="reject")]
    )
    inst = await apply(cast, key)
    await overdue_run(monkeypatch)
    assert (await instance(cast, inst["id"]))["status"] == "rejected"


async def test_escalation_hands_over(
    cast: Cast, db: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    escalate = {"kind": "person", "ids": [cast.ids["staff"]]}
    key = await make_service(
        cast,
        [
            step(
                "辅导员",
                cast.ids["counselor"],
                timeout_hours=2,
                timeout_action="escalate",
                escalate_to=escalate,
            )
        ],
    )
    inst = await apply(cast, key)
    await overdue_run(monkeypatch)
    inst = await instance(cast, inst["id"])
    statuses = {t["assignee_id"]: t["status"] for t in inst["tasks"]}
    assert statuses == {cast.ids["counselor"]: "transferred", cast.ids["staff"]: "pending"}
