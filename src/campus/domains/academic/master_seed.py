"""The master data of academic affairs in the demo university: the calendar, the buildings and
rooms (sized for the scale's students), and the course catalogue. Deterministic (one random
source, ``ctx.rng("academic")``) and idempotent (a part already seeded is left alone)."""

from __future__ import annotations

import time

import structlog

from campus.domains.academic.calendar.seed import seed_calendar
from campus.domains.academic.catalog.seed import seed_catalog
from campus.domains.academic.rooms.seed import seed_rooms
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import STUDENT_TYPES

log = structlog.get_logger(__name__)


async def seed(ctx: SeedContext) -> None:
    started = time.perf_counter()
    rng = ctx.rng("academic")
    async with ctx.runtime.db.transaction() as session:
        await seed_calendar(session)
        students = await users.count_people(session, list(STUDENT_TYPES))
        await seed_rooms(session, ctx.scale, students, rng)
        courses = await seed_catalog(session, rng)
    log.info(
        "academic_master_seeded",
        students=students,
        courses=courses,
        seconds=round(time.perf_counter() - started, 2),
    )
