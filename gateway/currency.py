"""Each currency's minor unit, and the one rounding rule for the money amounts the API shows.

The number of decimals comes from the Unicode CLDR (through Babel): CNY, EUR and USD have 2, JPY 0.
An amount is shown at exactly that scale, rounded half up (¥240.8663 → ¥240.87, ¥0.005 → ¥0.01),
the rule Chinese retail pricing and our tariff recomputation use. A limit the gateway sets (a
session's cost cap) is cut down to the minor unit when it is set, so the cap shown is the cap
enforced. Unit prices (per kWh, per hour) are not amounts and keep the places the operator gave.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision


def minor_digits(currency: str) -> int:
    """The decimals of ``currency``'s minor unit: 2 for CNY, 0 for JPY."""
    return get_currency_precision(currency)


@lru_cache(maxsize=64)
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal("0.01")`` for CNY, ``Decimal("1")`` for JPY."""
    return Decimal(1).scaleb(-get_currency_precision(currency))


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """``amount`` at the currency's minor-unit scale, rounded half up."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def limit_to_minor(amount: Decimal, currency: str) -> Decimal:
    """A limit at the currency's minor-unit scale, never above ``amount`` (for caps and budgets)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_DOWN)
