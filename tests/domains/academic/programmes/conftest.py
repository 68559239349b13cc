"""Fixtures of the programme and offering tests: a small academic world of the test's own made
directly through the models (two terms, a building and rooms, courses of college A and one of
college B), a valid programme's body, and the rows the module wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from campus.domains.academic.offering import models as offering_models
from campus.domains.academic.programmes import models as programme_models
from campus.kernel.runtime import Runtime
from tests.domains.academic import factories
from tests.platform.access.conftest import Tree

__all__ = ["PROGRAMMES", "World", "acad_counts", "programme_body", "published"]

PROGRAMMES = "/api/v1/academic/programmes"


@dataclass
class World:
    """What the factory made: term ids (grade 2024 is in its first term in ``term_id``), the
    building, and course ids C1…C8 of college A plus X1 of college B."""

    term_id: int
    spring_term_id: int
    building_id: int
    courses: dict[str, int]
    course_codes: dict[str, str]


COURSES = {
    # key: (name, credits, lecture hours, lab hours, room type)
    "C1": ("高等数学A", "4", 64, 0, "multimedia"),
    "C2": ("大学英语", "3", 48, 0, "language"),
    "C3": ("程序设计基础", "3", 32, 16, "computer"),
    "C4": ("数据结构", "3", 48, 0, "multimedia"),
    "C5": ("操作系统", "2", 32, 0, "multimedia"),
    "C6": ("计算机网络", "2", 32, 0, "multimedia"),
    "C7": ("编译原理", "2", 32, 0, "multimedia"),
    "C8": ("毕业实习", "2", 0, 0, "multimedia"),
    "X1": ("乙院课程", "2", 32, 0, "multimedia"),
}
TERMS = [  # season, name, first and last day
    (1, "2024-2025学年第一学期", date(2024, 9, 2), date(2025, 1, 17)),
    (2, "2024-2025学年第二学期", date(2025, 2, 24), date(2025, 7, 4)),
]
ROOMS = [("multimedia", 120), ("multimedia", 60), ("language", 40), ("computer", 80), ("hall", 240)]


@pytest.fixture
async def world(db: Runtime, tree: Tree) -> World:
    async with db.db.transaction() as session:
        suffix = uuid.uuid4().hex[:4]
        term, spring = [
            await factories.add_term(
                session,
                code=f"T24-{season}-{suffix}",
                name=name,
                academic_year=2024,
                season=season,
                start_date=start,
                end_date=end,
            )
            for season, name, start, end in TERMS
        ]
        building = await factories.add_building(session, name="测试教学楼", campus="测试校区")
        for room_type, seats in ROOMS:
            await factories.add_room(
                session,
                building.id,
                name=f"测试{room_type}{seats}",
                room_type=room_type,
                capacity=seats,
                exam_capacity=seats // 2,
            )
        ids: dict[str, int] = {}
        codes: dict[str, str] = {}
        for key, (name, credits, lecture, lab, room_type) in COURSES.items():
            course = await factories.add_course(
                session,
                name=name,
                credits=Decimal(credits),
                lecture_hours=lecture,
                lab_hours=lab,
                org_unit_id=tree.college_b if key == "X1" else tree.college_a,
                room_type=room_type,
            )
            ids[key], codes[key] = course.id, course.code
        return World(term.id, spring.id, building.id, ids, codes)


def programme_body(
    world: World, major_id: int, cohort: int = 2024, **overrides: Any
) -> dict[str, Any]:
    """A valid programme: three groups, 15 credits, C4 needs C3."""
    c = world.courses
    body: dict[str, Any] = {
        "major_id": major_id,
        "cohort": cohort,
        "total_credits": "15",
        "groups": [
            {
                "name": "通识必修",
                "min_credits": "7",
                "courses": [
                    {"course_id": c["C1"], "term": 1},
                    {"course_id": c["C2"], "term": 1},
                ],
            },
            {
                "name": "专业必修",
                "min_credits": "6",
                "courses": [
                    {"course_id": c["C3"], "term": 1},
                    {"course_id": c["C4"], "term": 2},
                ],
            },
            {
                "name": "专业选修",
                "min_credits": "2",
                "courses": [
                    {"course_id": c["C5"], "term": 3, "required": False},
                    {"course_id": c["C6"], "term": 3, "required": False},
                ],
            },
        ],
        "prerequisites": [{"course_id": c["C4"], "prerequisite_id": c["C3"]}],
    }
    body.update(overrides)
    return body


async def acad_counts(db: Runtime) -> dict[str, int]:
    """Rows of the programme and offering tables and of the audit log (refusals not counted)."""
    tables = factories.by_table(
        programme_models.Programme,
        programme_models.ProgrammeGroup,
        programme_models.ProgrammeCourse,
        programme_models.ProgrammePrerequisite,
        programme_models.PlanItem,
        offering_models.Section,
        offering_models.SectionTeacher,
        offering_models.SectionClass,
        offering_models.SectionMajor,
    )
    return await factories.count_rows(db, {**tables, "audit": factories.AUDITED})


async def published(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(PROGRAMMES, json=body)
    assert response.status_code == 201, response.text
    response = await client.post(f"{PROGRAMMES}/{response.json()['id']}/publish")
    assert response.status_code == 200, response.text
    return dict(response.json())
