"""Changing the exam timetable by hand, through the HTTP interface: moving one exam (checked
first: refused when students would sit two exams at once, cannot sit then, or do not fit;
warnings only with a confirmation), exams fixed by hand that the solver plans around, and
the sessions students cannot sit or staff cannot invigilate. After every change the stored
timetable is hard-feasible for the engine's independent scorer, every room in use has its
invigilators (nobody twice at once), and a refusal changes nothing."""

from __future__ import annotations

from collections import defaultdict
from datetime import time
from typing import Any

import httpx
from sqlalchemy import select

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.exams import build
from campus.domains.academic.exams.engine import scoring
from campus.domains.academic.exams.models import (
    Exam,
    ExamRoom,
    ExamSeat,
    ExamSession,
    Invigilation,
)
from campus.kernel.audit import AuditEntry
from campus.kernel.runtime import Runtime
from campus.kernel.tasks import TaskRunner
from tests.domains.academic import factories
from tests.platform.access.conftest import Tree, staff_in

from .conftest import API, SignIn, Small, assert_problem, counts, prepare, schedule


async def state(db: Runtime) -> dict[str, Any]:
    """Everything a refused change must leave as it was."""
    async with db.db.read() as session:
        return {
            "counts": await counts(db),
            "exams": sorted(
                (e.id, e.session_id, e.manual) for e in await session.scalars(select(Exam))
            ),
            "rooms": sorted(
                (r.exam_id, r.room_id, r.seats) for r in await session.scalars(select(ExamRoom))
            ),
            "seats": sorted(
                (s.exam_id, s.person_id, s.room_id, s.number)
                for s in await session.scalars(select(ExamSeat))
            ),
            "duties": sorted(
                (d.session_id, d.room_id, d.person_id)
                for d in await session.scalars(select(Invigilation))
            ),
        }


async def check_stored(db: Runtime, small: Small) -> None:
    """The stored timetable is what the independent scorer calls feasible; seats are complete;
    every room in use has invigilators, nobody twice in a session nor when unavailable."""
    async with db.db.read() as session:
        term = await session.get(Term, small.term_id)
        assert term is not None
        built = await build.build_problem(session, term, [], rooms_in_use=True)
        solution = await build.stored_solution(session, built)
        checked = scoring.score(built.problem, solution)
        assert checked.feasible, checked.hard
        used = set()
        for exam_id in built.exam_ids:
            exam = await session.get(Exam, exam_id)
            assert exam is not None
            rooms = list(await session.scalars(select(ExamRoom).where(ExamRoom.exam_id == exam_id)))
            seats = list(await session.scalars(select(ExamSeat).where(ExamSeat.exam_id == exam_id)))
            if rooms:
                assert sorted(s.person_id for s in seats) == sorted(built.students[exam_id])
                assert {s.room_id for s in seats} <= {r.room_id for r in rooms}
                used |= {(exam.session_id, r.room_id) for r in rooms}
        duties = [
            (d.session_id, d.room_id, d.person_id)
            for d in await session.scalars(select(Invigilation))
        ]
        away = await build.unavailable_of(session, small.term_id)
    assert {(s, r) for s, r, _p in duties} == used
    per_session: dict[int, list[int]] = defaultdict(list)
    for session_id, _room, person in duties:
        per_session[session_id].append(person)
        assert session_id not in away.get(person, set())
    assert all(len(p) == len(set(p)) for p in per_session.values())


async def listed(client: httpx.AsyncClient, small: Small) -> tuple[dict[str, Any], ...]:
    exams = (await client.get(f"{API}/terms/{small.term_id}/exams")).json()
    by_course = {e["course_id"]: e for e in exams}
    return by_course[small.courses["高数"]], by_course[small.courses["英语"]]


async def sessions_of(client: httpx.AsyncClient, small: Small) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = (
        await client.get(f"{API}/terms/{small.term_id}/sessions")
    ).json()
    return result


async def test_a_move_is_checked_first_and_refused_when_it_clashes(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await prepare(registrar, small)
    await schedule(registrar, small, runner)
    assert (await registrar.post(f"{API}/terms/{small.term_id}/publish")).status_code == 200
    maths, english = await listed(registrar, small)
    sessions = await sessions_of(registrar, small)
    r0, r1, r2 = small.rooms
    busy_days = {maths["session"]["day"], english["session"]["day"]}
    far = next(s for s in sessions if s["day"] not in busy_days)
    url = f"{API}/exams/{maths['id']}/move"
    before = await state(db)

    # 高数 at the time of 英语: all 8 students would sit two exams at once
    body = {"session_id": english["session"]["id"], "room_ids": [r0, r1]}
    check = (await registrar.post(f"{url}/check", json=body)).json()
    assert check["ok"] is False
    assert check["problems"][0]["field"] == "session_id"
    assert check["problems"][0]["reason"].startswith("8 名学生在该时段还有考试 英语（如 ")
    problem = assert_problem(await registrar.post(url, json=body), 409, "session_id")
    assert "8 名学生在该时段还有考试 英语" in problem["detail"]
    # one room of 4 exam seats for 8 students
    body = {"session_id": far["id"], "room_ids": [r0]}
    problem = assert_problem(await registrar.post(url, json=body), 409, "room_ids")
    assert "有 4 个考试座位，已有 0 人，放不下本考试的 8 人" in problem["detail"]
    assert await state(db) == before

    # a day of its own, in two rooms: no problem, no warning
    body = {"session_id": far["id"], "room_ids": [r1, r2]}
    check = (await registrar.post(f"{url}/check", json=body)).json()
    assert check["ok"] is True and check["problems"] == [] and check["warnings"] == []
    assert [(r["room_id"], r["seats"], r["taken"]) for r in check["rooms"]] == [
        (r1, 4, 0),
        (r2, 4, 0),
    ]
    assert all(len(d["invigilators"]) == 1 for d in check["invigilators"])
    assert await state(db) == before  # checking writes nothing
    response = await registrar.post(url, json=body)
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["session"]["id"] == far["id"] and not moved["manual"]
    assert [(r["room_id"], r["seats"]) for r in moved["rooms"]] == [(r1, 4), (r2, 4)]
    await check_stored(db, small)
    plan = (await registrar.get(f"{API}/terms/{small.term_id}/plan")).json()
    assert plan["published"] is False and plan["version"] == 1  # publish the change again
    async with db.db.read() as session:
        entry = await session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "academic.exams.move")
            .order_by(AuditEntry.id.desc())
        )
        assert entry is not None and entry.after["session_id"] == far["id"]
        assert entry.before["session_id"] == maths["session"]["id"]

    # next to 英语 the same day: 8 students sit two in a row; saved only when confirmed
    index = next(i for i, s in enumerate(sessions) if s["id"] == english["session"]["id"])
    near = next(
        s
        for s in (sessions[index - 1] if index else None, sessions[(index + 1) % len(sessions)])
        if s is not None and s["day"] == english["session"]["day"]
    )
    body = {"session_id": near["id"], "room_ids": [r0, r1]}
    check = (await registrar.post(f"{url}/check", json=body)).json()
    assert check["ok"] is True
    assert check["warnings"] == ["8 名学生在相邻时段还有考试 英语（连考）"]
    assert check["soft_delta"] > 0
    before = await state(db)
    assert_problem(await registrar.post(url, json=body), 409, "confirm")
    assert await state(db) == before
    response = await registrar.post(url, json={**body, "confirm": True, "fix": True})
    assert response.status_code == 200, response.text
    assert response.json()["manual"] is True  # fixed: a new run keeps it there
    await check_stored(db, small)

    # a new run plans 英语 around the fixed 高数, which keeps its session and rooms
    done = await schedule(registrar, small, runner)
    assert done["feasible"] is True, done
    maths, english = await listed(registrar, small)
    assert maths["session"]["id"] == near["id"]
    assert [(r["room_id"], r["seats"]) for r in maths["rooms"]] == [(r0, 4), (r1, 4)]
    assert english["session"]["id"] != near["id"]
    await check_stored(db, small)


async def test_manual_exams_take_part_in_the_clash_checks(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await prepare(registrar, small)
    maths, english = await listed(registrar, small)
    sessions = await sessions_of(registrar, small)
    first = sessions[0]["id"]
    # 高数 is organised by hand (no exam rooms) in the first session
    response = await registrar.patch(
        f"{API}/exams/{maths['id']}", json={"manual": True, "session_id": first}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rooms"] == []
    done = await schedule(registrar, small, runner)
    assert done["feasible"] is True, done
    maths, english = await listed(registrar, small)
    assert maths["session"]["id"] == first and maths["rooms"] == []
    assert english["session"]["id"] != first  # all 8 students sit 高数 then
    await check_stored(db, small)

    # 英语 cannot be put by hand at the time of 高数 either
    before = await state(db)
    problem = assert_problem(
        await registrar.patch(
            f"{API}/exams/{english['id']}", json={"manual": True, "session_id": first}
        ),
        409,
        "session_id",
    )
    assert "8 名学生在该时段还有考试 高数" in problem["detail"]
    assert await state(db) == before

    # the manual exam moved into exam rooms is seated and invigilated, then taken out again
    r0, r1, _r2 = small.rooms
    response = await registrar.post(
        f"{API}/exams/{maths['id']}/move", json={"session_id": first, "room_ids": [r1, r0]}
    )
    assert response.status_code == 200, response.text
    assert [(r["room_id"], r["seats"]) for r in response.json()["rooms"]] == [(r1, 4), (r0, 4)]
    await check_stored(db, small)
    response = await registrar.patch(f"{API}/exams/{maths['id']}", json={"session_id": None})
    assert response.status_code == 200, response.text
    assert response.json()["session"] is None and response.json()["rooms"] == []
    await check_stored(db, small)
    async with db.db.read() as session:
        assert not list(
            await session.scalars(select(ExamSeat).where(ExamSeat.exam_id == maths["id"]))
        )
        assert not list(
            await session.scalars(select(Invigilation).where(Invigilation.session_id == first))
        )


async def test_unavailable_sessions_are_honoured(
    db: Runtime,
    small: Small,
    registrar: httpx.AsyncClient,
    runner: TaskRunner,
    sign_in: SignIn,
    admin: httpx.AsyncClient,
    tree: Tree,
) -> None:
    await prepare(registrar, small)
    sessions = await sessions_of(registrar, small)
    allowed = {sessions[0]["id"], sessions[4]["id"]}  # two days
    student = small.students_a[0]  # sits both exams
    url = f"{API}/terms/{small.term_id}/unavailability"
    response = await registrar.post(
        url,
        json={
            "number": student["student_no"],
            "session_ids": [s["id"] for s in sessions if s["id"] not in allowed],
            "reason": "参加全国大学生数学竞赛",
        },
    )
    assert response.status_code == 201, response.text
    rows = response.json()
    assert len(rows) == 10 and {r["role"] for r in rows} == {"student"}
    assert rows[0]["reason"] == "参加全国大学生数学竞赛" and rows[0]["name"] == student["name"]
    teacher_1 = small.teacher_1["id"]
    response = await registrar.post(
        url,
        json={"person_id": teacher_1, "session_ids": [s["id"] for s in sessions]},
    )
    assert response.status_code == 201 and response.json()[0]["role"] == "staff"
    assert len((await registrar.get(url)).json()) == 22

    done = await schedule(registrar, small, runner)
    assert done["feasible"] is True, done
    maths, english = await listed(registrar, small)
    assert {maths["session"]["id"], english["session"]["id"]} == allowed
    await check_stored(db, small)
    async with db.db.read() as session:
        duties = [
            (d.session_id, d.room_id, d.person_id)
            for d in await session.scalars(select(Invigilation))
        ]
    assert teacher_1 not in {p for _s, _r, p in duties}

    # a student with an exam at that time: move the exam first
    before = await state(db)
    other = small.students_b[0]
    problem = assert_problem(
        await registrar.post(
            url, json={"person_id": other["id"], "session_ids": [maths["session"]["id"]]}
        ),
        409,
        "session_ids",
    )
    assert "有考试 高数，请先调整该考试" in problem["detail"]
    assert await state(db) == before

    # staff away where they are on duty: refused while nobody else is free to take over …
    teacher_2 = small.teacher_2["id"]
    where = maths["session"]["id"]
    assert teacher_2 in {p for s, _r, p in duties if s == where}
    body = {"person_id": teacher_2, "session_ids": [where], "reason": "出差"}
    problem = assert_problem(await registrar.post(url, json=body), 409, "session_ids")
    assert "监考人员不足" in problem["detail"] and "只有 1 名有空" in problem["detail"]
    assert await state(db) == before
    # … then their duties go to a colleague at once
    await staff_in(admin, tree, tree.college_a)
    response = await registrar.post(url, json=body)
    assert response.status_code == 201, response.text
    after = await state(db)
    assert teacher_2 not in {p for s, _r, p in after["duties"] if s == where}
    untouched = [d for d in duties if d[0] != where]
    assert [d for d in after["duties"] if d[0] != where] == sorted(untouched)
    await check_stored(db, small)

    # removing an entry
    row_id = response.json()[0]["id"]
    assert (await registrar.delete(f"{API}/unavailability/{row_id}")).status_code == 204
    assert_problem(await registrar.delete(f"{API}/unavailability/{row_id}"), 404)
    # only the registrar
    client = await sign_in(student)
    assert_problem(
        await client.post(url, json={"person_id": student["id"], "session_ids": [where]}), 403
    )
    assert_problem(await client.get(url), 403)
    assert_problem(
        await client.post(
            f"{API}/exams/{maths['id']}/move/check", json={"session_id": where, "room_ids": []}
        ),
        403,
    )


async def test_bad_unavailability_input_is_refused_and_changes_nothing(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    await prepare(registrar, small)
    sessions = await sessions_of(registrar, small)
    one = [sessions[0]["id"]]
    async with db.db.transaction() as session:
        term = await factories.add_term(session, name="另一学期")
        elsewhere = ExamSession(
            term_id=term.id, day=term.start_date, starts=time(8, 30), ends=time(10, 30)
        )
        session.add(elsewhere)
        await session.flush()
        elsewhere_id = elsewhere.id
    url = f"{API}/terms/{small.term_id}/unavailability"
    student = small.students_a[0]
    before = await state(db)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"person_id": 987654321, "session_ids": one}, 422, "person_id"),
        ({"number": "NO-SUCH-NUMBER", "session_ids": one}, 422, "number"),
        ({"session_ids": one}, 422, "person_id"),
        ({"person_id": student["id"], "number": "X", "session_ids": one}, 422, "person_id"),
        ({"person_id": student["id"], "session_ids": [elsewhere_id]}, 422, "session_ids"),
        ({"person_id": student["id"], "session_ids": [987654321]}, 422, "session_ids"),
        ({"person_id": student["id"], "session_ids": []}, 422, "session_ids"),
        ({"person_id": student["id"], "session_ids": one, "reason": "长" * 101}, 422, "reason"),
        ({"person_id": student["id"], "session_ids": one, "why": "x"}, 422, "why"),
    ]
    for body, status, field in cases:
        assert_problem(await registrar.post(url, json=body), status, field)
    assert_problem(
        await registrar.post(
            f"{API}/terms/987654321/unavailability",
            json={"person_id": student["id"], "session_ids": one},
        ),
        404,
    )
    assert await state(db) == before


async def test_bad_moves_are_refused_and_change_nothing(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await prepare(registrar, small)
    maths, english = await listed(registrar, small)
    sessions = await sessions_of(registrar, small)
    target = sessions[-1]["id"]
    r0, r1, _r2 = small.rooms
    move = f"{API}/exams/{maths['id']}/move"
    # not scheduled yet, not held centrally, or unknown
    assert_problem(await registrar.post(move, json={"session_id": target, "room_ids": [r0]}), 409)
    response = await registrar.patch(f"{API}/exams/{english['id']}", json={"excluded": True})
    assert response.status_code == 200
    assert_problem(
        await registrar.post(
            f"{API}/exams/{english['id']}/move", json={"session_id": target, "room_ids": [r0]}
        ),
        409,
    )
    assert_problem(
        await registrar.post(f"{API}/exams/987654321/move", json={"session_id": target}), 404
    )
    await schedule(registrar, small, runner)
    before = await state(db)
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"session_id": 987654321, "room_ids": [r0, r1]}, 422, "session_id"),
        ({"session_id": target, "room_ids": [small.no_seats]}, 422, "room_ids"),
        ({"session_id": target, "room_ids": [987654321]}, 422, "room_ids"),
        ({"session_id": target, "room_ids": [r0], "later": True}, 422, "later"),
        ({"room_ids": [r0]}, 422, "session_id"),
    ]
    for body, status, field in cases:
        assert_problem(await registrar.post(move, json=body), status, field)
        assert_problem(await registrar.post(f"{move}/check", json=body), status, field)
    # a run going: its result would replace the move
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/runs", json={"time_limit": 2, "room_ids": small.rooms}
    )
    assert response.status_code == 202
    after_run = await state(db)
    assert_problem(
        await registrar.post(move, json={"session_id": target, "room_ids": [r0, r1]}), 409
    )
    assert await state(db) == after_run
    assert {k: v for k, v in after_run.items() if k != "counts"} == {
        k: v for k, v in before.items() if k != "counts"
    }


async def test_the_desk_and_the_move_page(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await prepare(registrar, small)
    await schedule(registrar, small, runner)
    maths, english = await listed(registrar, small)
    sessions = await sessions_of(registrar, small)
    token = registrar.headers["X-CSRF-Token"]
    r0, r1, _r2 = small.rooms
    # registering an unavailable session on the desk, by student number
    student = small.students_a[0]
    free = next(
        s["id"]
        for s in sessions
        if s["id"] not in (maths["session"]["id"], english["session"]["id"])
    )
    added = await registrar.post(
        f"/academic/exams/terms/{small.term_id}/unavailability",
        data={
            "csrf_token": token,
            "number": student["student_no"],
            "session_ids": [str(free)],
            "reason": "省运会",
        },
    )
    assert added.status_code == 303
    desk = await registrar.get("/academic/exams", params={"term_id": small.term_id})
    assert "省运会" in desk.text and "不可考" in desk.text
    assert f'data-testid="move-{maths["id"]}"' in desk.text
    # the move page shows the check of the present placement, the partial that of another
    page = await registrar.get(f"/academic/exams/exams/{maths['id']}/move")
    assert page.status_code == 200 and "没有冲突，可以调整" in page.text
    partial = await registrar.get(
        f"/academic/exams/exams/{maths['id']}/move/check",
        params={"session_id": free, "room_ids": [r0, r1]},
    )
    assert "不能调整：1 名学生在该时段不能考试" in partial.text and student["name"] in partial.text
    # saving a refused move: back to the page, nothing changed
    before = await state(db)
    refused = await registrar.post(
        f"/academic/exams/exams/{maths['id']}/move",
        data={"csrf_token": token, "session_id": str(free), "room_ids": [str(r0), str(r1)]},
    )
    assert refused.status_code == 303
    assert refused.headers["location"].startswith(f"/academic/exams/exams/{maths['id']}/move?")
    assert await state(db) == before
    response = await registrar.get(f"/academic/exams/exams/{987654321}/move")
    assert response.status_code == 404
