"""Reading the ITC-2007 formats: the real files, and malformed ones failing with a line number
and a Chinese message (never another exception)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.timetabling.engine import itc2007
from campus.domains.academic.timetabling.engine.itc2007 import ParseError
from campus.domains.academic.timetabling.engine.problem import Placement

from .conftest import data_file

SMALL = """Name: Toy\r
Courses: 2\r
Rooms: 2\r
Days: 2\r
Periods_per_day: 3\r
Curricula: 1\r
Constraints: 1\r
\r
COURSES:\r
c1 t1 2 2 30 \r
c2 t2 1 1 10\r
\r
ROOMS:\r
rA 20\r
rB 40\r
\r
CURRICULA:\r
q1 2 c1 c2\r
\r
UNAVAILABILITY_CONSTRAINTS:\r
c1 1 2\r
\r
END.\r
"""


def test_small_file_parses_with_crlf() -> None:
    p = itc2007.loads(SMALL)
    assert (p.name, p.days, p.periods_per_day, p.slots) == ("Toy", 2, 3, 6)
    assert [(c.id, c.teachers, c.lectures, c.min_days, c.students) for c in p.courses] == [
        ("c1", ("t1",), 2, 2, 30),
        ("c2", ("t2",), 1, 1, 10),
    ]
    assert [(r.id, r.capacity) for r in p.rooms] == [("rA", 20), ("rB", 40)]
    assert p.curricula[0].courses == ("c1", "c2")
    assert p.courses[0].unavailable == frozenset({5})  # day 1, period 2
    assert p.courses[1].unavailable == frozenset()


def test_comp01_matches_the_readme() -> None:
    p = itc2007.load(data_file("comp01.ctt"))
    assert p.name == "Fis0506-1"
    assert (len(p.courses), len(p.rooms), len(p.curricula)) == (30, 6, 14)
    assert (p.days, p.periods_per_day) == (5, 6)
    assert sum(c.lectures for c in p.courses) == 160
    assert sum(len(c.unavailable) for c in p.courses) == 53


@pytest.mark.parametrize("name", ["comp01", "comp05", "comp12", "comp21"])
def test_ectt_holds_the_same_instance(name: str) -> None:
    ctt = itc2007.load(data_file(f"{name}.ctt"))
    ectt = itc2007.load(data_file(f"ectt/{name}.ectt"))
    assert ectt.courses == ctt.courses
    assert ectt.curricula == ctt.curricula
    assert [(r.id, r.capacity) for r in ectt.rooms] == [(r.id, r.capacity) for r in ctt.rooms]
    assert all(r.building is not None for r in ectt.rooms)


def test_ectt_room_constraints_become_allowed_rooms_on_request() -> None:
    p = itc2007.load(data_file("ectt/comp01.ectt"), room_constraints=True)
    c0002 = next(c for c in p.courses if c.id == "c0002")
    assert c0002.rooms is not None and "rC" not in c0002.rooms
    assert len(c0002.rooms) == len(p.rooms) - 1


def _broken(old: str, new: str) -> str:
    assert old in SMALL
    return SMALL.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (_broken("Courses: 2", "Courses: 3"), 13, "课程行数"),
        (_broken("Courses: 2", "Courses: 1"), 11, "课程行数多于"),
        (_broken("q1 2 c1 c2", "q1 2 c1 c9"), 18, "未知课程“c9”"),
        (_broken("rB 40", "rB forty"), 15, "教室容量应为整数"),
        (_broken("Days: 2", "Days: 0"), 4, "天数不能小于 1"),
        (_broken("c1 1 2", "c1 1 7"), 21, "超出"),
        (_broken("c1 1 2", "c7 1 2"), 21, "未知课程“c7”"),
        (_broken("END.", ""), 23, "END."),
        (_broken("Rooms: 2", "Roomz: 2"), 3, "应为“Rooms:”"),
        (SMALL + "extra\n", 24, "多余内容"),
        (SMALL[:60], 5, "文件意外结束"),
        ("", 1, "缺少“Name:”"),
    ],
)
def test_malformed_files_raise_parse_error_with_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ParseError) as caught:
        itc2007.loads(text)
    assert caught.value.line == line, str(caught.value)
    assert words in caught.value.message
    assert str(caught.value).startswith(f"第 {line} 行")


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mangled_file_raises_only_parse_error(data: st.DataObject) -> None:
    tokens = SMALL.split()
    i = data.draw(st.integers(0, len(tokens) - 1))
    action = data.draw(st.sampled_from(["drop", "dup", "swap", "junk"]))
    if action == "drop":
        del tokens[i]
    elif action == "dup":
        tokens.insert(i, tokens[i])
    elif action == "swap":
        j = data.draw(st.integers(0, len(tokens) - 1))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    else:
        tokens[i] = data.draw(st.sampled_from(["-1", "x", "99", "END.", "ROOMS:"]))
    try:
        itc2007.loads("\n".join(tokens))
    except ParseError as error:
        assert error.message


def test_solution_round_trip_and_bad_lines() -> None:
    p = itc2007.loads(SMALL)
    placements = [Placement("c1", "rB", 0), Placement("c1", "rB", 4), Placement("c2", "rA", 1)]
    text = itc2007.dumps_solution(p, placements)
    assert text.splitlines()[1] == "c1 rB 1 1"
    assert itc2007.loads_solution(p, text.replace("\n", "\r\n")) == placements
    for bad, words in [
        ("c1 rB 0", "四项"),
        ("c9 rB 0 0", "未知课程"),
        ("c1 rZ 0 0", "未知教室"),
        ("c1 rB 2 0", "超出范围"),
        ("c1 rB a 0", "整数"),
    ]:
        with pytest.raises(ParseError) as caught:
            itc2007.loads_solution(p, "c2 rA 0 0\n" + bad)
        assert caught.value.line == 2
        assert words in caught.value.message
