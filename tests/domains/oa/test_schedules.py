"""Schedules: events and meetings, invitations and answers, conflicts, reminders (announced once),
calendars and the iCal export."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from icalendar import Calendar
from sqlalchemy import select

from campus.domains.oa import events
from campus.domains.oa.jobs import REMINDERS
from campus.domains.oa.models import Reminder
from campus.domains.oa.schedules import actions
from campus.kernel import clock
from campus.kernel.clock import CHINA
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.oa.conftest import (
    EVENTS,
    HTML,
    HTMX,
    ScopeKind,
    SignIn,
    Tree,
    assert_problem,
    oa_counts,
    outbox_payloads,
    staff_in,
    student_in,
)


def at(days: int, hour: int, minute: int = 0) -> str:
    """An instant ``days`` from today at hour:minute China time, as a form types it (no zone)."""
    day = datetime.now(CHINA).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


async def create(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "测试日程")
    body.setdefault("starts_at", at(30, 9))
    body.setdefault("ends_at", at(30, 10))
    response = await client.post(EVENTS, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def two_people(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> tuple[httpx.AsyncClient, dict[str, Any], httpx.AsyncClient, dict[str, Any]]:
    organiser = await staff_in(admin, tree, tree.college_a)
    guest = await staff_in(admin, tree, tree.college_a)
    return await sign_in(organiser), organiser, await sign_in(guest), guest


# ---------------------------------------------------------------- events and bad input


async def test_a_personal_event_and_its_calendar(login_as: LoginAs) -> None:
    student = await login_as("student")
    saved = await create(student, title="自习", place="图书馆", reminder_minutes=30)
    event = saved["event"]
    assert (event["mine"], event["is_meeting"], saved["conflicts"]) == (True, False, [])
    assert event["starts_at"].startswith(
        (datetime.now(CHINA).date() + timedelta(days=30)).isoformat()
    )
    day = (datetime.now(CHINA).date() + timedelta(days=30)).isoformat()
    items = (await student.get(f"/api/v1/oa/schedule?start={day}&end={day}")).json()
    assert [i["title"] for i in items if i["id"] == event["id"]] == ["自习"]
    whole = await create(
        student, title="运动会", starts_at=at(31, 0), ends_at=at(32, 0), all_day=True
    )
    assert whole["event"]["all_day"] is True
    # An all-day event runs from midnight to the midnight after its last day (China time).
    assert whole["event"]["starts_at"].endswith("16:00:00Z")
    length = datetime.fromisoformat(whole["event"]["ends_at"]) - datetime.fromisoformat(
        whole["event"]["starts_at"]
    )
    assert length == timedelta(days=2)


async def test_bad_events_are_422s_that_change_nothing(login_as: LoginAs, db: Runtime) -> None:
    student = await login_as("student")
    before = await oa_counts(db)
    cases = [
        ({"title": "", "starts_at": at(1, 9), "ends_at": at(1, 10)}, "title"),
        ({"title": "倒序", "starts_at": at(1, 10), "ends_at": at(1, 9)}, "ends_at"),
        ({"title": "零长", "starts_at": at(1, 10), "ends_at": at(1, 10)}, "ends_at"),
        (
            {"title": "全天倒序", "starts_at": at(3, 0), "ends_at": at(1, 0), "all_day": True},
            "ends_at",
        ),
        ({"title": "太长", "starts_at": at(1, 9), "ends_at": at(800, 9)}, "ends_at"),
        ({"title": "坏时间", "starts_at": "明天", "ends_at": at(1, 9)}, "starts_at"),
        ({"title": "缺时间", "starts_at": at(1, 9)}, "ends_at"),
        (
            {
                "title": "坏提醒",
                "starts_at": at(1, 9),
                "ends_at": at(1, 10),
                "reminder_minutes": -5,
            },
            "reminder_minutes",
        ),
        (
            {
                "title": "查无此人",
                "starts_at": at(1, 9),
                "ends_at": at(1, 10),
                "invitees": {"people": [999_999_999]},
            },
            "invitees.people.0",
        ),
    ]
    for body, field in cases:
        assert_problem(await student.post(EVENTS, json=body), 422, field)
    # Inviting a whole unit needs oa.meeting.invite_org.
    body = {
        "title": "全院大会",
        "starts_at": at(1, 9),
        "ends_at": at(1, 10),
        "invitees": {"org_units": [{"id": 1}]},
    }
    assert_problem(await student.post(EVENTS, json=body), 403)
    assert await oa_counts(db) == before


async def test_only_the_organiser_changes_an_event_and_strangers_do_not_see_it(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    organiser, _o, guest, guest_person = await two_people(admin, tree, sign_in)
    stranger = await sign_in(await student_in(admin, tree))
    event = (await create(organiser, invitees={"people": [guest_person["id"]]}))["event"]
    url = f"{EVENTS}/{event['id']}"
    assert (await guest.get(url)).status_code == 200
    assert_problem(await stranger.get(url), 404)
    assert (await stranger.get(f"/oa/events/{event['id']}", headers=HTML)).status_code == 404
    assert_problem(await guest.patch(url, json={"title": "改"}), 403)
    assert_problem(await guest.post(f"{url}/cancel", json={}), 403)
    response = await organiser.patch(url, json={"title": "改过", "place": "新地点"})
    assert response.status_code == 200 and response.json()["title"] == "改过"
    assert_problem(await organiser.patch(url, json={"ends_at": at(29, 9)}), 422, "ends_at")
    assert_problem(await organiser.patch(url, json={"title": None}), 422, "title")


# ---------------------------------------------------------------- meetings


async def test_invitations_answers_and_what_the_organiser_sees(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    organiser, organiser_person, guest, guest_person = await two_people(admin, tree, sign_in)
    third = await staff_in(admin, tree, tree.college_a)
    third_client = await sign_in(third)
    saved = await create(
        organiser,
        title="教研室会议",
        invitees={"people": [guest_person["id"], third["id"], organiser_person["id"]]},
    )
    event = saved["event"]
    assert event["is_meeting"] is True
    assert {i["person_id"] for i in event["invitations"]} == {guest_person["id"], third["id"]}
    invited = await outbox_payloads(db, events.SCHEDULE_INVITED, event_id=event["id"])
    assert sorted(invited[0]["person_ids"]) == sorted([guest_person["id"], third["id"]])

    pending = (await guest.get("/api/v1/oa/invitations?pending=true")).json()
    assert event["id"] in [i["event_id"] for i in pending]
    url = f"{EVENTS}/{event['id']}/answer"
    response = await guest.post(url, json={"response": "accepted"})
    assert response.status_code == 200 and response.json()["my_response"] == "accepted"
    assert_problem(await third_client.post(url, json={"response": "declined"}), 422, "reason")
    response = await third_client.post(url, json={"response": "declined", "reason": "出差"})
    assert response.status_code == 200
    # Another invitee sees the answers but not the reasons; the organiser sees both.
    seen_by_guest = {i["person_id"]: i for i in response.json()["invitations"]}
    assert seen_by_guest[third["id"]]["reason"] == "出差"  # their own
    guest_view = (await guest.get(f"{EVENTS}/{event['id']}")).json()
    assert {i["person_id"]: i["reason"] for i in guest_view["invitations"]}[third["id"]] == ""
    mine = (await organiser.get(f"{EVENTS}/{event['id']}")).json()
    answers = {i["person_id"]: (i["response"], i["reason"]) for i in mine["invitations"]}
    assert answers == {guest_person["id"]: ("accepted", ""), third["id"]: ("declined", "出差")}
    assert mine["counts"] == {"accepted": 1, "declined": 1}
    assert await outbox_payloads(db, events.SCHEDULE_ANSWERED, event_id=event["id"])

    # Not one's invitation: the organiser has none (403); a stranger cannot see it (404).
    assert_problem(await organiser.post(url, json={"response": "accepted"}), 403)
    stranger = await sign_in(await student_in(admin, tree))
    assert_problem(await stranger.post(url, json={"response": "accepted"}), 404)
    assert_problem(await guest.post(url, json={"response": "maybe"}), 422, "response")

    response = await organiser.post(f"{EVENTS}/{event['id']}/cancel", json={"reason": "改期"})
    assert response.json()["cancelled"] is True
    assert_problem(await guest.post(url, json={"response": "tentative"}), 409)
    assert_problem(await organiser.post(f"{EVENTS}/{event['id']}/cancel", json={}), 409)
    cancelled = await outbox_payloads(db, events.SCHEDULE_CANCELLED, event_id=event["id"])
    assert cancelled[0]["person_ids"] == [guest_person["id"]]  # not the one who declined


async def test_conflicts_are_shown_when_inviting(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    organiser, _o, guest, guest_person = await two_people(admin, tree, sign_in)
    free = await staff_in(admin, tree, tree.college_a)
    await create(guest, title="已有安排", starts_at=at(40, 9), ends_at=at(40, 11))
    body = {
        "starts_at": at(40, 10),
        "ends_at": at(40, 12),
        "invitees": {"people": [guest_person["id"], free["id"]]},
    }
    conflicts = (await organiser.post(f"{EVENTS}/conflicts", json=body)).json()
    assert [c["person_id"] for c in conflicts] == [guest_person["id"]]
    assert "已有安排" not in str(conflicts)  # what they are doing is not told
    # Back to back is no conflict.
    adjacent = {**body, "starts_at": at(40, 11), "ends_at": at(40, 12)}
    adjacent["invitees"] = {"people": [guest_person["id"]]}
    assert (await organiser.post(f"{EVENTS}/conflicts", json=adjacent)).json() == []
    saved = await create(organiser, title="冲突会议", **body)
    assert [c["person_id"] for c in saved["conflicts"]] == [guest_person["id"]]
    page = await organiser.get(f"/oa/events/{saved['event']['id']}", headers=HTML)
    assert 'data-testid="busy"' in page.text
    # The invitation makes the guest busy from 10 to 12; declining it frees them again.
    assert len((await organiser.post(f"{EVENTS}/conflicts", json=adjacent)).json()) == 1
    answer = {"response": "declined", "reason": "有课"}
    await guest.post(f"{EVENTS}/{saved['event']['id']}/answer", json=answer)
    assert (await organiser.post(f"{EVENTS}/conflicts", json=adjacent)).json() == []


async def test_inviting_a_unit_expands_it_to_its_people(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn
) -> None:
    organiser = await staff_in(admin, tree, tree.college_a)
    client = await sign_in(organiser, [("staff", ScopeKind.SUBTREE, tree.college_a)])
    members = [await student_in(admin, tree) for _ in range(2)]
    saved = await create(
        client, title="专业大会", invitees={"org_units": [{"id": tree.major_a, "subtree": True}]}
    )
    invited = {i["person_id"] for i in saved["event"]["invitations"]}
    assert {m["id"] for m in members} <= invited
    assert organiser["id"] not in invited
    body = {"org_units": [{"id": tree.college_b}]}
    assert_problem(await client.post(f"{EVENTS}/{saved['event']['id']}/invitees", json=body), 403)
    newcomer = await staff_in(admin, tree, tree.college_b)
    response = await client.post(
        f"{EVENTS}/{saved['event']['id']}/invitees", json={"people": [newcomer["id"]]}
    )
    assert response.status_code == 200
    assert newcomer["id"] in {i["person_id"] for i in response.json()["event"]["invitations"]}


# ---------------------------------------------------------------- reminders


async def announce(db: Runtime) -> int:
    async with db.db.transaction() as session:
        return await actions.do_announce_due_reminders(session)


async def test_a_reminder_is_announced_once_and_shows_in_the_upcoming_list(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    organiser, organiser_person, guest, guest_person = await two_people(admin, tree, sign_in)
    decliner = await staff_in(admin, tree, tree.college_a)
    soon = clock.now().astimezone(CHINA) + timedelta(minutes=10)
    saved = await create(
        organiser,
        title="马上开会",
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=1)).isoformat(),
        reminder_minutes=15,
        invitees={"people": [guest_person["id"], decliner["id"]]},
    )
    event_id = saved["event"]["id"]
    decline = await (await sign_in(decliner)).post(
        f"{EVENTS}/{event_id}/answer", json={"response": "declined", "reason": "请假"}
    )
    assert decline.status_code == 200

    assert await announce(db) >= 2
    await REMINDERS.func()  # the scheduled job itself, again
    assert await announce(db) == 0
    due = await outbox_payloads(db, events.REMINDER_DUE, event_id=event_id)
    assert sorted(p["person_id"] for p in due) == sorted(
        [organiser_person["id"], guest_person["id"]]
    )
    assert {p["minutes_before"] for p in due} == {15}
    assert len({p["reminder_id"] for p in due}) == 2

    reminders = (await guest.get("/api/v1/oa/reminders")).json()
    assert [r["event_id"] for r in reminders if r["event_id"] == event_id] == [event_id]
    page = await guest.get("/oa/schedule", headers=HTML)
    assert 'data-testid="reminders"' in page.text and "马上开会" in page.text


async def test_two_runs_at_once_announce_each_reminder_once(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    organiser, _o, _g, guest_person = await two_people(admin, tree, sign_in)
    soon = clock.now().astimezone(CHINA) + timedelta(minutes=5)
    saved = await create(
        organiser,
        title="并发提醒",
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=1)).isoformat(),
        reminder_minutes=30,
        invitees={"people": [guest_person["id"]]},
    )
    event_id = saved["event"]["id"]
    # Two workers that both read the same due reminders: the claim lets one of them announce.
    async with db.db.transaction() as session:
        rows = list(await session.scalars(select(Reminder).where(Reminder.event_id == event_id)))
        first = await actions.do_announce_due_reminders(session)
        second = await actions.do_announce_due_reminders(session)
    assert (len(rows), first, second) == (2, 2, 0)
    assert len(await outbox_payloads(db, events.REMINDER_DUE, event_id=event_id)) == 2


async def test_moving_an_event_resets_its_reminders(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, db: Runtime
) -> None:
    organiser, _o, _g, guest_person = await two_people(admin, tree, sign_in)
    soon = clock.now().astimezone(CHINA) + timedelta(minutes=5)
    saved = await create(
        organiser,
        title="改期会",
        starts_at=soon.isoformat(),
        ends_at=(soon + timedelta(hours=1)).isoformat(),
        reminder_minutes=10,
        invitees={"people": [guest_person["id"]]},
    )
    event_id = saved["event"]["id"]
    await announce(db)
    later = soon + timedelta(days=2)
    response = await organiser.patch(
        f"{EVENTS}/{event_id}",
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
    )
    assert response.status_code == 200
    changed = await outbox_payloads(db, events.SCHEDULE_CHANGED, event_id=event_id)
    assert changed and changed[0]["person_ids"] == [guest_person["id"]]
    async with db.db.read() as session:
        rows = [
            (r.sent_at, r.due_at)
            for r in await session.scalars(select(Reminder).where(Reminder.event_id == event_id))
        ]
    assert [sent for sent, _due in rows] == [None, None]
    assert {due for _sent, due in rows} == {later - timedelta(minutes=10)}


# ---------------------------------------------------------------- calendar pages and iCal


async def test_ical_export_holds_my_events(login_as: LoginAs) -> None:
    student = await login_as("student")
    await create(student, title="iCal测试", place="A101", starts_at=at(3, 14), ends_at=at(3, 15))
    response = await student.get("/api/v1/oa/schedule.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    found = {str(e.get("summary")): e for e in calendar.walk("VEVENT")}
    assert "iCal测试" in found and str(found["iCal测试"].get("location")) == "A101"
    assert "高等数学复习" in found  # the seeded all-day event is a date
    assert "VALUE=DATE" in response.text or ";VALUE=DATE:" in response.text


async def test_calendar_pages_render_and_the_form_creates_a_meeting(
    admin: httpx.AsyncClient, tree: Tree, sign_in: SignIn, login_as: LoginAs
) -> None:
    organiser, _o, guest, guest_person = await two_people(admin, tree, sign_in)
    for url in ("/oa/schedule", "/oa/schedule?view=week", "/oa/schedule/new"):
        response = await organiser.get(url, headers=HTML)
        assert response.status_code == 200, url
    day = (datetime.now(CHINA).date() + timedelta(days=2)).isoformat()
    form = {
        "title": "表单会议",
        "start_date": day,
        "start_time": "15:00",
        "end_date": day,
        "end_time": "16:00",
        "reminder": "15",
        "invitee": [str(guest_person["id"])],
    }
    conflicts = await organiser.post("/oa/schedule/conflicts", data=form, headers=HTMX)
    assert 'data-testid="no-conflicts"' in conflicts.text
    response = await organiser.post("/oa/schedule/new", data=form, headers=HTML)
    assert response.status_code == 303, response.text
    event_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = await guest.get(f"/oa/events/{event_id}", headers=HTML)
    assert 'data-testid="answer-form"' in page.text
    response = await guest.post(
        f"/oa/events/{event_id}/answer", data={"response": "accepted"}, headers=HTML
    )
    assert response.status_code == 303
    week = await guest.get(f"/oa/schedule?view=week&date={day}", headers=HTML)
    assert "表单会议" in week.text
    bad = await organiser.post("/oa/schedule/new", data={**form, "end_time": "14:00"}, headers=HTML)
    assert bad.status_code == 422 and 'data-testid="error-ends_at"' in bad.text
    student = await login_as("student")
    page = await student.get("/oa/schedule", headers=HTML)
    assert 'data-testid="pending-invitations"' in page.text and "班委会" in page.text
