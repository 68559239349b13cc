"""Exam scheduling through the HTTP interface: generating exams and sessions (idempotent), a
small scheduling run stored hard-feasible by the engine's independent scorer with complete
seat plans and invigilators never double-booked, publishing (an outbox event), people's own
views and who may read them, the Excel export, and bad input refused with nothing changed."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date
from types import SimpleNamespace

import httpx
from openpyxl import load_workbook
from sqlalchemy import select

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.exams import build
from campus.domains.academic.exams.engine import scoring
from campus.domains.academic.exams.models import Exam, ExamPlan, ExamRoom, ExamSeat, Invigilation
from campus.domains.academic.rooms.models import Room
from campus.kernel.events import OutboxRow
from campus.kernel.runtime import Runtime
from campus.kernel.tasks import TaskRunner

from .conftest import (
    API,
    HOLIDAY,
    SignIn,
    Small,
    assert_problem,
    counts,
    prepare,
    schedule,
)


async def test_generation_is_idempotent(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    response = await registrar.post(f"{API}/terms/{small.term_id}/exams/generate")
    assert response.json() == {"created": 2, "existing": 0}
    exams = (await registrar.get(f"{API}/terms/{small.term_id}/exams")).json()
    by_course = {e["course_id"]: e for e in exams}
    # One exam per course assessed by exam, with all its sections; none for 体育 (考查).
    assert set(by_course) == {small.courses["高数"], small.courses["英语"]}
    maths = by_course[small.courses["高数"]]
    assert sorted(maths["section_ids"]) == sorted(
        [small.sections["高数01"], small.sections["高数02"]]
    )
    assert maths["students"] == 8 and maths["duration"] == 120
    assert by_course[small.courses["英语"]]["students"] == 8
    before = await counts(db)
    again = await registrar.post(f"{API}/terms/{small.term_id}/exams/generate")
    assert again.json() == {"created": 0, "existing": 2}
    after = await counts(db)
    assert (after["exams"], after["exam_sections"]) == (before["exams"], before["exam_sections"])

    response = await registrar.post(f"{API}/terms/{small.term_id}/sessions/generate")
    assert response.json()["created"] == 4 * 3  # Tue–Fri of week 5 (Monday is a holiday)
    sessions = (await registrar.get(f"{API}/terms/{small.term_id}/sessions")).json()
    days = {date.fromisoformat(s["day"]) for s in sessions}
    assert HOLIDAY not in days and len(days) == 4
    assert all(date(2026, 10, 6) <= d <= date(2026, 10, 9) for d in days)
    assert sorted({s["starts"] for s in sessions}) == ["08:30:00", "14:00:00", "19:00:00"]
    again = await registrar.post(f"{API}/terms/{small.term_id}/sessions/generate")
    assert again.json() == {"created": 0, "existing": 12}
    assert (await counts(db))["sessions"] == 12


async def test_scheduling_is_stored_feasible_seated_and_invigilated(
    db: Runtime,
    small: Small,
    registrar: httpx.AsyncClient,
    runner: TaskRunner,
    sign_in: SignIn,
) -> None:
    await prepare(registrar, small)
    done = await schedule(registrar, small, runner)
    assert done["feasible"] is True and done["applied"] is True, done
    assert done["figures"]["history"], "the cost curve has points"
    assert done["report"]["seats"] == 16
    # The independent scorer agrees with what was stored.
    async with db.db.read() as session:
        term = await session.get(Term, small.term_id)
        assert term is not None
        built = await build.build_problem(session, term, small.rooms)
        solution = await build.stored_solution(session, built)
        score = scoring.score(built.problem, solution)
        assert score.feasible, score.hard
        assert all(p is not None for p in solution.placements)
        exams = {
            e.id: SimpleNamespace(id=e.id, course_id=e.course_id, session_id=e.session_id)
            for e in await session.scalars(select(Exam))
        }
        seats = [
            SimpleNamespace(
                exam_id=s.exam_id, person_id=s.person_id, room_id=s.room_id, number=s.number
            )
            for s in await session.scalars(select(ExamSeat))
        ]
        rooms = [
            SimpleNamespace(exam_id=r.exam_id, room_id=r.room_id, seats=r.seats)
            for r in await session.scalars(select(ExamRoom))
        ]
        duties = [
            SimpleNamespace(session_id=d.session_id, room_id=d.room_id, person_id=d.person_id)
            for d in await session.scalars(select(Invigilation))
        ]
        capacity = {r: c for r, c in await session.execute(select(Room.id, Room.exam_capacity))}
    # No student has two exams at once (the two exams share every student).
    maths, english = (
        next(e for e in exams.values() if e.course_id == small.courses[name])
        for name in ("高数", "英语")
    )
    assert maths.session_id and english.session_id and maths.session_id != english.session_id
    # Seat plans are complete: every student of each exam has one seat, a seat holds one.
    for exam in (maths, english):
        mine = [s for s in seats if s.exam_id == exam.id]
        assert sorted(s.person_id for s in mine) == sorted(built.students[exam.id])
        assert len(mine) == 8
        assert len({(s.room_id, s.number) for s in mine}) == 8
        placed = {r.room_id: r.seats for r in rooms if r.exam_id == exam.id}
        assert len(placed) >= 2  # 8 students, 4 seats a room: split
        assert Counter(s.room_id for s in mine) == Counter(placed)
        assert all(n <= capacity[r] for r, n in placed.items())
    # Invigilators: every room in use has one, nobody is in two rooms of a session.
    used = {(exams[r.exam_id].session_id, r.room_id) for r in rooms}
    assert {(d.session_id, d.room_id) for d in duties} == used
    per_session: dict[int, list[int]] = defaultdict(list)
    for d in duties:
        per_session[d.session_id].append(d.person_id)
    assert all(len(p) == len(set(p)) for p in per_session.values())
    teachers = {small.teacher_1["id"], small.teacher_2["id"]}
    assert {d.person_id for d in duties} <= teachers  # the teachers suffice: them first

    # Not published yet: the student sees nothing.
    student = await sign_in(small.students_a[0])
    assert (await student.get(f"{API}/mine", params={"term_id": small.term_id})).json() == []
    before = await counts(db)
    response = await registrar.post(f"{API}/terms/{small.term_id}/publish")
    assert response.status_code == 200, response.text
    assert response.json()["published"] is True and response.json()["version"] == 1
    after = await counts(db)
    assert after["outbox"] == before["outbox"] + 1
    async with db.db.read() as session:
        name, payload = (
            await session.execute(
                select(OutboxRow.name, OutboxRow.payload).order_by(OutboxRow.id.desc()).limit(1)
            )
        ).one()
    assert name == "academic.exams.published"
    assert payload["exams"] == 2 and payload["seats"] == 16 and payload["version"] == 1

    mine = (await student.get(f"{API}/mine", params={"term_id": small.term_id})).json()
    assert {e["course_name"] for e in mine} == {"高数", "英语"}
    assert all(e["seat"] and e["room"] and e["day"] for e in mine)
    page = await student.get("/academic/my/exams", params={"term_id": small.term_id})
    assert page.status_code == 200 and "座位号" in page.text and "高数" in page.text
    teacher = await sign_in(small.teacher_1)
    courses = (await teacher.get(f"{API}/mine/courses", params={"term_id": small.term_id})).json()
    assert [c["course_name"] for c in courses] == ["高数"]
    duty_count = sum(1 for d in duties if d.person_id == small.teacher_1["id"])
    mine_duties = (
        await teacher.get(f"{API}/mine/duties", params={"term_id": small.term_id})
    ).json()
    assert len(mine_duties) == duty_count

    # The registrar's overview, a seat plan and the Excel export.
    overview = (await registrar.get(f"{API}/terms/{small.term_id}/overview")).json()
    assert sum(o["students"] for o in overview) == 16
    first = overview[0]
    plan = (
        await registrar.get(f"{API}/sessions/{first['session_id']}/rooms/{first['room_id']}/seats")
    ).json()
    assert len(plan) == first["students"]
    page = await registrar.get(
        f"/academic/exams/sessions/{first['session_id']}/rooms/{first['room_id']}/seats"
    )
    assert page.status_code == 200 and plan[0]["name"] in page.text
    desk = await registrar.get("/academic/exams", params={"term_id": small.term_id})
    assert desk.status_code == 200 and "已发布第 1 版" in desk.text
    export = await registrar.get(f"{API}/terms/{small.term_id}/schedule.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "课程代码"
    assert {r[1] for r in rows[1:]} == {"高数", "英语"}
    assert sum(int(r[7] or 0) for r in rows[1:]) == 16


async def test_a_student_sees_only_their_own_seats(
    db: Runtime,
    small: Small,
    registrar: httpx.AsyncClient,
    runner: TaskRunner,
    sign_in: SignIn,
) -> None:
    await prepare(registrar, small)
    await schedule(registrar, small, runner)
    assert (await registrar.post(f"{API}/terms/{small.term_id}/publish")).status_code == 200
    me, other = small.students_a[0], small.students_b[0]
    student = await sign_in(me)
    own = await student.get(f"{API}/people/{me['id']}/exams", params={"term_id": small.term_id})
    assert own.status_code == 200 and len(own.json()) == 2
    assert_problem(
        await student.get(f"{API}/people/{other['id']}/exams", params={"term_id": small.term_id}),
        403,
    )
    theirs = await registrar.get(
        f"{API}/people/{other['id']}/exams", params={"term_id": small.term_id}
    )
    assert theirs.status_code == 200 and len(theirs.json()) == 2
    # The registrar's pages and API are closed to students.
    assert_problem(await student.get(f"{API}/terms/{small.term_id}/overview"), 403)
    assert_problem(await student.post(f"{API}/terms/{small.term_id}/exams/generate"), 403)
    seats = await student.get(f"{API}/sessions/1/rooms/{small.rooms[0]}/seats")
    assert seats.status_code == 403


async def test_bad_input_is_refused_and_changes_nothing(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    term = small.term_id
    # Scheduling with no sessions (and no exams yet).
    before = await counts(db)
    assert_problem(await registrar.post(f"{API}/terms/{term}/runs", json={"time_limit": 2}), 409)
    assert (await counts(db))["runs"] == before["runs"]
    assert_problem(await registrar.post(f"{API}/terms/{term}/publish"), 409)
    response = await registrar.post(f"{API}/terms/{term}/exams/generate")
    assert response.status_code == 200
    assert_problem(await registrar.post(f"{API}/terms/{term}/runs", json={"time_limit": 2}), 409)

    # Sessions outside the exam weeks, ending before they start, or overlapping.
    before = await counts(db)
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/sessions",
            json={"day": "2026-09-15", "starts": "08:30", "ends": "10:30"},
        ),
        422,
        "day",
    )
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/sessions",
            json={"day": "2026-10-06", "starts": "10:30", "ends": "08:30"},
        ),
        422,
        "ends",
    )
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/sessions/generate",
            json={
                "times": [
                    {"starts": "08:00", "ends": "10:00"},
                    {"starts": "09:00", "ends": "11:00"},
                ]
            },
        ),
        422,
        "times",
    )
    assert await counts(db) == before
    good = await registrar.post(
        f"{API}/terms/{term}/sessions",
        json={"day": "2026-10-06", "starts": "08:30", "ends": "10:30"},
    )
    assert good.status_code == 201, good.text
    session_id = good.json()["id"]
    before = await counts(db)
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/sessions",
            json={"day": "2026-10-06", "starts": "10:00", "ends": "12:00"},
        ),
        409,
        "starts",
    )
    assert await counts(db) == before

    # An exam longer than its session; a session only a manual exam may be given.
    exams = (await registrar.get(f"{API}/terms/{term}/exams")).json()
    exam_id = exams[0]["id"]
    assert_problem(
        await registrar.patch(f"{API}/exams/{exam_id}", json={"session_id": session_id}),
        422,
        "session_id",
    )
    assert_problem(
        await registrar.patch(
            f"{API}/exams/{exam_id}",
            json={"manual": True, "session_id": session_id, "duration": 150},
        ),
        422,
        "duration",
    )
    assert_problem(
        await registrar.patch(
            f"{API}/exams/{exam_id}", json={"section_ids": [small.sections["体育01"]]}
        ),
        422,
        "section_ids",
    )
    assert await counts(db) == before
    async with db.db.read() as session:
        exam = await session.get(Exam, exam_id)
        assert exam is not None and exam.duration == 120 and not exam.manual
        assert exam.session_id is None
    ok = await registrar.patch(
        f"{API}/exams/{exam_id}", json={"manual": True, "session_id": session_id}
    )
    assert ok.status_code == 200 and ok.json()["session"]["id"] == session_id
    # Its session cannot be shortened below it, nor deleted.
    assert_problem(
        await registrar.put(
            f"{API}/sessions/{session_id}",
            json={"day": "2026-10-06", "starts": "08:30", "ends": "09:30"},
        ),
        422,
        "ends",
    )
    assert_problem(await registrar.delete(f"{API}/sessions/{session_id}"), 409)

    # A room with no exam seats, or one that does not exist.
    before = await counts(db)
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/runs", json={"time_limit": 2, "room_ids": [small.no_seats]}
        ),
        422,
        "room_ids",
    )
    assert_problem(
        await registrar.post(
            f"{API}/terms/{term}/runs", json={"time_limit": 2, "room_ids": [987654321]}
        ),
        422,
        "room_ids",
    )
    assert_problem(await registrar.post(f"{API}/terms/{term}/runs", json={"time_limit": 0}), 422)
    assert await counts(db) == before
    assert_problem(await registrar.post(f"{API}/terms/987654321/exams/generate"), 404)


async def test_infeasible_run_shows_reasons_and_stores_nothing(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    exams = await prepare(registrar, small)
    # 高数 takes three hours: longer than every session.
    maths = next(e for e in exams if e["course_id"] == small.courses["高数"])
    response = await registrar.patch(f"{API}/exams/{maths['id']}", json={"duration": 180})
    assert response.status_code == 200, response.text
    before = await counts(db)
    done = await schedule(registrar, small, runner)
    assert done["feasible"] is False and done["applied"] is False
    assert any("超过最长的时段" in r for r in done["report"]["reasons"]), done["report"]
    after = await counts(db)
    for table in ("rooms", "seats", "duties", "plans"):
        assert after[table] == before[table] == 0, table
    async with db.db.read() as session:
        assert not list(await session.scalars(select(Exam).where(Exam.session_id.is_not(None))))
        assert await session.scalar(select(ExamPlan)) is None
    page = await registrar.get(f"/academic/exams/runs/{done['id']}/status")
    assert page.status_code == 200 and "超过最长的时段" in page.text


async def test_college_staff_invigilate_when_the_teachers_are_too_few(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    exams = await prepare(registrar, small)
    english = next(e for e in exams if e["course_id"] == small.courses["英语"])
    maths = next(e for e in exams if e["course_id"] == small.courses["高数"])
    # 英语 is held by its college; 高数 keeps only section 01 (class A, 5 students, teacher 1).
    response = await registrar.patch(f"{API}/exams/{english['id']}", json={"excluded": True})
    assert response.status_code == 200 and response.json()["excluded"] is True
    response = await registrar.patch(
        f"{API}/exams/{maths['id']}", json={"section_ids": [small.sections["高数01"]]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["students"] == 5
    done = await schedule(registrar, small, runner)
    assert done["feasible"] is True, done
    async with db.db.read() as session:
        rooms = list(await session.scalars(select(ExamRoom.room_id)))
        duties = [
            (d.session_id, d.room_id, d.person_id)
            for d in await session.scalars(select(Invigilation))
        ]
        english_seats = list(
            await session.scalars(select(ExamSeat.id).where(ExamSeat.exam_id == english["id"]))
        )
    assert len(rooms) == 2 and english_seats == []  # 5 students in rooms of 4; 英语 not held
    people = [p for _s, _r, p in duties]
    assert len(duties) == 2 and len(set(people)) == 2
    assert small.teacher_1["id"] in people  # the teacher first, then a colleague
