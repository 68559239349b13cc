"""The seat sweeper of course selection: every minute, while a round is open, the claim sets of
its term's sections are put right against the database (see ``actions.sweep``)."""

from __future__ import annotations

import structlog

from campus.domains.academic.selection import actions, queries
from campus.kernel import clock, runtime
from campus.kernel.manifest import ScheduledJob

log = structlog.get_logger(__name__)

SWEEP_EVERY_SECONDS = 60.0


async def sweep_seats() -> None:
    rt = runtime.current()
    async with rt.db.read() as session:
        section_ids = await queries.sections_in_open_rounds(session, clock.now())
        given_back = await actions.sweep(session, rt.cache, section_ids)
    if given_back:
        log.warning("selection_seats_given_back", seats=given_back)


SWEEP = ScheduledJob("academic.selection.sweep", SWEEP_EVERY_SECONDS, sweep_seats)
