"""A fast construction: most-constrained-first greedy with conflict-directed repair.

The CP-SAT construction (``solve._construct``) is exact but its model grows with courses × slots
× rooms; on a campus term of thousands of lectures it takes minutes to a first timetable. This
construction finds one in seconds, in the manner of iterative forward search:

* the next lecture is taken from the course with the least *slack*: its slots still free of
  clashes (with its curricula, its teachers and its own lectures), minus the lectures it still
  needs; the counts are kept up to date as lectures are placed and removed;
* it goes to the free slot doing the least damage: the fewest free slots taken from unplaced
  neighbours (weighted by their slack), the least use of scarce rooms of its type, then the soft
  costs (a day it already meets, a slot its teacher would rather not teach, the room's fit); the
  room is the best fitting free room of its kind in that slot;
* at a dead end (no free slot) it takes the slot whose blockers (the lectures clashing there, or
  one occupant of a suitable room) are cheapest to remove, counting how often each course was
  already pushed out (conflict statistics), removes them and places the lecture; the removed
  lectures go back to the queue.

It gives up after a number of steps without progress or at the deadline, and returns ``None``:
it cannot prove a problem infeasible (that is CP-SAT's job, with its explanations).
"""

from __future__ import annotations

import heapq
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .problem import Problem

if TYPE_CHECKING:
    from .solve import _Index

__all__ = ["greedy"]

Lecture = tuple[int, int, int]  # (course, slot, room)


def greedy(
    ix: _Index,
    *,
    deadline: float,
    seed: int = 0,
    hint: dict[tuple[int, int], int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[Lecture] | None:
    """A hard-feasible timetable as (course, slot, room) lectures, or None when none was found
    before ``deadline`` or before the search stalled. ``ix`` is ``solve._Index``; ``hint`` maps
    (course, slot) to a room tried first (a previous timetable to stay close to)."""
    return _Greedy(ix, seed, hint or {}).run(deadline, should_stop)


class _Greedy:
    def __init__(self, ix: _Index, seed: int, hint: dict[tuple[int, int], int]) -> None:
        self.ix = ix
        p: Problem = ix.problem
        self.rng = random.Random(seed)  # noqa: S311 (a search, not cryptography)
        S, R, C = ix.S, ix.R, ix.C
        self.S, self.R, self.C = S, R, C
        # Groups: each course, each curriculum, each teacher; holder[g*S + s] is the lecture
        # there (a feasible state holds at most one per group and slot).
        self.keys = [
            (
                c,
                *(C + q for q in ix.course_curricula[c]),
                *(C + ix.Q + t for t in ix.course_teachers[c]),
            )
            for c in range(C)
        ]
        members: list[list[int]] = [[] for _ in range(C + ix.Q + ix.T)]
        for c in range(C):
            for g in self.keys[c]:
                members[g].append(c)
        self.neighbours: list[list[int]] = []
        for c in range(C):
            seen: set[int] = set()
            for g in self.keys[c]:
                seen.update(members[g])
            self.neighbours.append(sorted(seen))  # includes c itself
        self.holder = [-1] * ((C + ix.Q + ix.T) * S)
        self.room_at = [-1] * (S * R)
        # blocked[c*S + s]: neighbours' lectures placed at s (c itself included).
        self.blocked = [0] * (C * S)
        self.ok = [row[:] for row in ix.slot_ok]
        self.free = [sum(row) for row in self.ok]  # slots open and not blocked, per course
        self.remaining = ix.lectures[:]
        # Lectures: course, slot (-1 when unplaced), room.
        self.course: list[int] = []
        self.slot: list[int] = []
        self.room: list[int] = []
        self.frozen: set[int] = set()
        self.pending: list[list[int]] = [[] for _ in range(C)]  # unplaced lectures per course
        for c in range(C):
            for _ in range(ix.lectures[c]):
                i = len(self.course)
                self.course.append(c)
                self.slot.append(-1)
                self.room.append(-1)
                self.pending[c].append(i)
        self.bumped = [0] * C  # conflict statistics: times a course's lecture was pushed out
        # Rooms per course, best fit first: least soft cost, then the smallest that is enough.
        self.rooms_by_fit = [
            sorted(
                ix.allowed_rooms[c],
                key=lambda r, c=c: (ix.room_cost[c][r], p.rooms[r].capacity),  # type: ignore[misc]
            )
            for c in range(C)
        ]
        # Room kinds (same allowed set) and their free rooms per slot: scarcity of a slot.
        kinds: dict[tuple[int, ...], int] = {}
        self.kind = []
        for c in range(C):
            self.kind.append(kinds.setdefault(tuple(sorted(ix.allowed_rooms[c])), len(kinds)))
        self.kind_rooms = [list(k) for k in kinds]
        self.room_kinds: list[list[int]] = [[] for _ in range(R)]
        for k, rooms in enumerate(self.kind_rooms):
            for r in rooms:
                self.room_kinds[r].append(k)
        self.kind_free = [
            [sum(1 for r in rooms if ix.room_open[r][s]) for s in range(S)]
            for rooms in self.kind_rooms
        ]
        self.hint = hint
        self.allowed = [frozenset(rooms) for rooms in ix.allowed_rooms]
        self.version = [0] * C
        self.heap: list[tuple[int, float, int, int]] = []
        for f in p.fixed:
            c, s, r = ix.ci[f.course], f.slot, ix.ri[f.room]
            i = self.pending[c].pop()
            self._place(i, s, r)
            self.frozen.add(i)
        # The hinted lectures still possible stay where they were (fewest moves first).
        for (c, s), r in sorted(hint.items()):
            if self.remaining[c] > 0 and self._fits(c, s, r):
                self._place(self.pending[c].pop(), s, r)
        for c in range(C):
            self._push(c)

    # -- the queue
    def _push(self, c: int) -> None:
        if self.remaining[c] > 0:
            self.version[c] += 1
            slack = self.free[c] - self.remaining[c]
            heapq.heappush(self.heap, (slack, self.rng.random(), c, self.version[c]))

    def _pop(self) -> int:
        while self.heap:
            _slack, _tie, c, version = heapq.heappop(self.heap)
            if version == self.version[c] and self.remaining[c] > 0:
                return c
        return -1

    # -- state changes
    def _place(self, i: int, s: int, r: int) -> None:
        c = self.course[i]
        S = self.S
        self.slot[i], self.room[i] = s, r
        self.room_at[s * self.R + r] = i
        for g in self.keys[c]:
            self.holder[g * S + s] = i
        for k in self.room_kinds[r]:
            self.kind_free[k][s] -= 1
        self.remaining[c] -= 1
        blocked, ok, free = self.blocked, self.ok, self.free
        for k in self.neighbours[c]:
            if blocked[k * S + s] == 0 and ok[k][s]:
                free[k] -= 1
                if k != c:
                    self._push(k)
            blocked[k * S + s] += 1
        self._push(c)

    def _unplace(self, i: int) -> None:
        c, s, r = self.course[i], self.slot[i], self.room[i]
        S = self.S
        self.slot[i] = self.room[i] = -1
        self.room_at[s * self.R + r] = -1
        for g in self.keys[c]:
            self.holder[g * S + s] = -1
        for k in self.room_kinds[r]:
            self.kind_free[k][s] += 1
        self.remaining[c] += 1
        self.pending[c].append(i)
        blocked, ok, free = self.blocked, self.ok, self.free
        for k in self.neighbours[c]:
            blocked[k * S + s] -= 1
            if blocked[k * S + s] == 0 and ok[k][s]:
                free[k] += 1
                if k != c:
                    self._push(k)
        self._push(c)

    # -- choices
    def _free_room(self, c: int, s: int) -> int:
        base = s * self.R
        room_at, open_ = self.room_at, self.ix.room_open
        for r in self.rooms_by_fit[c]:
            if room_at[base + r] < 0 and open_[r][s]:
                return r
        return -1

    def _best_free(self, c: int) -> tuple[int, int]:
        """The free slot (and its room) doing the least damage, or (-1, -1)."""
        ix = self.ix
        S = self.S
        blocked, ok, free, remaining = self.blocked, self.ok, self.free, self.remaining
        neighbours = [k for k in self.neighbours[c] if k != c and remaining[k] > 0]
        weight = {k: 1.0 / max(1, free[k] - remaining[k]) for k in neighbours}
        kind_free = self.kind_free[self.kind[c]]
        P = ix.P
        used_days = self._days(c)
        short = ix.min_days[c] > len(used_days)
        room_cost = ix.room_cost[c]
        slot_cost = ix.slot_cost[c]
        w_days = ix.w.min_days
        best, best_slot, best_room = float("inf"), -1, -1
        for s in self._hints(c):  # back to its previous place when that is free
            r = self.hint[(c, s)]
            if self._fits(c, s, r):
                return s, r
        for s in range(S):
            if not ok[c][s] or blocked[c * S + s]:
                continue
            r = self._free_room(c, s)
            if r < 0:
                continue
            damage = 0.0
            for k in neighbours:
                if blocked[k * S + s] == 0 and ok[k][s]:
                    damage += weight[k]
            damage += 2.0 / kind_free[s]
            soft = slot_cost[s] + room_cost[r]
            if short and s // P in used_days:
                soft += w_days
            score = damage * 10 + soft * 0.1 + self.rng.random() * 0.01
            if score < best:
                best, best_slot, best_room = score, s, r
        return best_slot, best_room

    def _fits(self, c: int, s: int, r: int) -> bool:
        return (
            self.ok[c][s]
            and self.blocked[c * self.S + s] == 0
            and r in self.allowed[c]
            and self.ix.room_open[r][s]
            and self.room_at[s * self.R + r] < 0
        )

    def _hints(self, c: int) -> list[int]:
        if not self.hint:
            return []
        return [s for s in range(self.S) if (c, s) in self.hint]

    def _days(self, c: int) -> set[int]:
        P = self.ix.P
        S = self.S
        holder = self.holder
        return {s // P for s in range(S) if holder[c * S + s] >= 0}

    def _repair(self, c: int) -> tuple[int, int, list[int]]:
        """The slot, room and blockers to remove that cost least, or (-1, -1, [])."""
        ix = self.ix
        S, R = self.S, self.R
        holder, bumped, frozen = self.holder, self.bumped, self.frozen
        course = self.course
        best, best_slot, best_room, best_out = float("inf"), -1, -1, []
        for s in range(S):
            if not self.ok[c][s] or holder[c * S + s] >= 0:
                continue
            out: set[int] = set()
            for g in self.keys[c]:
                j = holder[g * S + s]
                if j >= 0:
                    out.add(j)
            if out & frozen:
                continue
            # A room: a free one, one its blockers leave, else push out its occupant.
            room = -1
            for r in self.rooms_by_fit[c]:
                if not ix.room_open[r][s]:
                    continue
                j = self.room_at[s * R + r]
                if j < 0 or j in out:
                    room = r
                    break
            extra = -1
            if room < 0:
                choices = [
                    r
                    for r in self.rooms_by_fit[c]
                    if ix.room_open[r][s] and self.room_at[s * R + r] not in frozen
                ]
                if not choices:
                    continue
                room = min(choices[:8], key=lambda r: bumped[course[self.room_at[s * R + r]]])
                extra = self.room_at[s * R + room]
            cost = 0.0
            for j in out:
                cost += 1 + bumped[course[j]]
            if extra >= 0:
                cost += 1 + bumped[course[extra]]
                out.add(extra)
            cost += self.rng.random() * 2
            if cost < best:
                best, best_slot, best_room, best_out = cost, s, room, sorted(out)
        return best_slot, best_room, best_out

    def run(self, deadline: float, should_stop: Callable[[], bool] | None) -> list[Lecture] | None:
        unplaced = sum(self.remaining)
        best_unplaced = unplaced
        patience = max(2000, 20 * len(self.course))
        since = 0
        step = 0
        while True:
            c = self._pop()
            if c < 0:
                break
            step += 1
            if step % 256 == 0 and (
                time.perf_counter() > deadline or (should_stop is not None and should_stop())
            ):
                return None
            i = self.pending[c].pop()
            s, r = self._best_free(c)
            if s >= 0:
                self._place(i, s, r)
                unplaced -= 1
            else:
                s, r, out = self._repair(c)
                if s < 0:
                    self.pending[c].append(i)
                    return None  # no slot at all: leave it to CP-SAT
                for j in out:
                    self.bumped[self.course[j]] += 1
                    self._unplace(j)
                self._place(i, s, r)
                unplaced += len(out) - 1
            if unplaced < best_unplaced:
                best_unplaced, since = unplaced, 0
            else:
                since += 1
                if since > patience:
                    return None
        if any(self.remaining):
            return None
        return [(self.course[i], self.slot[i], self.room[i]) for i in range(len(self.course))]
