"""Money coming in: plain ASCII decimals at the currency's minor unit, within sane bounds.

The rules (docs/money.md says the same for users; :mod:`gateway.currency` has the rounding of
amounts going out):

- An input amount is text matching ``-?[0-9]+(\\.[0-9]+)?``: no exponent, no digit grouping, no
  ``_``, no other scripts' digits (``"١٢٣"``), no spaces. Anything else is refused, never read.
- It may have at most as many places as the currency's minor unit (CNY: 2); it is never rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from gateway.currency import minor_digits

PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
MAX_TOP_UP = Decimal("10000")
MAX_COST = Decimal("100000")
MAX_ENERGY_KWH = Decimal("10000")


@dataclass(frozen=True, slots=True)
class InvalidAmount:
    """``field`` is not an acceptable amount; ``message`` says what would be."""

    field: str
    message: str


def parse_plain(value: object) -> Decimal | None:
    """A plain decimal's value; None for anything else (the GraphQL layer's scalar uses this)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and PLAIN_DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def check(
    value: Decimal | None,
    field: str,
    *,
    upper: Decimal,
    currency: str | None = None,
    scale: int = 2,
    unit: str = "",
) -> InvalidAmount | None:
    """None when ``value`` is absent or a positive amount up to ``upper`` with at most ``scale``
    places (a ``currency``'s minor unit when given)."""
    if value is None:
        return None
    if currency is not None:
        scale, unit = minor_digits(currency), currency
    exponent = value.as_tuple().exponent  # a letter for NaN and the infinities
    ok = isinstance(exponent, int) and 0 < value <= upper and exponent >= -scale
    if ok:
        return None
    what = f"{upper} {unit}".strip()
    return InvalidAmount(
        field, f"{field} must be a plain decimal like 12.50: positive, at most {scale} decimals, up to {what}"
    )


def normal(amount: Decimal | None) -> str | None:
    """One spelling per amount (``10``, ``10.0`` and ``10.00`` alike), for request hashes."""
    return None if amount is None else format(amount.normalize(), "f")
