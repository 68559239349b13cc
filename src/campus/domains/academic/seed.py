"""Academic affairs' part of the demo university: each topic seeds its own part, in order
(calendar and rooms, then the catalogue, programmes, offering and student status)."""

from __future__ import annotations

from campus.domains.academic import master_seed
from campus.domains.academic.evaluation import seed as evaluation_seed
from campus.domains.academic.grades import seed as grades_seed
from campus.domains.academic.offering import seed as offering_seed
from campus.domains.academic.programmes import seed as programme_seed
from campus.domains.academic.status import seed as status_seed
from campus.domains.academic.timetabling import seed as timetabling_seed
from campus.kernel.seeding import SeedContext


async def seed(ctx: SeedContext) -> None:
    await master_seed.seed(ctx)  # calendar, rooms, catalogue
    await programme_seed.seed(ctx)  # programmes, the current term's teaching plan
    await offering_seed.seed(ctx)  # the current term's sections and their teachers
    await timetabling_seed.seed(ctx)  # the current term's timetable, published
    await status_seed.seed(ctx)
    await evaluation_seed.seed(ctx)  # the current term's 评教, open
    await grades_seed.seed(ctx)  # published results of the students' earlier terms
