"""The exam timetabling solver: a feasible timetable first, then a lower soft cost.

1. ``diagnose`` looks for reasons no timetable can exist (an exam longer than every period, more
   students than seats, contradictory period constraints, …) and returns them in Chinese.
2. Construction, an iterative forward search: the exam with the fewest conflict-free periods
   left (saturation degree) goes to its cheapest feasible period and room; when it has none, it
   takes the period that unseats the fewest exams, which go back to the queue.
3. Improvement, simulated annealing cooled over the time left, with three moves: an exam (with
   the exams it must coincide with) to another period, a Kempe chain swapping the conflicting
   exams of two periods, and a room move or swap. Single moves are evaluated in O(1) from a
   matrix ``cost[exam, period]`` of the student-pair cost each exam would have in each period,
   updated with numpy when a move is made.

Fixed exams (``problem.fixed``) are placed first and never move: every other period is closed
to them, and the period of a fixed exam is closed to the exams sharing students with it, as are
students' unavailable periods (``problem.unavailable``) to their exams.

Students' exam pairs cost ``count · W[p, q]`` where ``W`` adds two-in-a-row, two-in-a-day and
period spread for periods ``p`` and ``q``; this is the same as the per-student rules of
``scoring`` when no student sits two exams in one period. The best timetable is kept at every
moment and returned when the time is up or ``should_stop()`` says so.
"""

from __future__ import annotations

import math
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .problem import ExamProblem, Kind, Placement, Solution, seats_per_room

IntMatrix = npt.NDArray[np.int64]

# annealing: starting temperature (times the mean uphill move), final temperature, and the
# share of single-exam moves and of Kempe chains (the rest are room moves)
TUNING = {"t0": 0.3, "t_end": 0.05, "single": 0.72, "kempe": 0.2}


@dataclass(frozen=True)
class Progress:
    elapsed: float
    phase: str  # "construct" or "improve"
    unplaced: int
    cost: int | None  # best soft cost so far, once feasible
    iterations: int


@dataclass(frozen=True)
class Result:
    feasible: bool
    solution: Solution | None  # the best timetable (partial, with None, when not feasible)
    cost: int | None  # its soft cost, when feasible
    reasons: tuple[str, ...]  # why there is no feasible timetable (Chinese), when not feasible
    elapsed: float
    first_feasible: float | None  # seconds to the first feasible timetable
    iterations: int
    stopped: bool = False  # should_stop() ended the run early


def _label(problem: ExamProblem, exam: int) -> str:
    name = problem.exams[exam].id
    return f"考试 {name}" if name and name != str(exam) else f"考试 #{exam}"


def diagnose(problem: ExamProblem) -> list[str]:
    """Reasons, in Chinese, why no feasible timetable can exist (empty when none is found)."""
    reasons: list[str] = []
    exams, periods, rooms = problem.exams, problem.periods, problem.rooms
    if exams and not periods:
        reasons.append("没有任何考试时段")
    if exams and not rooms:
        reasons.append("没有任何考场")
    if reasons:
        return reasons
    fixed_reasons = _check_fixed(problem)
    if fixed_reasons:
        return fixed_reasons
    longest = max(p.duration for p in periods)
    capacities = sorted((r.capacity for r in rooms), reverse=True)
    closed = _closed_periods(problem)
    for index, exam in enumerate(exams):
        if index in problem.fixed:
            continue  # checked above, in the placement given
        if exam.duration > longest:
            reasons.append(
                f"{_label(problem, index)} 时长 {exam.duration} 分钟，"
                f"超过最长的时段（{longest} 分钟）"
            )
        seats = sum(capacities[: max(1, exam.max_rooms)])
        if exam.size > seats:
            how = "最大考场" if exam.max_rooms <= 1 else f"最大的 {exam.max_rooms} 个考场合计"
            reasons.append(
                f"{_label(problem, index)} 有 {exam.size} 名学生，{how}只有 {seats} 个座位"
            )
        if exam.duration <= longest and all(
            q in closed[index] or exam.duration > p.duration for q, p in enumerate(periods)
        ):
            reasons.append(
                f"{_label(problem, index)} 在任何时段都无法安排：其余时段都被学生的不可考时段"
                "或与其有共同学生的已固定考试占用"
            )
    groups = _Groups(len(exams))
    for c in problem.constraints:
        if c.first == c.second and c.kind is not Kind.EXAM_COINCIDENCE:
            word = "晚于" if c.kind is Kind.AFTER else "不同时段于"
            reasons.append(f"{_label(problem, c.first)} 被要求{word}它自己")
        if c.kind is Kind.EXAM_COINCIDENCE:
            groups.union(c.first, c.second)
    students = [set(e.students) for e in exams]
    for members in groups.members().values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                shared = len(students[a] & students[b])
                if shared:
                    reasons.append(
                        f"{_label(problem, a)} 与 {_label(problem, b)} 须安排在同一时段，"
                        f"但有 {shared} 名共同学生"
                    )
        if len(members) > 1:
            need = sum(exams[m].size for m in members)
            if need > sum(capacities):
                reasons.append(
                    f"须同时段进行的 {len(members)} 门考试共 {need} 名学生，超过全部考场座位"
                    f"（{sum(capacities)}）"
                )
    for c in problem.constraints:
        if c.first != c.second and groups.find(c.first) == groups.find(c.second):
            if c.kind is Kind.AFTER:
                reasons.append(
                    f"{_label(problem, c.first)} 须晚于 {_label(problem, c.second)}，"
                    "但二者又被要求同时段"
                )
            elif c.kind is Kind.EXCLUSION:
                reasons.append(
                    f"{_label(problem, c.first)} 与 {_label(problem, c.second)} "
                    "既须同时段又须不同时段"
                )
    # precedence between coincidence groups: a cycle, or a chain longer than the periods
    after: dict[int, set[int]] = defaultdict(set)  # group → groups it must follow
    for c in problem.constraints:
        if c.kind is Kind.AFTER and c.first != c.second:
            a, b = groups.find(c.first), groups.find(c.second)
            if a != b:
                after[a].add(b)
    nodes = set(after) | {b for bs in after.values() for b in bs}
    waiting = {node: len(after.get(node, ())) for node in nodes}
    followers: dict[int, list[int]] = defaultdict(list)
    for a, bs in after.items():
        for b in bs:
            followers[b].append(a)
    depth: dict[int, int] = {}
    ready = [node for node, count in waiting.items() if count == 0]
    while ready:
        node = ready.pop()
        depth[node] = 1 + max((depth[b] for b in after.get(node, ())), default=0)
        for a in followers[node]:
            waiting[a] -= 1
            if waiting[a] == 0:
                ready.append(a)
    cycle = len(depth) < len(nodes)
    if cycle:
        reasons.append("“晚于”约束构成了循环（A 晚于 B，B 又直接或间接晚于 A）")
    elif depth and max(depth.values()) > len(periods):
        reasons.append(
            f"“晚于”约束串联了 {max(depth.values())} 门考试，而只有 {len(periods)} 个时段"
        )
    # a group of exams sharing students pairwise needs as many periods (greedy clique)
    if not cycle:
        neighbours: dict[int, set[int]] = defaultdict(set)
        by_student: dict[object, list[int]] = defaultdict(list)
        for index, exam in enumerate(exams):
            for s in exam.students:
                by_student[s].append(index)
        for taken in by_student.values():
            for a in taken:
                neighbours[a].update(taken)
        for a in neighbours:
            neighbours[a].discard(a)
        order = sorted(neighbours, key=lambda x: -len(neighbours[x]))[:50]
        for seed in order:
            clique = [seed]
            for cand in sorted(neighbours[seed], key=lambda x: -len(neighbours[x])):
                if all(cand in neighbours[m] for m in clique):
                    clique.append(cand)
            if len(clique) > len(periods):
                reasons.append(
                    f"有 {len(clique)} 门考试两两有共同学生（如 {_label(problem, clique[0])}），"
                    f"至少需要 {len(clique)} 个时段，而只有 {len(periods)} 个"
                )
                break
    return reasons


def _period_label(problem: ExamProblem, period: int) -> str:
    p = problem.periods[period]
    return f"时段 {period + 1}（{p.date} {p.start:%H:%M}）"


def _check_fixed(problem: ExamProblem) -> list[str]:
    """Reasons the fixed placements alone make a timetable impossible (they never move)."""
    reasons: list[str] = []
    n, np_, nr = len(problem.exams), len(problem.periods), len(problem.rooms)
    in_room: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    at: dict[int, list[int]] = defaultdict(list)
    for e, placement in sorted(problem.fixed.items()):
        if not 0 <= e < n:
            reasons.append(f"固定的考试 #{e} 不存在")
            continue
        name = _label(problem, e)
        if not 0 <= placement.period < np_:
            reasons.append(f"{name} 固定的时段 {placement.period + 1} 不存在")
            continue
        if any(not 0 <= r < nr for r in placement.rooms) or len(set(placement.rooms)) != len(
            placement.rooms
        ):
            reasons.append(f"{name} 固定的考场不存在或重复")
            continue
        seats = seats_per_room(problem, e, placement)
        if placement.rooms and (
            len(seats) != len(placement.rooms) or sum(seats) != problem.exams[e].size
        ):
            reasons.append(f"{name} 固定的各考场人数与其 {problem.exams[e].size} 名学生不符")
            continue
        where = _period_label(problem, placement.period)
        if problem.exams[e].duration > problem.periods[placement.period].duration:
            reasons.append(f"{name} 固定在{where}，但时长超过该时段")
        away = [
            s
            for s in problem.exams[e].students
            if placement.period in problem.unavailable.get(s, ())
        ]
        if away:
            reasons.append(f"{name} 固定在{where}，但有 {len(away)} 名学生在该时段不能考试")
        for r, count in zip(placement.rooms, seats, strict=True):
            in_room[placement.period, r].append((e, count))
        at[placement.period].append(e)
    for (period, r), held in sorted(in_room.items()):
        room = problem.rooms[r]
        if sum(count for _e, count in held) > room.capacity:
            reasons.append(
                f"固定在{_period_label(problem, period)}的考试在考场 {room.id or r} "
                f"超过其 {room.capacity} 个座位"
            )
        if len(held) > 1 and any(e in problem.room_exclusive for e, _c in held):
            reasons.append(
                f"固定在{_period_label(problem, period)}的考试在考场 {room.id or r} "
                "与须单独使用考场的考试同场"
            )
    for period, together in sorted(at.items()):
        for i, a in enumerate(together):
            for b in together[i + 1 :]:
                shared = len(set(problem.exams[a].students) & set(problem.exams[b].students))
                if shared:
                    reasons.append(
                        f"{_label(problem, a)} 与 {_label(problem, b)} 都固定在"
                        f"{_period_label(problem, period)}，但有 {shared} 名共同学生"
                    )
    for c in problem.constraints:
        one, other = problem.fixed.get(c.first), problem.fixed.get(c.second)
        if one is None or other is None or c.first == c.second:
            continue
        ok = {
            Kind.AFTER: one.period > other.period,
            Kind.EXAM_COINCIDENCE: one.period == other.period,
            Kind.EXCLUSION: one.period != other.period,
        }[c.kind]
        if not ok:
            reasons.append(
                f"{_label(problem, c.first)} 与 {_label(problem, c.second)} 的固定时段"
                "违反二者之间的时段约束"
            )
    return reasons


def _closed_periods(problem: ExamProblem) -> list[set[int]]:
    """The periods closed to each exam besides those too short for it: its students'
    unavailable periods and the periods of the fixed exams it shares students with (or must be
    apart from); a fixed exam, and what must coincide with it, have only its own period open."""
    n, np_ = len(problem.exams), len(problem.periods)
    closed: list[set[int]] = [set() for _ in range(n)]
    if problem.unavailable:
        for e, exam in enumerate(problem.exams):
            for s in exam.students:
                closed[e].update(problem.unavailable.get(s, ()))
    if not problem.fixed:
        return closed
    groups = _Groups(n)
    for c in problem.constraints:
        if c.kind is Kind.EXAM_COINCIDENCE:
            groups.union(c.first, c.second)
    members = groups.members()
    holders: dict[object, list[int]] = defaultdict(list)  # student → fixed exams
    for f in problem.fixed:
        for s in problem.exams[f].students:
            holders[s].append(f)
    for f, placement in problem.fixed.items():
        for m in members[groups.find(f)]:
            closed[m].update(q for q in range(np_) if q != placement.period)
    for e, exam in enumerate(problem.exams):
        if e in problem.fixed:
            continue
        for s in exam.students:
            for f in holders.get(s, ()):
                closed[e].add(problem.fixed[f].period)
    for c in problem.constraints:
        if c.kind is Kind.EXCLUSION and c.first != c.second:
            for a, b in ((c.first, c.second), (c.second, c.first)):
                if a in problem.fixed and b not in problem.fixed:
                    closed[b].add(problem.fixed[a].period)
    return closed


class _Groups:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for x in range(len(self.parent)):
            out[self.find(x)].append(x)
        return out


class _State:
    """The solver's incremental bookkeeping (independent of ``scoring``)."""

    def __init__(self, problem: ExamProblem) -> None:
        self.problem = problem
        exams, periods, rooms = problem.exams, problem.periods, problem.rooms
        n, np_, nr = len(exams), len(periods), len(rooms)
        self.n, self.np, self.nr = n, np_, nr
        w = problem.weightings
        days = problem.days
        weight = np.zeros((np_, np_), dtype=np.int64)
        for p in range(np_):
            for q in range(np_):
                gap = abs(p - q)
                if gap == 0:
                    continue
                value = 0
                if days[p] == days[q]:
                    value += w.two_in_a_row if gap == 1 else w.two_in_a_day
                if gap <= w.period_spread:
                    value += 1
                weight[p, q] = value
        self.weight = weight
        # the columns where each row of the weights is not zero (a window around the period)
        self.window: list[tuple[int, int, IntMatrix]] = []
        for p in range(np_):
            nonzero = np.flatnonzero(weight[p])
            lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if len(nonzero) else (p, p)
            self.window.append((lo, hi, weight[p, lo:hi].copy()))
        # groups of exams that must share a period
        groups = _Groups(n)
        for c in problem.constraints:
            if c.kind is Kind.EXAM_COINCIDENCE:
                groups.union(c.first, c.second)
        self.group_of = [groups.find(e) for e in range(n)]
        members = groups.members()
        self.members = [members[self.group_of[e]] for e in range(n)]
        # neighbours: exams sharing students (count) or excluded from the same period (count 0)
        pairs: dict[tuple[int, int], int] = defaultdict(int)
        by_student: dict[object, list[int]] = defaultdict(list)
        for index, exam in enumerate(exams):
            for s in exam.students:
                by_student[s].append(index)
        for taken in by_student.values():
            for i, a in enumerate(taken):
                for b in taken[i + 1 :]:
                    if a != b:
                        pairs[min(a, b), max(a, b)] += 1
        self.after_of: list[list[int]] = [[] for _ in range(n)]  # e must be later than these
        self.before_of: list[list[int]] = [[] for _ in range(n)]  # e must be earlier than these
        for c in problem.constraints:
            if c.first == c.second:
                continue
            if c.kind is Kind.EXCLUSION:
                pairs.setdefault((min(c.first, c.second), max(c.first, c.second)), 0)
            elif c.kind is Kind.AFTER:
                self.after_of[c.first].append(c.second)
                self.before_of[c.second].append(c.first)
        nb: list[list[int]] = [[] for _ in range(n)]
        nc: list[list[int]] = [[] for _ in range(n)]
        for (a, b), count in pairs.items():
            if self.group_of[a] == self.group_of[b]:
                continue  # reported by diagnose
            nb[a].append(b)
            nc[a].append(count)
            nb[b].append(a)
            nc[b].append(count)
        self.nb = nb
        self.nc = nc
        self.nb_idx = [np.array(x, dtype=np.int64) for x in nb]
        self.nb_cnt = [np.array(x, dtype=np.int64).reshape(-1, 1) for x in nc]
        self.degree = [sum(x) + len(x) for x in nc]
        self.size = [e.size for e in exams]
        self.dur = [e.duration for e in exams]
        self.exclusive = [e in problem.room_exclusive for e in range(n)]
        self.max_rooms = [max(1, e.max_rooms) for e in exams]
        closed = _closed_periods(problem)
        self.allowed = np.array(
            [
                [e.duration <= p.duration and q not in closed[i] for q, p in enumerate(periods)]
                for i, e in enumerate(exams)
            ],
            dtype=bool,
        ).reshape(n, np_)
        self.fixed = [e in problem.fixed for e in range(n)]
        self.allowed_list = [[q for q in range(np_) if self.allowed[e, q]] for e in range(n)]
        self.pp = [p.penalty for p in periods]
        front = [0] * n
        for e in problem.largest:
            front[e] = w.front_load_penalty
        self.front = front
        self.fl_start = problem.front_load_start
        self.rpen = [r.penalty for r in rooms]
        self.cap = [r.capacity for r in rooms]
        self.rooms_by_cap = sorted(range(nr), key=lambda r: (self.cap[r], self.rpen[r], r))
        self.wmix = w.non_mixed_durations
        # the assignment
        self.period = [-1] * n
        self.rooms: list[tuple[int, ...]] = [()] * n
        self.seats: list[tuple[int, ...]] = [()] * n
        self.cost_matrix: IntMatrix = np.zeros((n, np_), dtype=np.int64)
        self.conflicts = np.zeros((n, np_), dtype=np.int64)
        self.used = [[0] * nr for _ in range(np_)]
        self.occupants: list[list[set[int]]] = [[set() for _ in range(nr)] for _ in range(np_)]
        self.excl_in = [[0] * nr for _ in range(np_)]
        self.count = [[0] * nr for _ in range(np_)]  # exams in each room and period
        self.durs: list[list[dict[int, int]]] = [[{} for _ in range(nr)] for _ in range(np_)]
        self.cost = 0
        self.unplaced = n
        self.waiting = np.ones(n, dtype=bool)

    # --- placing and removing -------------------------------------------------------------

    def place(self, e: int, q: int, rooms: tuple[int, ...], seats: tuple[int, ...]) -> None:
        self.cost += int(self.cost_matrix[e, q]) + self.pp[q]
        if q >= self.fl_start:
            self.cost += self.front[e]
        d = self.dur[e]
        for r, s in zip(rooms, seats, strict=True):
            durs = self.durs[q][r]
            if durs and d not in durs:
                self.cost += self.wmix
            durs[d] = durs.get(d, 0) + 1
            self.used[q][r] += s
            self.count[q][r] += 1
            self.occupants[q][r].add(e)
            if self.exclusive[e]:
                self.excl_in[q][r] += 1
            self.cost += self.rpen[r]
        idx = self.nb_idx[e]
        if len(idx):
            lo, hi, row = self.window[q]
            if hi > lo:
                self.cost_matrix[idx, lo:hi] += self.nb_cnt[e] * row
            self.conflicts[idx, q] += 1
        self.period[e] = q
        self.rooms[e] = rooms
        self.seats[e] = seats
        self.unplaced -= 1
        self.waiting[e] = False

    def remove(self, e: int) -> None:
        q = self.period[e]
        idx = self.nb_idx[e]
        if len(idx):
            lo, hi, row = self.window[q]
            if hi > lo:
                self.cost_matrix[idx, lo:hi] -= self.nb_cnt[e] * row
            self.conflicts[idx, q] -= 1
        self.cost -= int(self.cost_matrix[e, q]) + self.pp[q]
        if q >= self.fl_start:
            self.cost -= self.front[e]
        d = self.dur[e]
        for r, s in zip(self.rooms[e], self.seats[e], strict=True):
            durs = self.durs[q][r]
            durs[d] -= 1
            if not durs[d]:
                del durs[d]
                if durs:
                    self.cost -= self.wmix
            self.used[q][r] -= s
            self.count[q][r] -= 1
            self.occupants[q][r].discard(e)
            if self.exclusive[e]:
                self.excl_in[q][r] -= 1
            self.cost -= self.rpen[r]
        self.period[e] = -1
        self.rooms[e] = ()
        self.seats[e] = ()
        self.unplaced += 1
        self.waiting[e] = True

    # --- checks ------------------------------------------------------------------------------

    def order_ok(self, e: int, q: int) -> bool:
        period = self.period
        for b in self.after_of[e]:
            pb = period[b]
            if pb >= 0 and q <= pb:
                return False
        for a in self.before_of[e]:
            pa = period[a]
            if pa >= 0 and q >= pa:
                return False
        return True

    def room_for(
        self, e: int, q: int, prefer: int = -1
    ) -> tuple[tuple[int, ...], tuple[int, ...], int] | None:
        """The cheapest room(s) for ``e`` in period ``q``: rooms, seats, their added cost."""
        size, d, exclusive = self.size[e], self.dur[e], self.exclusive[e]
        used, excl_in, durs_q, cap, rpen = (
            self.used[q],
            self.excl_in[q],
            self.durs[q],
            self.cap,
            self.rpen,
        )
        wmix = self.wmix
        if (
            prefer >= 0
            and cap[prefer] - used[prefer] >= size
            and not excl_in[prefer]
            and not (exclusive and durs_q[prefer])
        ):
            durs = durs_q[prefer]
            extra = wmix if durs and d not in durs else 0
            return (prefer,), (size,), rpen[prefer] + extra
        best = -1
        best_cost = 0
        for r in self.rooms_by_cap:
            if cap[r] - used[r] < size or excl_in[r]:
                continue
            durs = durs_q[r]
            if exclusive and durs:
                continue
            c = rpen[r] + (wmix if durs and d not in durs else 0)
            if best < 0 or c < best_cost:
                best, best_cost = r, c
                if c == 0:
                    break
        if best >= 0:
            return (best,), (size,), best_cost
        if self.max_rooms[e] <= 1:
            return None
        # split over the rooms with the most free seats
        free = sorted(
            (
                r
                for r in range(self.nr)
                if not excl_in[r] and not (exclusive and durs_q[r]) and cap[r] > used[r]
            ),
            key=lambda r: (-(cap[r] - used[r]), rpen[r], r),
        )
        rooms: list[int] = []
        seats: list[int] = []
        left = size
        cost = 0
        for r in free[: self.max_rooms[e]]:
            take = min(left, cap[r] - used[r])
            rooms.append(r)
            seats.append(take)
            durs = durs_q[r]
            cost += rpen[r] + (wmix if durs and d not in durs else 0)
            left -= take
            if not left:
                return tuple(rooms), tuple(seats), cost
        return None

    def snapshot(self) -> list[tuple[int, tuple[int, ...], tuple[int, ...]]]:
        return list(zip(self.period, self.rooms, self.seats, strict=True))

    def solution(self, snap: list[tuple[int, tuple[int, ...], tuple[int, ...]]]) -> Solution:
        fixed = self.problem.fixed
        return Solution(
            placements=tuple(
                None
                if p < 0
                else fixed[e]
                if e in fixed
                else Placement(period=p, rooms=r, seats=s if len(r) > 1 else ())
                for e, (p, r, s) in enumerate(snap)
            )
        )


class _Clock:
    def __init__(
        self,
        seconds: float,
        should_stop: Callable[[], bool] | None,
        on_progress: Callable[[Progress], None] | None,
    ) -> None:
        self.start = time.monotonic()
        self.deadline = self.start + seconds
        self.should_stop = should_stop
        self.on_progress = on_progress
        self.stopped = False
        self.next_report = self.start + 1.0

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def over(self) -> bool:
        now = time.monotonic()
        if now >= self.deadline:
            return True
        if self.should_stop is not None and self.should_stop():
            self.stopped = True
            return True
        return False

    def due(self) -> bool:
        """True about once a second when someone listens for progress."""
        if self.on_progress is None:
            return False
        now = time.monotonic()
        if now < self.next_report:
            return False
        self.next_report = now + 1.0
        return True


def _construct(state: _State, rng: random.Random, clock: _Clock) -> int:
    """Place every exam (iterative forward search). Returns the iterations used."""
    n = state.n
    problem = state.problem
    for e, pinned in sorted(problem.fixed.items()):
        state.place(e, pinned.period, pinned.rooms, seats_per_room(problem, e, pinned))
    # a group's members still to place (the fixed ones are in already)
    group_members: dict[int, list[int]] = {
        state.group_of[e]: [m for m in state.members[e] if not state.fixed[m]] for e in range(n)
    }
    unplaced: set[int] = {g for g, ms in group_members.items() if ms}
    tabu: dict[tuple[int, int], int] = {}
    ejections = [0] * n
    iterations = 0
    cap = np.array(state.cap, dtype=np.int64)[None, :]
    exclusive = np.array(state.exclusive, dtype=bool)
    size = np.array(state.size, dtype=np.int64)
    split = np.array([m > 1 for m in state.max_rooms], dtype=bool)[:, None]
    group_ids = np.array(state.group_of, dtype=np.int64)
    group_degree = np.array([sum(state.degree[m] for m in state.members[e]) for e in range(n)])
    group_size = np.array([sum(state.size[m] for m in state.members[e]) for e in range(n)])
    noise_rng = np.random.default_rng(rng.randrange(2**32))
    while unplaced:
        iterations += 1
        if iterations % 16 == 0:
            if clock.over():
                break
            if clock.due() and clock.on_progress is not None:
                clock.on_progress(
                    Progress(clock.elapsed(), "construct", state.unplaced, None, iterations)
                )
        # the group with the fewest periods free of conflicts and with seats left, then the
        # most conflicts, then the largest (all exams at once, with numpy)
        open_rooms = np.where(np.array(state.excl_in) > 0, 0, cap - np.array(state.used))
        room_free = open_rooms.max(axis=1)
        empty_room = np.where(np.array(state.count) > 0, 0, cap).max(axis=1)
        seats_left = np.where(exclusive[:, None], empty_room[None, :], room_free[None, :])
        mask = state.allowed & (state.conflicts == 0) & ((seats_left >= size[:, None]) | split)
        free = mask.sum(axis=1)
        group_free = np.full(n, state.np + 1, dtype=np.int64)
        np.minimum.at(group_free, group_ids, free)
        candidates_e = np.flatnonzero(state.waiting)
        noise = noise_rng.random(len(candidates_e))
        pick = np.lexsort(
            (
                noise,
                -group_size[candidates_e],
                -group_degree[candidates_e],
                group_free[group_ids[candidates_e]],
            )
        )[0]
        g = state.group_of[int(candidates_e[pick])]
        if g not in unplaced:  # a member of a group partly placed: cannot happen, but be safe
            unplaced.add(g)
        ms = group_members[g]
        # the cheapest feasible period
        allowed = np.logical_and.reduce([state.allowed[m] for m in ms])
        candidates = np.flatnonzero(allowed).tolist()
        if not candidates:
            break  # diagnose reports it
        open_periods = np.flatnonzero(np.logical_and.reduce([mask[m] for m in ms])).tolist()
        best: tuple[int, int, list[tuple[int, tuple[int, ...], tuple[int, ...]]]] | None = None
        for q in open_periods if len(ms) == 1 and not split[ms[0], 0] else candidates:
            placed = _try_group(state, ms, q)
            if placed is None:
                continue
            cost, plan = placed
            if best is None or cost < best[0]:
                best = (cost, q, plan)
        if best is not None:
            for m, rooms, seats in best[2]:
                state.place(m, best[1], rooms, seats)
            unplaced.discard(g)
            continue
        # no feasible period: take the one that unseats the fewest exams
        scored: list[tuple[float, int, set[int]]] = []
        for q in candidates:
            ejected = _blockers(state, ms, q)
            if ejected is None:
                continue
            weight = sum(1.0 + ejections[x] for x in ejected)
            if tabu.get((g, q), -1) >= iterations:
                weight += 1000
            scored.append((weight + rng.random(), q, ejected))
        if not scored:
            break
        _weight, q, ejected = min(scored, key=lambda t: t[0])
        tabu[g, q] = iterations + 10
        for x in ejected:
            if state.period[x] >= 0:
                ejections[x] += 1
                state.remove(x)
                unplaced.add(state.group_of[x])
        placed = _try_group(state, ms, q)
        if placed is None:  # rooms still short: should not happen after ejection
            continue
        for m, rooms, seats in placed[1]:
            state.place(m, q, rooms, seats)
        unplaced.discard(g)
    return iterations


def _try_group(
    state: _State, ms: list[int], q: int
) -> tuple[int, list[tuple[int, tuple[int, ...], tuple[int, ...]]]] | None:
    """Cost of placing the exams ``ms`` (a group) in period ``q``, or None when infeasible."""
    for m in ms:
        if state.conflicts[m, q] or not state.allowed[m, q] or not state.order_ok(m, q):
            return None
    if len(ms) == 1:
        m = ms[0]
        found = state.room_for(m, q)
        if found is None:
            return None
        rooms, seats, room_cost = found
        cost = int(state.cost_matrix[m, q]) + state.pp[q] + room_cost
        if q >= state.fl_start:
            cost += state.front[m]
        return cost, [(m, rooms, seats)]
    # several exams: place them for real, measure, take them back
    before = state.cost
    plan: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []
    ok = True
    for m in sorted(ms, key=lambda x: -state.size[x]):
        found = state.room_for(m, q)
        if found is None:
            ok = False
            break
        state.place(m, q, found[0], found[1])
        plan.append((m, found[0], found[1]))
    cost = state.cost - before
    for m, _r, _s in plan:
        state.remove(m)
    return (cost, plan) if ok else None


def _blockers(state: _State, ms: list[int], q: int) -> set[int] | None:
    """The placed exams to remove so that the group ``ms`` fits in period ``q``."""
    out: set[int] = set()
    for m in ms:
        for x in state.nb[m]:
            if state.period[x] == q:
                out.update(state.members[x])
        for b in state.after_of[m]:
            if state.period[b] >= 0 and q <= state.period[b]:
                out.update(state.members[b])
        for a in state.before_of[m]:
            if state.period[a] >= 0 and q >= state.period[a]:
                out.update(state.members[a])
    # rooms: free the cheapest rooms (fewest exams) big enough for each exam
    need = sorted(ms, key=lambda x: -state.size[x])
    taken: set[int] = set()
    for m in need:
        size = state.size[m]
        options = []
        for r in range(state.nr):
            if r in taken or state.cap[r] < size:
                continue
            staying = [x for x in state.occupants[q][r] if x not in out]
            free = state.cap[r] - sum(state.size[x] for x in staying)
            if state.exclusive[m] or any(state.exclusive[x] for x in staying):
                evict = staying
            elif free >= size:
                evict = []
            else:
                evict = sorted(staying, key=lambda x: -state.size[x])
                kept = []
                seats = state.cap[r]
                for x in reversed(evict):
                    if seats - state.size[x] >= size:
                        kept.append(x)
                        seats -= state.size[x]
                evict = [x for x in evict if x not in kept]
            if any(state.fixed[x] for x in evict):
                continue
            options.append((len(evict), r, evict))
        if not options:
            if state.max_rooms[m] > 1:
                for r in sorted(range(state.nr), key=lambda r: -state.cap[r])[: state.max_rooms[m]]:
                    for x in state.occupants[q][r]:
                        out.update(state.members[x])
                    taken.add(r)
                continue
            return None
        _count, r, evict = min(options)
        taken.add(r)
        for x in evict:
            out.update(state.members[x])
    out -= set(ms)
    return None if any(state.fixed[x] for x in out) else out


def _improve(
    state: _State,
    rng: random.Random,
    clock: _Clock,
    best_cost: int,
    keep: Callable[[int], None],
) -> int:
    """Simulated annealing on a feasible timetable; ``keep(cost)`` saves a new best."""
    n = state.n
    if n == 0 or state.np < 2:
        return 0
    period = state.period
    members = state.members
    cm = state.cost_matrix
    conflicts = state.conflicts
    allowed_list = state.allowed_list
    pp, front, fl_start = state.pp, state.front, state.fl_start
    # estimate the starting temperature from random uphill moves
    ups: list[int] = []
    for _ in range(300):
        e = rng.randrange(n)
        if len(members[e]) > 1 or len(allowed_list[e]) < 2:
            continue
        q = rng.choice(allowed_list[e])
        p = period[e]
        if q == p:
            continue
        delta = int(cm[e, q] - cm[e, p]) + pp[q] - pp[p]
        if delta > 0:
            ups.append(delta)
    t0 = max(1.0, (sum(ups) / len(ups)) * TUNING["t0"]) if ups else 10.0
    t_end = TUNING["t_end"]
    single, kempe = TUNING["single"], TUNING["single"] + TUNING["kempe"]
    start = clock.elapsed()
    span = max(1e-6, clock.deadline - clock.start - start)
    temperature = t0
    at_best = True
    iterations = 0
    wmix = state.wmix
    while True:
        iterations += 1
        if iterations & 127 == 0:
            if clock.over():
                break
            frac = min(1.0, (clock.elapsed() - start) / span)
            temperature = t0 * (t_end / t0) ** frac
            if clock.due() and clock.on_progress is not None:
                clock.on_progress(
                    Progress(clock.elapsed(), "improve", 0, min(best_cost, state.cost), iterations)
                )
        r = rng.random()
        if r < single:
            e = rng.randrange(n)
            group = members[e]
            if len(group) > 1:
                q = rng.choice(allowed_list[e])
                if q == period[e] or not _group_move(
                    state, group, q, rng, temperature, at_best, keep
                ):
                    continue
            else:
                allowed = allowed_list[e]
                q = allowed[rng.randrange(len(allowed))]
                p = period[e]
                if q == p or conflicts[e, q]:
                    continue
                # accept when delta <= threshold (= -T ln u: the Metropolis rule), and
                # reject on a lower bound of delta before looking for a room
                threshold = -temperature * math.log(1.0 - rng.random())
                d = state.dur[e]
                old_room = 0
                for r0 in state.rooms[e]:
                    old_room += state.rpen[r0]
                    durs = state.durs[p][r0]
                    if durs[d] == 1 and len(durs) > 1:
                        old_room += wmix
                delta = int(cm[e, q] - cm[e, p]) + pp[q] - pp[p] - old_room
                if q >= fl_start:
                    delta += front[e]
                if p >= fl_start:
                    delta -= front[e]
                if delta > threshold or not state.order_ok(e, q):
                    continue
                found = state.room_for(e, q)
                if found is None:
                    continue
                rooms, seats, room_cost = found
                delta += room_cost
                if delta > threshold:
                    continue
                if at_best and delta > 0:
                    keep(state.cost)
                state.remove(e)
                state.place(e, q, rooms, seats)
        elif r < kempe:
            result = _kempe(state, rng, temperature, at_best, keep)
            if result is None:
                continue
        else:
            result = _room_move(state, rng, temperature, at_best, keep)
            if result is None:
                continue
        # a move was made
        if state.cost < best_cost:
            best_cost = state.cost
            at_best = True
        elif state.cost > best_cost:
            at_best = False
    if at_best:
        keep(state.cost)
    return iterations


def _group_move(
    state: _State,
    group: list[int],
    q: int,
    rng: random.Random,
    temperature: float,
    at_best: bool,
    keep: Callable[[int], None],
) -> bool:
    """Move the exams of a coincidence group together to period ``q``."""
    before = state.cost
    saved = [(m, state.period[m], state.rooms[m], state.seats[m]) for m in group]
    for m in group:
        state.remove(m)
    placed = _try_group(state, group, q)
    if placed is not None:
        for m, rooms, seats in placed[1]:
            state.place(m, q, rooms, seats)
        delta = state.cost - before
        if delta <= 0 or rng.random() < math.exp(-delta / temperature):
            if at_best and delta > 0:
                for m in group:
                    state.remove(m)
                for m, p0, r0, s0 in saved:
                    state.place(m, p0, r0, s0)
                keep(state.cost)
                for m in group:
                    state.remove(m)
                for m, rooms, seats in placed[1]:
                    state.place(m, q, rooms, seats)
            return True
        for m in group:
            state.remove(m)
    for m, p0, r0, s0 in saved:
        state.place(m, p0, r0, s0)
    return False


def _kempe(
    state: _State,
    rng: random.Random,
    temperature: float,
    at_best: bool,
    keep: Callable[[int], None],
) -> bool | None:
    n = state.n
    e = rng.randrange(n)
    if len(state.members[e]) > 1:
        return None
    period = state.period
    p = period[e]
    allowed = state.allowed_list[e]
    q = allowed[rng.randrange(len(allowed))]
    if q == p:
        return None
    chain = {e}
    stack = [e]
    nb = state.nb
    while stack:
        x = stack.pop()
        target = q if period[x] == p else p
        for y in nb[x]:
            if y not in chain and period[y] == target:
                chain.add(y)
                stack.append(y)
                if len(chain) > 60:
                    return None
    for x in chain:
        if len(state.members[x]) > 1:
            return None
        dest = q if period[x] == p else p
        if not state.allowed[x, dest]:
            return None
    # a lower bound of the change first: pairs exactly (pairs inside the chain keep their
    # distance), periods exactly, rooms at best all penalties and mixed durations gone
    threshold = -temperature * math.log(1.0 - rng.random())
    cm, nc, pp, front, fl_start = state.cost_matrix, state.nc, state.pp, state.front, state.fl_start
    inside = 0
    bound = 0
    for x in chain:
        old = period[x]
        new = q if old == p else p
        bound += int(cm[x, new] - cm[x, old]) + pp[new] - pp[old]
        bound += (front[x] if new >= fl_start else 0) - (front[x] if old >= fl_start else 0)
        bound -= sum(state.rpen[r] for r in state.rooms[x]) + state.wmix
        for y, c in zip(nb[x], nc[x], strict=True):
            if c and y in chain:
                inside += c
    bound += inside * int(state.weight[p, q])
    if bound > threshold:
        return None
    before = state.cost
    saved = [(x, period[x], state.rooms[x], state.seats[x]) for x in chain]
    for x in chain:
        state.remove(x)
    placed: list[int] = []
    ok = True
    for x, p0, r0, _s0 in sorted(saved, key=lambda t: -state.size[t[0]]):
        dest = q if p0 == p else p
        found = state.room_for(x, dest, r0[0] if len(r0) == 1 else -1)
        if found is None:
            ok = False
            break
        state.place(x, dest, found[0], found[1])
        placed.append(x)
    if ok:
        for x in chain:
            if not state.order_ok(x, period[x]):
                ok = False
                break
    if ok:
        delta = state.cost - before
        if delta <= threshold:
            if at_best and delta > 0:
                # save the state we are leaving
                after = [(x, period[x], state.rooms[x], state.seats[x]) for x in chain]
                for x in chain:
                    state.remove(x)
                for x, p0, r0, s0 in saved:
                    state.place(x, p0, r0, s0)
                keep(state.cost)
                for x in chain:
                    state.remove(x)
                for x, p1, r1, s1 in after:
                    state.place(x, p1, r1, s1)
            return True
    for x in placed:
        state.remove(x)
    for x, p0, r0, s0 in saved:
        state.place(x, p0, r0, s0)
    return None


def _room_move(
    state: _State,
    rng: random.Random,
    temperature: float,
    at_best: bool,
    keep: Callable[[int], None],
) -> bool | None:
    if state.nr < 2:
        return None
    e = rng.randrange(state.n)
    if len(state.rooms[e]) != 1 or state.fixed[e]:
        return None
    p = state.period[e]
    r1 = state.rooms[e][0]
    r2 = rng.randrange(state.nr)
    if r2 == r1:
        return None
    size, d = state.size[e], state.dur[e]
    used, cap, rpen, wmix = state.used[p], state.cap, state.rpen, state.wmix
    durs1, durs2 = state.durs[p][r1], state.durs[p][r2]
    if cap[r2] - used[r2] >= size and not state.excl_in[p][r2]:
        if state.exclusive[e] and durs2:
            return None
        delta = rpen[r2] - rpen[r1]
        if durs1[d] == 1 and len(durs1) > 1:
            delta -= wmix
        if durs2 and d not in durs2:
            delta += wmix
        if delta > 0 and rng.random() >= math.exp(-delta / temperature):
            return None
        if at_best and delta > 0:
            keep(state.cost)
        state.remove(e)
        state.place(e, p, (r2,), (size,))
        return True
    # swap with one exam of r2
    occupants = state.occupants[p][r2]
    if len(occupants) != 1:
        return None
    (f,) = occupants
    if len(state.rooms[f]) != 1 or state.fixed[f]:
        return None
    if used[r1] - size + state.size[f] > cap[r1] or state.size[f] > cap[r1]:
        return None
    if used[r2] - state.size[f] + size > cap[r2]:
        return None
    if (state.exclusive[e] or state.exclusive[f]) and len(state.occupants[p][r1]) > 1:
        return None
    before = state.cost
    state.remove(e)
    state.remove(f)
    state.place(e, p, (r2,), (size,))
    state.place(f, p, (r1,), (state.size[f],))
    delta = state.cost - before
    if delta <= 0 or rng.random() < math.exp(-delta / temperature):
        if at_best and delta > 0:
            state.remove(e)
            state.remove(f)
            state.place(e, p, (r1,), (size,))
            state.place(f, p, (r2,), (state.size[f],))
            keep(state.cost)
            state.remove(e)
            state.remove(f)
            state.place(e, p, (r2,), (size,))
            state.place(f, p, (r1,), (state.size[f],))
        return True
    state.remove(e)
    state.remove(f)
    state.place(e, p, (r1,), (size,))
    state.place(f, p, (r2,), (state.size[f],))
    return None


def solve(
    problem: ExamProblem,
    *,
    seconds: float,
    seed: int = 0,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Result:
    """Find a feasible timetable within ``seconds`` and lower its soft cost in the time left."""
    clock = _Clock(seconds, should_stop, on_progress)
    reasons = diagnose(problem)
    if reasons:
        return Result(
            feasible=False,
            solution=None,
            cost=None,
            reasons=tuple(reasons),
            elapsed=clock.elapsed(),
            first_feasible=None,
            iterations=0,
        )
    state = _State(problem)
    rng = random.Random(seed)  # noqa: S311 - a search, not a secret
    iterations = _construct(state, rng, clock)
    if state.unplaced:
        missing = [e for e in range(state.n) if state.period[e] < 0]
        examples = "、".join(_label(problem, e) for e in missing[:5])
        why = [
            f"在 {clock.elapsed():.1f} 秒内未找到可行的考试安排：仍有 {len(missing)} 门考试"
            f"无法安排（如 {examples}）",
            "这些考试在每个可用时段都与已安排的考试有共同学生、违反先后/互斥约束或没有足够的考场座位；"
            "可增加时段或考场、放宽约束，或延长求解时间",
        ]
        return Result(
            feasible=False,
            solution=state.solution(state.snapshot()),
            cost=None,
            reasons=tuple(why),
            elapsed=clock.elapsed(),
            first_feasible=None,
            iterations=iterations,
            stopped=clock.stopped,
        )
    first = clock.elapsed()
    best_snap = state.snapshot()
    best = [state.cost]

    def keep(cost: int) -> None:
        best_snap[:] = state.snapshot()
        best[0] = cost

    if not clock.over() and len(problem.fixed) < state.n:  # nothing to improve when all fixed
        iterations += _improve(state, rng, clock, state.cost, keep)
    if on_progress is not None:
        on_progress(Progress(clock.elapsed(), "improve", 0, best[0], iterations))
    return Result(
        feasible=True,
        solution=state.solution(best_snap),
        cost=best[0],
        reasons=(),
        elapsed=clock.elapsed(),
        first_feasible=first,
        iterations=iterations,
        stopped=clock.stopped,
    )
