"""An independent scorer of the ITC-2007 examination rules (McCollum et al., 2007).

Written straight from the rules and deliberately simple (per student, per room and period), and
separate from the solver's incremental bookkeeping so that each checks the other.

Hard (each occurrence counts 1, "distance to feasibility"): a student with k > 1 exams in one
period (k - 1); a room-period with more students than seats; an exam longer than its period; a
violated period constraint; a room-exclusive exam sharing a room; an exam not placed; a student
in an exam during one of their unavailable periods (per student and exam); a fixed exam not at
its fixed placement.

Soft: for each student and each pair of their exams on distinct periods of one day, adjacent →
``two_in_a_row``, not adjacent (only possible on days of 3+ periods) → ``two_in_a_day``; each pair
whose periods differ by 1..g → 1 (period spread); each room-period with k > 1 distinct durations
→ ``non_mixed_durations`` · (k - 1); each of the largest exams in one of the last t periods →
``front_load_penalty``; each exam adds the penalty of its period and of each of its rooms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .problem import ExamProblem, Kind, Solution, StudentId, same_placement, seats_per_room

HARD = (
    "unplaced",
    "conflicts",
    "capacity",
    "duration",
    "period_constraints",
    "room_exclusive",
    "unavailable",
    "fixed",
)
SOFT = (
    "two_in_a_row",
    "two_in_a_day",
    "period_spread",
    "mixed_durations",
    "front_load",
    "room_penalty",
    "period_penalty",
)


@dataclass(frozen=True)
class Score:
    hard: dict[str, int]
    soft: dict[str, int]

    @property
    def hard_total(self) -> int:
        return sum(self.hard.values())

    @property
    def soft_total(self) -> int:
        return sum(self.soft.values())

    @property
    def feasible(self) -> bool:
        return self.hard_total == 0


def score(problem: ExamProblem, solution: Solution) -> Score:
    if len(solution.placements) != len(problem.exams):
        raise ValueError("解答的考试数与问题不符")
    hard = dict.fromkeys(HARD, 0)
    soft = dict.fromkeys(SOFT, 0)
    weights = problem.weightings
    days = problem.days

    periods_of: dict[StudentId, set[int]] = defaultdict(set)
    exams_of: dict[StudentId, list[int]] = defaultdict(list)
    in_room: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(
        list
    )  # (p, r) → exam, seats
    for exam, placement in enumerate(solution.placements):
        if placement is None:
            hard["unplaced"] += 1
            continue
        for student in problem.exams[exam].students:
            exams_of[student].append(placement.period)
            periods_of[student].add(placement.period)
            if placement.period in problem.unavailable.get(student, ()):
                hard["unavailable"] += 1
        pinned = problem.fixed.get(exam)
        if pinned is not None and not same_placement(problem, exam, pinned, placement):
            hard["fixed"] += 1
        for room, seats in zip(
            placement.rooms, seats_per_room(problem, exam, placement), strict=True
        ):
            in_room[placement.period, room].append((exam, seats))
            soft["room_penalty"] += problem.rooms[room].penalty
        period = problem.periods[placement.period]
        soft["period_penalty"] += period.penalty
        if problem.exams[exam].duration > period.duration:
            hard["duration"] += 1
        if exam in problem.largest and placement.period >= problem.front_load_start:
            soft["front_load"] += weights.front_load_penalty

    # students: conflicts and the pairs of periods they sit in
    for student, sat in exams_of.items():
        hard["conflicts"] += len(sat) - len(periods_of[student])
        ordered = sorted(periods_of[student])
        for i, first in enumerate(ordered):
            for second in ordered[i + 1 :]:
                gap = second - first
                if days[first] == days[second]:
                    if gap == 1:
                        soft["two_in_a_row"] += weights.two_in_a_row
                    else:
                        soft["two_in_a_day"] += weights.two_in_a_day
                if gap <= weights.period_spread:
                    soft["period_spread"] += 1

    # rooms
    for (_period, room), exams in in_room.items():
        if sum(seats for _exam, seats in exams) > problem.rooms[room].capacity:
            hard["capacity"] += 1
        durations = {problem.exams[exam].duration for exam, _seats in exams}
        soft["mixed_durations"] += weights.non_mixed_durations * (len(durations) - 1)
        if len(exams) > 1:
            hard["room_exclusive"] += sum(1 for e, _s in exams if e in problem.room_exclusive)

    # period constraints
    for constraint in problem.constraints:
        one = solution.placements[constraint.first]
        other = solution.placements[constraint.second]
        if one is None or other is None:
            continue
        if constraint.kind is Kind.AFTER:
            ok = one.period > other.period
        elif constraint.kind is Kind.EXAM_COINCIDENCE:
            ok = one.period == other.period
        else:
            ok = one.period != other.period
        if not ok:
            hard["period_constraints"] += 1
    return Score(hard=hard, soft=soft)
