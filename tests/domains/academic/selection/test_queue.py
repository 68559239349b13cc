"""The virtual queue at the door of a round: admitted at once under its rate, in order of
arrival above it; select and drop refused without a valid admission (bound to the student,
their session and the round), changing nothing; a session entering over and over is stopped."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest

from campus.domains.academic.selection import queue
from campus.domains.academic.selection.live import seats_key
from campus.domains.academic.selection.models import Round
from campus.kernel import clock
from campus.kernel.context import Principal
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.academic.selection.conftest import API, Student, World, choose
from tests.domains.academic.selection.test_selection import places
from tests.platform.access.conftest import assert_problem


async def with_queue(db: Runtime, world: World, rate: int | None) -> None:
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.queue_rate = rate
    await db.cache.delete(*queue.keys_of(world.round_id))


def refused_at_door(response: httpx.Response, reason: str) -> str:
    assert_problem(response, 403)
    body = response.json()
    assert body["reason"] == reason, body
    assert body["queue"] == "/academic/selection/queue"
    return str(body["detail"])


async def enter(client: httpx.AsyncClient, world: World) -> dict[str, object]:
    response = await client.post(f"{API}/rounds/{world.round_id}/queue")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_without_an_admission_select_and_drop_are_refused_and_change_nothing(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    x1 = world.sections["x1"]
    assert (await choose(client, x1)).status_code == 200  # before the queue is switched on
    await with_queue(db, world, 50)
    detail = refused_at_door(await choose(client, world.sections["z"]), "not_admitted")
    assert "排队" in detail
    refused_at_door(await client.delete(f"{API}/sections/{x1}"), "not_admitted")
    refused_at_door(
        await choose(
            client,
            world.sections["z"],
            **{"Idempotency-Key": "k" * 10},
            **{"Admission-Token": "garbage"},
        ),
        "admission_invalid",
    )
    assert await places(db, x1) == {me}
    assert await places(db, world.sections["z"]) == set()
    assert await db.cache.claimed(seats_key(world.sections["z"])) == set()


async def test_under_the_rate_a_student_is_admitted_at_once_and_selects(
    db: Runtime, world: World, student: Student
) -> None:
    await with_queue(db, world, 50)
    client, me = await student()
    state = await enter(client, world)
    assert state["admitted"] is True and state["ahead"] == 0 and state["token"]
    assert client.cookies.get(queue.COOKIE) == state["token"]
    # The page's cookie does, and so does the header for an API client without cookies.
    assert (await choose(client, world.sections["x1"])).json()["status"] == "selected"
    client.cookies.delete(queue.COOKIE)
    token = str(state["token"])
    answer = await choose(
        client, world.sections["z"], **{"Idempotency-Key": "z" * 12, "Admission-Token": token}
    )
    assert answer.status_code == 200, answer.text
    dropped = await client.delete(
        f"{API}/sections/{world.sections['z']}", headers={"Admission-Token": token}
    )
    assert dropped.status_code == 204
    again = await client.get(f"{API}/rounds/{world.round_id}/queue")
    assert again.json()["admitted"] is True
    assert await places(db, world.sections["x1"]) == {me}


async def test_above_the_rate_students_wait_their_turn_in_order_of_arrival(
    db: Runtime, world: World, student: Student
) -> None:
    # One a second: the first two turns are due within a second (admitted at once), the rest
    # a second apart each, however slowly the machine lets them enter.
    await with_queue(db, world, 1)
    people = [await student() for _ in range(5)]
    states = [await enter(client, world) for client, _ in people]
    admitted = [s["admitted"] for s in states]
    assert admitted[0] and not admitted[-1] and admitted == sorted(admitted, reverse=True)
    waiting = [s for s in states if not s["admitted"]]
    waits = [float(str(s["wait_seconds"])) for s in waiting]
    assert waits == sorted(waits) and len(set(waits)) == len(waits), "not first come first served"
    aheads = [int(str(s["ahead"])) for s in waiting]
    assert aheads == sorted(aheads) and aheads[0] >= 1
    last_client, _ = people[-1]
    refused_at_door(await choose(last_client, world.sections["x2"]), "not_admitted")
    # Entering again keeps the place: nobody moves to the front by it, nor to the back.
    again = await enter(last_client, world)
    assert not again["admitted"]
    assert float(str(again["wait_seconds"])) <= waits[-1]
    await asyncio.sleep(max(waits) + 0.2)
    turned = (await last_client.get(f"{API}/rounds/{world.round_id}/queue")).json()
    assert turned["admitted"] is True and turned["token"]
    answer = await choose(last_client, world.sections["x2"])
    assert answer.status_code == 200, answer.text


async def test_an_admission_is_bound_to_its_session_its_student_and_its_time(
    db: Runtime, world: World, student: Student
) -> None:
    await with_queue(db, world, 50)
    client, me = await student()
    other, _ = await student()
    token = str((await enter(client, world))["token"])
    # Another student presenting it.
    other.cookies.set(queue.COOKIE, token)
    refused_at_door(await choose(other, world.sections["x1"]), "admission_invalid")
    # The same student's token carried to another session (copied to another client).
    principal = Principal(me, "", "", session_id="another-session")
    elsewhere = queue.sign(db.settings.secret_key, world.round_id, principal, int(time.time()) + 60)
    client.cookies.set(queue.COOKIE, elsewhere)
    detail = refused_at_door(await choose(client, world.sections["x1"]), "admission_session")
    assert "会话" in detail
    # Forged with another secret.
    forged = queue.sign("not-the-secret", world.round_id, principal, int(time.time()) + 60)
    client.cookies.set(queue.COOKIE, forged)
    refused_at_door(await choose(client, world.sections["x1"]), "admission_session")
    # Another round's.
    client.cookies.set(queue.COOKIE, token.replace(f"{world.round_id}.", "999999.", 1))
    refused_at_door(await choose(client, world.sections["x1"]), "admission_invalid")
    assert await places(db, world.sections["x1"]) == set()


async def test_an_expired_admission_is_refused_and_the_student_enters_again(
    db: Runtime, world: World, student: Student, monkeypatch: pytest.MonkeyPatch
) -> None:
    await with_queue(db, world, 50)
    monkeypatch.setattr(queue, "ADMISSION_SECONDS", 1.0)
    client, me = await student()
    token = str((await enter(client, world))["token"])
    await asyncio.sleep(1.2)
    # The browser forgets the cookie when it ends; a client that keeps the token is refused.
    late = {"Idempotency-Key": "late-key-1", "Admission-Token": token}
    refused_at_door(await choose(client, world.sections["x1"], **late), "admission_expired")
    gone = await client.get(f"{API}/rounds/{world.round_id}/queue")
    assert gone.status_code == 409 and gone.json()["reason"] == "not_queued"
    # A new turn with a normal life: a slow machine must not let it lapse before the selection.
    monkeypatch.setattr(queue, "ADMISSION_SECONDS", 600.0)
    assert (await enter(client, world))["admitted"] is True
    assert (await choose(client, world.sections["x1"])).status_code == 200
    assert await places(db, world.sections["x1"]) == {me}


async def test_a_session_entering_over_and_over_is_stopped(
    db: Runtime, world: World, student: Student, monkeypatch: pytest.MonkeyPatch
) -> None:
    await with_queue(db, world, 10000)
    monkeypatch.setattr(queue, "ADMISSION_SECONDS", 0.0)  # every entry a new one
    monkeypatch.setattr(queue, "ENTRIES_PER_SESSION", 3)
    client, _ = await student()
    for _ in range(3):
        await enter(client, world)
    stopped = await client.post(f"{API}/rounds/{world.round_id}/queue")
    assert_problem(stopped, 429)
    assert stopped.json()["reason"] == "queue_entries"


async def test_the_queue_answers_only_students_of_an_open_round_with_a_queue(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    client, _ = await student()
    none = await client.post(f"{API}/rounds/{world.round_id}/queue")
    assert none.status_code == 409 and none.json()["reason"] == "no_queue"
    await with_queue(db, world, 50)
    assert_problem(await client.post(f"{API}/rounds/999999/queue"), 404)
    staff = await login_as("staff")
    assert_problem(await staff.post(f"{API}/rounds/{world.round_id}/queue"), 403)
    waiting = await client.get(f"{API}/rounds/{world.round_id}/queue")
    assert waiting.status_code == 409 and waiting.json()["reason"] == "not_queued"


async def test_the_pages_send_a_student_through_the_queue(
    db: Runtime, world: World, student: Student
) -> None:
    await with_queue(db, world, 50)
    client, me = await student()
    search = await client.get("/academic/selection")
    assert search.status_code == 303 and search.headers["location"] == "/academic/selection/queue"
    page = await client.get("/academic/selection/queue")
    assert page.status_code == 200 and 'data-testid="queue-enter"' in page.text
    entered = await client.post("/academic/selection/queue", headers={"HX-Request": "true"})
    assert entered.headers.get("HX-Redirect") == "/academic/selection"
    assert client.cookies.get(queue.COOKIE)
    search = await client.get("/academic/selection")
    assert search.status_code == 200 and 'data-testid="select"' in search.text
    chosen = await client.post(
        f"/academic/selection/sections/{world.sections['x1']}/select",
        data={"key": "page-key-123"},
        headers={"HX-Request": "true"},
    )
    assert chosen.status_code == 200 and "已选中" in chosen.text
    assert await places(db, world.sections["x1"]) == {me}
    client.cookies.delete(queue.COOKIE)
    refused = await client.post(
        f"/academic/selection/sections/{world.sections['z']}/select",
        data={"key": "page-key-456"},
        headers={"HX-Request": "true"},
    )
    assert refused.headers.get("HX-Redirect") == "/academic/selection/queue"
    assert await places(db, world.sections["z"]) == set()


async def test_a_round_is_made_with_a_queue_rate_in_range(world: World, login_as: LoginAs) -> None:
    registrar = await login_as("staff")
    now = clock.now()
    body = {
        "term_id": world.term_id,
        "name": "正选二",
        "kind": "first_come",
        "opens_at": now.isoformat(),
        "closes_at": (now + timedelta(days=2)).isoformat(),
        "max_credits": "25",
    }
    for wrong in (0, 10001, "很多"):
        assert_problem(
            await registrar.post(f"{API}/rounds", json={**body, "queue_rate": wrong}),
            422,
            "queue_rate",
        )
    made = await registrar.post(f"{API}/rounds", json={**body, "queue_rate": 200})
    assert made.status_code == 201 and made.json()["queue_rate"] == 200, made.text
    form = await registrar.post(
        "/academic/selection/rounds",
        data={**body, "name": "正选三", "queue_rate": "abc", "opens_at": "2026-12-01T08:00",
              "closes_at": "2026-12-02T08:00"},
    )  # fmt: skip
    assert form.status_code == 422 and "应为 1 到 10000 的整数" in form.text
