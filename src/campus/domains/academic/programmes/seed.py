"""Programmes' part of the demo university: a published programme for every major and cohort
(small scale: the cohorts that have classes; larger: every cohort in the major's years), about
150–170 credits each, built from the catalogue the master seed wrote (national general courses
``GE…`` and the major's own courses, coded from its discipline code); then the teaching plan of
the current term. Deterministic (``ctx.rng("academic.programmes")``) and idempotent."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.programmes import actions, queries
from campus.domains.academic.programmes import orgs as org_tree
from campus.domains.academic.programmes.models import (
    Programme,
    ProgrammeCourse,
    ProgrammeGroup,
    ProgrammePrerequisite,
)
from campus.kernel import clock
from campus.kernel.seeding import SeedContext
from campus.platform.users import service as users
from campus.platform.users.directory import OrgDirectory

log = structlog.get_logger(__name__)

STEM = ("07", "08", "09", "10")  # 理学, 工学, 农学, 医学: 高等数学A and physics
# (code, term) of the required general courses; both lists are read from the catalogue, so a
# course missing there is left out.
GENERAL_COMMON = (
    ("GE001", 1), ("GE006", 1), ("GE011", 1), ("GE051", 1), ("GE061", 1), ("GE062", 1),
    ("GE002", 2), ("GE012", 2), ("GE052", 2),
    ("GE003", 3), ("GE013", 3), ("GE053", 3),
    ("GE004", 4), ("GE014", 4), ("GE054", 4),
    ("GE005", 5),
)  # fmt: skip
GENERAL_STEM = (
    ("GE021", 1), ("GE042", 1), ("GE022", 2), ("GE025", 2), ("GE031", 2),
    ("GE026", 3), ("GE032", 3), ("GE033", 3),
)  # fmt: skip
GENERAL_OTHER = (("GE023", 1), ("GE041", 1), ("GE024", 2), ("GE025", 3), ("GE026", 4))
GENERAL_ELECTIVE = (("GE063", 2), ("GE064", 3), ("GE065", 4), ("GE066", 5), ("GE067", 6))
# 实践环节: taught in weeks, not timetabled (no lecture hours); added to the catalogue when absent.
PRACTICE = (
    ("SJ001", "军事技能训练", "Military Skills Training", "2", 1),
    ("SJ002", "认识实习", "Cognition Practice", "1", 4),
    ("SJ003", "课程设计", "Course Project", "2", 5),
    ("SJ004", "社会实践", "Social Practice", "2", 6),
    ("SJ005", "专业实习", "Professional Internship", "4", 6),
    ("SJ006", "毕业实习", "Graduation Internship", "6", 7),
    ("SJ007", "毕业设计（论文）", "Graduation Project (Thesis)", "12", 8),
    ("SJ008", "劳动实践", "Labour Practice", "1", 2),
    ("SJ009", "创新创业实践", "Innovation and Entrepreneurship Practice", "2", 7),
    ("SJ010", "专业综合实践", "Comprehensive Professional Practice", "3", 7),
)
TARGET = (Decimal(150), Decimal(170))  # total credits aimed at
# Major courses: core 1–2 in term 2, 3–4 in 3, 5–6 in 4, 7–8 in 5, 9–10 in 6.
CORE_TERMS = (2, 2, 3, 3, 4, 4, 5, 5, 6, 6)
ELECTIVE_TERMS = (5, 6, 7)
ELECTIVES_PER_TERM = 5


@dataclass
class Draft:
    """One programme before it is written: groups of (course, term, required)."""

    groups: list[tuple[str, Decimal, list[tuple[Course, int, bool]]]] = field(default_factory=list)
    prerequisites: list[tuple[int, int]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((g[1] for g in self.groups), Decimal(0))


def _half_up(value: Decimal) -> Decimal:
    return (value * 2).to_integral_value() / 2


def draft_for(
    major_code: str,
    catalogue: dict[str, Course],
    major_courses: list[Course],
    neighbours: list[Course],
    rng: random.Random,
) -> Draft:
    """The major's own courses first (core, then electives), then courses of the other majors
    of its college as further electives; group minimums tuned toward ``TARGET``."""
    stem = major_code[:2] in STEM
    general = [*GENERAL_COMMON, *(GENERAL_STEM if stem else GENERAL_OTHER)]
    draft = Draft()

    def required_group(name: str, rows: list[tuple[Course, int, bool]]) -> None:
        if rows:
            draft.groups.append((name, sum((c.credits for c, _t, _r in rows), Decimal(0)), rows))

    required_group(
        "通识必修", [(catalogue[code], term, True) for code, term in general if code in catalogue]
    )
    electives = [(catalogue[c], t, False) for c, t in GENERAL_ELECTIVE if c in catalogue]
    if electives:
        available = sum((c.credits for c, _t, _r in electives), Decimal(0))
        draft.groups.append(("通识选修", _half_up(available * Decimal("0.6")), electives))
    core = major_courses[: len(CORE_TERMS)]
    rest = major_courses[len(CORE_TERMS) :]
    required_group("学科基础", [(c, CORE_TERMS[i], True) for i, c in enumerate(core[:4])])
    required_group("专业必修", [(c, CORE_TERMS[i + 4], True) for i, c in enumerate(core[4:])])
    rng.shuffle(rest)
    others = list(neighbours)
    rng.shuffle(others)
    chosen = [*rest, *others][: len(ELECTIVE_TERMS) * ELECTIVES_PER_TERM]
    options = [(c, ELECTIVE_TERMS[i % len(ELECTIVE_TERMS)], False) for i, c in enumerate(chosen)]
    if options:
        available = sum((c.credits for c, _t, _r in options), Decimal(0))
        draft.groups.append(("专业选修", _half_up(available * Decimal("0.7")), options))
    required_group(
        "实践环节", [(catalogue[code], t, True) for code, *_x, t in PRACTICE if code in catalogue]
    )
    _tune(draft)
    # Prerequisites along the core: each core course needs the one two places before it.
    for i in range(2, len(core)):
        draft.prerequisites.append((core[i].id, core[i - 2].id))
    if "GE022" in catalogue and "GE021" in catalogue and stem:
        draft.prerequisites.append((catalogue["GE022"].id, catalogue["GE021"].id))
    return draft


def _tune(draft: Draft) -> None:
    """Raise (or lower) the elective groups' minimums, within what they offer, toward the
    target total; required groups stay at their required credits."""
    low, high = TARGET
    for n, (name, minimum, rows) in enumerate(draft.groups):
        if name not in ("专业选修", "通识选修"):
            continue
        available = sum((c.credits for c, _t, _r in rows), Decimal(0))
        total = draft.total
        if total < low:
            minimum = min(available, _half_up(minimum + low - total))
        elif total > high:
            minimum = max(Decimal(0), _half_up(minimum - (total - high)))
        draft.groups[n] = (name, minimum, rows)


async def _practice_courses(session: AsyncSession, owner: int) -> None:
    """The practice courses every programme ends with, if the catalogue lacks them."""
    have = set(await session.scalars(select(Course.code).where(Course.code.like("SJ%"))))
    now = clock.now()
    rows = [
        {
            "code": code,
            "name": name,
            "name_en": name_en,
            "credits": Decimal(credits),
            "lecture_hours": 0,
            "lab_hours": 0,
            "assessment": "check",
            "org_unit_id": owner,
            "room_type": "ordinary",
            "description": "实践环节，按周安排，不排课。",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for code, name, name_en, credits, _term in PRACTICE
        if code not in have
    ]
    if rows:
        await session.execute(insert(Course), rows)


async def seed_programmes(session: AsyncSession, ctx: SeedContext) -> int:
    if await actions.programme_count(session) > 0:
        return 0
    tree = await users.org_directory(session)
    majors = tree.of_kind("major")
    if not majors or not await queries.active_courses(session):
        return 0  # no catalogue yet
    await _practice_courses(
        session, tree.of_kind("college")[0] if tree.of_kind("college") else majors[0]
    )
    courses = await queries.active_courses(session)
    catalogue = {c.code: c for c in courses}
    units = await org_tree_units(session)
    classes = [c for c in await org_tree.classes(session) if org_tree.undergraduate(c)]
    intake = max((c.grade for c in classes), default=clock.today().year)
    rng = ctx.rng("academic.programmes")
    now = clock.now()
    written = 0
    own_of: dict[int, list[Course]] = {}
    for major_id in majors:
        code, _years = units.get(major_id, ("", 4))
        prefix = "".join(ch for ch in code if ch.isalnum())[:16]
        own_of[major_id] = sorted(
            (
                c
                for c in courses
                if prefix and c.code.startswith(prefix) and len(c.code) == len(prefix) + 2
            ),
            key=lambda c: c.code,
        )

    def siblings(major_id: int) -> list[Course]:
        college = tree.nearest(major_id, "college")
        return [
            c
            for other in majors
            if other != major_id and tree.nearest(other, "college") == college
            for c in own_of[other]
        ]

    for major_id in majors:
        code, years = units.get(major_id, ("", 4))
        own = own_of[major_id]
        if ctx.scale == "small":
            cohorts = sorted({c.grade for c in classes if c.org_unit_id == major_id})
        else:
            cohorts = list(range(intake - years + 1, intake + 1))
        for cohort in cohorts:
            draft = draft_for(code, catalogue, own, siblings(major_id), rng)
            if not draft.groups:
                continue
            await _write(session, tree, major_id, cohort, years, draft, now)
            written += 1
    return written


async def org_tree_units(session: AsyncSession) -> dict[int, tuple[str, int]]:
    """Each major's discipline code and years of study (5 for medicine and architecture)."""
    from campus.platform.users import service as users

    found: dict[int, tuple[str, int]] = {}

    def visit(nodes: list[Any]) -> None:
        for node in nodes:
            if node.kind == "major":
                code = node.discipline_code or node.code
                years = 5 if code[:4] in ("1002", "0828") or code.startswith("1001") else 4
                found[node.id] = (code, years)
            visit(node.children)

    visit(await users.org_tree(session))
    return found


async def _write(
    session: AsyncSession,
    tree: OrgDirectory,
    major_id: int,
    cohort: int,
    years: int,
    draft: Draft,
    now: Any,
) -> None:
    programme = Programme(
        major_id=major_id,
        college_id=tree.nearest(major_id, "college"),
        cohort=cohort,
        version=1,
        name=f"{tree.name(major_id)}专业{cohort}级培养方案",
        total_credits=draft.total,
        years=years,
        status="published",
        note="",
        based_on_id=None,
        created_by=None,
        published_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(programme)
    await session.flush()
    groups = [
        ProgrammeGroup(programme_id=programme.id, name=name, min_credits=minimum, sort_order=n)
        for n, (name, minimum, _rows) in enumerate(draft.groups)
    ]
    session.add_all(groups)
    await session.flush()
    rows = [
        {
            "programme_id": programme.id,
            "group_id": group.id,
            "course_id": course.id,
            "term": term,
            "required": required,
            "hours": course.lecture_hours + course.lab_hours or int(course.credits * 16),
        }
        for group, (_name, _minimum, members) in zip(groups, draft.groups, strict=True)
        for course, term, required in members
    ]
    await session.execute(insert(ProgrammeCourse), rows)
    if draft.prerequisites:
        await session.execute(
            insert(ProgrammePrerequisite),
            [
                {"programme_id": programme.id, "course_id": c, "prerequisite_id": p}
                for c, p in draft.prerequisites
            ],
        )


async def seed_plan(session: AsyncSession) -> int:
    term = await queries.current_term(session)
    if term is None:
        return 0
    report = await actions.check_generate_plan(session, None, term.id)
    return report.items


async def seed(ctx: SeedContext) -> None:
    started = time.perf_counter()
    async with ctx.runtime.db.transaction() as session:
        programmes = await seed_programmes(session, ctx)
        items = await seed_plan(session)
    log.info(
        "academic_programmes_seeded",
        programmes=programmes,
        plan_items=items,
        seconds=round(time.perf_counter() - started, 2),
    )
