"""The test harness's promise: what a test writes is gone after it, on every database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from campus.kernel.audit import AuditEntry, record
from campus.kernel.runtime import Runtime

MARK = "kernel.db.isolation-probe"


@pytest.mark.parametrize("attempt", [1, 2])
async def test_a_write_first_is_rolled_back_after_the_test(db: Runtime, attempt: int) -> None:
    async with db.db.transaction() as session:
        # The first statement of the test is a write: savepoints must still hold.
        record(session, MARK, "probe", attempt)
    async with db.db.read() as session:
        marks = list(
            await session.scalars(select(AuditEntry.target_id).where(AuditEntry.action == MARK))
        )
    assert marks == [str(attempt)], "an earlier test's write leaked into this one"
