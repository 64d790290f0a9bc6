"""The demo drivers (the README's walkthrough): who they are to the credit bureau and what their wallets hold.

The lead seeds the ledger's wallets and the bureau simulator's score table from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class DemoDriver:
    driver_id: str
    score: int
    wallet: Decimal
    expected: str  # what the default policy gives them, for the README and the demo test


DEMO_DRIVERS: tuple[DemoDriver, ...] = (
    DemoDriver("alice", 720, Decimal("0.00"), "POSTPAID"),  # band 680-749: limit ¥500, session cap ¥300
    DemoDriver("bob", 480, Decimal("0.00"), "DENIED"),  # score too low and an empty wallet
    DemoDriver("carol", 520, Decimal("200.00"), "PREPAID"),  # score too low, wallet covers ¥20
)


def demo_scores() -> dict[str, int]:
    """A fresh ``{driver_id: score}`` table of the demo drivers (the bureau simulator's default)."""
    return {d.driver_id: d.score for d in DEMO_DRIVERS}


def demo_wallets() -> dict[str, Decimal]:
    """A fresh ``{driver_id: wallet balance}`` table of the demo drivers."""
    return {d.driver_id: d.wallet for d in DEMO_DRIVERS}
