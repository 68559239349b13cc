"""发文字号 under concurrency: many approvals of one prefix and year at once get 1, 2, … n,
no gaps and no duplicates, each in its own committed transaction, as worker handlers run.

These need real commits and real concurrent connections, so they use a database of their own:
a fresh SQLite file, or ``<name>_oa`` beside CAMPUS_DATABASE_URL's PostgreSQL database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select

from campus.domains.oa.documents import numbering
from campus.domains.oa.handlers import HANDLERS
from campus.domains.oa.models import Document, DocumentCounter
from campus.kernel import clock
from campus.kernel.bus import Dispatcher, RetryPolicy
from campus.kernel.db import Database
from campus.kernel.events import Event, OutboxRow, ProcessedEvent
from campus.platform.workflow import events as workflow_events
from tests.own_database import migrated_database

PREFIX = "并发发"
APPROVALS = 12


@pytest.fixture(scope="module")
async def numbering_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return await migrated_database("oa", tmp_path_factory.mktemp("oa"))


@pytest.fixture
async def fresh(numbering_url: str) -> AsyncIterator[Database]:
    db = Database(numbering_url)
    async with db.transaction() as session:
        for table in (Document, DocumentCounter, OutboxRow, ProcessedEvent):
            await session.execute(delete(table))
    yield db
    await db.dispose()


async def _reviewing(db: Database, count: int) -> list[int]:
    """Documents waiting for instances 1…count (the people and units are plain ids here)."""
    now = clock.now()
    async with db.transaction() as session:
        rows = [
            Document(
                title=f"并发公文{n}",
                kind="notice",
                issuing_org_id=1,
                urgency="normal",
                secrecy="public",
                body="正文",
                attachments=[],
                drafter_id=1,
                status="reviewing",
                instance_id=n,
                number_prefix=PREFIX,
                return_reason="",
                seal_name="",
                created_at=now,
                updated_at=now,
            )
            for n in range(1, count + 1)
        ]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


def _approved(document_id: int, instance_id: int) -> Event:
    return Event(
        name=workflow_events.INSTANCE_APPROVED,
        payload={
            "instance_id": instance_id,
            "process_key": "oa.document",
            "source": "oa",
            "business_key": f"document:{document_id}",
            "applicant_id": 1,
            "status": "approved",
        },
    )


async def _numbers(db: Database) -> list[tuple[int | None, str | None, str]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Document.number_seq, Document.number, Document.status).order_by(Document.id)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]


HANDLER = next(h for h in HANDLERS if h.pattern == workflow_events.INSTANCE_APPROVED)


async def test_concurrent_approvals_take_consecutive_numbers(fresh: Database) -> None:
    ids = await _reviewing(fresh, APPROVALS)
    # Each delivery is one transaction, as in the worker; a lock timeout is retried like there.
    dispatcher = Dispatcher(fresh, RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2))
    outcomes = await asyncio.gather(
        *(dispatcher.deliver(HANDLER, _approved(d, n)) for n, d in enumerate(ids, start=1))
    )
    assert {o.value for o in outcomes} == {"handled"}
    rows = await _numbers(fresh)
    seqs = sorted(seq for seq, _number, _status in rows if seq is not None)
    assert seqs == list(range(1, APPROVALS + 1))
    numbers = [number for _seq, number, _status in rows]
    assert len(set(numbers)) == APPROVALS
    year = rows and numbers[0] and numbers[0].split("〔")[1][:4]
    assert all(n == numbering.format_number(PREFIX, int(year), s) for s, n, _ in rows if n)
    assert {status for _s, _n, status in rows} == {"approved"}
    async with fresh.read() as session:
        counter = await session.get(DocumentCounter, (PREFIX, int(year)))
        assert counter is not None and counter.last_seq == APPROVALS


async def test_a_repeated_outcome_numbers_a_document_once(fresh: Database) -> None:
    [document_id] = await _reviewing(fresh, 1)
    event = _approved(document_id, 1)
    dispatcher = Dispatcher(fresh, RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2))
    # The same event twice at once (a redelivery) and a second event of the same outcome.
    await asyncio.gather(
        dispatcher.deliver(HANDLER, event),
        dispatcher.deliver(HANDLER, event),
        dispatcher.deliver(HANDLER, _approved(document_id, 1)),
    )
    assert [seq for seq, _n, _s in await _numbers(fresh)] == [1]
    async with fresh.read() as session:
        counters = list(await session.scalars(select(DocumentCounter)))
        assert [c.last_seq for c in counters] == [1]
