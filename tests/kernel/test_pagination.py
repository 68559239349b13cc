"""The kernel's paging: counting and slicing any select, and the page parameters' checks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy import event, func, select

from campus.kernel.audit import AuditEntry
from campus.kernel.pagination import Page, PageParams, pages_for, paginate
from campus.kernel.runtime import Runtime


async def add_entries(runtime: Runtime, family: str, targets: list[str]) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    async with runtime.db.transaction() as session:
        for n, target in enumerate(targets):
            session.add(
                AuditEntry(
                    at=start + timedelta(minutes=n),
                    action=f"{family}.touch",
                    target_type="thing",
                    target_id=target,
                )
            )


@pytest.fixture
def statements(db: Runtime) -> Iterator[list[str]]:
    """The SQL statements sent while the test runs."""
    sent: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = db.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", remember)
    yield sent
    event.remove(engine, "before_cursor_execute", remember)


async def test_entities_come_a_page_at_a_time_in_order(db: Runtime) -> None:
    family = f"pg{uuid.uuid4().hex[:8]}"
    await add_entries(db, family, ["a", "b", "c", "d", "e"])
    newest_first = (
        select(AuditEntry)
        .where(AuditEntry.action == f"{family}.touch")
        .order_by(AuditEntry.at.desc())
    )

    async with db.db.read() as session:
        first = await paginate(session, newest_first, 1, 2)
        last = await paginate(session, newest_first, 3, 2)
        assert all(isinstance(e, AuditEntry) for e in first.items)
        assert [e.target_id for e in first.items] == ["e", "d"]
        assert [e.target_id for e in last.items] == ["a"]

    assert (first.total, first.page, first.page_size, first.pages) == (5, 1, 2, 3)
    assert (last.total, last.page, last.pages) == (5, 3, 3)


async def test_rows_of_several_columns_and_distinct_are_counted_as_listed(db: Runtime) -> None:
    family = f"pg{uuid.uuid4().hex[:8]}"
    await add_entries(db, family, ["a", "a", "b", "b", "c"])
    mine = AuditEntry.action == f"{family}.touch"
    targets = select(AuditEntry.target_id).where(mine).distinct().order_by(AuditEntry.target_id)
    pairs = select(AuditEntry.target_id, func.count()).where(mine).group_by(AuditEntry.target_id)

    async with db.db.read() as session:
        distinct = await paginate(session, targets, 1, 2)
        grouped = await paginate(session, pairs.order_by(AuditEntry.target_id), 2, 2)

    assert (distinct.items, distinct.total, distinct.pages) == (["a", "b"], 3, 2)
    assert [tuple(row) for row in grouped.items] == [("c", 1)]
    assert grouped.total == 3


async def test_a_page_past_the_end_is_empty_and_costs_one_query(
    db: Runtime, statements: list[str]
) -> None:
    family = f"pg{uuid.uuid4().hex[:8]}"
    await add_entries(db, family, ["a", "b"])
    stmt = select(AuditEntry).where(AuditEntry.action == f"{family}.touch").order_by(AuditEntry.id)

    async with db.db.read() as session:
        statements.clear()
        beyond = await paginate(session, stmt, 2, 2)
        counted = [s for s in statements if "count" in s.lower()]

    assert (beyond.items, beyond.total, beyond.page, beyond.pages) == ([], 2, 2, 1)
    assert len(counted) == 1 and "ORDER BY" not in counted[0].upper()
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


class Row(BaseModel):
    target: str


class RowPage(Page[Row]):
    sort: str


def test_into_converts_items_and_fills_a_subclass_fields() -> None:
    raw = Page[Any].of(["x", "y"], 7, PageParams(page=2, page_size=2))

    converted = raw.into(RowPage, lambda t: Row(target=t), sort="-target")

    assert isinstance(converted, RowPage)
    assert converted.model_dump() == {
        "items": [{"target": "x"}, {"target": "y"}],
        "total": 7,
        "page": 2,
        "page_size": 2,
        "pages": 4,
        "sort": "-target",
    }


def test_pages_count_at_least_one() -> None:
    assert [pages_for(total, 20) for total in (0, 1, 20, 21, 200)] == [1, 1, 1, 2, 10]


def test_page_params_have_defaults_and_bounds() -> None:
    assert (PageParams().page, PageParams().page_size, PageParams(page=3).offset) == (1, 20, 40)
    with pytest.raises(ValidationError) as bad:
        PageParams(page=0, page_size=201)
    assert {(e["loc"][0], e["type"]) for e in bad.value.errors()} == {
        ("page", "greater_than_equal"),
        ("page_size", "less_than_equal"),
    }
