import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.exams.engine.itc2007 import (
    ParseError,
    format_solution,
    parse_exam,
    parse_solution,
)
from campus.domains.academic.exams.engine.problem import Kind, Placement, Solution

from .conftest import itc_set

GOOD = """[Exams:3]
120, 1, 2, 3
90, 3, 4
60
[Periods:2]
15:04:2005, 09:30:00, 120, 0
15:04:2005, 14:00:00, 90, 5
[Rooms:2]
100, 0
30, 20
[PeriodHardConstraints]
0, AFTER, 1
1, EXCLUSION, 2
2, EXAM_COINCIDENCE, 0
[RoomHardConstraints]
2, ROOM_EXCLUSIVE
[InstitutionalWeightings]
TWOINAROW, 7
TWOINADAY, 5
PERIODSPREAD, 3
NONMIXEDDURATIONS, 10
FRONTLOAD, 2, 1, 5
"""


def test_parses_every_section() -> None:
    problem = parse_exam(GOOD)
    assert [e.duration for e in problem.exams] == [120, 90, 60]
    assert problem.exams[0].students == (1, 2, 3)
    assert problem.exams[2].students == ()
    assert problem.periods[1].date == dt.date(2005, 4, 15)
    assert problem.periods[1].start == dt.time(14, 0)
    assert (problem.periods[1].duration, problem.periods[1].penalty) == (90, 5)
    assert [(r.capacity, r.penalty) for r in problem.rooms] == [(100, 0), (30, 20)]
    assert [(c.first, c.kind, c.second) for c in problem.constraints] == [
        (0, Kind.AFTER, 1),
        (1, Kind.EXCLUSION, 2),
        (2, Kind.EXAM_COINCIDENCE, 0),
    ]
    assert problem.room_exclusive == frozenset({2})
    w = problem.weightings
    assert (w.two_in_a_row, w.two_in_a_day, w.period_spread, w.non_mixed_durations) == (7, 5, 3, 10)
    assert (w.front_load_exams, w.front_load_periods, w.front_load_penalty) == (2, 1, 5)
    assert problem.days == (0, 0)
    assert problem.largest == frozenset({0, 1})  # 3 and 2 students
    assert problem.front_load_start == 1


def test_duplicate_students_in_an_exam_count_once() -> None:
    problem = parse_exam(GOOD.replace("120, 1, 2, 3", "120, 1, 2, 3, 2"))
    assert problem.exams[0].students == (1, 2, 3)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (GOOD.replace("[Exams:3]", "[Exams:4]"), 1, "声明了 4 行"),
        (GOOD.replace("90, 3, 4", "90, 3, x"), 3, "学生编号应为整数"),
        (GOOD.replace("15:04:2005, 09:30:00", "2005-04-15, 09:30:00"), 6, "dd:mm:yyyy"),
        (GOOD.replace("09:30:00, 120, 0", "09:30:00, 120"), 6, "四项"),
        (GOOD.replace("30, 20", "30, -1"), 10, "不能小于 0"),
        (GOOD.replace("1, EXCLUSION, 2", "1, BEFORE, 2"), 13, "未知的时段约束"),
        (GOOD.replace("1, EXCLUSION, 2", "1, EXCLUSION, 9"), 13, "考试编号 9 不存在"),
        (GOOD.replace("2, ROOM_EXCLUSIVE", "2, ROOM_SHARED"), 16, "ROOM_EXCLUSIVE"),
        (GOOD.replace("FRONTLOAD, 2, 1, 5", "FRONTLOAD, 2, 1"), 22, "3 个数值"),
        (GOOD.replace("[Rooms:2]", "[Rooms]"), 8, "缺少数量"),
        (GOOD.replace("[Rooms:2]", "[Chairs:2]"), 8, "无法识别"),
        ("junk\n" + GOOD, 1, "段落标题之前"),
    ],
)
def test_bad_files_say_where_and_why(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_exam(text)
    assert caught.value.line == line
    assert words in caught.value.message
    assert f"第 {line} 行" in str(caught.value)


def test_missing_section() -> None:
    with pytest.raises(ParseError, match=r"缺少段落 \[Rooms\]"):
        parse_exam(GOOD.split("[Rooms:2]")[0])


def test_solution_round_trip_and_errors() -> None:
    problem = parse_exam(GOOD)
    solution = Solution(placements=(Placement(1, (0,)), Placement(0, (1,)), Placement(1, (0,))))
    text = format_solution(solution)
    assert text == "1, 0\n0, 1\n1, 0\n"
    assert parse_solution(text, problem) == solution
    with pytest.raises(ParseError, match="第 2 行") as caught:
        parse_solution("1, 0\n5, 1\n1, 0\n", problem)
    assert "时段编号 5 不存在" in caught.value.message
    with pytest.raises(ParseError, match="2 行"):
        parse_solution("1, 0\n0, 1\n", problem)
    with pytest.raises(ParseError, match="两项"):
        parse_solution("1\n0, 1\n1, 0\n", problem)


def test_reads_the_competition_files() -> None:
    problem = itc_set(9)
    assert (len(problem.exams), len(problem.periods), len(problem.rooms)) == (169, 25, 3)
    assert len({s for e in problem.exams for s in e.students}) == 624
    assert len(set(problem.days)) == 13
    w = problem.weightings
    assert (w.two_in_a_row, w.two_in_a_day, w.period_spread, w.non_mixed_durations) == (
        25,
        10,
        5,
        25,
    )
    assert (w.front_load_exams, w.front_load_periods, w.front_load_penalty) == (100, 10, 5)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(GOOD.splitlines())
        | st.text(alphabet=",:[]0123456789 -ABEXSTLUOINCR\t", max_size=30),
        max_size=30,
    )
)
def test_any_text_parses_or_says_why(lines: list[str]) -> None:
    try:
        parse_exam("\n".join(lines))
    except ParseError as error:
        assert error.message


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, len(GOOD) - 1), st.sampled_from(list(",:[]09- \nxA"))),
        min_size=1,
        max_size=4,
    )
)
def test_a_damaged_file_parses_or_says_why(edits: list[tuple[int, str]]) -> None:
    text = list(GOOD)
    for position, char in edits:
        text[position] = char
    try:
        parse_exam("".join(text))
    except ParseError as error:
        assert error.message
