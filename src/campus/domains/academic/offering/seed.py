"""Offering's part of the demo university: the sections of the current term from its teaching
plan (通识必修 classes merged up to 120 students or the largest room of the type), each with a
main teacher of the owning college (or office), the least loaded first, nobody above
``MAX_TEACHER_BLOCKS`` lectures a week (a section left without a teacher then shows in the
"未安排教师" filter); electives move from multimedia to ordinary rooms (or halls) once 60 % of
the multimedia rooms' blocks are taken. Deterministic (``ctx.rng("academic.offering")``) and
idempotent."""

from __future__ import annotations

import time
from collections import defaultdict

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.offering import actions
from campus.domains.academic.offering.schemas import OfferingGenerate
from campus.domains.academic.programmes.queries import current_term
from campus.domains.academic.rooms.models import Room
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.schemas import STAFF_TYPES

log = structlog.get_logger(__name__)

MAX_TEACHER_BLOCKS = 12
MERGE_CAPACITY = 120
WEEKLY_BLOCKS = 25  # daytime blocks a room offers a week
ROOM_USE = 0.6  # share of a room type's blocks the seed fills before moving electives


async def room_slots(session: AsyncSession) -> dict[str, int]:
    """Blocks a week the active rooms of each type offer."""
    rows = await session.execute(
        select(Room.room_type, func.count()).where(Room.active.is_(True)).group_by(Room.room_type)
    )
    return {kind: int(n) * WEEKLY_BLOCKS for kind, n in rows.all()}


async def seed(ctx: SeedContext) -> None:
    started = time.perf_counter()
    rng = ctx.rng("academic.offering")
    async with ctx.runtime.db.transaction() as session:
        term = await current_term(session)
        if term is None:
            return
        context = await actions.load_context(session)
        staff: dict[int, list[int]] = {}
        load: dict[int, int] = defaultdict(int)

        async def pool(unit: int) -> list[int]:
            if unit not in staff:
                people = await users.members_of_org(session, unit, subtree=True)
                ids = [p.id for p in people if p.person_type in STAFF_TYPES]
                faculty = [p.id for p in people if p.person_type == "faculty"]
                chosen = faculty or ids
                rng.shuffle(chosen)
                staff[unit] = chosen
            return staff[unit]

        owners: dict[int, list[int]] = {}
        planned, _practice, _reach = await actions.plan_sections(
            session,
            None,
            term,
            context,
            OfferingGenerate(term_id=term.id, merge_capacity=MERGE_CAPACITY),
        )
        for p in planned:
            unit = context.tree.nearest(p.course.org_unit_id, "college")
            owners[p.course.id] = await pool(unit)

        def assign(section: actions.PlannedSection, lectures: int) -> list[int]:
            candidates = owners.get(section.course.id, [])
            fitting = [t for t in candidates if load[t] + lectures <= MAX_TEACHER_BLOCKS]
            if not fitting:
                return []
            teacher = min(fitting, key=lambda t: load[t])
            load[teacher] += lectures
            return [teacher]

        slots = await room_slots(session)
        used: dict[str, int] = defaultdict(int)

        def room_of(section: actions.PlannedSection, lectures: int) -> str:
            """The course's room type; an elective moves to an ordinary room (or a hall) when
            its type's rooms are filling up and it fits."""
            wanted = section.course.room_type
            choices = [wanted]
            if section.elective and wanted == "multimedia":
                choices += ["ordinary", "hall"]
            for kind in choices:
                fits = section.students <= context.largest.get(kind, 0)
                if fits and used[kind] + lectures <= slots.get(kind, 0) * ROOM_USE:
                    used[kind] += lectures
                    return kind
            used[wanted] += lectures
            return wanted

        report = await actions.do_generate(
            session,
            None,
            term,
            context,
            OfferingGenerate(term_id=term.id, merge_capacity=MERGE_CAPACITY),
            assign=assign,
            room_of=room_of,
        )
    log.info(
        "academic_offering_seeded",
        sections=report.created,
        teachers=len(load),
        seconds=round(time.perf_counter() - started, 2),
    )
