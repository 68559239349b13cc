"""Why a lecture cannot go to a slot, for the drag-and-drop timetable."""

from __future__ import annotations

import pytest

from campus.domains.academic.timetabling.engine.explain import explain
from campus.domains.academic.timetabling.engine.problem import (
    Course,
    Curriculum,
    Placement,
    Problem,
    Room,
)

P = Placement
PROBLEM = Problem(
    name="explain",
    days=3,
    periods_per_day=2,
    courses=(
        Course("x", ("t1",), 2, 2, 40, room_type="lecture", unavailable=frozenset({3})),
        Course("y", ("t1",), 1, 1, 10),
        Course("z", ("t2",), 1, 1, 10),
        Course("w1", ("t3",), 2, 1, 10),
        Course("w2", ("t4",), 1, 1, 10),
    ),
    rooms=(Room("R1", 50, "lecture"), Room("R2", 20, "lecture"), Room("L1", 30, "lab")),
    curricula=(Curriculum("q", ("x", "z")),),
    teacher_dispreferred={"t1": frozenset({0})},
)
MOVING = P("x", "R1", 0)
TIMETABLE = [
    MOVING,
    P("x", "R1", 1),
    P("y", "R2", 1),
    P("z", "L1", 2),
    P("w1", "R1", 4),
    P("w2", "R2", 4),
    P("w1", "R1", 5),
]


def test_every_slot_says_why_or_where() -> None:
    info = {i.slot: i for i in explain(PROBLEM, TIMETABLE, "x", moving=MOVING)}
    assert len(info) == 6
    assert info[0].free and info[0].rooms == ("R1", "R2")  # the best fit first; no lab
    assert info[0].notes == ("教师“t1”不希望此时段上课",)
    assert not info[1].free
    assert "教师“t1”此时在上“y”" in info[1].reasons
    assert "课程“x”此时段已有一次课" in info[1].reasons
    assert info[2].reasons == ("课程组“q”此时有“z”",)
    assert info[2].rooms == ("R1", "R2")
    assert info[3].reasons == ("课程“x”此时段不可排课",)
    assert info[4].reasons == ("没有空闲的“lecture”类教室",)
    assert info[4].rooms == ()
    assert info[5].free and info[5].rooms == ("R2",)
    assert info[5].notes == ("空闲教室容量都不足 40 人",)
    assert (info[5].day, info[5].period) == (2, 1)


def test_without_moving_the_course_blocks_its_own_slots() -> None:
    info = explain(PROBLEM, TIMETABLE, "x")
    assert "课程“x”此时段已有一次课" in info[0].reasons


def test_unknown_course() -> None:
    with pytest.raises(KeyError):
        explain(PROBLEM, TIMETABLE, "nope")
