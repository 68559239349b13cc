"""Reactions to other modules' events: class groups follow the user center's rosters and
counselors; section groups follow ``academic.section.roster_changed``; a moderator's removal
of a reported chat message recalls it. Each runs in the event's transaction and is idempotent
(a roster is made to match, not changed by a delta)."""

from __future__ import annotations

import structlog
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import runtime
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler
from campus.platform.messaging.im import events, group_actions
from campus.platform.messaging.im.actions import do_recall
from campus.platform.messaging.im.models import Message
from campus.platform.messaging.moderation import events as moderation_events
from campus.platform.users import events as user_events
from campus.platform.users import service as users

log = structlog.get_logger(__name__)
REPORT_KIND = "im.message"


async def on_class_created(session: AsyncSession, event: Event) -> None:
    await group_actions.sync_class_group(session, runtime.current(), int(event.payload["class_id"]))


async def on_person_created(session: AsyncSession, event: Event) -> None:
    class_id = event.payload.get("class_id")
    if isinstance(class_id, int):
        await group_actions.sync_class_group(session, runtime.current(), class_id)


async def on_person_changed(session: AsyncSession, event: Event) -> None:
    changed = event.payload.get("changed")
    if event.name == user_events.PERSON_UPDATED and not (
        isinstance(changed, list) and {"class_id", "status"} & set(changed)
    ):
        return
    await group_actions.resync_person(session, runtime.current(), int(event.payload["person_id"]))


async def on_position(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    if payload.get("kind") != "counselor":
        return
    rt = runtime.current()
    class_id = payload.get("class_id")
    if isinstance(class_id, int):
        await group_actions.sync_class_group(session, rt, class_id)
        return
    org_unit_id = payload.get("org_unit_id")
    if isinstance(org_unit_id, int):
        units = set(await users.org_subtree_ids(session, org_unit_id))
        for found in await users.list_classes(session):
            if found.org_unit_id in units:
                await group_actions.sync_class_group(session, rt, found.id)
    # A counselor's post ended without a place named: the groups they are in follow.
    for class_id in await group_actions.class_groups_of(session, int(payload["person_id"])):
        await group_actions.sync_class_group(session, rt, class_id)


async def on_section_roster(session: AsyncSession, event: Event) -> None:
    try:
        roster = events.SectionRoster.model_validate(event.payload)
    except ValidationError:
        log.warning("im_section_roster_invalid", event_id=event.id)
        return
    await group_actions.sync_auto_group(
        session,
        runtime.current(),
        source_key=f"section:{roster.section_id}",
        kind="section",
        name=roster.name,
        member_ids_wanted=roster.student_ids,
        admin_ids=roster.teacher_ids,
        active=roster.active,
    )


async def on_report_decided(session: AsyncSession, event: Event) -> None:
    payload = event.payload
    if payload.get("target_kind") != REPORT_KIND or payload.get("action") != "remove":
        return
    try:
        message_id = int(payload["target_id"])
    except (KeyError, TypeError, ValueError):
        return
    message = await session.get(Message, message_id)
    if message is None or message.recalled_at is not None:
        return
    await do_recall(session, runtime.current(), message, by_id=None, reason="moderator")


HANDLERS = (
    EventHandler("messaging.im.class_created", user_events.CLASS_CREATED, on_class_created),
    EventHandler("messaging.im.person_created", user_events.PERSON_CREATED, on_person_created),
    EventHandler("messaging.im.person_updated", user_events.PERSON_UPDATED, on_person_changed),
    EventHandler(
        "messaging.im.person_status", user_events.PERSON_STATUS_CHANGED, on_person_changed
    ),
    EventHandler("messaging.im.position_assigned", user_events.POSITION_ASSIGNED, on_position),
    EventHandler("messaging.im.position_ended", user_events.POSITION_ENDED, on_position),
    EventHandler("messaging.im.section_roster", events.SECTION_ROSTER_CHANGED, on_section_roster),
    EventHandler(
        "messaging.im.report_decided", moderation_events.REPORT_DECIDED, on_report_decided
    ),
)
