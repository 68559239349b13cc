"""The workflow engine's public interface for other modules.

- ``ensure_process`` declares a process a module needs (created from an approval chain if
  missing); ``start_process`` starts an instance of it for an applicant.
- Outcomes arrive as events (``events.OUTCOMES``) with ``source`` and ``business_key``.
- ``push_todo`` / ``close_todo`` put a module's own work items into people's to-do center.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel.errors import NotFound
from campus.kernel.events import Event
from campus.platform.workflow import actions, queries
from campus.platform.workflow.schemas import Chain, InstanceOut, TodoCounts, TodoPush

__all__ = [
    "Chain",
    "Outcome",
    "close_todo",
    "ensure_process",
    "get_instance",
    "outcome_of",
    "push_todo",
    "start_process",
    "todo_counts",
]


async def ensure_process(
    session: AsyncSession,
    *,
    key: str,
    name: str,
    chain: Chain | dict[str, Any],
    description: str = "",
) -> int:
    """The published version id of process ``key``; created from ``chain`` when missing."""
    design = chain if isinstance(chain, Chain) else Chain.model_validate(chain)
    return await actions.ensure_process(session, key, name, design, description)


async def start_process(
    session: AsyncSession,
    *,
    process_key: str,
    applicant_id: int,
    title: str,
    data: dict[str, Any],
    source: str,
    business_key: str | None = None,
) -> int:
    """Starts an instance in the caller's transaction; returns its id."""
    request = actions.StartRequest(
        process_key=process_key,
        applicant_id=applicant_id,
        title=title,
        data=data,
        source=source,
        business_key=business_key,
    )
    return (await actions.do_start(session, request)).id


async def get_instance(session: AsyncSession, instance_id: int) -> InstanceOut:
    return await queries.instance_out(session, await queries.instance_row(session, instance_id))


ENDING_ACTIONS = ("reject", "rejected", "withdraw", "withdrawn")


@dataclass(frozen=True)
class Outcome:
    instance_id: int
    business_key: str | None


def outcome_of(event: Event, source: str) -> Outcome | None:
    """The instance and business key of an outcome event (``events.OUTCOMES``) of an instance
    ``source`` started; ``None`` for another module's instance or a malformed payload."""
    payload = event.payload
    instance_id = payload.get("instance_id")
    if payload.get("source") != source or not isinstance(instance_id, int):
        return None
    key = payload.get("business_key")
    return Outcome(instance_id, key if isinstance(key, str) else None)


async def ending_comment(session: AsyncSession, instance_id: int) -> str | None:
    """The comment of the rejection or withdrawal that ended the instance, if its author gave
    one (at most 500 characters); ``None`` for an unknown instance."""
    try:
        instance = await get_instance(session, instance_id)
    except NotFound:
        return None
    for entry in reversed(instance.timeline):
        if entry.action in ENDING_ACTIONS and entry.comment:
            return entry.comment[:500]
    return None


async def push_todo(session: AsyncSession, item: TodoPush) -> int:
    """Adds (or refreshes) one person's to-do; one open item per (source, business_key, person)."""
    return (await actions.do_push_todo(session, item)).id


async def close_todo(
    session: AsyncSession, *, source: str, business_key: str, person_id: int | None = None
) -> int:
    """Marks the open to-dos of ``business_key`` done (everyone's, or one person's)."""
    return await actions.do_close_todo(session, source, business_key, person_id)


async def todo_counts(session: AsyncSession, person_id: int) -> TodoCounts:
    return await queries.counts(session, person_id)
