"""Timetabling's part of the demo university: the current term is timetabled and published at
seed time, so that 我的课表 shows lectures right after ``make demo``.

The problem is built from the database the way a run builds it (``build.build_problem``); the
engine runs with a short limit scaled to the size (2.5 s for the small demo's 625 lectures, 14 s
at medium scale, 20 s at most); the lectures are stored the way a run stores them (``runner``)
and version 1 is published through ``actions.check_publish`` (which re-checks the draft with the
independent scorer and writes the event to the outbox), by the demo registrar (教务处). Without
a feasible timetable in time the term is left unscheduled (never half a timetable) and the seed
says so in the log. Idempotent: a term already timetabled is left alone."""

from __future__ import annotations

import asyncio
import time

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.programmes.queries import current_term
from campus.domains.academic.timetabling import actions, build, runner
from campus.domains.academic.timetabling.engine import scoring
from campus.domains.academic.timetabling.engine.solve import solve
from campus.domains.academic.timetabling.models import Lecture
from campus.kernel.context import Principal
from campus.kernel.errors import Conflict
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users

log = structlog.get_logger(__name__)

SEED = 2026
SECONDS_PER_LECTURE = 0.004  # the engine's limit: 1 s per 250 lectures…
MIN_SECONDS = 1.0
MAX_SECONDS = 20.0  # …between these


def time_limit(lectures: int) -> float:
    return min(MAX_SECONDS, max(MIN_SECONDS, lectures * SECONDS_PER_LECTURE))


async def seed(ctx: SeedContext) -> None:
    started = time.perf_counter()
    async with ctx.runtime.db.read() as session:
        term = await current_term(session)
        if term is None:
            return
        if await session.scalar(select(Lecture.id).where(Lecture.term_id == term.id).limit(1)):
            return  # already timetabled
        built = await build.build_problem(session, term)
        term_id, code = term.id, term.code
    problem = built.problem
    lectures = sum(c.lectures for c in problem.courses)
    if not problem.courses or not problem.rooms:
        return
    seconds = time_limit(lectures)
    result = await asyncio.to_thread(solve, problem, seconds=seconds, seed=SEED)
    verdict = scoring.score(problem, result.placements)
    if not result.feasible or not verdict.feasible:
        log.warning(
            "academic_timetable_unscheduled",
            term=code,
            lectures=lectures,
            seconds=seconds,
            status=result.status,
            hard=verdict.hard,
            conflicts=list(result.conflicts)[:5],
        )
        return
    try:
        async with ctx.runtime.db.transaction() as session:
            await runner.replace_draft(session, term_id, built, list(result.placements), None)
            await runner.bump_revision(session, term_id, None)
            await actions.check_publish(session, await _registrar(session, ctx), term_id)
    except Conflict as refused:  # rolled back: the term stays unscheduled
        log.warning("academic_timetable_unscheduled", term=code, reason=str(refused))
        return
    log.info(
        "academic_timetable_seeded",
        term=code,
        sections=len(problem.courses),
        lectures=lectures,
        cost=verdict.cost,
        first_feasible=result.first_feasible,
        seconds=round(time.perf_counter() - started, 1),
    )


async def _registrar(session: AsyncSession, ctx: SeedContext) -> Principal:
    """The demo registrar (教务处) publishes; the seed itself when that login is missing."""
    login = next((x.login for x in ctx.logins if x.role == "staff"), None)
    person = await users.find_person_by_login(session, login) if login else None
    if person is None:
        return Principal(person_id=0, name="seed", login="seed")
    return Principal(person_id=person.id, name=person.name, login=person.number or "")
