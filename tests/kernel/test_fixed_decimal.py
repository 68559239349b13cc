"""Exact decimals stored as scaled integers round-trip on every database, and refuse values
finer than their places instead of rounding them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import literal, select

from campus.kernel.db import FixedDecimal
from campus.kernel.runtime import Runtime


@pytest.mark.parametrize("value", ["3.5", "0.5", "160", "-2.5", "0"])
async def test_values_round_trip_exactly(db: Runtime, value: str) -> None:
    async with db.db.read() as session:
        back = await session.scalar(select(literal(Decimal(value), FixedDecimal(1))))
    assert back == Decimal(value)
    assert isinstance(back, Decimal)


def test_storage_is_the_scaled_integer() -> None:
    credits = FixedDecimal(1)
    assert credits.process_bind_param(Decimal("3.5"), None) == 35
    assert credits.process_result_value(35, None) == Decimal("3.5")
    assert FixedDecimal(2).process_bind_param(Decimal("12.34"), None) == 1234
    assert credits.process_bind_param(None, None) is None


def test_a_value_finer_than_the_places_is_refused() -> None:
    with pytest.raises(ValueError, match="decimal places"):
        FixedDecimal(1).process_bind_param(Decimal("3.25"), None)


def test_the_migration_rendering_keeps_the_places() -> None:
    assert repr(FixedDecimal(2)) == "FixedDecimal(2)"
