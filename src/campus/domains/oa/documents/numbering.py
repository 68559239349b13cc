"""发文字号: ``<prefix>〔<year>〕<n>号``, n counting from 1 per prefix and year.

The counter row of (prefix, year) is incremented by one UPDATE … RETURNING in the transaction
that approves the document. The UPDATE locks the row until that transaction ends, so two
approvals at once take turns: numbers never repeat and, since a rolled-back approval rolls back
its increment too, never skip. The unique (prefix, year, seq) of ``oa_document`` guards it again.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from campus.domains.oa.models import DocumentCounter
from campus.kernel.db import insert_ignore


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}〔{year}〕{seq}号"


async def next_seq(session: AsyncSession, prefix: str, year: int) -> int:
    await insert_ignore(
        session,
        DocumentCounter,
        [{"prefix": prefix, "year": year, "last_seq": 0}],
        ["prefix", "year"],
    )
    taken = await session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.prefix == prefix, DocumentCounter.year == year)
        .values(last_seq=DocumentCounter.last_seq + 1)
        .returning(DocumentCounter.last_seq)
        .execution_options(synchronize_session=False)
    )
    return int(taken.scalar_one())
