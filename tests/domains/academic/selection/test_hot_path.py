"""The hot path of a selection: how many SQL statements one request runs once the facts that
do not change during a round are kept in the process, and that an edit of a section is seen at
once all the same."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, update

from campus.domains.academic.offering.models import Section, SectionMajor
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.domains.academic.selection.conftest import Student, World, choose
from tests.domains.academic.selection.test_selection import places, refusal


@contextmanager
def statements(db: Runtime) -> Iterator[list[str]]:
    """The SQL statements run meanwhile (savepoints apart: the tests' own transaction)."""
    seen: list[str] = []

    def before(*args: Any) -> None:
        statement = str(args[2]).strip()
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            seen.append(statement.split()[0] + " " + statement.split()[2][:40])

    engine = db.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_a_selection_runs_few_statements_once_the_facts_are_kept(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    warm, _ = await student()
    # Another student's request first: the sections' facts and claim sets are warm then.
    assert (await choose(warm, world.sections["z"])).status_code == 200
    assert (await choose(warm, world.sections["x1"])).status_code == 200
    assert (await choose(client, world.sections["z"])).json()["status"] == "waitlisted"
    with statements(db) as seen:
        answer = await choose(client, world.sections["x1"])
    assert answer.json()["status"] == "selected", answer.text
    # The student's status, the open round, the replay check, the section, the student's
    # places, the courses they have passed; the section's row locked and its seats counted (the
    # database's word on the seat the claim set gave); then the place, the request's record and
    # the event.
    assert len(seen) <= 11, seen
    assert sum(s.startswith("INSERT") for s in seen) == 3, seen
    assert me in await places(db, world.sections["x1"])


async def test_an_edited_section_is_seen_at_once(
    db: Runtime, world: World, student: Student
) -> None:
    client, _ = await student()
    other, _ = await student()
    assert (await choose(other, world.sections["x2"])).status_code == 200  # facts kept
    # Opened to another major instead (the offering pages touch the section as they do).
    async with db.db.transaction() as session:
        section = await session.get(Section, world.sections["x2"])
        assert section is not None
        await session.execute(
            update(SectionMajor)
            .where(SectionMajor.section_id == section.id)
            .values(org_unit_id=world.other_major_id)
        )
        section.updated_at = clock.now()
    refusal(await choose(client, world.sections["x2"]), "restricted")
