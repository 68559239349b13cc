"""The independent scorer, on hand-computed cases and on comp01."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.timetabling.engine.problem import (
    Course,
    Curriculum,
    Placement,
    Problem,
    Room,
    Weights,
)
from campus.domains.academic.timetabling.engine.scoring import score

from .conftest import data_file

P = Placement

# 2 days × 3 periods: slots 0 1 2 | 3 4 5.
TOY = Problem(
    name="toy",
    days=2,
    periods_per_day=3,
    courses=(
        Course("a", ("t1",), 2, 2, 20),
        Course("b", ("t1",), 1, 1, 5),
        Course("c", ("t2",), 2, 2, 25),
    ),
    rooms=(Room("r1", 10, building="X"), Room("r2", 30, building="Y")),
    curricula=(Curriculum("q1", ("a", "c")), Curriculum("q2", ("b", "c"))),
)
GOOD = [P("a", "r1", 0), P("a", "r2", 1), P("b", "r1", 3), P("c", "r2", 2), P("c", "r2", 5)]


def test_hand_computed_feasible_case() -> None:
    s = score(TOY, GOOD)
    assert s.hard == 0 and s.feasible
    # a: 20 students in r1 (10 seats) once; one day of two; two rooms.
    assert (s.room_capacity, s.min_days, s.room_stability) == (10, 1, 1)
    # q1: c at slot 5 alone on day 1; q2: c at slot 2 alone, b at 3 and c at 5 with 4 empty.
    assert s.isolated == 4
    assert s.cost == 10 + 5 * 1 + 2 * 4 + 1


def test_order_does_not_matter_and_duplicates_are_discarded() -> None:
    assert score(TOY, list(reversed(GOOD))) == score(TOY, GOOD)
    # A second lecture of a in slot 0 is dropped, as the official validator does.
    assert score(TOY, [*GOOD, P("a", "r2", 0)]) == score(TOY, GOOD)


def test_each_hard_count() -> None:
    missing = score(TOY, GOOD[1:])
    assert (missing.lectures, missing.hard) == (1, 1)
    extra = score(TOY, [*GOOD, P("b", "r2", 4)])
    assert (extra.lectures, extra.conflicts) == (1, 0)
    # b moved next to a: same teacher t1 in slot 1.
    teacher = score(TOY, [GOOD[0], GOOD[1], P("b", "r1", 1), GOOD[3], GOOD[4]])
    assert (teacher.conflicts, teacher.room_occupancy) == (1, 0)
    # c moved into a's room and slot: curriculum q1 clash and a double-booked room.
    clash = score(TOY, [GOOD[0], GOOD[1], GOOD[2], P("c", "r1", 0), GOOD[4]])
    assert (clash.conflicts, clash.room_occupancy) == (1, 1)
    # a pair sharing both a curriculum and a teacher counts once per slot.
    both = replace(TOY, curricula=(*TOY.curricula, Curriculum("q3", ("a", "b"))))
    assert score(both, [GOOD[0], GOOD[1], P("b", "r1", 1), GOOD[3], GOOD[4]]).conflicts == 1
    off = replace(
        TOY, courses=(*TOY.courses[:2], replace(TOY.courses[2], unavailable=frozenset({5})))
    )
    assert score(off, GOOD).availability == 1
    teacher_off = replace(TOY, teacher_unavailable={"t1": frozenset({0, 3})})
    assert score(teacher_off, GOOD).availability == 2


def test_campus_extras() -> None:
    problem = replace(
        TOY,
        rooms=(Room("r1", 10, "lab", "X", unavailable=frozenset({3})), Room("r2", 30, None, "Y")),
        courses=(
            replace(TOY.courses[0], building="Y"),
            replace(TOY.courses[1], room_type="lab"),
            replace(TOY.courses[2], rooms=frozenset({"r1"})),
        ),
        weights=Weights(teacher_preference=3, building_change=7, preferred_building=11),
        teacher_dispreferred={"t2": frozenset({2, 4})},
        fixed=(P("c", "r2", 5), P("b", "r2", 3)),
    )
    s = score(problem, GOOD)
    # b in r1 at slot 3 while r1 is closed; c twice in r2 outside its rooms.
    assert s.room_suitability == 3
    assert s.fixed == 1  # b is not in r2
    assert s.hard == 4
    assert s.teacher_preference == 1  # c at slot 2
    assert s.preferred_building == 1  # a in r1 (building X)
    # q1 day 0: a X(0) → a Y(1) → c Y(2): one change; q2: none consecutive.
    assert s.building_change == 1
    base = 10 + 5 + 8 + 1
    assert s.cost == base + 3 * 1 + 7 * 1 + 11 * 1


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="未知课程"):
        score(TOY, [P("zz", "r1", 0)])
    with pytest.raises(ValueError, match="未知教室"):
        score(TOY, [P("a", "zz", 0)])


def test_comp01_facts(comp01: Problem) -> None:
    # Independent of the parser: the sums straight from the file's COURSES section.
    lines = data_file("comp01.ctt").read_text().split("COURSES:")[1].split("ROOMS:")[0]
    rows = [line.split() for line in lines.splitlines() if line.split()]
    assert len(rows) == 30
    empty = score(comp01, [])
    assert empty.lectures == sum(int(r[2]) for r in rows) == 160
    assert empty.min_days == sum(int(r[3]) for r in rows)
    assert empty.cost == 5 * empty.min_days
    # Every lecture of c0001 (130 students) in the smallest room, nothing else scheduled.
    smallest = min(comp01.rooms, key=lambda r: r.capacity)
    c0001 = next(c for c in comp01.courses if c.id == "c0001")
    free = [s for s in range(comp01.slots) if s not in c0001.unavailable][: c0001.lectures]
    s = score(comp01, [P("c0001", smallest.id, slot) for slot in free])
    assert s.room_capacity == c0001.lectures * (130 - smallest.capacity)
    assert s.availability == 0 and s.room_occupancy == 0


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000))
def test_invariants_on_random_timetables(seed: int) -> None:
    rng = random.Random(seed)
    placements = [
        P(c.id, rng.choice(TOY.rooms).id, slot)
        for c in TOY.courses
        for slot in rng.sample(range(TOY.slots), rng.randint(0, c.lectures + 1))
    ]
    s = score(TOY, placements)
    shuffled = placements[:]
    rng.shuffle(shuffled)
    assert score(TOY, shuffled) == s
    assert min(s.lectures, s.conflicts, s.room_occupancy, s.isolated, s.room_stability) >= 0
    assert s.cost == s.room_capacity + 5 * s.min_days + 2 * s.isolated + s.room_stability
    # Isolated lectures never exceed the lectures counted over each of their curricula.
    assert s.isolated <= 2 * len(placements)
