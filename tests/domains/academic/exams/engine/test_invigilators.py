from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campus.domains.academic.exams.engine.invigilators import (
    InvigilationError,
    Invigilator,
    Session,
    assign_invigilators,
    repair_invigilators,
)


def check(
    sessions: list[Session], staff: list[Invigilator], out: list[tuple[str, ...]]
) -> Counter[str]:
    unavailable = {p.id: p.unavailable for p in staff}
    seen: set[tuple[int, str]] = set()
    for session, people in zip(sessions, out, strict=True):
        assert len(people) == (1 if session.students <= 30 else 2)
        for person in people:
            assert (session.period, person) not in seen  # never two places at once
            seen.add((session.period, person))
            assert session.period not in unavailable[person]
    return Counter(person for people in out for person in people)


def test_two_per_room_one_for_small_and_fair() -> None:
    sessions = [
        Session(p, room, n) for p in range(6) for room, n in (("A", 80), ("B", 25), ("C", 40))
    ]
    staff = [Invigilator(f"T{k}") for k in range(7)]
    out = assign_invigilators(sessions, staff, seed=1)
    load = check(sessions, staff, out)
    assert sum(load.values()) == 6 * 5
    assert max(load.values()) - min(load[p.id] for p in staff) <= 1
    assert out == assign_invigilators(sessions, staff, seed=1)


def test_unavailable_periods_respected() -> None:
    sessions = [Session(p, "A", 80) for p in range(4)]
    staff = [
        Invigilator("T1", frozenset({0, 1})),
        Invigilator("T2"),
        Invigilator("T3"),
        Invigilator("T4", frozenset({2, 3})),
    ]
    out = assign_invigilators(sessions, staff)
    load = check(sessions, staff, out)
    assert max(load.values()) - min(load.values()) <= 1


def test_not_enough_invigilators_says_when() -> None:
    sessions = [Session(0, "A", 80), Session(0, "B", 80), Session(1, "A", 10)]
    staff = [Invigilator("T1"), Invigilator("T2"), Invigilator("T3", frozenset({1}))]
    with pytest.raises(InvigilationError, match="时段 第1场 需要 4 名监考人员，只有 3 名有空"):
        assign_invigilators(sessions, staff, period_names={0: "第1场"})
    with pytest.raises(InvigilationError, match="重复"):
        assign_invigilators([], [Invigilator("T1"), Invigilator("T1")])


@settings(max_examples=60, deadline=None)
@given(
    rooms=st.lists(st.integers(5, 90), min_size=1, max_size=5),
    periods=st.integers(1, 6),
    people=st.integers(1, 14),
    seed=st.integers(0, 99),
)
def test_property_no_double_booking_and_fair_within_one(
    rooms: list[int], periods: int, people: int, seed: int
) -> None:
    sessions = [Session(p, f"R{k}", n) for p in range(periods) for k, n in enumerate(rooms)]
    staff = [Invigilator(f"T{k}") for k in range(people)]
    need = sum(1 if n <= 30 else 2 for n in rooms)
    if need > people:
        with pytest.raises(InvigilationError):
            assign_invigilators(sessions, staff, seed=seed)
        return
    out = assign_invigilators(sessions, staff, seed=seed)
    load = check(sessions, staff, out)
    assert max(load[p.id] for p in staff) - min(load[p.id] for p in staff) <= 1


def test_repair_keeps_valid_duties_and_replaces_only_the_rest() -> None:
    sessions = [Session(0, "A", 80), Session(0, "B", 20), Session(1, "A", 80)]
    staff = [
        Invigilator("T1", frozenset({1})),  # now away in period 1
        Invigilator("T2"),
        Invigilator("T3"),
        Invigilator("T4"),
        Invigilator("T5"),
    ]
    current = [("T2", "T3"), ("T2",), ("T1", "T4")]  # T2 twice in period 0: B loses T2
    out = repair_invigilators(sessions, current, staff, prefer={0: ["T5"]})
    check(sessions, staff, out)
    assert out[0] == ("T2", "T3")  # untouched
    assert out[1] == ("T5",)  # the preferred one first
    assert out[2][0] == "T4" and out[2][1] != "T1"  # T1 is away: only that place changes
    # a new room-session (an exam moved there) gets people free then, the least-loaded first
    grown = [*sessions, Session(1, "C", 10)]
    again = repair_invigilators(grown, [*out, ()], staff)
    check(grown, staff, again)
    assert again[:3] == out


def test_repair_says_when_nobody_is_free() -> None:
    sessions = [Session(0, "A", 80), Session(0, "B", 80)]
    staff = [Invigilator("T1"), Invigilator("T2"), Invigilator("T3", frozenset({0}))]
    with pytest.raises(InvigilationError, match="时段 第1场 需要 4 名监考人员，只有 2 名有空"):
        repair_invigilators(sessions, [("T1", "T2"), ()], staff, period_names={0: "第1场"})
    with pytest.raises(ValueError, match="不符"):
        repair_invigilators(sessions, [()], staff)
