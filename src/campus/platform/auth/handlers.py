"""Reactions of the authentication center: sessions of people who leave end at once, and
sessions whose lifetime ran out are ended (and announced) by a scheduled job."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from campus.kernel import runtime
from campus.kernel.events import Event
from campus.kernel.manifest import EventHandler, ScheduledJob
from campus.platform.auth import actions
from campus.platform.users import service as users

log = structlog.get_logger(__name__)

EXPIRY_EVERY_SECONDS = 60.0
PERSON_STATUS_CHANGED = "users.person.status_changed"


async def end_sessions_of_inactive_person(session: AsyncSession, event: Event) -> None:
    """A person whose account no longer opens (staff suspended from duty, people who graduate,
    leave or retire) is signed out everywhere; a student going on leave stays signed in."""
    if event.payload.get("to_status") == "active":
        return
    person_id = int(event.payload["person_id"])
    person = await users.get_person_ref(session, person_id)
    if person is not None and users.may_sign_in(person):
        return
    await actions.do_end_sessions_of(
        session, runtime.current().cache, person_id, "account_disabled"
    )


async def expire_sessions() -> None:
    """End the sessions whose time is up (in batches), then forget long-ended ones."""
    rt = runtime.current()
    while True:
        async with rt.db.transaction() as session:
            ended = await actions.do_expire_sessions(session, rt.cache)
        if ended:
            log.info("sessions_expired", count=ended)
        if ended < actions.EXPIRY_BATCH:
            break
    async with rt.db.transaction() as session:
        purged = await actions.do_purge_ended_sessions(session)
    if purged:
        log.info("ended_sessions_purged", count=purged)


SIGN_OUT_LEAVERS = EventHandler(
    "auth.sign_out_leavers", PERSON_STATUS_CHANGED, end_sessions_of_inactive_person
)
EXPIRE_SESSIONS = ScheduledJob("auth.expire_sessions", EXPIRY_EVERY_SECONDS, expire_sessions)
