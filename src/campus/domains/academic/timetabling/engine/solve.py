"""The solver: a greedy or CP-SAT builds a feasible timetable, simulated annealing improves it.

1. *Pre-checks* find the plain impossibilities (a curriculum needing more lectures than there are
   slots, a teacher with more lectures than free slots, a room type no room has…) and answer
   at once with Chinese explanations in ``Result.conflicts``.
2. *Construction*: on a large model (a campus term; above ``CP_SAT_FIRST_UP_TO`` booleans)
   first the greedy of ``greedy.py`` (most constrained lecture first, least damage,
   conflict-directed repair; about a second for a campus term of 3,500 lectures, where CP-SAT
   needs minutes), in at most half the time and 5 ms per lecture. With ``keep=`` or ``start=``
   it leaves every previous lecture that still fits where it was. On a small model (the
   ITC-2007 instances), or when the greedy stalls (a tight or infeasible problem), a CP-SAT
   model on course × slot booleans (rooms counted per slot; explicit room booleans only for
   courses restricted to some rooms) gives a timetable meeting every hard constraint; rooms are
   then assigned slot by slot. With ``keep=`` the model minimises the lectures moved from the
   previous timetable. A proven infeasibility is explained from the unsatisfiable core of
   per-constraint assumption literals.
3. *Improvement*: simulated annealing over moves and swaps of lectures (slot and room), staying
   hard-feasible, with incremental delta evaluation of every soft component (curriculum-day
   bitmasks for isolated lectures). With ``keep=`` each lecture away from its previous place costs
   a large penalty, so fewer moves always win over a lower soft cost.

The best timetable is kept at every moment and returned when ``seconds`` run out or
``should_stop()`` answers true.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .greedy import greedy
from .problem import Placement, Problem

__all__ = ["Progress", "Result", "precheck", "solve"]

Progress = Callable[[str, float, int, int], None]

KEEP_PENALTY = 100_000  # soft cost of one lecture moved from the kept timetable
START_FACTOR = 0.5  # start temperature = this × the median cost increase of sampled moves
END_TEMPERATURE = 0.05
KEMPE_EVERY = 20  # one Kempe-chain move in this many moves
GREEDY_SHARE = 0.5  # of the time, at most, for the greedy construction before CP-SAT…
GREEDY_SECONDS_PER_LECTURE = 0.005  # …and at most this per lecture (at least a second)
GREEDY_MIN_SECONDS = 1.0
# CP-SAT builds models of up to this many booleans first (the ITC-2007 instances: ≤ 5,000);
# above it (a campus term: millions), the greedy goes first.
CP_SAT_FIRST_UP_TO = 50_000


@dataclass(frozen=True)
class Result:
    status: str  # "feasible", "infeasible" (proven or obvious) or "unknown" (no timetable in time)
    placements: tuple[Placement, ...] = ()
    hard: int = 0  # hard violations of the returned placements (0 when feasible)
    cost: int = 0  # weighted soft cost (without the moved-lecture penalty)
    moved: int = 0  # lectures not at their place in ``keep``
    elapsed: float = 0.0
    first_feasible: float | None = None  # seconds to the first feasible timetable
    iterations: int = 0
    conflicts: tuple[str, ...] = ()  # why no timetable exists (Chinese)
    warnings: tuple[str, ...] = ()  # soft problems worth telling (Chinese)
    history: tuple[tuple[float, int], ...] = field(default=(), repr=False)  # (seconds, cost)

    @property
    def feasible(self) -> bool:
        return self.status == "feasible"


class _Index:
    """Integer view of a Problem: everything the construction and the annealing need."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        p = problem
        self.S = p.slots
        self.D = p.days
        self.P = p.periods_per_day
        self.C = len(p.courses)
        self.R = len(p.rooms)
        self.course_ids = [c.id for c in p.courses]
        self.room_ids = [r.id for r in p.rooms]
        self.ci = {c: i for i, c in enumerate(self.course_ids)}
        self.ri = {r: i for i, r in enumerate(self.room_ids)}
        teachers: dict[str, int] = {}
        self.teacher_names: list[str] = []
        self.course_teachers: list[list[int]] = []
        for c in p.courses:
            ts = []
            for t in dict.fromkeys(c.teachers):
                if t not in teachers:
                    teachers[t] = len(self.teacher_names)
                    self.teacher_names.append(t)
                ts.append(teachers[t])
            self.course_teachers.append(ts)
        self.T = len(self.teacher_names)
        self.course_curricula: list[list[int]] = [[] for _ in range(self.C)]
        self.Q = len(p.curricula)
        for qi, q in enumerate(p.curricula):
            for cid in dict.fromkeys(q.courses):
                if cid in self.ci:
                    self.course_curricula[self.ci[cid]].append(qi)
        self.lectures = [c.lectures for c in p.courses]
        self.min_days = [c.min_days for c in p.courses]
        self.room_open = [[s not in r.unavailable for s in range(self.S)] for r in p.rooms]
        self.allowed_rooms: list[list[int]] = []
        for c in p.courses:
            self.allowed_rooms.append(
                [
                    ri
                    for ri, r in enumerate(p.rooms)
                    if (c.room_type is None or r.room_type == c.room_type)
                    and (c.rooms is None or r.id in c.rooms)
                ]
            )
        self.restricted = [len(a) < self.R for a in self.allowed_rooms]
        self.slot_ok: list[list[bool]] = []
        for ci, c in enumerate(p.courses):
            off = set(c.unavailable)
            for t in c.teachers:
                off |= set(p.teacher_unavailable.get(t, ()))
            self.slot_ok.append(
                [
                    s not in off and any(self.room_open[r][s] for r in self.allowed_rooms[ci])
                    for s in range(self.S)
                ]
            )
        w = p.weights
        self.w = w
        self.slot_cost = []
        for c in p.courses:
            bad = set()
            for t in c.teachers:
                bad |= set(p.teacher_dispreferred.get(t, ()))
            self.slot_cost.append([w.teacher_preference if s in bad else 0 for s in range(self.S)])
        self.room_cost = []
        for c in p.courses:
            row = []
            for r in p.rooms:
                cost = w.room_capacity * max(0, c.students - r.capacity)
                if c.building is not None and r.building != c.building:
                    cost += w.preferred_building
                row.append(cost)
            self.room_cost.append(row)
        self.buildings = [r.building for r in p.rooms]


# ---------------------------------------------------------------------------------------------
# Pre-checks


def precheck(problem: Problem) -> tuple[list[str], list[str]]:
    """Plain impossibilities (conflicts) and soft problems (warnings), in Chinese."""
    return _precheck(_Index(problem))


def _precheck(ix: _Index) -> tuple[list[str], list[str]]:
    conflicts: list[str] = []
    warnings: list[str] = []
    p = ix.problem
    S = ix.S
    if len(set(ix.course_ids)) != ix.C:
        conflicts.append("课程编号有重复")
    if len(set(ix.room_ids)) != ix.R:
        conflicts.append("教室编号有重复")
    for qi, q in enumerate(p.curricula):
        for cid in q.courses:
            if cid not in ix.ci:
                conflicts.append(f"课程组“{q.id}”含未知课程“{cid}”")
        del qi
    avail: list[set[int]] = []
    for ci, c in enumerate(p.courses):
        slots = {s for s in range(S) if ix.slot_ok[ci][s]}
        avail.append(slots)
        if not ix.allowed_rooms[ci]:
            if c.room_type is not None and not any(r.room_type == c.room_type for r in p.rooms):
                conflicts.append(f"课程“{c.id}”需要“{c.room_type}”类教室，但没有这类教室")
            else:
                conflicts.append(f"课程“{c.id}”没有可用的教室（类型或指定教室不符）")
            continue
        if c.lectures > len(slots):
            conflicts.append(
                f"课程“{c.id}”每周需要 {c.lectures} 次课，但教师、课程和教室都可用的时段只有 "
                f"{len(slots)} 个"
            )
        biggest = max(p.rooms[r].capacity for r in ix.allowed_rooms[ci])
        if c.students > biggest:
            warnings.append(f"课程“{c.id}”有 {c.students} 名学生，可用教室最大容量只有 {biggest}")
    for q in p.curricula:
        members = [ix.ci[cid] for cid in dict.fromkeys(q.courses) if cid in ix.ci]
        need = sum(ix.lectures[m] for m in members)
        union = set().union(*(avail[m] for m in members)) if members else set()
        if need > len(union):
            conflicts.append(
                f"课程组“{q.id}”的课程共需 {need} 次课，但可排的时段只有 {len(union)} 个"
            )
    by_teacher: dict[int, list[int]] = defaultdict(list)
    for ci in range(ix.C):
        for t in ix.course_teachers[ci]:
            by_teacher[t].append(ci)
    for t, members in by_teacher.items():
        need = sum(ix.lectures[m] for m in members)
        union = set().union(*(avail[m] for m in members))
        if need > len(union):
            conflicts.append(
                f"教师“{ix.teacher_names[t]}”共有 {need} 次课，但其可上课的时段只有 {len(union)} 个"
            )
    open_room_slots = sum(sum(row) for row in ix.room_open)
    total = sum(ix.lectures)
    if total > open_room_slots:
        conflicts.append(f"全部课程共需 {total} 次课，但教室时段只有 {open_room_slots} 个")
    by_type: dict[str, int] = defaultdict(int)
    for c in p.courses:
        if c.room_type is not None:
            by_type[c.room_type] += c.lectures
    for room_type, need in by_type.items():
        have = sum(sum(ix.room_open[r]) for r in range(ix.R) if p.rooms[r].room_type == room_type)
        if need > have:
            conflicts.append(
                f"需要“{room_type}”类教室的课共 {need} 次，但这类教室时段只有 {have} 个"
            )
    conflicts.extend(_check_fixed(ix))
    return conflicts, warnings


def _check_fixed(ix: _Index) -> list[str]:
    out: list[str] = []
    p = ix.problem
    used_room: dict[tuple[str, int], str] = {}
    used_course: set[tuple[str, int]] = set()
    per_course: dict[str, int] = defaultdict(int)
    for f in p.fixed:
        where = _slot_name(p, f.slot) if 0 <= f.slot < ix.S else f"时段 {f.slot}"
        if f.course not in ix.ci or f.room not in ix.ri or not 0 <= f.slot < ix.S:
            out.append(f"固定安排“{f.course} {f.room} {where}”引用了不存在的课程、教室或时段")
            continue
        ci, ri = ix.ci[f.course], ix.ri[f.room]
        per_course[f.course] += 1
        if not ix.slot_ok[ci][f.slot] and (
            f.slot in p.courses[ci].unavailable
            or any(f.slot in p.teacher_unavailable.get(t, ()) for t in p.courses[ci].teachers)
        ):
            out.append(f"固定安排：课程“{f.course}”在{where}不可上课")
        if ri not in ix.allowed_rooms[ci]:
            out.append(f"固定安排：课程“{f.course}”不能使用教室“{f.room}”")
        if not ix.room_open[ri][f.slot]:
            out.append(f"固定安排：教室“{f.room}”在{where}不开放")
        if (f.room, f.slot) in used_room:
            other = used_room[(f.room, f.slot)]
            out.append(f"固定安排：教室“{f.room}”在{where}同时排了“{other}”和“{f.course}”")
        used_room[(f.room, f.slot)] = f.course
        if (f.course, f.slot) in used_course:
            out.append(f"固定安排：课程“{f.course}”在{where}排了两次")
        used_course.add((f.course, f.slot))
    for cid, n in per_course.items():
        need = p.courses[ix.ci[cid]].lectures
        if n > need:
            out.append(f"固定安排：课程“{cid}”固定了 {n} 次课，多于所需的 {need} 次")
    # Fixed lectures of conflicting courses in the same slot.
    at: dict[int, list[int]] = defaultdict(list)
    for f in p.fixed:
        if f.course in ix.ci and 0 <= f.slot < ix.S:
            at[f.slot].append(ix.ci[f.course])
    for slot, cs in at.items():
        for i, a in enumerate(cs):
            for b in cs[i + 1 :]:
                if a == b:
                    continue
                shared_q = set(ix.course_curricula[a]) & set(ix.course_curricula[b])
                shared_t = set(ix.course_teachers[a]) & set(ix.course_teachers[b])
                if shared_q or shared_t:
                    out.append(
                        f"固定安排：“{ix.course_ids[a]}”与“{ix.course_ids[b]}”在"
                        f"{_slot_name(p, slot)}冲突（同一课程组或同一教师）"
                    )
    return out


DAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _slot_name(problem: Problem, slot: int) -> str:
    day, period = problem.day_period(slot)
    name = DAY_NAMES[day] if day < len(DAY_NAMES) else f"第 {day + 1} 天"
    return f"{name}第 {period + 1} 节"


# ---------------------------------------------------------------------------------------------
# Construction with CP-SAT


class _Stopper:
    """Calls ``stop_search`` when ``should_stop`` answers true or the deadline passes."""

    def __init__(
        self, solver: cp_model.CpSolver, should_stop: Callable[[], bool] | None, deadline: float
    ) -> None:
        self.solver = solver
        self.should_stop = should_stop
        self.deadline = deadline
        self.done = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.wait(0.05):
            if time.perf_counter() >= self.deadline or (
                self.should_stop is not None and self.should_stop()
            ):
                self.stopped = True
                self.solver.stop_search()
                return

    def __enter__(self) -> _Stopper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()


def _construct(
    ix: _Index,
    *,
    deadline: float,
    seed: int,
    keep: dict[tuple[int, int], int] | None,
    hint: dict[tuple[int, int], int] | None,
    should_stop: Callable[[], bool] | None,
    explain: bool,
) -> tuple[str, list[tuple[int, int, int]], list[str]]:
    """Return (status, lectures as (course, slot, room), conflict explanations)."""
    p = ix.problem
    m = cp_model.CpModel()
    S, R = ix.S, ix.R
    fixed_at: dict[tuple[int, int], int] = {}
    for f in p.fixed:
        fixed_at[(ix.ci[f.course], f.slot)] = ix.ri[f.room]
    fixed_rooms: set[tuple[int, int]] = {(s, r) for (_c, s), r in fixed_at.items()}

    assumptions: dict[int, str] = {}
    literals: list[cp_model.IntVar] = []

    def guard(text: str) -> cp_model.IntVar | None:
        if not explain:
            return None
        lit = m.new_bool_var(text)
        assumptions[lit.index] = text
        literals.append(lit)
        return lit

    x: dict[tuple[int, int], cp_model.IntVar] = {}
    y: dict[tuple[int, int, int], cp_model.IntVar] = {}
    for c in range(ix.C):
        for s in range(S):
            if (c, s) in fixed_at:
                v = m.new_bool_var(f"x{c}_{s}")
                m.add(v == 1)
                x[(c, s)] = v
            elif ix.slot_ok[c][s]:
                x[(c, s)] = m.new_bool_var(f"x{c}_{s}")
        lit = guard(f"课程“{ix.course_ids[c]}”需要排 {ix.lectures[c]} 次课")
        ct = m.add(sum(x[(c, s)] for s in range(S) if (c, s) in x) == ix.lectures[c])
        if lit is not None:
            ct.only_enforce_if(lit)
        if ix.restricted[c]:
            for s in range(S):
                if (c, s) not in x:
                    continue
                vs = []
                for r in ix.allowed_rooms[c]:
                    fixed_here = fixed_at.get((c, s))
                    if not ix.room_open[r][s] and fixed_here != r:
                        continue
                    if (s, r) in fixed_rooms and fixed_here != r:
                        continue
                    y[(c, s, r)] = m.new_bool_var(f"y{c}_{s}_{r}")
                    vs.append(y[(c, s, r)])
                    if fixed_here == r:
                        m.add(y[(c, s, r)] == 1)
                m.add(sum(vs) == x[(c, s)])
    for qi, q in enumerate(p.curricula):
        members = [ix.ci[cid] for cid in dict.fromkeys(q.courses) if cid in ix.ci]
        names = "、".join(q.courses[:6]) + ("…" if len(q.courses) > 6 else "")
        lit = guard(f"课程组“{q.id}”的课程（{names}）不能同时上课")
        for s in range(S):
            vs = [x[(c, s)] for c in members if (c, s) in x]
            if len(vs) > 1:
                ct = m.add_at_most_one(vs)
                if lit is not None:
                    ct.only_enforce_if(lit)
        del qi
    by_teacher: dict[int, list[int]] = defaultdict(list)
    for c in range(ix.C):
        for t in ix.course_teachers[c]:
            by_teacher[t].append(c)
    for t, members in by_teacher.items():
        if len(members) < 2:
            continue
        lit = guard(f"教师“{ix.teacher_names[t]}”同一时段只能上一门课")
        for s in range(S):
            vs = [x[(c, s)] for c in members if (c, s) in x]
            if len(vs) > 1:
                ct = m.add_at_most_one(vs)
                if lit is not None:
                    ct.only_enforce_if(lit)
    lit_rooms = guard("每个教室每个时段只能安排一次课（教室数量或类型不足）")
    for s in range(S):
        vs = [x[(c, s)] for c in range(ix.C) if (c, s) in x]
        open_rooms = sum(1 for r in range(R) if ix.room_open[r][s] or (s, r) in fixed_rooms)
        if len(vs) > open_rooms:
            ct = m.add(sum(vs) <= open_rooms)
            if lit_rooms is not None:
                ct.only_enforce_if(lit_rooms)
        for r in range(R):
            ys = [y[(c, s, r)] for c in range(ix.C) if (c, s, r) in y]
            if len(ys) > 1:
                ct = m.add_at_most_one(ys)
                if lit_rooms is not None:
                    ct.only_enforce_if(lit_rooms)
    if keep:
        terms = []
        for (c, s), r in keep.items():
            if (c, s) in x:
                terms.append(x[(c, s)])
                if (c, s, r) in y:
                    terms.append(y[(c, s, r)])
        m.maximize(sum(terms))
    if hint:
        for (c, s), _r in hint.items():
            if (c, s) in x:
                m.add_hint(x[(c, s)], 1)
    if explain:
        m.add_assumptions(literals)
        m.clear_hints()  # type: ignore[no-untyped-call]

    solver = cp_model.CpSolver()
    remaining = deadline - time.perf_counter()
    if remaining <= 0.01:
        return "unknown", [], []
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = 2 if not explain else 1
    solver.parameters.random_seed = seed
    with _Stopper(solver, should_stop, deadline):
        status = solver.solve(m)
    if status == cp_model.INFEASIBLE:
        reasons: list[str] = []
        if explain:
            core = solver.sufficient_assumptions_for_infeasibility()
            reasons = [assumptions[i] for i in core if i in assumptions]
        return "infeasible", [], reasons
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "unknown", [], []

    placed: list[tuple[int, int, int]] = []
    for s in range(S):
        here = [c for c in range(ix.C) if (c, s) in x and solver.value(x[(c, s)])]
        free = [r for r in range(R) if ix.room_open[r][s] and (s, r) not in fixed_rooms]
        taken: set[int] = set()
        rest = []
        for c in here:
            if (c, s) in fixed_at:
                placed.append((c, s, fixed_at[(c, s)]))
            elif ix.restricted[c]:
                r = next(
                    r for r in ix.allowed_rooms[c] if (c, s, r) in y and solver.value(y[(c, s, r)])
                )
                placed.append((c, s, r))
                taken.add(r)
            else:
                rest.append(c)
        free = [r for r in free if r not in taken]
        # Keep previous rooms first, then fill the biggest classes into the best-fitting rooms.
        if keep:
            for c in list(rest):
                previous = keep.get((c, s))
                if previous is not None and previous in free:
                    placed.append((c, s, previous))
                    free.remove(previous)
                    rest.remove(c)
        rest.sort(key=lambda c: -p.courses[c].students)
        for c in rest:
            r = min(free, key=lambda r: (ix.room_cost[c][r], p.rooms[r].capacity))
            placed.append((c, s, r))
            free.remove(r)
    return "feasible", placed, []


def _model_size(ix: _Index) -> int:
    """The booleans of the CP-SAT construction: course × slot, times the rooms for courses
    restricted to some rooms."""
    return sum(
        sum(ix.slot_ok[c]) * (len(ix.allowed_rooms[c]) if ix.restricted[c] else 1)
        for c in range(ix.C)
    )


# ---------------------------------------------------------------------------------------------
# Simulated annealing


def _popcount_table(P: int) -> list[int]:
    full = (1 << P) - 1
    table = []
    for mask in range(1 << P):
        iso = mask & ~(mask << 1) & ~(mask >> 1) & full
        table.append(bin(iso).count("1"))
    return table


class _Annealer:
    def __init__(
        self,
        ix: _Index,
        placed: Sequence[tuple[int, int, int]],
        frozen: set[int],
        keep: dict[tuple[int, int], int] | None,
        rng: random.Random,
    ) -> None:
        self.ix = ix
        self.rng = rng
        S, R, D, P, C = ix.S, ix.R, ix.D, ix.P, ix.C
        self.n = len(placed)
        self.course = [c for c, _s, _r in placed]
        self.slot = [s for _c, s, _r in placed]
        self.room = [r for _c, _s, r in placed]
        self.frozen = frozen
        self.slow = bool(ix.w.building_change)
        self.movable = [i for i in range(self.n) if i not in frozen]
        self.last_delta = 0
        self.q_members: list[list[int]] = [[] for _ in range(ix.Q)]
        for c in range(C):
            for q in ix.course_curricula[c]:
                self.q_members[q].append(c)
        self.lecture_at: dict[int, int] = {}  # course * S + slot → lecture (slow path only)
        self.conflicts: list[frozenset[int]] = []
        by_teacher: list[list[int]] = [[] for _ in range(ix.T)]
        for c in range(C):
            for t in ix.course_teachers[c]:
                by_teacher[t].append(c)
        for c in range(C):
            clash = {c}
            for q in ix.course_curricula[c]:
                clash.update(self.q_members[q])
            for t in ix.course_teachers[c]:
                clash.update(by_teacher[t])
            self.conflicts.append(frozenset(clash))
        self.cq_set = [frozenset(q) for q in ix.course_curricula]
        self.mates: list[list[int]] = [[] for _ in range(C)]
        for i, c in enumerate(self.course):
            self.mates[c].append(i)
        self.keep = keep or {}
        self.keep_on = bool(keep)
        self.room_at = [-1] * (S * R)
        # One occupancy count per group and slot; the groups of a course are itself, its
        # curricula and its teachers, and ``keys[c]`` holds their offsets (group × S).
        self.occ = [0] * ((C + ix.Q + ix.T) * S)
        self.keys = [
            (
                c * S,
                *((C + q) * S for q in ix.course_curricula[c]),
                *((C + ix.Q + t) * S for t in ix.course_teachers[c]),
            )
            for c in range(C)
        ]
        self.key_set = [frozenset(k) for k in self.keys]
        self.q_base = [(C + q) * S for q in range(ix.Q)]
        self.course_day = [0] * (C * D)
        self.ndays = [0] * C
        self.course_room = [0] * (C * R)
        self.nrooms = [0] * C
        self.mask = [0] * (ix.Q * D)
        self.iso = _popcount_table(P)
        self.allowed_slots = [[s for s in range(S) if ix.slot_ok[c][s]] for c in range(C)]
        self.room_allowed = [[False] * R for _ in range(C)]
        for c in range(C):
            for r in ix.allowed_rooms[c]:
                self.room_allowed[c][r] = True
        self.open_flat = [ix.room_open[r][s] for s in range(S) for r in range(R)]
        for i in range(self.n):
            self._add(i, self.slot[i], self.room[i])
        self.cost = self.full_cost()

    # -- bookkeeping
    def _add(self, i: int, s: int, r: int) -> None:
        ix = self.ix
        c = self.course[i]
        self.slot[i] = s
        self.room[i] = r
        self.room_at[s * ix.R + r] = i
        if self.slow:
            self.lecture_at[c * ix.S + s] = i
        occ = self.occ
        for k in self.keys[c]:
            occ[k + s] += 1
        d, per = divmod(s, ix.P)
        bit = 1 << per
        mask, D = self.mask, ix.D
        for q in ix.course_curricula[c]:
            mask[q * D + d] |= bit
        k = c * ix.D + d
        if self.course_day[k] == 0:
            self.ndays[c] += 1
        self.course_day[k] += 1
        k = c * ix.R + r
        if self.course_room[k] == 0:
            self.nrooms[c] += 1
        self.course_room[k] += 1

    def _remove(self, i: int) -> None:
        ix = self.ix
        c, s, r = self.course[i], self.slot[i], self.room[i]
        if self.room_at[s * ix.R + r] == i:
            self.room_at[s * ix.R + r] = -1
        if self.slow and self.lecture_at.get(c * ix.S + s) == i:
            del self.lecture_at[c * ix.S + s]
        occ = self.occ
        for k in self.keys[c]:
            occ[k + s] -= 1
        d, per = divmod(s, ix.P)
        bit = ~(1 << per)
        mask, D, q_base = self.mask, ix.D, self.q_base
        for q in ix.course_curricula[c]:
            if occ[q_base[q] + s] == 0:
                mask[q * D + d] &= bit
        k = c * ix.D + s // ix.P
        self.course_day[k] -= 1
        if self.course_day[k] == 0:
            self.ndays[c] -= 1
        k = c * ix.R + r
        self.course_room[k] -= 1
        if self.course_room[k] == 0:
            self.nrooms[c] -= 1

    # -- costs
    def _course_cost(self, c: int) -> int:
        w = self.ix.w
        short = self.ix.min_days[c] - self.ndays[c]
        cost = w.min_days * short if short > 0 else 0
        if self.nrooms[c] > 1:
            cost += w.room_stability * (self.nrooms[c] - 1)
        return cost

    def _static(self, c: int, s: int, r: int) -> int:
        ix = self.ix
        cost = ix.slot_cost[c][s] + ix.room_cost[c][r]
        if self.keep_on and self.keep.get((c, s)) != r:
            cost += KEEP_PENALTY
        return cost

    def _qd_cost(self, q: int, d: int) -> int:
        ix = self.ix
        cost = ix.w.isolated * self.iso[self.mask[q * ix.D + d]]
        if ix.w.building_change:
            cost += ix.w.building_change * self._changes(q, d)
        return cost

    def _changes(self, q: int, d: int) -> int:
        ix = self.ix
        base = d * ix.P
        S = ix.S
        previous: list[str] = []
        changes = 0
        for per in range(ix.P):
            s = base + per
            here = []
            for c in self.q_members[q]:
                i = self.lecture_at.get(c * S + s, -1)
                if i >= 0:
                    b = ix.buildings[self.room[i]]
                    if b is not None:
                        here.append(b)
            changes += sum(1 for a in previous for b in here if a != b)
            previous = here
        return changes

    def full_cost(self) -> int:
        ix = self.ix
        cost = sum(self._course_cost(c) for c in range(ix.C))
        cost += sum(self._static(self.course[i], self.slot[i], self.room[i]) for i in range(self.n))
        cost += sum(self._qd_cost(q, d) for q in range(ix.Q) for d in range(ix.D))
        return cost

    def moved(self) -> int:
        if not self.keep_on:
            return 0
        return sum(
            1
            for i in range(self.n)
            if self.keep.get((self.course[i], self.slot[i])) != self.room[i]
        )

    def soft(self) -> int:
        return self.cost - KEEP_PENALTY * self.moved() if self.keep_on else self.cost

    # -- the move
    def attempt(self, i: int, s2: int, r2: int, temperature: float) -> int | None:
        """Move lecture i to (s2, r2), swapping with the lecture there; return the delta when
        accepted, None when refused (infeasible or rejected)."""
        ix = self.ix
        R = ix.R
        c = self.course[i]
        s, r = self.slot[i], self.room[i]
        if s == s2 and r == r2:
            return None
        j = self.room_at[s2 * R + r2]
        if not self.room_allowed[c][r2] or not self.open_flat[s2 * R + r2]:
            return None
        c2 = -1
        if j >= 0:
            if j in self.frozen:
                return None
            c2 = self.course[j]
            if c2 == c and s == s2:
                return None
            if not self.room_allowed[c2][r] or not ix.slot_ok[c2][s]:
                return None
        if s != s2:
            if not ix.slot_ok[c][s2]:
                return None
            # Clashes, checked on the current state (every count is 0 or 1 there): lecture i
            # meets at s2 only what j leaves, and j meets at s only what i leaves.
            occ = self.occ
            if c2 >= 0:
                if c2 == c:
                    return None
                other = self.key_set[c2]
                for k in self.keys[c]:
                    if occ[k + s2] and k not in other:
                        return None
                other = self.key_set[c]
                for k in self.keys[c2]:
                    if occ[k + s] and k not in other:
                        return None
            else:
                for k in self.keys[c]:
                    if occ[k + s2]:
                        return None
        P = ix.P
        d, d2 = s // P, s2 // P
        if not self.slow:
            delta = self._delta(c, s, r, c2, s2, r2, d, d2)
            self.last_delta = delta
            if delta <= 0 or (
                temperature > 0 and self.rng.random() < math.exp(-delta / temperature)
            ):
                self._remove(i)
                if j >= 0:
                    self._remove(j)
                self._add(i, s2, r2)
                if j >= 0:
                    self._add(j, s, r)
                self.cost += delta
                return delta
            return None
        # The curriculum-days whose cost may change.
        if c2 >= 0 and c2 != c:
            qs = set(ix.course_curricula[c])
            qs.update(ix.course_curricula[c2])
        else:
            qs = ix.course_curricula[c]  # type: ignore[assignment]
        days = (d,) if d == d2 else (d, d2)
        before = self._course_cost(c) + self._static(c, s, r)
        if c2 >= 0:
            if c2 != c:
                before += self._course_cost(c2)
            before += self._static(c2, s2, r2)
        if s != s2:
            for q in qs:
                for dd in days:
                    before += self._qd_cost(q, dd)
        elif ix.w.building_change:
            for q in qs:
                before += self._qd_cost(q, d)
        self._remove(i)
        if j >= 0:
            self._remove(j)
        self._add(i, s2, r2)
        if j >= 0:
            self._add(j, s, r)
        after = self._course_cost(c) + self._static(c, s2, r2)
        if c2 >= 0:
            if c2 != c:
                after += self._course_cost(c2)
            after += self._static(c2, s, r)
        if s != s2:
            for q in qs:
                for dd in days:
                    after += self._qd_cost(q, dd)
        elif ix.w.building_change:
            for q in qs:
                after += self._qd_cost(q, d)
        delta = after - before
        self.last_delta = delta
        if delta <= 0 or (temperature > 0 and self.rng.random() < math.exp(-delta / temperature)):
            self.cost += delta
            return delta
        self._remove(i)
        if j >= 0:
            self._remove(j)
        self._add(i, s, r)
        if j >= 0:
            self._add(j, s2, r2)
        return None

    def _delta(self, c: int, s: int, r: int, c2: int, s2: int, r2: int, d: int, d2: int) -> int:
        """The cost change of moving c's lecture (s, r) → (s2, r2) and, when c2 ≥ 0, c2's
        lecture (s2, r2) → (s, r), computed on the current state without changing it."""
        ix = self.ix
        w = ix.w
        delta = self._static(c, s2, r2) - self._static(c, s, r)
        D, R, P = ix.D, ix.R, ix.P
        cd, cr = self.course_day, self.course_room
        if d != d2:
            gain = (cd[c * D + d] == 1) - (cd[c * D + d2] == 0)  # days lost − days won
            if gain:
                short_before = ix.min_days[c] - self.ndays[c]
                short_after = short_before + gain
                delta += w.min_days * (max(0, short_after) - max(0, short_before))
        if r != r2 and w.room_stability:
            delta += w.room_stability * ((cr[c * R + r2] == 0) - (cr[c * R + r] == 1))
        iw = w.isolated
        b1, b2 = 1 << (s - d * P), 1 << (s2 - d2 * P)
        if c2 >= 0:
            delta += self._static(c2, s, r) - self._static(c2, s2, r2)
            if d != d2:
                gain = (cd[c2 * D + d2] == 1) - (cd[c2 * D + d] == 0)
                if gain:
                    short_before = ix.min_days[c2] - self.ndays[c2]
                    short_after = short_before + gain
                    delta += w.min_days * (max(0, short_after) - max(0, short_before))
            if r != r2 and w.room_stability:
                delta += w.room_stability * ((cr[c2 * R + r] == 0) - (cr[c2 * R + r2] == 1))
            if s != s2 and iw:
                q1, q2 = self.cq_set[c], self.cq_set[c2]
                for q in ix.course_curricula[c]:
                    if q not in q2:
                        delta += iw * self._shift(q, d, b1, d2, b2)
                for q in ix.course_curricula[c2]:
                    if q not in q1:
                        delta += iw * self._shift(q, d2, b2, d, b1)
        elif s != s2 and iw:
            for q in ix.course_curricula[c]:
                delta += iw * self._shift(q, d, b1, d2, b2)
        return delta

    def _shift(self, q: int, d: int, b1: int, d2: int, b2: int) -> int:
        """Isolated-lecture change of curriculum q losing period bit b1 on day d and gaining
        bit b2 on day d2."""
        iso, mask, D = self.iso, self.mask, self.ix.D
        k1 = q * D + d
        if d == d2:
            m = mask[k1]
            return iso[(m & ~b1) | b2] - iso[m]
        k2 = q * D + d2
        m1, m2 = mask[k1], mask[k2]
        return iso[m1 & ~b1] - iso[m1] + iso[m2 | b2] - iso[m2]

    def kempe(self, temperature: float) -> int | None:
        """A Kempe-chain move: lecture i goes from slot s1 to s2; the lectures of s2 clashing
        with it go to s1, those of s1 clashing with them to s2, and so on. Lectures keep their
        rooms when free, else take the best free room of their kind."""
        rand = self.rng.random
        movable = self.movable
        i = movable[int(rand() * len(movable))]
        c = self.course[i]
        s1 = self.slot[i]
        slots = self.allowed_slots[c]
        s2 = slots[int(rand() * len(slots))]
        if s1 == s2:
            return None
        ix = self.ix
        R = ix.R
        room_at = self.room_at
        at1 = [x for x in room_at[s1 * R : s1 * R + R] if x >= 0]
        at2 = [x for x in room_at[s2 * R : s2 * R + R] if x >= 0]
        course = self.course
        conflicts = self.conflicts
        side_a = {i}
        side_b: set[int] = set()
        frontier = [(i, True)]
        while frontier:
            x, in_a = frontier.pop()
            clash = conflicts[course[x]]
            if in_a:
                for y in at2:
                    if y not in side_b and course[y] in clash:
                        side_b.add(y)
                        frontier.append((y, False))
            else:
                for y in at1:
                    if y not in side_a and course[y] in clash:
                        side_a.add(y)
                        frontier.append((y, True))
        if not side_b or len(side_a) + len(side_b) > 12:
            return None
        frozen = self.frozen
        slot_ok = ix.slot_ok
        for x in side_a:
            if x in frozen or not slot_ok[course[x]][s2]:
                return None
        for x in side_b:
            if x in frozen or not slot_ok[course[x]][s1]:
                return None
        new_rooms = self._kempe_rooms(side_a, s2, side_b, at2)
        if new_rooms is None:
            return None
        back_rooms = self._kempe_rooms(side_b, s1, side_a, at1)
        if back_rooms is None:
            return None
        courses = {course[x] for x in side_a} | {course[x] for x in side_b}
        qs: set[int] = set()
        for cc in courses:
            qs.update(ix.course_curricula[cc])
        P = ix.P
        days = {s1 // P, s2 // P}
        movers = [*side_a, *side_b]
        old = [(x, self.slot[x], self.room[x]) for x in movers]

        def local() -> int:
            total = sum(self._course_cost(cc) for cc in courses)
            total += sum(self._static(course[x], self.slot[x], self.room[x]) for x in movers)
            return total + sum(self._qd_cost(q, d) for q in qs for d in days)

        before = local()
        for x in movers:
            self._remove(x)
        for x, r in new_rooms.items():
            self._add(x, s2, r)
        for x, r in back_rooms.items():
            self._add(x, s1, r)
        delta = local() - before
        if delta <= 0 or (temperature > 0 and rand() < math.exp(-delta / temperature)):
            self.cost += delta
            return delta
        for x in movers:
            self._remove(x)
        for x, s, r in old:
            self._add(x, s, r)
        return None

    def _kempe_rooms(
        self, movers: set[int], target: int, leaving: set[int], there: list[int]
    ) -> dict[int, int] | None:
        ix = self.ix
        R = ix.R
        taken = {self.room[x] for x in there if x not in leaving}
        out: dict[int, int] = {}
        pending = []
        for x in movers:
            r = self.room[x]
            if r not in taken and self.open_flat[target * R + r]:
                taken.add(r)
                out[x] = r
            else:
                pending.append(x)
        for x in pending:
            c = self.course[x]
            costs = ix.room_cost[c]
            best = -1
            for r in ix.allowed_rooms[c]:
                if (
                    r not in taken
                    and self.open_flat[target * R + r]
                    and (best < 0 or costs[r] < costs[best])
                ):
                    best = r
            if best < 0:
                return None
            taken.add(best)
            out[x] = best
        return out

    def random_move(self, temperature: float) -> int | None:
        rand = self.rng.random
        movable = self.movable
        i = movable[int(rand() * len(movable))]
        c = self.course[i]
        u = rand()
        if u < 0.1:
            s2 = self.slot[i]
        else:
            slots = self.allowed_slots[c]
            s2 = slots[int(rand() * len(slots))]
        v = rand()
        if u >= 0.1 and v < 0.6:
            r2 = self.room[i]
        elif v < 0.8:
            # A room another lecture of the course uses (keeps room stability).
            mates = self.mates[c]
            r2 = self.room[mates[int(rand() * len(mates))]]
        else:
            rooms = self.ix.allowed_rooms[c]
            r2 = rooms[int(rand() * len(rooms))]
        return self.attempt(i, s2, r2, temperature)

    def snapshot(self) -> tuple[list[int], list[int]]:
        return self.slot[:], self.room[:]

    def restore(self, snap: tuple[list[int], list[int]]) -> None:
        for i in range(self.n):
            self._remove(i)
        slots, rooms = snap
        self.room_at = [-1] * (self.ix.S * self.ix.R)
        for i in range(self.n):
            self._add(i, slots[i], rooms[i])
        self.cost = self.full_cost()

    def placements(self) -> list[tuple[int, int, int]]:
        return [(self.course[i], self.slot[i], self.room[i]) for i in range(self.n)]


# ---------------------------------------------------------------------------------------------
# The entry point


def solve(
    problem: Problem,
    *,
    seconds: float,
    seed: int = 0,
    start: Iterable[Placement] | None = None,
    keep: Iterable[Placement] | None = None,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Result:
    """Find a timetable meeting every hard constraint with the lowest soft cost found in
    ``seconds``. ``start`` is a hint for the construction; ``keep`` a previous timetable to stay
    close to (fewest moved lectures first, then soft cost)."""
    t0 = time.perf_counter()
    deadline = t0 + max(0.0, seconds)
    rng = random.Random(seed)  # noqa: S311 (a search, not cryptography)

    def elapsed() -> float:
        return time.perf_counter() - t0

    def report(phase: str, hard: int, soft: int) -> None:
        if on_progress is not None:
            on_progress(phase, elapsed(), hard, soft)

    ix = _Index(problem)
    conflicts, warnings = _precheck(ix)
    if conflicts:
        report("infeasible", -1, -1)
        return Result(
            status="infeasible",
            elapsed=elapsed(),
            conflicts=tuple(conflicts),
            warnings=tuple(warnings),
        )

    def as_map(placements: Iterable[Placement] | None) -> dict[tuple[int, int], int] | None:
        if placements is None:
            return None
        out = {}
        for pl in placements:
            if pl.course in ix.ci and pl.room in ix.ri and 0 <= pl.slot < ix.S:
                out[(ix.ci[pl.course], pl.slot)] = ix.ri[pl.room]
        return out

    keep_map = as_map(keep)
    hint_map = as_map(start) or keep_map
    report("construct", -1, -1)
    # On a large model the greedy first (about a second for thousands of lectures), in a share
    # of the time; CP-SAT when it stalls (a tight or infeasible problem), which also proves
    # infeasibility. A small model goes to CP-SAT at once (well under a second, exact with
    # keep=).
    built = None
    if _model_size(ix) > CP_SAT_FIRST_UP_TO:
        now = time.perf_counter()
        budget = max(GREEDY_MIN_SECONDS, GREEDY_SECONDS_PER_LECTURE * sum(ix.lectures))
        share = now + min(budget, GREEDY_SHARE * max(0.0, deadline - now))
        built = greedy(ix, deadline=share, seed=seed, hint=hint_map, should_stop=should_stop)
    reasons: list[str] = []
    if built is not None:
        status, placed = "feasible", built
    else:
        status, placed, reasons = _construct(
            ix,
            deadline=deadline,
            seed=seed,
            keep=keep_map,
            hint=hint_map,
            should_stop=should_stop,
            explain=False,
        )
    if status == "infeasible":
        # Explain with the unsatisfiable core, in a fraction of what remains.
        budget = min(deadline, time.perf_counter() + max(0.5, (deadline - time.perf_counter()) / 2))
        _st, _pl, reasons = _construct(
            ix,
            deadline=budget,
            seed=seed,
            keep=None,
            hint=None,
            should_stop=should_stop,
            explain=True,
        )
        if not reasons:
            reasons = ["这些约束无法同时满足（求解器证明无可行课表）"]
        else:
            reasons = ["以下约束无法同时满足：", *reasons]
        report("infeasible", -1, -1)
        return Result(
            status="infeasible",
            elapsed=elapsed(),
            conflicts=tuple(reasons),
            warnings=tuple(warnings),
        )
    if status != "feasible":
        report("unknown", -1, -1)
        return Result(
            status="unknown",
            elapsed=elapsed(),
            conflicts=(
                "求解已被停止，尚未找到满足全部硬约束的课表"
                if should_stop is not None and should_stop()
                else "在给定时间内没有找到满足全部硬约束的课表，请放宽约束或延长求解时间",
            ),
            warnings=tuple(warnings),
        )
    first = elapsed()
    fixed_lectures: set[int] = set()
    fixed_keys = {(ix.ci[f.course], f.slot, ix.ri[f.room]) for f in problem.fixed}
    for i, key in enumerate(placed):
        if key in fixed_keys:
            fixed_lectures.add(i)
    sa = _Annealer(ix, placed, fixed_lectures, keep_map, rng)
    best = sa.snapshot()
    best_cost = sa.cost
    history = [(first, sa.soft())]
    report("construct", 0, sa.soft())
    iterations = 0
    if sa.movable:
        iterations, best, best_cost = _anneal(
            sa, deadline, should_stop, best, best_cost, history, t0, report
        )
    sa.restore(best)
    moved = sa.moved()
    cost = sa.soft()
    report("done", 0, cost)
    return Result(
        status="feasible",
        placements=tuple(
            Placement(course=ix.course_ids[c], room=ix.room_ids[r], slot=s)
            for c, s, r in sa.placements()
        ),
        hard=0,
        cost=cost,
        moved=moved,
        elapsed=elapsed(),
        first_feasible=first,
        iterations=iterations,
        warnings=tuple(warnings),
        history=tuple(history),
    )


def _initial_temperature(sa: _Annealer, budget: float) -> float:
    """A start temperature fitted to the instance: a fraction of the median cost increase of
    the feasible moves sampled (improving ones are taken on the way)."""
    ups: list[int] = []
    until = time.perf_counter() + budget
    for k in range(20000):
        if k % 100 == 0 and time.perf_counter() > until:
            break
        sa.last_delta = 0
        if sa.random_move(0.0) is None and sa.last_delta > 0:
            ups.append(sa.last_delta)
    if not ups:
        return 2.0
    ups.sort()
    return max(1.0, min(20.0, START_FACTOR * ups[len(ups) // 2]))


def _anneal(
    sa: _Annealer,
    deadline: float,
    should_stop: Callable[[], bool] | None,
    best: tuple[list[int], list[int]],
    best_cost: int,
    history: list[tuple[float, int]],
    t0: float,
    report: Callable[[str, int, int], None],
) -> tuple[int, tuple[list[int], list[int]], int]:
    """Anneal until the deadline (one exponential cooling over the time left); return the
    iterations, the best state and its cost."""
    start = time.perf_counter()
    total = max(1e-3, deadline - start)
    t_hi = _initial_temperature(sa, 0.05 * total)
    if sa.cost < best_cost:
        best_cost, best = sa.cost, sa.snapshot()
    start = time.perf_counter()
    total = max(1e-3, deadline - start)
    block = 100  # moves between clock checks, adapted to take 20–50 ms
    last_check = last_report = last_improve = start
    iterations = 0
    temperature = t_hi
    while True:
        for k in range(block):
            if k % KEMPE_EVERY == 0:
                sa.kempe(temperature)
            else:
                sa.random_move(temperature)
            if sa.cost < best_cost:
                best_cost = sa.cost
                best = sa.snapshot()
        iterations += block
        now = time.perf_counter()
        if now - last_check < 0.02:
            block = min(4000, block * 2)
        elif now - last_check > 0.05:
            block = max(50, block // 2)
        last_check = now
        if now >= deadline or (should_stop is not None and should_stop()) or best_cost == 0:
            break
        if best_cost < history[-1][1] and now - last_improve > 0.2:
            history.append((now - t0, best_cost % KEEP_PENALTY))
            last_improve = now
        temperature = t_hi * (END_TEMPERATURE / t_hi) ** min(1.0, (now - start) / total)
        if now - last_report >= 0.5:
            last_report = now
            report("improve", 0, best_cost % KEEP_PENALTY)
    if history[-1][1] != best_cost % KEEP_PENALTY:
        history.append((time.perf_counter() - t0, best_cost % KEEP_PENALTY))
    return iterations, best, best_cost
