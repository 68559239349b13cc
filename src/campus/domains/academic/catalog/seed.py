"""The demo catalogue: the national general courses owned by the colleges and offices that
teach them, and 15–25 courses for every major (org units of kind major), coded from the
major's code and owned by its college."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog import disciplines
from campus.domains.academic.catalog.models import Course
from campus.kernel import clock
from campus.platform.users import service as users
from campus.platform.users.schemas import OrgTreeNode

CREDITS = (Decimal("2"), Decimal("2.5"), Decimal("3"), Decimal("3"), Decimal("3.5"), Decimal("4"))


def _flatten(nodes: list[OrgTreeNode]) -> list[OrgTreeNode]:
    found: list[OrgTreeNode] = []
    for node in nodes:
        found.append(node)
        found += _flatten(node.children)
    return found


def _general(units: dict[str, OrgTreeNode], now: Any) -> list[dict[str, Any]]:
    rows = []
    fallback = next((u for u in units.values() if u.kind == "college"), None)
    for code, name, name_en, credits, lecture, lab, assessment, owner, room in disciplines.GENERAL:
        unit = units.get(owner) or fallback
        if unit is None:
            continue
        rows.append(
            {
                "code": code,
                "name": name,
                "name_en": name_en,
                "credits": Decimal(str(credits)),
                "lecture_hours": lecture,
                "lab_hours": lab,
                "assessment": assessment,
                "org_unit_id": unit.id,
                "room_type": room,
                "description": f"全校公共课，由{unit.name}开设。",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _major(
    major: OrgTreeNode, college: OrgTreeNode, rng: random.Random, now: Any
) -> list[dict[str, Any]]:
    names = disciplines.major_courses(major.discipline_code or major.code, major.name)
    count = min(len(names), rng.randint(15, 25))
    # The first courses of a list are the discipline's core: keep them, sample the rest.
    core = names[: min(10, count)]
    rest = rng.sample(names[len(core) :], count - len(core))
    rows = []
    prefix = "".join(ch for ch in (major.discipline_code or major.code) if ch.isalnum())[:16]
    for n, name in enumerate([*core, *rest], start=1):
        room = disciplines.room_type_of(name)
        credits = (
            CREDITS[rng.randrange(len(CREDITS))]
            if n > 3
            else Decimal("3") + Decimal(rng.randint(0, 2)) / 2
        )
        hours = int(credits * 16)
        lab = 0
        if room in ("lab", "computer"):
            lab = 16 if hours > 32 else hours // 2
        rows.append(
            {
                "code": f"{prefix}{n:02d}",
                "name": name,
                "name_en": "",
                "credits": credits,
                "lecture_hours": hours - lab,
                "lab_hours": lab,
                "assessment": "exam" if n <= len(core) else rng.choice(("exam", "check")),
                "org_unit_id": college.id,
                "room_type": room,
                "description": f"{major.name}专业{'核心' if n <= len(core) else '选修'}课程。",
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


async def seed_catalog(session: AsyncSession, rng: random.Random) -> int:
    if await session.scalar(select(Course.id).limit(1)) is not None:
        return 0
    now = clock.now()
    units = _flatten(await users.org_tree(session))
    by_id = {u.id: u for u in units}
    by_code = {u.code: u for u in units if u.kind in ("college", "office")}
    rows = _general(by_code, now)
    taken = {r["code"] for r in rows}
    for major in units:
        if major.kind != "major" or not major.active:
            continue
        college = by_id.get(major.parent_id) if major.parent_id is not None else None
        while college is not None and college.kind not in ("college", "department"):
            college = by_id.get(college.parent_id) if college.parent_id is not None else None
        if college is None:
            continue
        for row in _major(major, college, rng, now):
            if row["code"] not in taken:
                taken.add(row["code"])
                rows.append(row)
    for start in range(0, len(rows), 1000):
        await session.execute(insert(Course), rows[start : start + 1000])
    return len(rows)
