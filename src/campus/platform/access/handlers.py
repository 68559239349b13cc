"""Reactions to events: drop cached decisions once a change that affects them is committed.

The actions drop them already while they write; these run after the commit, so that an entry a
concurrent request rebuilt from the state before the change does not outlive it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import runtime
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.access import events, index
from campus.platform.access.actions import forget_holders
from campus.platform.users import events as user_events


async def on_grant_changed(session: AsyncSession, event: Event) -> None:
    change = events.GrantChanged.model_validate(event.payload)
    people = [change.person_id] if change.person_id is not None else []
    kinds = [change.position_kind] if change.position_kind is not None else []
    await forget_holders(session, runtime.current().cache, people, kinds)


async def on_role_changed(session: AsyncSession, event: Event) -> None:
    change = events.RoleChanged.model_validate(event.payload)
    await forget_holders(session, runtime.current().cache, change.person_ids, change.position_kinds)


async def on_position_changed(session: AsyncSession, event: Event) -> None:
    """A post given or ended changes which position grants reach its holder, and where."""
    person_id = event.payload.get("person_id")
    if isinstance(person_id, int):
        await index.forget(runtime.current().cache, [person_id])


HANDLERS = (
    EventHandler("access.forget_on_grant", events.GRANT_CHANGED, on_grant_changed),
    EventHandler("access.forget_on_role", events.ROLE_CHANGED, on_role_changed),
    EventHandler(
        "access.forget_on_position_assigned", user_events.POSITION_ASSIGNED, on_position_changed
    ),
    EventHandler(
        "access.forget_on_position_ended", user_events.POSITION_ENDED, on_position_changed
    ),
)
