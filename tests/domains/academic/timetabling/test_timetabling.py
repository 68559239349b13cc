"""Timetabling through the HTTP interface: building the problem, a short run stored
hard-feasible, manual moves (ok and 409), publishing, the published views and who may read
them, iCal, free rooms, ITC-2007 files and bad inputs."""

from __future__ import annotations

import httpx
from icalendar import Calendar

from campus.domains.academic.calendar.models import Term
from campus.domains.academic.timetabling import build
from campus.domains.academic.timetabling.engine import scoring
from campus.kernel.runtime import Runtime
from campus.kernel.tasks import TaskRunner
from tests.domains.academic.timetabling.conftest import (
    API,
    PUBLIC,
    VALID,
    SignIn,
    Small,
    assert_problem,
    counts,
    lecture_spots,
    place,
)
from tests.platform.access.conftest import outbox_events


async def test_build_problem_from_the_term(db: Runtime, small: Small) -> None:
    async with db.db.read() as session:
        term = await session.get(Term, small.term_id)
        assert term is not None
        built = await build.build_problem(session, term)
    problem = built.problem
    assert (problem.days, problem.periods_per_day) == (5, 4)
    assert {c.id for c in problem.courses} == {f"s{s}" for s in small.sections}
    english = next(c for c in problem.courses if c.id == f"s{small.sections[1]}")
    assert english.teachers == (f"p{small.teacher_2['id']}",)
    curricula = {q.id: set(q.courses) for q in problem.curricula}
    assert curricula[f"c{small.class_a}"] == {f"s{small.sections[0]}", f"s{small.sections[1]}"}
    assert curricula[f"c{small.class_b}"] == {f"s{s}" for s in small.sections[1:]}
    assert any(r.room_type == "lab" for r in problem.rooms)


async def test_run_is_stored_hard_feasible(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    # The teacher is unavailable on Monday morning: the solver must respect it.
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/teacher-times",
        json={"person_id": small.teacher_1["id"], "day": 0, "block": 1, "reason": "病假"},
    )
    assert response.status_code == 201, response.text
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/runs", json={"time_limit": 2, "seed": 1}
    )
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "queued"
    # A second run of the same term while one is pending is refused.
    assert_problem(
        await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"time_limit": 2}), 409
    )
    assert await runner.poll_once() == [run["task_id"]]
    await runner.wait(120)
    done = (await registrar.get(f"{API}/runs/{run['id']}")).json()
    assert done["status"] == "succeeded", done
    assert done["feasible"] is True and done["hard"] == 0 and done["applied"] is True
    assert done["figures"]["history"], "the cost curve has points"
    async with db.db.read() as session:
        term = await session.get(Term, small.term_id)
        assert term is not None
        built = await build.build_problem(session, term)
        placements = await build.draft_placements(session, term.id, built.grid)
    assert len(placements) == 7
    assert scoring.score(built.problem, placements).feasible
    teacher_1_slots = {
        (p.slot)
        for p in placements
        if p.course in {f"s{small.sections[0]}", f"s{small.sections[2]}"}
    }
    assert 0 not in teacher_1_slots  # Monday, block 1


async def test_reschedule_moves_few_lectures(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await place(db, small, VALID)
    before = await lecture_spots(db, small.term_id)
    # Teacher 1 falls ill on Monday block 1, where 高数 is.
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/teacher-times",
        json={"person_id": small.teacher_1["id"], "day": 0, "block": 1},
    )
    assert response.status_code == 201
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/runs", json={"mode": "reschedule", "time_limit": 2}
    )
    assert response.status_code == 202, response.text
    await runner.poll_once()
    await runner.wait(120)
    done = (await registrar.get(f"{API}/runs/{response.json()['id']}")).json()
    assert done["status"] == "succeeded" and done["feasible"], done
    after = await lecture_spots(db, small.term_id)
    changed = [b for b, a in zip(before, after, strict=True) if b != a]
    assert done["moved"] == len(done["report"]["moves"]) >= 1
    assert len(changed) <= 2
    moved_sections = {m["section_id"] for m in done["report"]["moves"]}
    assert small.sections[0] in moved_sections


async def test_infeasible_run_reports_conflicts(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    # Teacher 1 is unavailable all week: 高数 and 程序设计 cannot be placed.
    for day in range(5):
        for block in range(1, 5):
            response = await registrar.post(
                f"{API}/terms/{small.term_id}/teacher-times",
                json={"person_id": small.teacher_1["id"], "day": day, "block": block},
            )
            assert response.status_code == 201
    response = await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"time_limit": 2})
    await runner.poll_once()
    await runner.wait(120)
    done = (await registrar.get(f"{API}/runs/{response.json()['id']}")).json()
    assert done["status"] == "succeeded"
    assert done["feasible"] is False and done["applied"] is False
    assert done["report"]["conflicts"]
    assert await lecture_spots(db, small.term_id) == []  # (the demo term has its own)


async def test_manual_move_ok_and_clash(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    ids = await place(db, small, VALID)
    maths = ids[0]
    options = (await registrar.get(f"{API}/lectures/{maths}/options")).json()
    assert len(options) == 20
    by_slot = {(o["day"], o["block"]): o for o in options}
    # Monday block 2: class A has English then.
    assert not by_slot[(0, 2)]["ok"] and any("班级" in r for r in by_slot[(0, 2)]["reasons"])
    assert by_slot[(4, 4)]["ok"]
    before = await counts(db)
    clash = await registrar.post(f"{API}/lectures/{maths}/move", json={"day": 0, "block": 2})
    body = assert_problem(clash, 409)
    assert body["reasons"]
    assert await counts(db) == before
    assert (await lecture_spots(db, small.term_id))[0][2:4] == (0, 1)
    ok = await registrar.post(f"{API}/lectures/{maths}/move", json={"day": 4, "block": 4})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["day"], ok.json()["block"]) == (4, 4)
    # Not a slot of the term: refused, nothing changed.
    assert_problem(
        await registrar.post(f"{API}/lectures/{maths}/move", json={"day": 4, "block": 9}), 409
    )
    # Pinned lectures do not move by hand.
    assert (await registrar.post(f"{API}/lectures/{maths}/pin", json={"pinned": True})).json()[
        "pinned"
    ]
    assert_problem(
        await registrar.post(f"{API}/lectures/{maths}/move", json={"day": 3, "block": 4}), 409
    )
    assert_problem(
        await registrar.post(f"{API}/lectures/999999/move", json={"day": 0, "block": 1}), 404
    )


async def test_publish_views_and_access(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await place(db, small, VALID)
    response = await registrar.post(f"{API}/terms/{small.term_id}/publish")
    assert response.status_code == 200, response.text
    assert response.json()["published_version"] == 1 and response.json()["lectures"] == 7
    events = await outbox_events(db, "academic.timetable.published")
    assert events[-1].payload["term_id"] == small.term_id
    assert events[-1].payload["version"] == 1

    student_a = await sign_in(small.student_a)
    mine = (await student_a.get(f"{PUBLIC}/me", params={"term_id": small.term_id})).json()
    assert {x["section_id"] for x in mine} == set(small.sections[:2])
    own = await student_a.get(
        f"{PUBLIC}/classes/{small.class_a}", params={"term_id": small.term_id}
    )
    assert own.status_code == 200 and len(own.json()) == 4
    assert_problem(
        await student_a.get(f"{PUBLIC}/classes/{small.class_b}", params={"term_id": small.term_id}),
        403,
    )
    assert_problem(
        await student_a.get(
            f"{PUBLIC}/teachers/{small.teacher_1['id']}", params={"term_id": small.term_id}
        ),
        403,
    )
    teacher = await sign_in(small.teacher_2)
    taught = (await teacher.get(f"{PUBLIC}/me", params={"term_id": small.term_id})).json()
    assert {x["section_id"] for x in taught} == {small.sections[1], small.sections[3]}
    room = (
        await student_a.get(f"{PUBLIC}/rooms/{small.rooms[0]}", params={"term_id": small.term_id})
    ).json()
    assert len(room) == 2
    page = await student_a.get("/academic/timetable", params={"term_id": small.term_id})
    assert (
        page.status_code == 200 and "高等数学（01班）" in page.text and "线性代数" not in page.text
    )
    # Students do not manage timetables.
    assert_problem(await student_a.post(f"{API}/terms/{small.term_id}/publish"), 403)


async def test_publish_refuses_a_clashing_draft(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    clashing = [*VALID[:2], (1, 0, 0, 1, 1), *VALID[3:]]  # English Monday 1: class A clash
    await place(db, small, clashing)
    before = await counts(db)
    assert_problem(await registrar.post(f"{API}/terms/{small.term_id}/publish"), 409)
    assert await counts(db) == before


async def test_ical_skips_holidays(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await place(db, small, VALID)
    assert (await registrar.post(f"{API}/terms/{small.term_id}/publish")).status_code == 200
    teacher = await sign_in(small.teacher_1)
    response = await teacher.get(f"{PUBLIC}/me.ics", params={"term_id": small.term_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = [c for c in calendar.walk("VEVENT")]
    starts = sorted(e.decoded("dtstart") for e in events)
    # Teacher 1: 高数 Mon+Wed, 程序设计 Tue; 4 weeks; the Monday of week 2 is a holiday.
    assert len(events) == 3 * 4 - 1
    assert all(s.date() != small.holiday for s in starts)
    assert starts[0].hour == 8 and starts[0].date().isoformat() == "2026-09-07"


async def test_free_rooms(db: Runtime, small: Small, registrar: httpx.AsyncClient) -> None:
    await place(db, small, VALID)
    assert (await registrar.post(f"{API}/terms/{small.term_id}/publish")).status_code == 200
    query: dict[str, int | str] = {
        "term_id": small.term_id,
        "week": 1,
        "day": 0,
        "block": 1,
        "room_type": "multimedia",
    }
    free = {r["id"] for r in (await registrar.get(f"{PUBLIC}/free-rooms", params=query)).json()}
    assert small.rooms[0] not in free and {small.rooms[1], small.rooms[2]} <= free
    holiday: dict[str, int | str] = {**query, "week": 2}
    free = {r["id"] for r in (await registrar.get(f"{PUBLIC}/free-rooms", params=holiday)).json()}
    assert small.rooms[0] in free
    big: dict[str, int | str] = {**query, "min_capacity": 100}
    assert not [
        r
        for r in (await registrar.get(f"{PUBLIC}/free-rooms", params=big)).json()
        if r["id"] in small.rooms
    ]
    assert_problem(await registrar.get(f"{PUBLIC}/free-rooms", params={**query, "day": 9}), 422)
    page = await registrar.get("/academic/free-rooms", params=query)
    assert page.status_code == 200 and "空教室" in page.text


async def test_bad_inputs_change_nothing(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    before = await counts(db)
    assert_problem(
        await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"time_limit": 0}),
        422,
        "time_limit",
    )
    assert_problem(await registrar.post(f"{API}/terms/999999/runs", json={}), 404)
    assert_problem(
        await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"mode": "reschedule"}),
        409,
    )
    assert_problem(
        await registrar.post(
            f"{API}/terms/{small.term_id}/room-closures",
            json={"room_id": small.rooms[0], "day": 6, "block": 1},
        ),
        422,
    )
    bad = await registrar.post(
        f"{API}/benchmarks",
        files={"file": ("bad.ctt", b"Name: x\nCourses: two\n", "text/plain")},
        data={"time_limit": "2"},
    )
    body = assert_problem(bad, 422, "file")
    assert body["line"] == 2
    assert await counts(db) == before


async def test_benchmark_upload_page_answers_htmx(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    """The desk's upload form posts with htmx (a multipart body carries no CSRF field), so the
    page answers with where to go: the new run, or back to the desk with the file's error."""
    htmx = {"HX-Request": "true"}
    problem = await registrar.get(f"{API}/terms/{small.term_id}/problem.ctt")
    started = await registrar.post(
        "/academic/timetabling/benchmarks",
        files={"file": ("term.ctt", problem.content, "text/plain")},
        data={"time_limit": "2"},
        headers=htmx,
    )
    assert started.status_code == 200, started.text
    assert started.headers["HX-Redirect"].startswith("/academic/timetabling/runs/")
    refused = await registrar.post(
        "/academic/timetabling/benchmarks",
        files={"file": ("bad.ctt", b"Name: x\nCourses: two\n", "text/plain")},
        headers=htmx,
    )
    assert refused.headers["HX-Redirect"] == "/academic/timetabling"
    assert "campus_flash" in refused.headers.get("set-cookie", "")


async def test_benchmark_and_exports(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, runner: TaskRunner
) -> None:
    await place(db, small, VALID)
    problem = await registrar.get(f"{API}/terms/{small.term_id}/problem.ctt")
    assert problem.status_code == 200 and "Courses: 4" in problem.text
    solution = await registrar.get(f"{API}/terms/{small.term_id}/solution.sol")
    assert len(solution.text.strip().splitlines()) == 7
    response = await registrar.post(
        f"{API}/benchmarks",
        files={"file": ("term.ctt", problem.content, "text/plain")},
        data={"time_limit": "2"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["term_id"] is None
    lectures_before = await lecture_spots(db, small.term_id)
    await runner.poll_once()
    await runner.wait(120)
    done = (await registrar.get(f"{API}/runs/{response.json()['id']}")).json()
    assert done["status"] == "succeeded" and done["feasible"], done
    assert done["cost"] is not None
    # The sandbox did not touch the term.
    assert await lecture_spots(db, small.term_id) == lectures_before
    sol = await registrar.get(f"{API}/runs/{done['id']}/solution.sol")
    assert len(sol.text.strip().splitlines()) == 7


async def test_pages_render(db: Runtime, small: Small, registrar: httpx.AsyncClient) -> None:
    await place(db, small, VALID)
    desk = await registrar.get("/academic/timetabling", params={"term_id": small.term_id})
    assert desk.status_code == 200 and "开始排课" in desk.text
    grid = await registrar.get("/academic/timetabling/grid", params={"term_id": small.term_id})
    assert grid.status_code == 200 and 'draggable="true"' in grid.text
    teacher_view = await registrar.get(
        "/academic/timetabling/grid",
        params={"term_id": small.term_id, "view": "teacher", "id": small.teacher_1["id"]},
    )
    assert "高等数学（01班）" in teacher_view.text and "程序设计（01班）" in teacher_view.text
    assert "大学英语（01班）" not in teacher_view.text.split('data-testid="week-grid"')[1]
    room_view = await registrar.get(
        "/academic/timetabling/grid",
        params={"term_id": small.term_id, "view": "room", "id": small.rooms[3]},
    )
    grid_part = room_view.text.split('data-testid="week-grid"')[1]
    assert "程序设计（01班）" in grid_part and "高等数学（01班）" not in grid_part


async def test_progress_page_and_cancel(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    response = await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"time_limit": 5})
    run = response.json()
    page = await registrar.get(f"/academic/timetabling/runs/{run['id']}")
    assert page.status_code == 200 and "代价曲线" in page.text
    status = await registrar.get(f"/academic/timetabling/runs/{run['id']}/status")
    assert 'hx-trigger="every 1s"' in status.text and "排队中" in status.text
    cancelled = await registrar.post(f"{API}/runs/{run['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    status = await registrar.get(f"/academic/timetabling/runs/{run['id']}/status")
    assert "every 1s" not in status.text and "已取消" in status.text
    # The term is free for a new run once the last one is cancelled.
    again = await registrar.post(f"{API}/terms/{small.term_id}/runs", json={"time_limit": 5})
    assert again.status_code == 202
    assert_problem(await registrar.get(f"{API}/runs/999999"), 404)


async def test_explain_a_section(db: Runtime, small: Small, registrar: httpx.AsyncClient) -> None:
    await place(db, small, VALID)
    response = await registrar.post(
        f"{API}/terms/{small.term_id}/teacher-times",
        json={"person_id": small.teacher_1["id"], "day": 4, "block": 4, "reason": "会议"},
    )
    assert response.status_code == 201
    slots = (
        await registrar.get(f"{API}/terms/{small.term_id}/sections/{small.sections[0]}/explain")
    ).json()
    friday = next(s for s in slots if (s["day"], s["block"]) == (4, 4))
    assert not friday["ok"] and any("不可上课" in r for r in friday["reasons"])
    name = small.teacher_1["name"]
    assert any(name in r for r in friday["reasons"]), friday
    assert_problem(await registrar.get(f"{API}/terms/{small.term_id}/sections/999999/explain"), 404)


async def test_print_view(
    db: Runtime, small: Small, registrar: httpx.AsyncClient, sign_in: SignIn
) -> None:
    await place(db, small, VALID)
    assert (await registrar.post(f"{API}/terms/{small.term_id}/publish")).status_code == 200
    student = await sign_in(small.student_b)
    page = await student.get("/academic/timetable", params={"term_id": small.term_id, "print": 1})
    assert page.status_code == 200 and "tt-print" in page.text and "线性代数（01班）" in page.text
    css = await student.get("/academic/timetabling/timetabling.css")
    assert "@media print" in css.text
    other = await student.get(
        "/academic/timetable",
        params={"term_id": small.term_id, "view": "class", "id": small.class_a},
    )
    assert other.status_code == 403


async def test_desk_constraint_forms(
    db: Runtime, small: Small, registrar: httpx.AsyncClient
) -> None:
    form = {
        "csrf_token": registrar.headers["X-CSRF-Token"],
        "kind": "teacher",
        "target": str(small.teacher_1["id"]),
        "day": "2",
        "block": "3",
        "hard": "unavailable",
        "reason": "病假",
    }
    added = await registrar.post(
        f"/academic/timetabling/terms/{small.term_id}/constraints", data=form
    )
    assert added.status_code == 303
    listed = (await registrar.get(f"{API}/terms/{small.term_id}/constraints/teacher-times")).json()
    assert [(x["person_id"], x["day"], x["block"], x["reason"]) for x in listed] == [
        (small.teacher_1["id"], 2, 3, "病假")
    ]
    desk = await registrar.get("/academic/timetabling", params={"term_id": small.term_id})
    assert "病假" in desk.text
    # A slot outside the week is refused with a message, nothing added.
    bad = await registrar.post(
        f"/academic/timetabling/terms/{small.term_id}/constraints",
        data={**form, "kind": "room", "target": str(small.rooms[0]), "block": "7"},
    )
    assert bad.status_code == 303
    assert (
        await registrar.get(f"{API}/terms/{small.term_id}/constraints/room-closures")
    ).json() == []
    removed = await registrar.post(
        f"/academic/timetabling/constraints/teacher-times/{listed[0]['id']}/delete",
        data={"csrf_token": form["csrf_token"], "term_id": str(small.term_id)},
    )
    assert removed.status_code == 303
    assert (
        await registrar.get(f"{API}/terms/{small.term_id}/constraints/teacher-times")
    ).json() == []
    assert_problem(
        await registrar.delete(f"{API}/constraints/teacher-times/{listed[0]['id']}"), 404
    )
    assert_problem(await registrar.get(f"{API}/terms/{small.term_id}/constraints/nothing"), 404)
