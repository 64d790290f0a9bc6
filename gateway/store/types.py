"""Column types that keep money exact and time zone-aware on SQLite and PostgreSQL alike.

Money is stored as a signed BIGINT count of ten-thousandths (``Decimal("12.3456")`` is
``123456``): exact on both backends, including ``SUM`` in SQL, where SQLite's NUMERIC affinity would
silently turn ``12.3456`` into a binary float. Four places cover every currency's minor unit plus
sub-cent unit prices; a money value with more places is refused (``ValueError``), never rounded.
Energy is stored in millionths of a kWh and, being a meter reading rather than money, is rounded
half-even to that resolution. Timestamps are UTC: naive datetimes are refused on the way in and
every value read back is aware.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect
from sqlalchemy.types import TypeDecorator

MONEY_SCALE = 4
ENERGY_SCALE = 6
PRICE_SCALE = 6


class Fixed(TypeDecorator[Decimal]):
    """A ``Decimal`` stored as an integer count of ``10**-scale`` units."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int, *, exact: bool = True) -> None:
        super().__init__()
        self.scale = scale
        self.exact = exact
        self._quantum = Decimal(1).scaleb(-scale)

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"expected Decimal, got {type(value).__name__}: {value!r}")
        value = Decimal(value)
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        if not self.exact:
            value = value.quantize(self._quantum, rounding=ROUND_HALF_EVEN)
        units = value.scaleb(self.scale)
        if units != units.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(units)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # PostgreSQL's SUM(bigint) is NUMERIC, so a Decimal may arrive here as well as an int.
        return Decimal(int(value)).scaleb(-self.scale)


MONEY = Fixed(MONEY_SCALE)
ENERGY = Fixed(ENERGY_SCALE, exact=False)
UNIT_PRICE = Fixed(PRICE_SCALE)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC timestamp: TIMESTAMPTZ on PostgreSQL, fixed-width ISO text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores aware UTC times only")
        utc: datetime = value.astimezone(UTC)
        # SQLite has no zone; UTC text of fixed width also compares correctly as a string.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    """A random, URL-safe 32-character identifier for sessions, bills and payments."""
    return uuid.uuid4().hex
