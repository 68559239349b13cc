"""Fixtures of the graduation audit tests: a published programme for major A's 2024 cohort
(two groups: 专业必修 with two required courses, 专业选修 of two courses with a minimum of 2
credits; 10 credits in all) and helpers writing published results."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from campus.domains.academic.catalog.models import Course
from campus.domains.academic.programmes.models import Programme, ProgrammeCourse, ProgrammeGroup
from campus.kernel import clock
from campus.kernel.runtime import Runtime
from tests.domains.academic import factories
from tests.domains.academic.status.conftest import enrolled, places, registrar
from tests.platform.access.conftest import Tree

__all__ = ["Plan", "enrolled", "places", "registrar"]


@dataclass(frozen=True)
class Plan:
    term_id: int
    # 数据结构 (4, required), 操作系统 (3, required), 机器学习 (2), 图形学 (2), 公选 (1, outside)
    courses: dict[str, Course]


@pytest.fixture
async def plan(db: Runtime, tree: Tree) -> Plan:
    async with db.db.transaction() as session:
        term = await factories.add_term(session)
        courses = {}
        for key, name, credits in [
            ("ds", "审核·数据结构", 4),
            ("os", "审核·操作系统", 3),
            ("ml", "审核·机器学习", 2),
            ("cg", "审核·图形学", 2),
            ("free", "审核·公选课", 1),
        ]:
            courses[key] = await factories.add_course(
                session, org_unit_id=tree.college_a, name=name, credits=Decimal(credits)
            )
        now = clock.now()
        programme = Programme(
            major_id=tree.major_a,
            college_id=tree.college_a,
            cohort=2024,
            version=1,
            name="甲专业2024级培养方案",
            total_credits=Decimal(10),
            years=4,
            status="published",
            published_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(programme)
        await session.flush()
        required = ProgrammeGroup(
            programme_id=programme.id, name="专业必修", min_credits=Decimal(7)
        )
        elective = ProgrammeGroup(
            programme_id=programme.id, name="专业选修", min_credits=Decimal(2)
        )
        session.add_all([required, elective])
        await session.flush()
        for key, group, is_required in [
            ("ds", required, True),
            ("os", required, True),
            ("ml", elective, False),
            ("cg", elective, False),
        ]:
            session.add(
                ProgrammeCourse(
                    programme_id=programme.id,
                    group_id=group.id,
                    course_id=courses[key].id,
                    term=3,
                    required=is_required,
                    hours=48,
                )
            )
        return Plan(term.id, courses)


async def passes(db: Runtime, plan: Plan, person_id: int, *keys: str, **kwargs: object) -> None:
    async with db.db.transaction() as session:
        for key in keys:
            await factories.add_result(
                session, person_id, plan.courses[key], plan.term_id, **kwargs
            )  # type: ignore[arg-type]
