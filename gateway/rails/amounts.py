"""Money on the rails: CNY yuan as Decimal at two places, and the fen (1/100 yuan) integers WeChat Pay uses.

Rounding rule: the rails never round. An amount with more than two places is a caller's bug and is
refused with :class:`ValueError`, so what a provider collects is exactly what the ledger booked.
"""

from __future__ import annotations

import re
from decimal import Decimal

CENT = Decimal("0.01")
_YUAN_TEXT = re.compile(r"(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?")


def check_yuan(amount: Decimal) -> Decimal:
    """``amount`` itself if it is a finite, non-negative Decimal with at most two places."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise ValueError(f"amount must be a non-negative Decimal, not {amount!r}")
    if amount != amount.quantize(CENT):
        raise ValueError(f"amount {amount} has more than two decimal places")
    return amount


def yuan_text(amount: Decimal) -> str:
    """``Decimal("12.5")`` → ``"12.50"``, the notation Alipay's ``*_amount`` fields use."""
    return f"{check_yuan(amount).quantize(CENT):f}"


def parse_yuan(text: object) -> Decimal:
    """``"12.50"`` → ``Decimal("12.50")``; ValueError for anything that is not plain ASCII yuan."""
    if not isinstance(text, str) or not _YUAN_TEXT.fullmatch(text):
        raise ValueError(f"not a yuan amount: {text!r}")
    return Decimal(text).quantize(CENT)


def to_fen(amount: Decimal) -> int:
    """Yuan → fen, exactly (``Decimal("12.34")`` → 1234)."""
    return int(check_yuan(amount) * 100)


def from_fen(fen: object) -> Decimal:
    """Fen → yuan at two places; ValueError for anything but a non-negative int."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"not a fen amount: {fen!r}")
    return (Decimal(fen) / 100).quantize(CENT)
