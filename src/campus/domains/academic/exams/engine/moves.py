"""Moving one exam by hand (调整考试): what the move breaks and what it makes worse.

``check_move(problem, solution, exam, placement)`` looks at the exam in its new placement
against every other exam where it stands. *Problems* break a hard rule of ``scoring`` (students
in two exams at once, a student's unavailable period, seats, duration, period constraints, a
room-exclusive exam): a move with problems is refused. *Warnings* are the soft rules the new
placement touches (two in a row, two in a day, mixed durations in a room, period and room
penalties): the registrar confirms them. The exam's own ``fixed`` placement is what the move
replaces, so it is not a problem; the others are never moved.

When the timetable was hard-feasible, a move has no problems exactly when the scorer finds the
moved timetable hard-feasible (with the exam's fix updated); ``soft_delta`` is the scorer's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from .problem import ExamProblem, Kind, Placement, Solution, StudentId, seats_per_room
from .scoring import score


@dataclass(frozen=True)
class Issue:
    rule: str  # the scorer's component: "conflicts", "capacity", …, "two_in_a_row", …
    where: str  # "period" or "rooms": what to change to avoid it
    message: str  # Chinese
    students: tuple[StudentId, ...] = ()  # the students concerned, when it is about students


@dataclass(frozen=True)
class MoveCheck:
    problems: tuple[Issue, ...]
    warnings: tuple[Issue, ...]
    soft_delta: int  # the scorer's soft cost after the move minus before
    solution: Solution  # the timetable with the move made

    @property
    def allowed(self) -> bool:
        return not self.problems


def moved(problem: ExamProblem, exam: int, placement: Placement) -> ExamProblem:
    """``problem`` with the exam's fixed placement (if any) replaced by ``placement``."""
    if exam not in problem.fixed:
        return problem
    return replace(problem, fixed={**problem.fixed, exam: placement})


def check_move(
    problem: ExamProblem,
    solution: Solution,
    exam: int,
    placement: Placement,
    *,
    names: Mapping[int, str] | None = None,
) -> MoveCheck:
    """Problems and warnings of putting ``exam`` at ``placement``; ``names`` label exams."""
    if not 0 <= exam < len(problem.exams):
        raise ValueError("考试不存在")
    if not 0 <= placement.period < len(problem.periods):
        raise ValueError("时段不存在")
    if any(not 0 <= r < len(problem.rooms) for r in placement.rooms):
        raise ValueError("考场不存在")
    me = problem.exams[exam]
    mine = seats_per_room(problem, exam, placement)
    if placement.rooms and sum(mine) != me.size:
        raise ValueError("各考场人数之和与考生数不符")

    def label(e: int) -> str:
        given = (names or {}).get(e)
        return given or problem.exams[e].id or f"#{e}"

    def room_label(r: int) -> str:
        return problem.rooms[r].id or f"#{r}"

    q = placement.period
    period = problem.periods[q]
    days = problem.days
    weights = problem.weightings
    others = [(e, p) for e, p in enumerate(solution.placements) if e != exam and p is not None]
    students = set(me.students)
    problems: list[Issue] = []
    warnings: list[Issue] = []

    if me.duration > period.duration:
        problems.append(
            Issue(
                "duration",
                "period",
                f"考试时长 {me.duration} 分钟，超过该时段的 {period.duration} 分钟",
            )
        )
    away = tuple(s for s in me.students if q in problem.unavailable.get(s, ()))
    if away:
        problems.append(Issue("unavailable", "period", f"{len(away)} 名学生在该时段不能考试", away))
    row: dict[int, tuple[StudentId, ...]] = {}  # an exam next to it → the students shared
    day: dict[int, tuple[StudentId, ...]] = {}  # the same day, not next to it
    for e, p in others:
        if p.period != q and days[p.period] != days[q]:
            continue
        shared = tuple(s for s in problem.exams[e].students if s in students)
        if not shared:
            continue
        if p.period == q:
            problems.append(
                Issue(
                    "conflicts",
                    "period",
                    f"{len(shared)} 名学生在该时段还有考试 {label(e)}",
                    shared,
                )
            )
        elif abs(p.period - q) == 1:
            row[e] = shared
        else:
            day[e] = shared
    if weights.two_in_a_row:
        for e, near in row.items():
            warnings.append(
                Issue(
                    "two_in_a_row",
                    "period",
                    f"{len(near)} 名学生在相邻时段还有考试 {label(e)}（连考）",
                    near,
                )
            )
    if weights.two_in_a_day:
        for e, near in day.items():
            warnings.append(
                Issue(
                    "two_in_a_day",
                    "period",
                    f"{len(near)} 名学生同一天还有考试 {label(e)}",
                    near,
                )
            )

    # rooms: seats left, exclusive use, durations
    for r, count in zip(placement.rooms, mine, strict=True):
        room = problem.rooms[r]
        sharing = [
            (e, seats)
            for e, p in others
            if p.period == q
            for r2, seats in zip(p.rooms, seats_per_room(problem, e, p), strict=True)
            if r2 == r
        ]
        used = sum(seats for _e, seats in sharing)
        if used + count > room.capacity:
            problems.append(
                Issue(
                    "capacity",
                    "rooms",
                    f"考场 {room_label(r)} 有 {room.capacity} 个考试座位，已有 {used} 人，"
                    f"放不下本考试的 {count} 人",
                )
            )
        if sharing and (
            exam in problem.room_exclusive or any(e in problem.room_exclusive for e, _s in sharing)
        ):
            problems.append(
                Issue("room_exclusive", "rooms", f"考场 {room_label(r)} 须由一门考试单独使用")
            )
        if weights.non_mixed_durations and any(
            problem.exams[e].duration != me.duration for e, _s in sharing
        ):
            warnings.append(
                Issue("mixed_durations", "rooms", f"考场 {room_label(r)} 内各考试的时长不同")
            )
        if room.penalty:
            warnings.append(
                Issue(
                    "room_penalty",
                    "rooms",
                    f"考场 {room_label(r)} 不宜安排考试（罚分 {room.penalty}）",
                )
            )
    if period.penalty:
        warnings.append(
            Issue("period_penalty", "period", f"该时段不宜安排考试（罚分 {period.penalty}）")
        )
    if exam in problem.largest and q >= problem.front_load_start and weights.front_load_penalty:
        warnings.append(Issue("front_load", "period", "大型考试宜安排在考试周前段"))

    # period constraints with the exams placed
    where = {e: p.period for e, p in others}
    for c in problem.constraints:
        if exam not in (c.first, c.second) or c.first == c.second:
            continue
        other = c.second if c.first == exam else c.first
        if other not in where:
            continue
        mine_p, theirs = q, where[other]
        first, second = (mine_p, theirs) if c.first == exam else (theirs, mine_p)
        ok = {
            Kind.AFTER: first > second,
            Kind.EXAM_COINCIDENCE: first == second,
            Kind.EXCLUSION: first != second,
        }[c.kind]
        if not ok:
            word = {
                Kind.AFTER: "先后",
                Kind.EXAM_COINCIDENCE: "须同时段",
                Kind.EXCLUSION: "须不同时段",
            }[c.kind]
            problems.append(
                Issue("period_constraints", "period", f"违反与考试 {label(other)} 的{word}约束")
            )

    placements = list(solution.placements)
    placements[exam] = placement
    after = Solution(tuple(placements))
    target = moved(problem, exam, placement)
    delta = score(target, after).soft_total - score(target, solution).soft_total
    return MoveCheck(tuple(problems), tuple(warnings), delta, after)
