"""Fixtures of the transcript tests: students with status records (from the status tests) and
published course results written for them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from campus.kernel.runtime import Runtime
from tests.domains.academic import factories
from tests.domains.academic.status.conftest import enrolled, places, registrar

__all__ = ["enrolled", "places", "publish_results", "registrar"]


async def publish_results(db: Runtime, person_id: int, college_id: int) -> dict[str, Any]:
    """Two terms of results for the student: 高等数学 92.5 (4 credits), 大学英语 优 (five
    levels, 2 credits), 线性代数 failed (3 credits) then passed at make-up with 60."""
    async with db.db.transaction() as session:
        autumn = await factories.add_term(
            session,
            name="2024-2025学年第一学期",
            academic_year=2024,
            season=1,
            start_date=date(2024, 9, 2),
            end_date=date(2025, 1, 19),
            current=False,
        )
        spring = await factories.add_term(
            session,
            name="2024-2025学年第二学期",
            academic_year=2024,
            season=2,
            start_date=date(2025, 2, 24),
            end_date=date(2025, 7, 6),
            current=False,
        )
        calculus = await factories.add_course(
            session,
            org_unit_id=college_id,
            name="成绩单·高等数学",
            name_en="Advanced Mathematics",
            credits=Decimal(4),
        )
        english = await factories.add_course(
            session,
            org_unit_id=college_id,
            name="成绩单·大学英语",
            name_en="College English",
            credits=Decimal(2),
        )
        algebra = await factories.add_course(
            session,
            org_unit_id=college_id,
            name="成绩单·线性代数",
            name_en="Linear Algebra",
            credits=Decimal(3),
        )
        for course, term, score, level, passed, attempt in [
            (calculus, autumn, Decimal("92.5"), "", True, "normal"),
            (algebra, autumn, Decimal(45), "", False, "normal"),
            (english, spring, None, "excellent", True, "normal"),
            (algebra, spring, Decimal(60), "", True, "makeup"),
        ]:
            await factories.add_result(
                session,
                person_id,
                course,
                term.id,
                score=score,
                level=level,
                passed=passed,
                attempt=attempt,
            )
        return {"autumn": autumn.id, "spring": spring.id, "algebra": algebra.id}
