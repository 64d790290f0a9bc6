"""Reconciliation against a real rail simulator: every kind of difference is flagged, agreement is not."""

from __future__ import annotations

from decimal import Decimal

from gateway.rails.port import OrderState
from gateway.rails.reconcile import Expected, MismatchKind, _compare, reconcile
from gateway.rails.sim.faults import RailFaults
from gateway.rails.wechatpay.client import WeChatPayClient
from gateway.rails.wechatpay.rail import WeChatPayRail
from gateway.rails.wechatpay.sim.server import WeChatPaySimulator


async def test_reconcile_flags_each_difference(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator
) -> None:
    rail = WeChatPayRail(wechat)
    for reference in ("A", "B", "C", "D"):
        await rail.authorise(reference, "o-bob", Decimal("50.00"), "EV charging")
    await rail.complete("A", Decimal("10.00"), "EV charging")
    await rail.complete("B", Decimal("12.00"), "EV charging")
    wechat_sim.faults = RailFaults(collection_failure=True)
    await rail.complete("C", Decimal("5.00"), "EV charging")
    wechat_sim.faults = RailFaults()
    ledger = [
        Expected("A", Decimal("10.00")),  # agrees
        Expected("B", Decimal("11.00")),  # amounts differ
        Expected("C", Decimal("5.00")),  # still collecting
        Expected("D", Decimal("3.00")),  # booked, never collected
        Expected("E", Decimal("0.00")),  # unknown to the provider
        Expected("F", Decimal("4.00")),  # booked as collected, unknown to the provider
    ]
    found = {m.reference: m.kind for m in await reconcile(rail, ledger)}
    assert found == {
        "B": MismatchKind.AMOUNT,
        "C": MismatchKind.PENDING,
        "D": MismatchKind.MISSING_COLLECTION,
        "E": MismatchKind.UNREACHABLE,
        "F": MismatchKind.MISSING_COLLECTION,
    }


async def test_unreachable_provider_is_flagged_not_fatal(
    wechat: WeChatPayClient, wechat_sim: WeChatPaySimulator
) -> None:
    wechat_sim.faults = RailFaults(down=True)
    [mismatch] = await reconcile(WeChatPayRail(wechat), [Expected("A", Decimal("1.00"))])
    assert mismatch.kind is MismatchKind.UNREACHABLE


def test_unbooked_collection() -> None:
    assert (
        _compare(Decimal("0.00"), OrderState.COLLECTED, Decimal("9.00")) is MismatchKind.UNBOOKED_COLLECTION
    )
    assert _compare(Decimal("0.00"), OrderState.CANCELLED, Decimal("0.00")) is None
