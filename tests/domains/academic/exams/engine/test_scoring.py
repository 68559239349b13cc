"""The scorer on hand-computed cases, one rule at a time."""

import pytest

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

from .conftest import periods


def problem(exams: list[Exam], **kw: object) -> ExamProblem:
    base: dict[str, object] = {
        "periods": periods([3, 2]),  # day 0: periods 0, 1, 2; day 1: 3, 4
        "rooms": (Room(100), Room(10, penalty=20)),
    }
    base.update(kw)
    return ExamProblem(exams=tuple(exams), **base)


def at(*periods_: int) -> Solution:
    return Solution(tuple(Placement(p, (0,)) for p in periods_))


def test_student_pairs_two_in_a_row_day_and_spread() -> None:
    exams = [Exam(60, (1,)), Exam(60, (1,)), Exam(60, (1, 2)), Exam(60, (2,))]
    w = Weightings(two_in_a_row=7, two_in_a_day=5, period_spread=2)
    s = score(problem(exams, weightings=w), at(0, 1, 2, 3))
    # student 1 sits periods 0, 1, 2: (0,1) and (1,2) in a row, (0,2) same day apart;
    # student 2 sits periods 2 and 3: adjacent numbers but overnight, so only the spread
    assert s.soft["two_in_a_row"] == 2 * 7
    assert s.soft["two_in_a_day"] == 1 * 5
    assert s.soft["period_spread"] == 3 + 1  # gaps 1, 1, 2 for student 1; 1 for student 2
    assert s.soft_total == 14 + 5 + 4
    assert s.feasible


def test_two_in_a_day_needs_a_gap_and_spread_stops_at_g() -> None:
    exams = [Exam(60, (1,)), Exam(60, (1,))]
    w = Weightings(two_in_a_row=7, two_in_a_day=5, period_spread=1)
    s = score(problem(exams, weightings=w), at(0, 2))
    assert (s.soft["two_in_a_row"], s.soft["two_in_a_day"], s.soft["period_spread"]) == (0, 5, 0)
    s = score(problem(exams, weightings=w), at(0, 4))
    assert s.soft_total == 0


def test_each_student_counts() -> None:
    exams = [Exam(60, (1, 2, 3)), Exam(60, (2, 3, 4))]
    s = score(problem(exams, weightings=Weightings(two_in_a_row=10)), at(3, 4))
    assert s.soft["two_in_a_row"] == 2 * 10


def test_mixed_durations_per_room_and_period() -> None:
    exams = [Exam(60, (1,)), Exam(90, (2,)), Exam(90, (3,)), Exam(120, (4,)), Exam(30, (5,))]
    p = problem(exams, weightings=Weightings(non_mixed_durations=10))
    solution = Solution(
        (
            Placement(0, (0,)),
            Placement(0, (0,)),
            Placement(0, (0,)),
            Placement(0, (0,)),
            Placement(0, (1,)),  # alone in its room: no penalty
        )
    )
    assert score(p, solution).soft["mixed_durations"] == 10 * 2  # three durations
    assert score(p, solution).soft_total == 20 + 20  # and room 1's penalty


def test_front_load_largest_exams_late() -> None:
    exams = [Exam(60, (1, 2, 3)), Exam(60, (4, 5, 6)), Exam(60, (7, 8)), Exam(60, (9,))]
    w = Weightings(front_load_exams=2, front_load_periods=2, front_load_penalty=5)
    p = problem(exams, weightings=w)
    assert p.largest == frozenset({0, 1})
    s = score(p, at(0, 3, 4, 4))  # exam 1 in the last two periods; 2 and 3 are not largest
    assert s.soft["front_load"] == 5
    assert score(p, at(4, 3, 0, 0)).soft["front_load"] == 10


def test_front_load_ties_go_to_the_lower_index() -> None:
    exams = [Exam(60, (1,)), Exam(60, (2,)), Exam(60, (3,))]
    w = Weightings(front_load_exams=1, front_load_periods=1, front_load_penalty=5)
    assert problem(exams, weightings=w).largest == frozenset({0})


def test_room_and_period_penalties_per_exam() -> None:
    exams = [Exam(60, (1,)), Exam(60, (2,)), Exam(60, (3,))]
    p = problem(exams, periods=periods([3, 2], penalties={1: 7}))
    solution = Solution((Placement(1, (1,)), Placement(1, (1,)), Placement(0, (0,))))
    s = score(p, solution)
    assert s.soft["room_penalty"] == 2 * 20
    assert s.soft["period_penalty"] == 2 * 7


def test_hard_violations_each_count() -> None:
    exams = [
        Exam(60, (1, 2)),
        Exam(60, (1, 2)),  # two students clash with exam 0 … but each student counts once
        Exam(200, (3,)),  # longer than the periods (120)
        Exam(60, tuple(range(100, 111))),  # 11 students in room 1 (10 seats)
        Exam(60, (20,)),
    ]
    p = problem(
        exams,
        constraints=(
            PeriodConstraint(4, Kind.AFTER, 0),  # violated: same period
            PeriodConstraint(4, Kind.EXAM_COINCIDENCE, 2),  # violated
            PeriodConstraint(4, Kind.EXCLUSION, 0),  # violated
            PeriodConstraint(2, Kind.AFTER, 0),  # kept
        ),
        room_exclusive=frozenset({4}),
    )
    solution = Solution(
        (
            Placement(0, (0,)),
            Placement(0, (0,)),
            Placement(1, (0,)),
            Placement(2, (1,)),
            Placement(0, (0,)),  # shares room 0 although exclusive
        )
    )
    s = score(p, solution)
    assert s.hard == {
        "unplaced": 0,
        "conflicts": 2,
        "capacity": 1,
        "duration": 1,
        "period_constraints": 3,
        "room_exclusive": 1,
        "unavailable": 0,
        "fixed": 0,
    }
    assert not s.feasible


def test_unplaced_exams_are_hard() -> None:
    p = problem([Exam(60, (1,)), Exam(60, (2,))])
    s = score(p, Solution((Placement(0, (0,)), None)))
    assert s.hard["unplaced"] == 1
    with pytest.raises(ValueError, match="考试数"):
        score(p, Solution((None,)))


def test_split_exam_fills_rooms_in_order() -> None:
    exams = [Exam(60, tuple(range(105)), max_rooms=2), Exam(60, (500,))]
    p = problem(exams)
    split = Solution((Placement(0, (0, 1)), Placement(0, (1,))))
    s = score(p, split)  # 100 in room 0, 5 in room 1 with the other exam: fits
    assert s.hard["capacity"] == 0
    assert s.soft["room_penalty"] == 2 * 20
    explicit = Solution((Placement(0, (0, 1), seats=(95, 10)), Placement(0, (1,))))
    assert score(p, explicit).hard["capacity"] == 1  # 11 students in 10 seats


def test_unavailable_students_and_moved_fixed_exams_are_hard() -> None:
    exams = [Exam(60, (1, 2, 3)), Exam(60, (2, 4)), Exam(60, (5,))]
    p = problem(
        exams,
        unavailable={2: frozenset({0, 1}), 3: frozenset({0}), 4: frozenset({3})},
        fixed={2: Placement(3, ())},  # held outside the exam rooms
    )
    # exam 0 in period 0: students 2 and 3 are away; exam 1 in period 1: student 2 is away
    s = score(p, Solution((Placement(0, (0,)), Placement(1, (0,)), Placement(3, ()))))
    assert s.hard["unavailable"] == 3 and s.hard["fixed"] == 0
    s = score(p, Solution((Placement(2, (0,)), Placement(4, (0,)), Placement(4, ()))))
    assert s.hard["unavailable"] == 0 and s.hard["fixed"] == 1
    # a split exam is fixed when the same rooms hold the same numbers
    split = problem(
        [Exam(60, tuple(range(105)), max_rooms=2)], fixed={0: Placement(0, (0, 1), (100, 5))}
    )
    assert score(split, Solution((Placement(0, (0, 1)),))).hard["fixed"] == 0
    assert score(split, Solution((Placement(0, (0, 1), (95, 10)),))).hard["fixed"] == 1
    assert score(split, Solution((Placement(0, (1, 0), (5, 100)),))).hard["fixed"] == 1
