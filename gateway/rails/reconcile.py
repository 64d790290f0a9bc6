"""Reconciliation of a rail against our ledger: what we believe each order collected, compared
with what the provider says it did.

The ledger side is a list of :class:`Expected` (one per order reference); the provider side comes
from :meth:`~gateway.rails.port.CreditRail.query`. Every difference is a :class:`Mismatch`, never
silently fixed: money moved that we did not book, money booked that did not move, an order still
collecting, or a provider that could not answer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from gateway.rails.port import CreditRail, OrderState, RailError, RailRefused


class MismatchKind(enum.Enum):
    AMOUNT = "AMOUNT"  # both collected, different amounts
    UNBOOKED_COLLECTION = "UNBOOKED_COLLECTION"  # the provider collected; we booked nothing
    MISSING_COLLECTION = "MISSING_COLLECTION"  # we booked a collection the provider does not have
    PENDING = "PENDING"  # the provider is still collecting (or failed): follow up
    UNREACHABLE = "UNREACHABLE"  # the provider did not answer or refused the query
    COLLECTION_FAILED = "COLLECTION_FAILED"  # every collection attempt failed: the bill stays UNPAID


@dataclass(frozen=True, slots=True)
class Expected:
    """What our ledger says: ``collected`` 0.00 for an order that should not have collected anything."""

    reference: str
    collected: Decimal


@dataclass(frozen=True, slots=True)
class Mismatch:
    rail: str
    reference: str
    kind: MismatchKind
    ours: Decimal | None
    theirs: Decimal | None
    detail: str = ""


async def reconcile(rail: CreditRail, expected: Iterable[Expected]) -> list[Mismatch]:
    """Every mismatch between ``expected`` and ``rail`` (queried one order at a time)."""
    found: list[Mismatch] = []
    for want in expected:
        try:
            order = await rail.query(want.reference)
        except RailRefused as exc:  # the provider has no such order: what we booked did not move
            lost = MismatchKind.MISSING_COLLECTION if want.collected > 0 else MismatchKind.UNREACHABLE
            found.append(Mismatch(rail.name, want.reference, lost, want.collected, None, str(exc)))
            continue
        except RailError as exc:
            found.append(
                Mismatch(rail.name, want.reference, MismatchKind.UNREACHABLE, want.collected, None, str(exc))
            )
            continue
        kind = _compare(want.collected, order.state, order.collected)
        if kind is not None:
            found.append(
                Mismatch(rail.name, want.reference, kind, want.collected, order.collected, order.state.value)
            )
    return found


def _compare(ours: Decimal, state: OrderState, theirs: Decimal) -> MismatchKind | None:
    """The kind of difference between our booking and the provider's order (pure)."""
    if state in (OrderState.COLLECTING, OrderState.FAILED, OrderState.UNKNOWN):
        return MismatchKind.PENDING
    if ours == theirs:
        return None
    if ours == 0:
        return MismatchKind.UNBOOKED_COLLECTION
    if theirs == 0:
        return MismatchKind.MISSING_COLLECTION
    return MismatchKind.AMOUNT
