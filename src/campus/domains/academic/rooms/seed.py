"""The demo buildings and rooms, enough for the scale's students to be timetabled.

A student takes about 8 courses a term of about 1.5 blocks (大节) a week each, in sections of
about 60: 20,000 students make some 2,700 sections and 4,000 lectures a week. A room offers 25
daytime blocks a week (5 days x 5 blocks); planned at 60 % use, that asks for about 270 general
rooms, plus labs, computer rooms, language labs, studios and courts."""

from __future__ import annotations

import math
import random
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.rooms.models import Building, Room

STUDENTS = {"small": 2_000, "medium": 20_000, "large": 60_000}
COURSES_PER_STUDENT = 8
BLOCKS_PER_COURSE = 1.5
SECTION_SIZE = 60
SLOTS = 25
USE = 0.6
CAMPUS = "南湖校区"
TEACHING_NUMERALS = "一二三四五六七八九十"

# Share of the general rooms by type, with their seats (teaching) range.
GENERAL: tuple[tuple[str, float, tuple[int, int]], ...] = (
    ("multimedia", 0.50, (60, 120)),
    ("ordinary", 0.25, (40, 60)),
    ("hall", 0.17, (150, 240)),
    ("language", 0.08, (40, 60)),
)


def general_rooms(students: int) -> int:
    lectures = students * COURSES_PER_STUDENT * BLOCKS_PER_COURSE / SECTION_SIZE
    return max(24, math.ceil(lectures / (SLOTS * USE)))


def _room(
    code: str, name: str, building_id: int, floor: int, kind: str, seats: int
) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "building_id": building_id,
        "floor": floor,
        "room_type": kind,
        "capacity": seats,
        "exam_capacity": seats if kind == "sports" else max(1, seats // 2),
        "active": True,
    }


async def seed_rooms(
    session: AsyncSession, scale: str, students: int | None, rng: random.Random
) -> None:
    if await session.scalar(select(Building.id).limit(1)) is not None:
        return
    students = students or STUDENTS.get(scale, 2_000)
    general = general_rooms(students)
    per_building = 60
    teaching = max(2, min(10, math.ceil(general / per_building)))
    buildings: list[dict[str, Any]] = [
        {
            "code": f"J{n}",
            "name": f"第{TEACHING_NUMERALS[n - 1]}教学楼",
            "campus": CAMPUS,
            "sort_order": n,
        }
        for n in range(1, teaching + 1)
    ]
    buildings += [
        {"code": "SY", "name": "实验楼", "campus": CAMPUS, "sort_order": 20},
        {"code": "JS", "name": "计算中心", "campus": CAMPUS, "sort_order": 21},
        {"code": "YS", "name": "艺术楼", "campus": CAMPUS, "sort_order": 22},
        {"code": "TY", "name": "体育馆", "campus": CAMPUS, "sort_order": 30},
    ]
    ids = list(await session.scalars(insert(Building).returning(Building.id), buildings))
    by_code = dict(zip((b["code"] for b in buildings), ids, strict=True))
    rooms: list[dict[str, Any]] = []
    # General rooms: spread over the teaching buildings, halls on the ground floors.
    kinds: list[tuple[str, tuple[int, int]]] = []
    for kind, share, seats in GENERAL:
        kinds += [(kind, seats)] * max(2, round(general * share))
    kinds.sort(key=lambda k: -k[1][0])  # halls first: they take the ground floors
    counters: dict[tuple[int, int], int] = {}
    for index, (kind, (low, high)) in enumerate(kinds):
        number = index % teaching + 1
        slot = index // teaching
        floor = min(6, 1 + slot // 10)
        key = (number, floor)
        counters[key] = counters.get(key, 0) + 1
        code = f"J{number}-{floor}{counters[key]:02d}"
        size = rng.randrange(low, high + 1, 10 if high > 100 else 5)
        rooms.append(_room(code, code, by_code[f"J{number}"], floor, kind, size))
    # Labs, computer rooms, studios and courts grow with the students too.
    extra = (
        ("SY", "lab", max(6, students // 400), (30, 50)),
        ("JS", "computer", max(4, students // 600), (50, 90)),
        ("YS", "studio", max(3, students // 2000), (20, 40)),
        ("TY", "sports", max(4, students // 1200), (60, 120)),
    )
    for building, kind, count, (low, high) in extra:
        for n in range(count):
            floor = 1 if kind == "sports" else 1 + n // 12
            code = (
                f"{building}-{n + 1:02d}"
                if kind == "sports"
                else f"{building}-{floor}{n % 12 + 1:02d}"
            )
            name = f"{'场地' if kind == 'sports' else ''}{code}"
            size = rng.randrange(low, high + 1, 5)
            rooms.append(_room(code, name, by_code[building], floor, kind, size))
    await session.execute(insert(Room), rooms)
