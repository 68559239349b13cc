"""The engine's write path: the rows an action produces, written without the ORM's unit of work.

Statements here are built once and run on the session's connection
(``campus.kernel.db.on_connection``): building a statement costs about 0.1 ms, and running a
Core statement through the session instead of its connection another 0.05 ms (autoflush and ORM
dispatch), several times over in every engine step.

Timeline entries, outbox events and audit entries are gathered while an action runs and written
by ``flush`` with one multi-row INSERT per table; the instance row is written with one UPDATE
that checks and bumps ``lock_version`` itself (what the ORM's version counter did), its new values
set on the loaded object as already stored. ``flush`` runs in the action's transaction (before a
savepoint ends, for the batch path), so state, tasks, timeline, audit and events still commit
together or not at all. An action that leaves something gathered unflushed loses it at the
transaction's end: every action of ``actions`` that gathers ends with ``_save``, which flushes
(and so does ``do_start``). The rows are built as ``campus.kernel.events.emit`` and
``campus.kernel.audit.record`` build theirs, which add ORM objects instead. A rollback
(of the transaction or of a savepoint) forgets what was gathered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy import event as orm_events
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import set_committed_value

from campus.kernel import clock, context
from campus.kernel.audit import AuditEntry
from campus.kernel.db import on_connection
from campus.kernel.errors import Conflict
from campus.kernel.events import Event, OutboxRow
from campus.kernel.i18n import _
from campus.platform.workflow.models import Instance, Task, TimelineEntry

_KEY = "campus.workflow.pending"
_TIMELINE: Table = TimelineEntry.__table__  # type: ignore[assignment]
_OUTBOX: Table = OutboxRow.__table__  # type: ignore[assignment]
_AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]
_TASKS: Table = Task.__table__  # type: ignore[assignment]
_INSTANCES: Table = Instance.__table__  # type: ignore[assignment]
_INSERT_TIMELINE = insert(_TIMELINE)
_INSERT_OUTBOX = insert(_OUTBOX)
_INSERT_AUDIT = insert(_AUDIT)
_INSERT_TASKS = insert(_TASKS).returning(_TASKS.c.id, sort_by_parameter_order=True)
_INSERT_INSTANCE = insert(_INSTANCES).returning(_INSTANCES.c.id)
_instance_updates: dict[tuple[str, ...], Any] = {}


@dataclass
class Pending:
    timeline: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    instances: dict[int, tuple[Instance, dict[str, Any]]] = field(default_factory=dict)


def pending(session: AsyncSession) -> Pending:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Pending()
    assert isinstance(found, Pending)
    return found


def discard(session: AsyncSession) -> None:
    """Forgets what was gathered (its savepoint is being rolled back)."""
    session.info.pop(_KEY, None)


@orm_events.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: SessionTransaction) -> None:
    # Whatever rolls back (the transaction or a savepoint an action ran in) takes what the
    # action gathered with it: it must not be written by a later flush.
    session.info.pop(_KEY, None)


def timeline(
    session: AsyncSession,
    instance_id: int,
    actor_id: int | None,
    action: str,
    *,
    step_id: str = "",
    step_name: str = "",
    comment: str | None = None,
    attachments: list[str] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    pending(session).timeline.append(
        {
            "instance_id": instance_id,
            "at": clock.now(),
            "actor_id": actor_id,
            "action": action,
            "step_id": step_id,
            "step_name": step_name,
            "comment": comment,
            "attachments": attachments or [],
            "detail": detail or {},
        }
    )


def event(session: AsyncSession, name: str, payload: BaseModel | dict[str, Any]) -> Event:
    """An event in the outbox of the current transaction (as ``campus.kernel.events.emit``)."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
    ctx = context.current()
    found = Event(name=name, payload=data, actor_id=context.actor_id(), request_id=ctx.request_id)
    pending(session).outbox.append(
        {
            "event_id": found.id,
            "name": found.name,
            "payload": found.payload,
            "occurred_at": found.occurred_at,
            "actor_id": found.actor_id,
            "request_id": found.request_id,
            "sent_at": None,
            "attempts": 0,
            "last_error": None,
        }
    )
    return found


def audit(
    session: AsyncSession,
    action: str,
    target_type: str,
    target_id: object | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """An audit entry of the current transaction (as ``campus.kernel.audit.record``)."""
    ctx = context.current()
    pending(session).audit.append(
        {
            "at": clock.now(),
            "actor_id": context.actor_id(),
            "action": action,
            "target_type": target_type,
            "target_id": None if target_id is None else str(target_id),
            "before": before,
            "after": after,
            "ip": ctx.ip,
            "request_id": ctx.request_id or None,
        }
    )


def set_instance(session: AsyncSession, instance: Instance, **values: Any) -> None:
    """New values of the instance row: visible on ``instance`` at once, written by ``flush``."""
    for name, value in values.items():
        set_committed_value(instance, name, value)
    _, changed = pending(session).instances.setdefault(instance.id, (instance, {}))
    changed.update(values)


async def insert_tasks(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Inserts task rows in one statement; their ids, in the order of ``rows``."""
    if not rows:
        return []
    result = await on_connection(session, _INSERT_TASKS, list(rows))
    return [int(row[0]) for row in result]


async def insert_instance(session: AsyncSession, values: dict[str, Any]) -> int:
    result = await on_connection(session, _INSERT_INSTANCE, values)
    return int(result.scalar_one())


async def flush(session: AsyncSession) -> None:
    """Writes what the action gathered: instance rows first, then the inserts."""
    gathered = session.info.pop(_KEY, None)
    if gathered is None:
        return
    assert isinstance(gathered, Pending)
    for instance, values in gathered.instances.values():
        await _write_instance(session, instance, values)
    for statement, rows in (
        (_INSERT_TIMELINE, gathered.timeline),
        (_INSERT_OUTBOX, gathered.outbox),
        (_INSERT_AUDIT, gathered.audit),
    ):
        if rows:
            await on_connection(session, statement, rows)


async def _write_instance(
    session: AsyncSession, instance: Instance, values: dict[str, Any]
) -> None:
    version = instance.lock_version
    names = tuple(sorted(values))
    statement = _instance_updates.get(names)
    if statement is None:
        statement = _instance_updates[names] = (
            update(_INSTANCES)
            .where(
                _INSTANCES.c.id == bindparam("_id"),
                _INSTANCES.c.lock_version == bindparam("_version"),
            )
            .values({name: bindparam(f"new_{name}") for name in (*names, "lock_version")})
        )
    params = {f"new_{name}": value for name, value in values.items()}
    params.update(new_lock_version=version + 1, _id=instance.id, _version=version)
    result = await on_connection(session, statement, params)
    if result.rowcount != 1:
        raise Conflict(_("该申请刚被他人处理，请刷新后重试"))
    set_committed_value(instance, "lock_version", version + 1)
