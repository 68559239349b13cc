"""The registrar changes a round's queue rate, also while students wait: those already in the
line are admitted at the new pace, in the same order, and so are those who come after; a bad
rate is refused naming the field and changes nothing; every change is audited and announced.
The round's dashboard shows the queue's live numbers and a form for the rate.

No assertion here rests on a wall-clock duration shorter than many seconds: the lines are
loaded so that a student waits tens of seconds at one rate and none at the other."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import httpx
from sqlalchemy import select

from campus.domains.academic.selection import queue
from campus.domains.academic.selection.models import Round
from campus.kernel import clock
from campus.kernel.audit import AuditEntry
from campus.kernel.cache import MemoryCache
from campus.kernel.context import Principal
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.academic.conftest import HTML
from tests.domains.academic.selection.conftest import API, Student, World
from tests.domains.academic.selection.test_queue import enter, with_queue
from tests.platform.access.conftest import assert_problem
from tests.platform.messaging.conftest import outbox_events

FAR = 10**9  # person ids of the students standing in the line before the test's own


async def round_of(db: Runtime, world: World) -> Round:
    async with db.db.read() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        session.expunge(found)  # read as it is now, and kept so after the session
        return found


async def crowd(db: Runtime, world: World, count: int) -> list[bool]:
    """``count`` students enter the round's queue before the test's own (as the route does,
    without a client each): whether each was admitted at once."""
    found = await round_of(db, world)
    admitted = []
    for n in range(count):
        someone = Principal(FAR + world.round_id * 1000 + n, "", "", session_id=f"s{n}")
        state = await queue.enter(db.cache, found, someone, db.settings.secret_key)
        admitted.append(state.admitted)
    return admitted


async def set_rate(registrar: httpx.AsyncClient, world: World, rate: object) -> httpx.Response:
    return await registrar.put(
        f"{API}/rounds/{world.round_id}/queue-rate", json={"queue_rate": rate}
    )


async def where(client: httpx.AsyncClient, world: World) -> dict[str, object]:
    response = await client.get(f"{API}/rounds/{world.round_id}/queue")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_faster_rate_admits_those_already_waiting(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 1)
    client, _ = await student()
    await crowd(db, world, 40)
    waiting = await enter(client, world)
    assert waiting["admitted"] is False and float(str(waiting["wait_seconds"])) > 20
    registrar = await login_as("staff")
    changed = await set_rate(registrar, world, 2000)
    assert changed.status_code == 200 and changed.json()["queue_rate"] == 2000, changed.text
    now_in = await where(client, world)
    assert now_in["admitted"] is True and now_in["token"]
    # Those after them come at the new pace too.
    assert all(await crowd(db, world, 30))


async def test_a_slower_rate_holds_back_those_waiting_and_those_to_come(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 10)
    client, _ = await student()
    await crowd(db, world, 40)  # four seconds of turns at ten a second
    before = await enter(client, world)
    assert float(str(before["wait_seconds"])) < 10
    registrar = await login_as("staff")
    assert (await set_rate(registrar, world, 1)).status_code == 200
    after = await where(client, world)
    assert after["admitted"] is False and float(str(after["wait_seconds"])) > 20
    # A rate of one a second: of ten coming now, the later ones wait.
    assert (await crowd(db, world, 10))[-1] is False


async def test_bad_rates_are_refused_naming_the_field_and_change_nothing(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 50)
    registrar = await login_as("staff")
    url = f"{API}/rounds/{world.round_id}/queue-rate"
    for wrong in (0, -3, 10001, "很多", 2.5):
        assert_problem(await set_rate(registrar, world, wrong), 422, "queue_rate")
    assert_problem(await registrar.put(url, json={}), 422, "queue_rate")
    assert_problem(await registrar.put(url, json={"queue_rate": 5, "extra": 1}), 422, "extra")
    missing = await registrar.put(f"{API}/rounds/999999/queue-rate", json={"queue_rate": 5})
    assert_problem(missing, 404)
    client, _ = await student()
    assert_problem(await set_rate(client, world, 5), 403)
    assert (await round_of(db, world)).queue_rate == 50
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.closes_at = clock.now() - timedelta(minutes=1)
    assert_problem(await set_rate(registrar, world, 5), 409, "queue_rate")
    assert (await round_of(db, world)).queue_rate == 50


async def test_a_change_is_audited_and_announced_and_null_switches_the_queue_off(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 50)
    registrar = await login_as("staff")
    assert (await set_rate(registrar, world, 120)).status_code == 200
    assert (await set_rate(registrar, world, None)).json()["queue_rate"] is None
    async with db.db.read() as session:
        audited = list(
            await session.execute(
                select(AuditEntry.before, AuditEntry.after)
                .where(
                    AuditEntry.action == "academic.selection.round.queue_rate",
                    AuditEntry.target_id == str(world.round_id),
                )
                .order_by(AuditEntry.id)
            )
        )
    assert [(b["queue_rate"], a["queue_rate"]) for b, a in audited[-2:]] == [(50, 120), (120, None)]
    events = [
        e.payload
        for e in await outbox_events(db, "academic.selection.queue_rate_changed")
        if e.payload["round_id"] == world.round_id
    ]
    assert [(e["before"], e["after"]) for e in events[-2:]] == [(50, 120), (120, None)]
    # With the queue off, a student selects without an admission.
    client, _ = await student()
    answer = await client.post(
        f"{API}/sections/{world.sections['x1']}/select", headers={"Idempotency-Key": "off-queue-1"}
    )
    assert answer.status_code == 200, answer.text


async def test_the_registrar_watches_the_queue_live(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 1)
    await crowd(db, world, 40)
    registrar = await login_as("staff")
    live = await registrar.get(f"{API}/rounds/{world.round_id}/queue/live")
    assert live.status_code == 200, live.text
    body = live.json()
    assert body["rate"] == 1 and body["waiting"] + body["admitted"] == 40
    assert body["waiting"] >= 25 and body["admitted"] >= 1 and body["wait_seconds"] > 25
    client, _ = await student()
    assert_problem(await client.get(f"{API}/rounds/{world.round_id}/queue/live"), 403)
    # After a faster rate, nobody waits any more.
    assert (await set_rate(registrar, world, 5000)).status_code == 200
    faster = (await registrar.get(f"{API}/rounds/{world.round_id}/queue/live")).json()
    assert faster["waiting"] == 0 and faster["admitted"] == 40 and faster["rate"] == 5000


async def test_the_dashboard_shows_the_queue_and_its_form_changes_the_rate(
    db: Runtime, world: World, login_as: LoginAs
) -> None:
    await with_queue(db, world, 1)
    await crowd(db, world, 40)
    registrar = await login_as("staff")
    page_url = f"/academic/selection/rounds/{world.round_id}"
    page = await registrar.get(page_url, headers=HTML)
    assert page.status_code == 200
    assert 'data-testid="queue-live"' in page.text and 'data-testid="queue-rate-form"' in page.text
    waiting = int(page.text.split('data-testid="queue-waiting">', 1)[1].split("<", 1)[0])
    assert waiting >= 25
    form = {"csrf_token": registrar.headers["X-CSRF-Token"]}
    refused = await registrar.post(f"{page_url}/queue-rate", data={**form, "queue_rate": "abc"})
    assert refused.status_code == 303 and refused.headers["location"] == page_url
    assert (await round_of(db, world)).queue_rate == 1
    shown = await registrar.get(page_url, headers=HTML)
    assert "排队准入速率应为 1 到 10000 的整数" in shown.text
    saved = await registrar.post(f"{page_url}/queue-rate", data={**form, "queue_rate": "300"})
    assert saved.status_code == 303
    assert (await round_of(db, world)).queue_rate == 300
    card = await registrar.get(f"{page_url}/queue-live", headers=HTML)
    assert card.status_code == 200 and 'data-testid="queue-waiting">0<' in card.text
    assert 'data-testid="queue-rate">300<' in card.text


async def test_a_queue_switched_off_and_on_again_starts_afresh(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    await with_queue(db, world, 1)
    await crowd(db, world, 40)  # forty seconds of turns nobody will wait for
    registrar = await login_as("staff")
    assert (await set_rate(registrar, world, None)).status_code == 200
    assert (await set_rate(registrar, world, 1)).status_code == 200
    client, _ = await student()
    assert (await enter(client, world))["admitted"] is True


class InterleavingCache(MemoryCache):
    """The in-process cache with a pause after every read, as a shared cache has between two
    calls: two coroutines' read-modify-writes interleave as two processes' would."""

    async def get(self, key: str) -> bytes | None:
        value = await super().get(key)
        await asyncio.sleep(0.005)
        return value


async def test_two_rate_changes_at_once_both_move_the_line() -> None:
    cache = InterleavingCache()
    round_id = 7
    far = time.time() + 100.0
    await cache.set(queue.line_key(round_id), f"{far:.6f}".encode())
    await asyncio.gather(
        queue.retime(cache, round_id, 10, 20), queue.retime(cache, round_id, 30, 15)
    )
    changes = json.loads(await cache.get(queue.retimes_key(round_id)) or b"[]")
    assert sorted(factor for _at, factor in changes) == [0.5, 2.0], "neither change was lost"
    moved = float(await cache.get(queue.line_key(round_id)) or 0)
    assert abs((moved - time.time()) - (far - time.time())) < 1.0, "×0.5 then ×2: as before"
