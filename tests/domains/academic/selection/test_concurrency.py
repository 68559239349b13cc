"""A rush on few seats, against a database of the module's own where every request really
commits (no per-test rollback): many students select one section at once, some sending the same
request twice, then some drop while others select. Never more seated than seats, every accepted
selection in the database, the claim set equal to the database, the waitlist served when a seat
comes free."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from campus.domains.academic.selection.actions import seats_key
from campus.domains.academic.selection.models import Enrollment
from campus.entrypoints.http import build_runtime, create_app
from campus.kernel import runtime as runtime_module
from campus.kernel.config import Settings
from campus.kernel.runtime import Runtime
from tests.approvals import People
from tests.domains.academic.selection.conftest import API, few_seats

SEATS = 3
STUDENTS = 20
PASSWORD = "Rush@2026pw"


@dataclass
class Rush:
    runtime: Runtime
    app: FastAPI
    section_id: int
    students: list[int]


@pytest.fixture(scope="module")
async def rush(seeded_settings: Settings, runtime: Runtime) -> AsyncIterator[Rush]:
    own_runtime = build_runtime(seeded_settings)
    async with own_runtime.db.transaction() as session:
        section_id, students = await few_seats(session, SEATS, STUDENTS)
    await own_runtime.cache.cool(seats_key(section_id))  # a set left by an earlier run
    yield Rush(own_runtime, create_app(seeded_settings, own_runtime), section_id, students)
    await own_runtime.cache.cool(seats_key(section_id))
    await own_runtime.close()
    # The kernel serves one runtime per process; give the other tests theirs back.
    runtime_module.set_current(runtime)


async def _places(rush: Rush, status: str) -> set[int]:
    async with rush.runtime.db.read() as session:
        return set(
            await session.scalars(
                select(Enrollment.person_id).where(
                    Enrollment.section_id == rush.section_id, Enrollment.status == status
                )
            )
        )


async def _seats_match(rush: Rush) -> set[int]:
    seated = await _places(rush, "selected")
    claimed = await rush.runtime.cache.claimed(seats_key(rush.section_id))
    assert claimed == {str(p) for p in seated}, "the claim set strayed from the database"
    return seated


def _select(client: httpx.AsyncClient, section_id: int, key: str) -> asyncio.Future[httpx.Response]:
    return asyncio.ensure_future(
        client.post(f"{API}/sections/{section_id}/select", headers={"Idempotency-Key": key})
    )


async def test_a_rush_on_few_seats_never_oversells_and_loses_nothing(rush: Rush) -> None:
    people = People(rush.app, rush.runtime, PASSWORD)
    try:
        clients = {p: await people(p) for p in rush.students}
        keys = {p: f"rush-{p}-{uuid.uuid4().hex}" for p in rush.students}
        # Everyone at once; the first eight send their request twice (a double click).
        doubled = rush.students[:8]
        sent = [(p, _select(clients[p], rush.section_id, keys[p])) for p in rush.students]
        sent += [(p, _select(clients[p], rush.section_id, keys[p])) for p in doubled]
        answers = [(p, await answer) for p, answer in sent]
        assert all(a.status_code in (200, 409) for _, a in answers), [a.text for _, a in answers]
        accepted = {p: a.json()["status"] for p, a in answers if a.status_code == 200}
        in_flight = [a for _, a in answers if a.status_code == 409]
        assert all(a.json()["reason"] == "in_flight" for a in in_flight), [
            a.text for a in in_flight
        ]
        seated = await _seats_match(rush)
        waiting = await _places(rush, "waitlisted")
        assert len(seated) == SEATS, "seats were left empty or oversold"
        assert seated == {p for p, s in accepted.items() if s == "selected"}
        assert waiting == {p for p, s in accepted.items() if s == "waitlisted"}
        assert seated | waiting == set(rush.students), "an accepted selection was lost"

        # Two seated drop while two waiting drop and the rest ask again: the seats stay full,
        # taken by the waitlist.
        leaving_seats = sorted(seated)[:2]
        leaving_queue = sorted(waiting)[:2]
        again = [p for p in rush.students if p not in seated and p not in leaving_queue][:4]
        tasks = [clients[p].delete(f"{API}/sections/{rush.section_id}") for p in leaving_seats]
        tasks += [clients[p].delete(f"{API}/sections/{rush.section_id}") for p in leaving_queue]
        tasks += [
            clients[p].post(
                f"{API}/sections/{rush.section_id}/select",
                headers={"Idempotency-Key": f"again-{p}-{uuid.uuid4().hex}"},
            )
            for p in again
        ]
        results = await asyncio.gather(*tasks)
        assert [r.status_code for r in results[:4]] == [204] * 4, [r.text for r in results]
        after = await _seats_match(rush)
        assert len(after) == SEATS
        assert not set(leaving_seats) & after and not set(leaving_queue) & after
        promoted = after - seated
        assert len(promoted) == 2 and promoted <= waiting
        assert (await _places(rush, "waitlisted")) == waiting - promoted - set(leaving_queue)
    finally:
        await people.aclose()
