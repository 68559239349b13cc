"""Seat plans (座位表): every student of a period's exams gets a room and a seat.

A room's exam seats form a grid of ``rows`` × ``columns``; seats are numbered 1, 2, … row by
row. Students of one exam are shuffled with a seed (so classmates do not sit side by side) but
the plan is the same for the same input. When several exams share a room they take alternate
columns (exam A columns 1, 3, 5 …, exam B columns 2, 4, 6 …), so that neighbours sit different
papers; an exam with more students than its columns spills into the free seats left over.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


class SeatingError(ValueError):
    """The students do not fit (message in Chinese)."""


@dataclass(frozen=True)
class SeatRoom:
    id: str
    rows: int
    columns: int

    @property
    def capacity(self) -> int:
        return self.rows * self.columns


@dataclass(frozen=True)
class Sitting:
    """One exam of the period: its students and how many of them sit in each room (room ids in
    the order to fill them; ``None`` for a count means as many as the room can take)."""

    exam: str
    students: tuple[str, ...]
    rooms: tuple[tuple[str, int | None], ...]


@dataclass(frozen=True)
class Seat:
    student: str
    exam: str
    room: str
    row: int  # 1-based
    column: int  # 1-based
    number: int  # 1-based, row by row


def _shuffled(students: Sequence[str], exam: str, seed: int) -> list[str]:
    order = sorted(set(students))
    if len(order) != len(students):
        raise SeatingError(f"考试 {exam} 的考生名单中有重复的学生")
    random.Random(f"{seed}:{exam}").shuffle(order)  # noqa: S311 - a shuffle, not a secret
    return order


def seat_period(
    sittings: Sequence[Sitting], rooms: Sequence[SeatRoom], *, seed: int = 0
) -> list[Seat]:
    """The seats of every student of the exams held in one period."""
    by_id = {room.id: room for room in rooms}
    if len(by_id) != len(rooms):
        raise SeatingError("考场编号重复")
    # students of each exam going to each room
    going: dict[str, list[tuple[str, list[str]]]] = {room.id: [] for room in rooms}
    taken: dict[str, int] = dict.fromkeys(by_id, 0)
    exams_seen: set[str] = set()
    for sitting in sittings:
        if sitting.exam in exams_seen:
            raise SeatingError(f"考试 {sitting.exam} 重复出现")
        exams_seen.add(sitting.exam)
        students = _shuffled(sitting.students, sitting.exam, seed)
        start = 0
        for room_id, count in sitting.rooms:
            room = by_id.get(room_id)
            if room is None:
                raise SeatingError(f"考试 {sitting.exam} 的考场 {room_id} 不存在")
            take = room.capacity - taken[room_id] if count is None else count
            take = max(0, min(take, len(students) - start))
            going[room_id].append((sitting.exam, students[start : start + take]))
            taken[room_id] += take
            start += take
        if start < len(students):
            raise SeatingError(
                f"考试 {sitting.exam} 有 {len(students)} 名考生，所给考场只安排了 {start} 个座位"
            )
    seats: list[Seat] = []
    for room in rooms:
        groups = [(exam, people) for exam, people in going[room.id] if people]
        total = sum(len(people) for _exam, people in groups)
        if total > room.capacity:
            raise SeatingError(
                f"考场 {room.id} 只有 {room.capacity} 个考试座位，却安排了 {total} 名考生"
            )
        if not groups:
            continue
        k = len(groups)
        # each exam's own columns first (interleaved), then any free seat left
        own: list[list[tuple[int, int]]] = [[] for _ in range(k)]
        for column in range(room.columns):
            for row in range(room.rows):
                own[column % k].append((row, column))
        used: set[tuple[int, int]] = set()
        placed: list[list[tuple[int, int]]] = []
        for index, (_exam, people) in enumerate(groups):
            mine = own[index][: len(people)]
            used.update(mine)
            placed.append(mine)
        spare = [
            (row, column)
            for column in range(room.columns)
            for row in range(room.rows)
            if (row, column) not in used
        ]
        for index, (_exam, people) in enumerate(groups):
            short = len(people) - len(placed[index])
            if short > 0:
                placed[index] = placed[index] + spare[:short]
                spare = spare[short:]
        for index, (exam, people) in enumerate(groups):
            for student, (row, column) in zip(people, placed[index], strict=True):
                seats.append(
                    Seat(
                        student=student,
                        exam=exam,
                        room=room.id,
                        row=row + 1,
                        column=column + 1,
                        number=row * room.columns + column + 1,
                    )
                )
    return seats


def seat_exam(
    exam: str, students: Sequence[str], rooms: Sequence[SeatRoom], *, seed: int = 0
) -> list[Seat]:
    """The seats of one exam alone in its rooms, filled in the order given."""
    return seat_period(
        [Sitting(exam, tuple(students), tuple((room.id, None) for room in rooms))],
        rooms,
        seed=seed,
    )
