"""The greedy construction: hard-feasible timetables (the independent scorer's word) in well
under a second on campus-sized terms, repairs at dead ends on tight problems, keeps pinned and
previous lectures, gives up (for CP-SAT to prove) on infeasible ones."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import replace

import pytest

from campus.domains.academic.timetabling.engine import solve as solver
from campus.domains.academic.timetabling.engine.greedy import _Greedy, greedy
from campus.domains.academic.timetabling.engine.problem import (
    Course,
    Curriculum,
    Placement,
    Problem,
    Room,
)
from campus.domains.academic.timetabling.engine.scoring import score

from .conftest import campus_problem


def as_placements(problem: Problem, lectures: list[tuple[int, int, int]]) -> list[Placement]:
    return [Placement(problem.courses[c].id, problem.rooms[r].id, s) for c, s, r in lectures]


def campus_term(seed: int, classes: int = 120) -> Problem:
    """A campus-like term: classes of 6 sections, some sections shared by 2–4 classes, one
    teacher per section (some teaching several), rooms of four types, 5 days × 6 blocks."""
    rng = random.Random(seed)
    kinds = {"multimedia": 40, "hall": 8, "lab": 10, "language": 6}
    rooms = tuple(
        Room(f"{kind}-{i}", rng.choice((60, 90, 120, 200)), kind, f"B{i % 5}")
        for kind, n in kinds.items()
        for i in range(n)
    )
    courses: list[Course] = []
    members: list[list[str]] = [[] for _ in range(classes)]
    teachers = [f"t{i}" for i in range(classes * 3)]
    for q in range(classes):
        for k in range(6 - len(members[q])):
            cid = f"s{q}-{k}"
            kind = rng.choices(list(kinds), weights=(70, 10, 10, 10))[0]
            shared = [q]
            if kind == "hall":
                shared += rng.sample(range(classes), rng.randint(1, 3))
            shared = [x for x in dict.fromkeys(shared) if len(members[x]) < 6]
            for x in shared:
                members[x].append(cid)
            lectures = rng.choice((1, 2, 2, 2, 3))
            courses.append(Course(cid, (rng.choice(teachers),), lectures, lectures, 50, kind))
    curricula = tuple(Curriculum(f"class-{q}", tuple(m)) for q, m in enumerate(members))
    return Problem("term", 5, 6, tuple(courses), rooms, curricula)


def tight(seed: int) -> Problem:
    """Every room full in every slot of a hidden timetable; curricula of courses that never
    meet together there: feasible, but a plain greedy runs into dead ends."""
    rng = random.Random(seed)
    slots, rooms = 20, 6
    at: dict[int, int] = Counter()
    meets: dict[str, list[int]] = {}
    while sum(at.values()) < slots * rooms:
        free = [s for s in range(slots) if at[s] < rooms]
        chosen = rng.sample(free, min(len(free), rng.randint(1, 4)))
        for s in chosen:
            at[s] += 1
        meets[f"c{len(meets)}"] = chosen
    names = list(meets)
    curricula = []
    for q in range(len(names) // 2):
        group: list[str] = []
        used: set[int] = set()
        for c in rng.sample(names, len(names)):
            if not used & set(meets[c]):
                group.append(c)
                used |= set(meets[c])
        curricula.append(Curriculum(f"q{q}", tuple(group)))
    courses = tuple(Course(c, (f"t{c}",), len(s), 1, 10) for c, s in meets.items())
    return Problem(
        "tight", 5, 4, courses, tuple(Room(f"r{i}", 10) for i in range(rooms)), tuple(curricula)
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_a_campus_term_is_built_in_well_under_a_second(seed: int) -> None:
    problem = campus_term(seed)
    ix = solver._Index(problem)
    began = time.perf_counter()
    lectures = greedy(ix, deadline=time.perf_counter() + 10, seed=seed)
    took = time.perf_counter() - began
    assert lectures is not None
    assert len(lectures) == sum(c.lectures for c in problem.courses) > 1000
    verdict = score(problem, as_placements(problem, lectures))
    assert verdict.hard == 0, verdict
    assert took < 3  # about 0.2 s alone; room for a loaded machine


def test_solve_on_a_campus_term_is_feasible_at_once() -> None:
    problem = campus_term(7)
    result = solver.solve(problem, seconds=4, seed=0)
    assert result.feasible
    assert result.first_feasible is not None and result.first_feasible < 3
    verdict = score(problem, result.placements)
    assert verdict.hard == 0 and verdict.cost == result.cost


@pytest.mark.parametrize("seed", range(6))
def test_dead_ends_are_repaired_on_tight_problems(seed: int) -> None:
    problem = tight(seed)
    search = _Greedy(solver._Index(problem), seed, {})
    lectures = search.run(time.perf_counter() + 10, None)
    assert lectures is not None
    assert score(problem, as_placements(problem, lectures)).hard == 0
    assert len(lectures) == 6 * 20  # every room of every slot taken


def test_some_tight_problem_needs_repairs() -> None:
    bumped = []
    for seed in range(6):
        search = _Greedy(solver._Index(tight(seed)), seed, {})
        assert search.run(time.perf_counter() + 10, None) is not None
        bumped.append(sum(search.bumped))
    assert max(bumped) > 0


def test_pinned_and_previous_lectures_stay() -> None:
    pinned = (Placement("math-1", "A101", 5), Placement("pe", "B201", 19))
    problem = replace(campus_problem(), fixed=pinned)
    ix = solver._Index(problem)
    first = greedy(ix, deadline=time.perf_counter() + 5, seed=1)
    assert first is not None
    placements = as_placements(problem, first)
    assert set(pinned) <= set(placements)
    assert score(problem, placements).hard == 0
    # Started from a previous timetable that still fits, nothing moves.
    hint = {(c, s): r for c, s, r in first}
    again = greedy(ix, deadline=time.perf_counter() + 5, seed=9, hint=hint)
    assert again is not None and sorted(again) == sorted(first)


def test_an_infeasible_problem_is_given_up_quickly_and_proven_by_cp_sat() -> None:
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
    assert greedy(solver._Index(problem), deadline=time.perf_counter() + 30) is None
    assert time.perf_counter() - began < 2
    result = solver.solve(problem, seconds=10)
    assert result.status == "infeasible"
    assert "无法同时满足" in "\n".join(result.conflicts)


def test_the_deadline_and_stop_request_are_honoured() -> None:
    problem = campus_term(3)
    ix = solver._Index(problem)
    assert greedy(ix, deadline=time.perf_counter() - 1) is None
    assert greedy(ix, deadline=time.perf_counter() + 10, should_stop=lambda: True) is None
