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


async def test_after_commit_runs_only_once_the_transaction_commits(db: Runtime) -> None:
    from campus.kernel.db import after_commit

    ran: list[str] = []

    async def announce(label: str) -> None:
        ran.append(label)

    async with db.db.transaction() as session:
        record(session, MARK, "probe", 1)
        after_commit(session, lambda: announce("committed"))
        assert ran == [], "a callback ran before the commit"
    assert ran == ["committed"]

    with pytest.raises(RuntimeError):
        async with db.db.transaction() as session:
            after_commit(session, lambda: announce("rolled back"))
            raise RuntimeError("the request failed")
    assert ran == ["committed"], "a rolled-back transaction announced its work"


async def test_after_rollback_runs_only_when_the_transaction_is_undone(db: Runtime) -> None:
    from campus.kernel.db import after_commit, after_rollback

    ran: list[str] = []

    async def note(label: str) -> None:
        ran.append(label)

    async with db.db.transaction() as session:
        after_rollback(session, lambda: note("given back"))
    assert ran == [], "a committed transaction ran its rollback callback"

    with pytest.raises(RuntimeError):
        async with db.db.transaction() as session:
            after_rollback(session, lambda: note("given back"))
            after_commit(session, lambda: note("announced"))
            raise RuntimeError("the request failed")
    assert ran == ["given back"]


async def test_a_failing_after_commit_callback_does_not_fail_the_committed_work(
    db: Runtime,
) -> None:
    from campus.kernel.db import after_commit

    async def broken() -> None:
        raise ConnectionError("the cache is down")

    async with db.db.transaction() as session:
        record(session, MARK, "probe", 2)
        after_commit(session, broken)
    async with db.db.read() as session:
        marks = list(
            await session.scalars(select(AuditEntry.target_id).where(AuditEntry.action == MARK))
        )
    assert marks == ["2"]
