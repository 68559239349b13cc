"""Course selection over HTTP: a seat taken, the same request replayed, each rule's refusal
with its reason, a full section's waitlist promoted when a seat is dropped, overrides, the
lottery of a preference round, and the claim sets kept equal to the database."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.offering.models import Section, SectionMajor
from campus.domains.academic.programmes.models import (
    Programme,
    ProgrammeCourse,
    ProgrammeGroup,
    ProgrammePrerequisite,
)
from campus.domains.academic.selection import actions
from campus.domains.academic.selection.actions import seats_key
from campus.domains.academic.selection.models import Enrollment, Round
from campus.kernel import clock
from campus.kernel.cache import Claim
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from tests.conftest import LoginAs
from tests.domains.academic import factories
from tests.domains.academic.selection.conftest import API, Student, World, choose, select_key
from tests.platform.access.conftest import assert_problem


async def places(db: Runtime, section_id: int, status: str = "selected") -> set[int]:
    async with db.db.read() as session:
        return set(
            await session.scalars(
                select(Enrollment.person_id).where(
                    Enrollment.section_id == section_id, Enrollment.status == status
                )
            )
        )


async def assert_seats_match(db: Runtime, section_id: int) -> None:
    """The claim set holds exactly the students the database seats."""
    seated = {str(p) for p in await places(db, section_id)}
    assert await db.cache.claimed(seats_key(section_id)) == seated


def refusal(response: httpx.Response, reason: str) -> str:
    assert_problem(response, 409)
    body = response.json()
    assert body["reason"] == reason, body
    return str(body["detail"])


async def test_a_student_takes_a_seat_and_a_replay_changes_nothing(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    key = select_key()
    first = await choose(client, world.sections["x1"], **key)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "section_id": world.sections["x1"],
        "status": "selected",
        "waitlist_position": None,
        "replayed": False,
    }
    again = await choose(client, world.sections["x1"], **key)
    assert again.status_code == 200 and again.json()["replayed"] is True
    elsewhere = await choose(client, world.sections["z"], **key)
    assert_problem(elsewhere, 422, "Idempotency-Key")
    assert await places(db, world.sections["x1"]) == {me}
    await assert_seats_match(db, world.sections["x1"])
    mine = (await client.get(f"{API}/me", params={"term_id": world.term_id})).json()
    assert [(p["section_id"], p["status"]) for p in mine] == [(world.sections["x1"], "selected")]
    async with db.db.read() as session:
        changed = await session.scalar(
            select(func.count()).where(OutboxRow.name == "academic.selection.place_changed")
        )
    assert changed == 1, "the replay emitted a second event"


async def test_a_selection_without_an_idempotency_key_is_refused(
    world: World, student: Student
) -> None:
    client, _ = await student()
    response = await client.post(f"{API}/sections/{world.sections['x1']}/select")
    assert_problem(response, 422)
    assert "Idempotency-Key" in response.text


async def test_each_rule_refuses_with_its_reason_and_changes_nothing(
    db: Runtime, world: World, student: Student
) -> None:
    client, me = await student()
    assert (await choose(client, world.sections["x1"])).status_code == 200
    assert "“X（x1）”" in refusal(await choose(client, world.sections["x2"]), "same_course")
    assert "“X（x1）”" in refusal(await choose(client, world.sections["y"]), "clash")
    assert refusal(await choose(client, world.sections["x1"]), "already")
    assert (await choose(client, world.sections["z"])).status_code == 200  # 5 credits of 6
    async with db.db.transaction() as session:
        extra = await session.get(Round, world.round_id)
        assert extra is not None
        extra.max_credits = extra.max_credits - 2
    await client.delete(f"{API}/sections/{world.sections['z']}")
    assert "超过本轮上限" in refusal(await choose(client, world.sections["z"]), "credits")
    assert await places(db, world.sections["y"]) == set()
    assert await places(db, world.sections["x1"]) == {me}


async def test_students_outside_the_round_or_its_time_are_refused(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    senior, _ = await student(grade=2022)
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.grades = [2024]
    refusal(await choose(senior, world.sections["x1"]), "outside_round")
    away, _ = await student(in_school=False)
    refusal(await choose(away, world.sections["x1"]), "not_in_school")
    staff = await login_as("staff")
    assert_problem(await choose(staff, world.sections["x1"]), 403)
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.closes_at = clock.now() - timedelta(minutes=1)
    ontime, _ = await student()
    refusal(await choose(ontime, world.sections["x1"]), "round_closed")
    assert await places(db, world.sections["x1"]) == set()


async def test_a_full_section_takes_a_waitlist_and_a_drop_promotes_its_head(
    db: Runtime, world: World, student: Student
) -> None:
    x1 = world.sections["x1"]
    people = [await student() for _ in range(4)]
    answers = [(await choose(client, x1)).json() for client, _ in people]
    assert [a["status"] for a in answers] == ["selected", "selected", "waitlisted", "waitlisted"]
    assert [a["waitlist_position"] for a in answers[2:]] == [1, 2]
    (first, first_id), (_, second_id), (_, head_id), (_, tail_id) = people
    dropped = await first.delete(f"{API}/sections/{x1}")
    assert dropped.status_code == 204, dropped.text
    assert await places(db, x1) == {second_id, head_id}
    assert await places(db, x1, "waitlisted") == {tail_id}
    assert await places(db, x1, "dropped") == {first_id}
    await assert_seats_match(db, x1)
    async with db.db.read() as session:
        promoted = await session.scalar(
            select(Enrollment.source).where(
                Enrollment.section_id == x1, Enrollment.person_id == head_id
            )
        )
    assert promoted == "promoted"
    assert_problem(await first.delete(f"{API}/sections/{x1}"), 404)


async def test_a_section_with_no_waitlist_refuses_when_full(
    db: Runtime, world: World, student: Student
) -> None:
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.waitlist = False
    (one, _), (two, two_id) = await student(), await student()
    assert (await choose(one, world.sections["z"])).status_code == 200
    assert refusal(await choose(two, world.sections["z"]), "full") == "该教学班已满"
    assert two_id not in await places(db, world.sections["z"], "waitlisted")


async def test_the_registrar_overrides_past_the_capacity_with_a_reason(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    z = world.sections["z"]
    (one, _), (_, extra_id) = await student(), await student()
    assert (await choose(one, z)).status_code == 200
    registrar = await login_as("staff")
    added = await registrar.post(
        f"{API}/sections/{z}/overrides", json={"person_id": extra_id, "reason": "毕业班补修"}
    )
    assert added.status_code == 204, added.text
    assert extra_id in await places(db, z)
    await assert_seats_match(db, z)
    no_reason = await registrar.post(f"{API}/sections/{z}/overrides", json={"person_id": extra_id})
    assert_problem(no_reason, 422, "reason")
    assert_problem(
        await one.post(
            f"{API}/sections/{z}/overrides", json={"person_id": extra_id, "reason": "想上"}
        ),
        403,
    )
    removed = await registrar.post(
        f"{API}/sections/{z}/overrides/remove", json={"person_id": extra_id, "reason": "选错"}
    )
    assert removed.status_code == 204
    assert extra_id not in await places(db, z)


async def test_a_preference_round_is_drawn_own_major_first(
    db: Runtime, world: World, student: Student, login_as: LoginAs
) -> None:
    z = world.sections["z"]
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.kind = "lottery"
        # Also open to a major of college B (standing in for it here): its students come
        # after those of the offering college's majors.
        session.add(SectionMajor(section_id=z, org_unit_id=world.other_major_id, grade=None))
    wishes = [await student(major_id=world.other_major_id), await student(), await student()]
    for client, _ in wishes:
        answer = await choose(client, z)
        assert answer.json()["status"] == "preferred", answer.text
    registrar = await login_as("staff")
    early = await registrar.post(f"{API}/rounds/{world.round_id}/draw")
    assert_problem(early, 409)
    async with db.db.transaction() as session:
        found = await session.get(Round, world.round_id)
        assert found is not None
        found.closes_at = clock.now() - timedelta(seconds=1)
    drawn = await registrar.post(f"{API}/rounds/{world.round_id}/draw")
    assert drawn.status_code == 200, drawn.text
    assert drawn.json() == {"round_id": world.round_id, "sections": 1, "drawn": 1, "lost": 2}
    winner = await places(db, z)
    assert len(winner) == 1 and winner != {wishes[0][1]}, "the offering college's major first"
    assert await places(db, z, "lost") == {p for _, p in wishes} - winner
    assert_problem(await registrar.post(f"{API}/rounds/{world.round_id}/draw"), 409)
    assert await db.cache.claim(seats_key(z), "someone", 1) is Claim.COLD, "cooled after the draw"


async def test_the_sweeper_gives_back_what_the_database_does_not_hold(
    db: Runtime, world: World, student: Student, monkeypatch: pytest.MonkeyPatch
) -> None:
    x2 = world.sections["x2"]
    client, me = await student()
    assert (await choose(client, x2)).status_code == 200
    key = seats_key(x2)
    # A claim whose request died before its commit, and a seat of a drop whose give-back
    # never ran.
    assert await db.cache.claim(key, "crashed", 5) is Claim.TAKEN
    await db.cache.warm(key, ["stray"])
    monkeypatch.setattr(actions, "STALE_CLAIM_SECONDS", 0.0)
    async with db.db.read() as session:
        given_back = await actions.sweep(session, db.cache, [x2])
    assert given_back == 2
    assert await db.cache.claimed(key) == {str(me)}
    assert await db.cache.unsettled(key, 0) == []


async def test_a_round_needs_closing_after_opening_and_a_real_term(
    world: World, login_as: LoginAs
) -> None:
    registrar = await login_as("staff")
    now = clock.now()
    body = {
        "term_id": world.term_id,
        "name": "补退选",
        "kind": "add_drop",
        "opens_at": now.isoformat(),
        "closes_at": (now - timedelta(hours=1)).isoformat(),
        "max_credits": "25",
    }
    assert_problem(await registrar.post(f"{API}/rounds", json=body), 422)
    body["closes_at"] = (now + timedelta(days=2)).isoformat()
    assert_problem(
        await registrar.post(f"{API}/rounds", json={**body, "term_id": 0}), 422, "term_id"
    )
    made = await registrar.post(f"{API}/rounds", json=body)
    assert made.status_code == 201, made.text
    listed = await registrar.get(f"{API}/rounds", params={"term_id": world.term_id})
    assert [r["name"] for r in listed.json()] == ["补退选", "正选"]


async def test_a_student_firing_requests_is_slowed_down_alone(
    db: Runtime, world: World, student: Student, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actions, "SELECTS_PER_WINDOW", 3)
    (script, _), (person, person_id) = await student(), await student()
    answers = [await choose(script, world.sections["x2"]) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 409, 409, 429]
    body = answers[-1].json()
    assert body["reason"] == "rate" and body["retry_after"] >= 1
    assert (await choose(person, world.sections["x2"])).status_code == 200
    assert person_id in await places(db, world.sections["x2"])


async def test_an_open_search_page_sees_seats_taken_within_a_second(
    app: object, world: World, student: Student
) -> None:
    from tests.platform.messaging.sse import SseStream

    (watcher, _), (chooser, _) = await student(), await student()
    x1 = world.sections["x1"]
    async with SseStream(app, watcher, path=f"{API}/seats/live") as stream:
        await stream.started()
        assert (await choose(chooser, x1)).status_code == 200
        event = await stream.next_of("seats", seconds=5)
    assert event.data == {str(x1): 1}


async def test_a_section_opened_to_no_major_is_not_offered(
    db: Runtime, world: World, student: Student
) -> None:
    """A required course's section, taught to its assigned classes only."""
    from sqlalchemy import delete

    async with db.db.transaction() as session:
        await session.execute(
            delete(SectionMajor).where(SectionMajor.section_id == world.sections["z"])
        )
    client, _ = await student()
    refusal(await choose(client, world.sections["z"]), "not_offered")
    assert await places(db, world.sections["z"]) == set()


async def test_prerequisites_must_be_passed_and_a_passed_course_is_not_taken_again(
    db: Runtime, world: World, student: Student
) -> None:
    """Major A's 2024 programme asks for X before Z: Z is refused naming X until X is passed
    (a failed attempt does not count); then Z is taken and X, passed, is refused."""
    client, me = await student()
    async with db.db.transaction() as session:
        x1 = await session.get(Section, world.sections["x1"])
        z = await session.get(Section, world.sections["z"])
        assert x1 is not None and z is not None
        course_x = await session.get(Course, x1.course_id)
        course_z = await session.get(Course, z.course_id)
        assert course_x is not None and course_z is not None
        now = clock.now()
        programme = Programme(
            major_id=world.major_id,
            college_id=world.college_id,
            cohort=2024,
            version=1,
            name="甲专业2024级培养方案",
            total_credits=Decimal(10),
            status="published",
            published_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(programme)
        await session.flush()
        group = ProgrammeGroup(programme_id=programme.id, name="专业必修", min_credits=Decimal(5))
        session.add(group)
        await session.flush()
        for course in (course_x, course_z):
            session.add(
                ProgrammeCourse(
                    programme_id=programme.id,
                    group_id=group.id,
                    course_id=course.id,
                    term=3,
                    required=True,
                    hours=48,
                )
            )
        session.add(
            ProgrammePrerequisite(
                programme_id=programme.id, course_id=course_z.id, prerequisite_id=course_x.id
            )
        )
    assert "课程X" in refusal(await choose(client, world.sections["z"]), "prerequisite")
    async with db.db.transaction() as session:
        await factories.add_result(
            session, me, course_x, world.term_id, score=Decimal(40), passed=False
        )
    assert refusal(await choose(client, world.sections["z"]), "prerequisite")
    assert await places(db, world.sections["z"]) == set()

    async with db.db.transaction() as session:
        await factories.add_result(session, me, course_x, world.term_id, attempt="retake")
    assert (await choose(client, world.sections["z"])).status_code == 200
    assert "已修读通过" in refusal(await choose(client, world.sections["x1"]), "passed_before")
    assert await places(db, world.sections["x1"]) == set()


async def test_a_seat_the_claim_set_lost_is_not_sold_again(
    db: Runtime, world: World, student: Student
) -> None:
    z = world.sections["z"]  # one seat
    (one, one_id), (two, two_id) = await student(), await student()
    assert (await choose(one, z)).json()["status"] == "selected"
    # The cache loses the section's set (a restart) and it is warmed again without the seat
    # taken: as when that seat's request was still being written at the moment of warming.
    key = seats_key(z)
    await db.cache.cool(key)
    await db.cache.warm(key, [])
    answer = await choose(two, z)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "waitlisted", "the database's seat counts, not the set's"
    assert await places(db, z) == {one_id}
    assert await places(db, z, "waitlisted") == {two_id}
    assert await db.cache.claimed(key) == {str(one_id)}, "the set put right at once"
