from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.exams.engine.seating import (
    SeatingError,
    SeatRoom,
    Sitting,
    seat_exam,
    seat_period,
)

ROOMS = [SeatRoom("A101", rows=5, columns=6), SeatRoom("A102", rows=4, columns=4)]


def students(n: int, prefix: str = "2024") -> list[str]:
    return [f"{prefix}{k:04d}" for k in range(n)]


def test_every_student_one_seat_no_seat_twice() -> None:
    people = students(40)
    seats = seat_exam("MATH101", people, ROOMS, seed=3)
    assert sorted(s.student for s in seats) == sorted(people)
    assert len({(s.room, s.number) for s in seats}) == 40
    per_room = Counter(s.room for s in seats)
    assert per_room == {"A101": 30, "A102": 10}  # filled in order
    for s in seats:
        room = next(r for r in ROOMS if r.id == s.room)
        assert 1 <= s.row <= room.rows and 1 <= s.column <= room.columns
        assert s.number == (s.row - 1) * room.columns + s.column


def test_deterministic_and_shuffled() -> None:
    people = students(30)
    first = seat_exam("MATH101", people, ROOMS, seed=1)
    assert first == seat_exam("MATH101", list(reversed(people)), ROOMS, seed=1)
    other = seat_exam("MATH101", people, ROOMS, seed=2)
    assert first != other
    in_order = sorted(first, key=lambda s: (s.room, s.number))
    assert [s.student for s in in_order] != sorted(people)  # classmates not in roll order


def test_shared_room_interleaves_columns() -> None:
    room = SeatRoom("B201", rows=3, columns=4)
    seats = seat_period(
        [
            Sitting("PHY", tuple(students(6, "P")), (("B201", 6),)),
            Sitting("CHEM", tuple(students(6, "C")), (("B201", 6),)),
        ],
        [room],
    )
    columns = {exam: {s.column for s in seats if s.exam == exam} for exam in ("PHY", "CHEM")}
    assert columns == {"PHY": {1, 3}, "CHEM": {2, 4}}


def test_split_counts_and_spill_into_free_seats() -> None:
    room = SeatRoom("B201", rows=2, columns=4)  # 8 seats, 2 columns of 2 per exam
    seats = seat_period(
        [
            Sitting("PHY", tuple(students(6, "P")), (("B201", 6),)),
            Sitting("CHEM", tuple(students(2, "C")), (("B201", 2),)),
        ],
        [room],
    )
    assert len({s.number for s in seats}) == 8
    assert Counter(s.exam for s in seats) == {"PHY": 6, "CHEM": 2}


@pytest.mark.parametrize(
    ("sittings", "words"),
    [
        ([Sitting("X", tuple(students(50)), (("A101", None),))], "只安排了 30 个座位"),
        ([Sitting("X", tuple(students(5)), (("Z9", 5),))], "考场 Z9 不存在"),
        ([Sitting("X", ("1", "1"), (("A101", 2),))], "重复的学生"),
        (
            [
                Sitting("X", tuple(students(20, "X")), (("A102", 20),)),
            ],
            "只有 16 个考试座位",
        ),
    ],
)
def test_errors(sittings: list[Sitting], words: str) -> None:
    with pytest.raises(SeatingError, match=words):
        seat_period(sittings, ROOMS)


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 25), min_size=1, max_size=4),
    seed=st.integers(0, 1000),
)
def test_property_capacity_respected(sizes: list[int], seed: int) -> None:
    room = SeatRoom("R", rows=6, columns=8)  # 48 seats
    sittings = [
        Sitting(f"E{k}", tuple(students(n, f"E{k}-")), (("R", n),)) for k, n in enumerate(sizes)
    ]
    if sum(sizes) > room.capacity:
        with pytest.raises(SeatingError):
            seat_period(sittings, [room], seed=seed)
        return
    seats = seat_period(sittings, [room], seed=seed)
    assert len(seats) == sum(sizes)
    assert len({s.student for s in seats}) == sum(sizes)
    assert len({s.number for s in seats}) == sum(sizes)
    assert all(1 <= s.number <= room.capacity for s in seats)
