"""The demo university's current term is timetabled and published at seed time: the demo
student's and teacher's 我的课表 show lectures, hard-feasible by the independent scorer, and the
publication went through the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.timetabling import build
from campus.domains.academic.timetabling import seed as timetabling_seed
from campus.domains.academic.timetabling.engine import problem as engine
from campus.domains.academic.timetabling.engine.scoring import score
from campus.domains.academic.timetabling.models import Lecture, PublishedLecture, Timetable
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.platform.access.conftest import outbox_events

PUBLIC = "/api/v1/academic/timetable"


async def test_the_demo_term_is_published_and_my_timetable_shows_it(
    login_as: LoginAs, db: Runtime
) -> None:
    async with db.db.read() as session:
        term = await session.scalar(select(Term).where(Term.current))
        assert term is not None
        built = await build.build_problem(session, term, with_pins=False)
        timetable = await session.scalar(select(Timetable).where(Timetable.term_id == term.id))
        assert timetable is not None
        version, revisions = timetable.published_version, timetable.published_revision
        revision = timetable.revision
        term_id = term.id
        draft = list(await session.scalars(select(Lecture.id).where(Lecture.term_id == term.id)))
        published = [
            {
                "section_id": x.section_id,
                "number": x.number,
                "day": x.day,
                "block": x.block,
                "room_id": x.room_id,
            }
            for x in await session.scalars(
                select(PublishedLecture).where(PublishedLecture.term_id == term.id)
            )
        ]
    assert version == 1 and revisions == revision
    # Every lecture the term needs is there, draft and published alike.
    needed = sum(c.lectures for c in built.problem.courses)
    assert needed > 0 and len(draft) == len(published) == needed
    whole = [_placement(built, x) for x in published]
    assert score(built.problem, whole).hard == 0

    events = await outbox_events(db, "academic.timetable.published")
    assert any(e.payload["term_id"] == term_id and e.payload["version"] == 1 for e in events)

    for role in ("student", "teacher"):
        client = await login_as(role)
        response = await client.get(f"{PUBLIC}/me")
        assert response.status_code == 200, response.text
        mine = response.json()
        assert mine, f"the demo {role} has lectures"
        assert {(x["section_id"], x["number"]) for x in mine} <= {
            (x["section_id"], x["number"]) for x in published
        }
        placements = [_placement(built, x) for x in mine]
        # No two of my lectures at the same time, and the scorer finds nothing wrong in them
        # (counted against the whole problem, only the missing lectures of others are off).
        assert len({p.slot for p in placements}) == len(placements)
        verdict = score(built.problem, placements)
        assert verdict.hard == verdict.lectures


def _placement(built: build.Built, row: dict[str, Any]) -> engine.Placement:
    return engine.Placement(
        build.section_key(row["section_id"]),
        build.room_key(row["room_id"]),
        built.grid.slot(row["day"], row["block"]),
    )


def test_the_time_limit_grows_with_the_term() -> None:
    assert timetabling_seed.time_limit(50) == timetabling_seed.MIN_SECONDS
    assert timetabling_seed.time_limit(3464) < timetabling_seed.MAX_SECONDS
    assert timetabling_seed.time_limit(3464) > timetabling_seed.time_limit(400)
    assert timetabling_seed.time_limit(100_000) == timetabling_seed.MAX_SECONDS
