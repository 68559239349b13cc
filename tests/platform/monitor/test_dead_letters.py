"""Dead letters through the JSON API and the admin pages: list, filter, inspect, replay —
and who may do which."""

from __future__ import annotations

from sqlalchemy import select

from campus.kernel.audit import AuditEntry
from campus.kernel.events import DeadLetter, OutboxRow
from campus.kernel.runtime import Runtime
from campus.platform.monitor.events import DEAD_LETTER_REPLAYED
from tests.conftest import LoginAs
from tests.platform.monitor.conftest import BrokenHandler

API = "/api/v1/monitor/dead-letters"


async def stored(runtime: Runtime, letter_id: int) -> DeadLetter:
    async with runtime.db.read() as session:
        letter = await session.get(DeadLetter, letter_id)
        assert letter is not None
        session.expunge(letter)
        return letter


async def audit_actions(runtime: Runtime, letter_id: int) -> list[tuple[str, int | None]]:
    async with runtime.db.read() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.actor_id)
            .where(AuditEntry.target_type == "event_dead_letter")
            .where(AuditEntry.target_id == str(letter_id))
            .order_by(AuditEntry.id)
        )
        return [(action, actor) for action, actor in rows]


async def test_admin_lists_dead_letters_with_filters_and_pages(
    login_as: LoginAs, broken: BrokenHandler
) -> None:
    assigned = await broken.dead_letter("campus_test.room.assigned", room="A-101")
    swapped = await broken.dead_letter("campus_test.room.swapped", room="B-202")
    other = await broken.dead_letter("campus_test_other.bed.freed", room="C-303")
    client = await login_as("admin")

    everything = (await client.get(API, params={"handler": broken.name})).json()
    rooms = (await client.get(API, params={"event": "campus_test.room"})).json()
    exact = (await client.get(API, params={"event": "campus_test.room.swapped"})).json()
    second_page = await client.get(API, params={"handler": broken.name, "page_size": 2, "page": 2})

    assert everything["total"] == 3
    assert {item["id"] for item in everything["items"]} == {assigned, swapped, other}
    assert {item["id"] for item in rooms["items"]} == {assigned, swapped}
    assert [item["id"] for item in exact["items"]] == [swapped]
    item = exact["items"][0]
    assert item["handler"] == broken.name
    assert item["attempts"] == 2
    assert item["replayed_at"] is None
    assert second_page.json()["total"] == 3
    assert (second_page.json()["page_size"], second_page.json()["pages"]) == (2, 2)
    assert len(second_page.json()["items"]) == 1


async def test_admin_sees_the_whole_event_and_its_error(
    login_as: LoginAs, broken: BrokenHandler, letter: int
) -> None:
    client = await login_as("admin")
    response = await client.get(f"{API}/{letter}")
    missing = await client.get(f"{API}/999999999")

    assert response.status_code == 200
    body = response.json()
    assert body["event"]["name"] == "campus_test.room.assigned"
    assert body["event"]["payload"] == {"room": "A-101"}
    assert "ValueError: 宿舍 A-101 不存在" in body["error"]
    assert body["handler_known"] is True
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")


async def test_replay_hands_the_event_to_its_handler_once_and_marks_it(
    login_as: LoginAs, broken: BrokenHandler, letter: int, db: Runtime
) -> None:
    client = await login_as("admin")
    broken.broken = False

    response = await client.post(f"{API}/{letter}/replay")
    again = await client.post(f"{API}/{letter}/replay")

    assert response.status_code == 200, response.text
    assert response.json()["replayed_at"] is not None
    assert await broken.effects() == 1, "handled once, the second replay was refused"
    admin_id = (await client.get("/api/v1/auth/me")).json()["person_id"]
    assert response.json()["replayed_by"] == admin_id
    assert (await stored(db, letter)).replayed_by == admin_id
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["detail"] == "该死信事件已重放成功，无需再次重放"
    assert await audit_actions(db, letter) == [("monitor.deadletter.replay", admin_id)]
    async with db.db.read() as session:
        replayed_events = list(
            await session.scalars(
                select(OutboxRow.payload).where(OutboxRow.name == DEAD_LETTER_REPLAYED)
            )
        )
    assert replayed_events[-1]["dead_letter_id"] == letter
    assert replayed_events[-1]["handler"] == broken.name


async def test_a_replay_that_fails_again_keeps_the_letter_and_says_why(
    login_as: LoginAs, broken: BrokenHandler, letter: int, db: Runtime
) -> None:
    client = await login_as("admin")

    response = await client.post(f"{API}/{letter}/replay")

    assert response.status_code == 409
    assert response.json()["detail"] == "重放失败：ValueError: 宿舍 A-101 不存在"
    after = await stored(db, letter)
    assert after.replayed_at is None
    assert after.attempts == 3
    assert await broken.effects() == 0
    assert [a for a, _ in await audit_actions(db, letter)] == ["monitor.deadletter.replay_failed"]


async def test_a_letter_whose_handler_is_not_loaded_here_cannot_be_replayed_here(
    login_as: LoginAs, broken: BrokenHandler, letter: int, db: Runtime
) -> None:
    db.bus.register([h for h in db.bus.handlers if h.name != broken.name])
    client = await login_as("admin")

    detail = await client.get(f"{API}/{letter}")
    response = await client.post(f"{API}/{letter}/replay", headers={"Accept-Language": "en"})

    assert detail.json()["handler_known"] is False
    assert response.status_code == 409
    assert broken.name in response.json()["detail"]
    assert response.json()["detail"].startswith("This service has not loaded the handler")


async def test_students_may_neither_see_nor_replay_dead_letters(
    login_as: LoginAs, anon, broken: BrokenHandler, letter: int, db: Runtime
) -> None:  # type: ignore[no-untyped-def]
    student = await login_as("student")
    broken.broken = False

    listing = await student.get(API)
    detail = await student.get(f"{API}/{letter}")
    replay = await student.post(f"{API}/{letter}/replay")
    page_replay = await student.post(f"/monitor/dead-letters/{letter}/replay")
    anonymous = await anon.post(f"{API}/{letter}/replay")

    for response in (listing, detail, replay):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    assert replay.json()["detail"] == "您没有“monitor.deadletter.replay”权限"
    assert page_replay.status_code == 403
    assert anonymous.status_code == 401
    assert (await stored(db, letter)).replayed_at is None
    assert await broken.effects() == 0


async def test_bad_filters_are_named_in_the_problem(login_as: LoginAs) -> None:
    client = await login_as("admin")
    response = await client.get(API, params={"state": "lost", "page_size": 500})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"state", "page_size"}
    assert {"field": "page_size", "reason": "应不大于 200"} in response.json()["errors"]


async def test_admin_pages_list_show_and_replay_a_dead_letter(
    login_as: LoginAs, broken: BrokenHandler, letter: int
) -> None:
    client = await login_as("admin")
    listing = await client.get("/monitor/dead-letters", params={"handler": broken.name})
    detail = await client.get(f"/monitor/dead-letters/{letter}")
    broken.broken = False
    token = client.cookies.get("campus_csrf")
    replayed = await client.post(
        f"/monitor/dead-letters/{letter}/replay", data={"csrf_token": token}
    )
    after = await client.get(replayed.headers["location"])

    assert listing.status_code == 200
    assert "campus_test.room.assigned" in listing.text
    assert f'href="/monitor/dead-letters/{letter}"' in listing.text
    assert "待处理" in listing.text
    assert detail.status_code == 200
    assert "宿舍 A-101 不存在" in detail.text
    assert 'data-testid="replay"' in detail.text
    assert replayed.status_code == 303
    assert replayed.headers["location"] == f"/monitor/dead-letters/{letter}"
    assert "重放成功" in after.text
    assert 'data-testid="replay"' not in after.text, "no replay button once replayed"
    assert "已于" in after.text
    assert await broken.effects() == 1


async def test_a_failed_replay_from_the_page_shows_the_error(
    login_as: LoginAs, broken: BrokenHandler, letter: int
) -> None:
    client = await login_as("admin")
    replayed = await client.post(f"/monitor/dead-letters/{letter}/replay")
    after = await client.get(replayed.headers["location"])

    assert replayed.status_code == 303
    assert "重放失败：ValueError: 宿舍 A-101 不存在" in after.text
    assert 'data-testid="replay"' in after.text, "still pending, still replayable"


async def test_the_menu_offers_monitoring_to_admins_only(login_as: LoginAs) -> None:
    admin = await login_as("admin")
    student = await login_as("student")

    admin_page = await admin.get("/monitor/dead-letters")
    student_home = await student.get("/")

    assert 'href="/monitor/dead-letters"' in admin_page.text
    assert 'href="/monitor/audit"' in admin_page.text
    assert "/monitor/" not in student_home.text


async def test_the_pages_speak_english_when_asked(
    login_as: LoginAs, broken: BrokenHandler, letter: int
) -> None:
    client = await login_as("admin")
    client.headers["Accept-Language"] = "en"
    listing = await client.get("/monitor/dead-letters")
    assert "Dead letters" in listing.text
    assert "Pending" in listing.text
    assert "死信事件" not in listing.text
