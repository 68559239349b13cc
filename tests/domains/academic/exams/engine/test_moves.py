"""Moving one exam by hand: the problems refused, the warnings to confirm, and the independent
scorer agreeing with both."""

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campus.domains.academic.exams.engine.moves import check_move, moved
from campus.domains.academic.exams.engine.problem import (
    Exam,
    ExamProblem,
    Kind,
    PeriodConstraint,
    Placement,
    Room,
    Solution,
    Weightings,
)
from campus.domains.academic.exams.engine.scoring import score
from campus.domains.academic.exams.engine.solve import solve

from .conftest import periods
from .test_solve import small_problems


def term() -> tuple[ExamProblem, Solution]:
    """Day 0: periods 0, 1, 2; day 1: periods 3, 4. Rooms of 10 and 4 seats."""
    problem = ExamProblem(
        exams=(
            Exam(120, (1, 2, 3), id="高数"),
            Exam(120, (3, 4), id="英语"),
            Exam(90, (5, 6, 7, 8, 9, 10, 11, 12), id="物理"),
            Exam(120, (13,), id="体育理论"),
        ),
        periods=periods([3, 2], penalties={4: 7}),
        rooms=(Room(10, id="A101"), Room(4, id="B201")),
        constraints=(PeriodConstraint(3, Kind.AFTER, 2),),
        weightings=Weightings(two_in_a_row=10, two_in_a_day=5, non_mixed_durations=3),
        unavailable={1: frozenset({3})},
    )
    solution = Solution(
        (
            Placement(0, (0,)),
            Placement(2, (0,)),
            Placement(3, (0,)),
            Placement(4, (1,)),
        )
    )
    assert score(problem, solution).feasible
    return problem, solution


def test_hard_problems_name_what_breaks() -> None:
    problem, solution = term()
    names = {1: "大学英语"}
    # 英语 to period 0: student 3 also sits 高数 then
    check = check_move(problem, solution, 1, Placement(0, (1,)), names=names)
    assert [(i.rule, i.where) for i in check.problems] == [("conflicts", "period")]
    assert check.problems[0].message == "1 名学生在该时段还有考试 高数"
    assert check.problems[0].students == (3,)
    # 高数 to period 3: student 1 is away, and 物理 holds 8 of A101's 10 seats
    check = check_move(problem, solution, 0, Placement(3, (0,)))
    rules = {i.rule: i for i in check.problems}
    assert set(rules) == {"unavailable", "capacity"}
    assert rules["unavailable"].message == "1 名学生在该时段不能考试"
    assert rules["capacity"].where == "rooms"
    assert rules["capacity"].message == "考场 A101 有 10 个考试座位，已有 8 人，放不下本考试的 3 人"
    # 体育理论 before 物理 breaks their order; a 90-minute period is too short for 高数
    assert [i.rule for i in check_move(problem, solution, 3, Placement(2, (1,))).problems] == [
        "period_constraints"
    ]
    short = replace(
        problem, periods=(*problem.periods[:4], replace(problem.periods[4], duration=90))
    )
    assert [i.rule for i in check_move(short, solution, 0, Placement(4, (0,))).problems] == [
        "duration"
    ]
    exclusive = replace(problem, room_exclusive=frozenset({2}))
    assert [i.rule for i in check_move(exclusive, solution, 0, Placement(3, (1,))).problems] == [
        "unavailable"
    ]
    assert "room_exclusive" in {
        i.rule for i in check_move(exclusive, solution, 3, Placement(3, (0,))).problems
    }
    for bad in (Placement(9, (0,)), Placement(0, (5,)), Placement(0, (0, 1), (1, 1))):
        with pytest.raises(ValueError):
            check_move(problem, solution, 0, bad)


def test_warnings_and_the_soft_cost_change() -> None:
    problem, solution = term()
    # 高数 next to 英语 (student 3): two in a row; a room shared with 物理 of another length;
    # period 4 has a penalty
    check = check_move(problem, solution, 0, Placement(1, (1,)))
    assert check.allowed
    assert [i.rule for i in check.warnings] == ["two_in_a_row"]
    assert check.warnings[0].message == "1 名学生在相邻时段还有考试 英语（连考）"
    assert check.soft_delta == 10 - 5  # a row instead of a day for student 3
    check = check_move(problem, solution, 3, Placement(3, (0,)))
    assert check.problems and check.problems[0].rule == "period_constraints"
    check = check_move(problem, solution, 1, Placement(4, (0,)))
    assert check.allowed and {i.rule for i in check.warnings} == {"period_penalty"}
    before, after = score(problem, solution), score(problem, check.solution)
    assert check.soft_delta == after.soft_total - before.soft_total
    mixed = check_move(problem, solution, 0, Placement(3, (0,), ()))
    assert "mixed_durations" in {i.rule for i in mixed.warnings}


def test_a_fixed_exam_moves_with_its_fix() -> None:
    problem, solution = term()
    pinned = replace(problem, fixed={3: Placement(4, (1,))})
    target = Placement(4, (0,))
    check = check_move(pinned, solution, 3, target)
    assert check.allowed
    assert score(moved(pinned, 3, target), check.solution).feasible
    assert not score(pinned, check.solution).feasible  # the old fix no longer holds


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems(), st.data())
def test_the_scorer_agrees_with_every_move(problem: ExamProblem, data: st.DataObject) -> None:
    result = solve(problem, seconds=0.05)
    if not result.feasible or result.solution is None:
        return
    exam = data.draw(st.integers(0, len(problem.exams) - 1))
    period = data.draw(st.integers(0, len(problem.periods) - 1))
    rooms = data.draw(
        st.lists(st.integers(0, len(problem.rooms) - 1), min_size=1, max_size=2, unique=True)
    )
    size = problem.exams[exam].size
    first = data.draw(st.integers(0, size)) if len(rooms) > 1 else size
    seats = (first, size - first) if len(rooms) > 1 else ()
    placement = Placement(period, tuple(rooms), seats)
    check = check_move(problem, result.solution, exam, placement)
    after = score(moved(problem, exam, placement), check.solution)
    assert check.allowed == after.feasible, (check.problems, after.hard)
    before = score(problem, result.solution)
    assert check.soft_delta == after.soft_total - before.soft_total
