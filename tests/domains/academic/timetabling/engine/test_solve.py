"""The solver: feasible timetables that the independent scorer agrees with, quick answers with
reasons when there is none, and the time limit and stop request honoured."""

from __future__ import annotations

import random
import time
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campus.domains.academic.timetabling.engine.problem import (
    Course,
    Curriculum,
    Placement,
    Problem,
    Room,
)
from campus.domains.academic.timetabling.engine.scoring import score
from campus.domains.academic.timetabling.engine.solve import solve

from .conftest import campus_problem, data_file


def test_comp01_feasible_quickly_and_scorer_agrees(comp01: Problem) -> None:
    seen: list[tuple[str, float, int, int]] = []
    result = solve(comp01, seconds=3, seed=1, on_progress=lambda *a: seen.append(a))
    assert result.feasible
    assert result.first_feasible is not None and result.first_feasible < 2
    s = score(comp01, result.placements)
    assert s.hard == 0
    assert s.cost == result.cost
    assert result.cost <= 30  # best known 5; a few seconds give well under 30
    assert result.elapsed < 4
    phases = {phase for phase, *_ in seen}
    assert {"construct", "done"} <= phases
    assert seen[-1][3] == result.cost


def test_campus_problem_meets_every_campus_rule() -> None:
    problem = campus_problem()
    result = solve(problem, seconds=2, seed=3)
    assert result.feasible, result.conflicts
    s = score(problem, result.placements)
    assert s.hard == 0 and s.cost == result.cost
    rooms = {r.id: r for r in problem.rooms}
    for p in result.placements:
        if p.course.startswith("lab"):
            assert rooms[p.room].room_type == "lab" and p.slot not in (0, 1)
        if p.course.startswith("math"):
            assert p.slot >= 4  # zhang is away on day 0
        if p.course == "pe":
            assert p.room == "B201"


def test_fixed_lectures_stay_where_pinned() -> None:
    pinned = (Placement("math-1", "A101", 5), Placement("pe", "B201", 19))
    problem = replace(campus_problem(), fixed=pinned)
    result = solve(problem, seconds=1, seed=0)
    assert result.feasible
    assert set(pinned) <= set(result.placements)
    assert score(problem, result.placements).hard == 0


def _curriculum_overload() -> Problem:
    courses = tuple(Course(f"c{i}", (f"t{i}",), 3, 1, 10) for i in range(3))
    return Problem(
        name="overload",
        days=2,
        periods_per_day=4,
        courses=courses,
        rooms=(Room("r", 20),),
        curricula=(Curriculum("class", ("c0", "c1", "c2")),),
    )


def test_obvious_infeasibility_is_explained_at_once() -> None:
    began = time.perf_counter()
    result = solve(_curriculum_overload(), seconds=30)
    assert time.perf_counter() - began < 1
    assert result.status == "infeasible" and not result.placements
    assert any("课程组“class”" in c and "9 次课" in c and "8 个" in c for c in result.conflicts)
    teacher = replace(
        _curriculum_overload(),
        courses=tuple(Course(f"c{i}", ("wu",), 3, 1, 10) for i in range(3)),
        curricula=(),
    )
    assert any("教师“wu”" in c for c in solve(teacher, seconds=30).conflicts)
    lab = replace(
        _curriculum_overload(),
        courses=(Course("c0", ("t",), 1, 1, 10, room_type="lab"),),
        curricula=(),
    )
    assert any("“lab”类教室" in c for c in solve(lab, seconds=30).conflicts)
    closed = replace(
        _curriculum_overload(),
        courses=(Course("c0", ("t",), 2, 1, 10, unavailable=frozenset(range(7))),),
        curricula=(),
    )
    assert any("课程“c0”" in c and "只有 1 个" in c for c in solve(closed, seconds=30).conflicts)


def test_hidden_infeasibility_is_proven_with_a_core() -> None:
    # Three courses pairwise in a curriculum, 2 lectures each, in 5 slots: each curriculum
    # needs 4 ≤ 5 slots, but together they need 6.
    problem = Problem(
        name="triangle",
        days=1,
        periods_per_day=5,
        courses=tuple(Course(c, (f"t{c}",), 2, 1, 10) for c in "abc"),
        rooms=(Room("r1", 10), Room("r2", 10), Room("r3", 10)),
        curricula=(
            Curriculum("ab", ("a", "b")),
            Curriculum("bc", ("b", "c")),
            Curriculum("ac", ("a", "c")),
        ),
    )
    began = time.perf_counter()
    result = solve(problem, seconds=10)
    assert time.perf_counter() - began < 5
    assert result.status == "infeasible"
    text = "\n".join(result.conflicts)
    assert "无法同时满足" in text
    assert all(f"课程组“{q}”" in text for q in ("ab", "bc", "ac"))


def test_the_time_limit_and_stop_request_are_honoured() -> None:
    problem = replace(campus_problem(), weights=replace(campus_problem().weights, isolated=50))
    began = time.perf_counter()
    solve(problem, seconds=0.8)
    assert time.perf_counter() - began < 1.5
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    began = time.perf_counter()
    result = solve(data_file_problem(), seconds=60, should_stop=stop)
    assert time.perf_counter() - began < 5
    assert result.feasible  # the best timetable so far is returned


def data_file_problem() -> Problem:
    from campus.domains.academic.timetabling.engine import itc2007

    return itc2007.load(data_file("comp05.ctt"))


@st.composite
def small_problems(draw: st.DrawFn) -> Problem:
    """Random small problems that are feasible by construction: a planted timetable."""
    rng = random.Random(draw(st.integers(0, 10**6)))
    days, periods = rng.randint(2, 4), rng.randint(2, 4)
    slots = days * periods
    rooms = tuple(
        Room(f"r{i}", rng.choice([20, 40, 80]), rng.choice([None, "lab"])) for i in range(3)
    )
    n = rng.randint(2, 7)
    teachers = [f"t{rng.randrange(3)}" for _ in range(n)]
    # Plant: each course gets slots; conflicting courses never share one in the plant.
    taken: dict[int, set[str]] = {s: set() for s in range(slots)}
    room_taken: set[tuple[int, str]] = set()
    courses = []
    curricula_members: list[list[str]] = [[], []]
    for i in range(n):
        cid = f"c{i}"
        group = rng.randrange(2)
        lab = rng.random() < 0.3
        options = [r for r in rooms if (r.room_type == "lab") == lab] or list(rooms)
        chosen: list[int] = []
        for s in rng.sample(range(slots), slots):
            if len(chosen) == rng.randint(1, 3):
                break
            if teachers[i] in taken[s] or f"g{group}" in taken[s]:
                continue
            free = [r for r in options if (s, r.id) not in room_taken]
            if not free:
                continue
            room_taken.add((s, free[0].id))
            taken[s] |= {teachers[i], f"g{group}"}
            chosen.append(s)
        if not chosen:
            continue
        unavailable = frozenset(s for s in range(slots) if s not in chosen and rng.random() < 0.3)
        courses.append(
            Course(
                cid,
                (teachers[i],),
                len(chosen),
                rng.randint(1, len(chosen)),
                rng.choice([10, 30, 60]),
                room_type="lab" if lab and any(r.room_type == "lab" for r in rooms) else None,
                unavailable=unavailable,
            )
        )
        curricula_members[group].append(cid)
    curricula = tuple(Curriculum(f"g{k}", tuple(m)) for k, m in enumerate(curricula_members) if m)
    return Problem("random", days, periods, tuple(courses), rooms, curricula)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_random_feasible_problems_get_hard_feasible_timetables(problem: Problem) -> None:
    result = solve(problem, seconds=0.3, seed=1)
    assert result.feasible, result.conflicts
    s = score(problem, result.placements)
    assert s.hard == 0
    assert s.cost == result.cost
