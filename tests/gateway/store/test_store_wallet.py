"""Drivers and wallets: exact Decimal money, idempotent entries, balances as sums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.store import Store, WalletEntryKind


async def test_drivers_are_created_once(store: Store) -> None:
    alice = await store.ensure_driver("alice", "Alice")
    again = await store.ensure_driver("alice", "Someone else")
    assert again == alice and alice.name == "Alice" and alice.created_at.tzinfo is not None
    assert await store.get_driver("alice") == alice
    assert await store.get_driver("nobody") is None


async def test_balance_is_the_sum_of_entries(store: Store) -> None:
    assert await store.wallet_balance("carol", "CNY") == 0
    assert await store.add_wallet_entry("carol", Decimal("200"), WalletEntryKind.TOPUP, "topup-1")
    assert await store.add_wallet_entry("carol", Decimal("-12.3456"), WalletEntryKind.CHARGE, "bill:x")
    assert await store.add_wallet_entry("carol", Decimal("0.0001"), WalletEntryKind.REFUND, "refund-1")
    assert await store.add_wallet_entry("carol", Decimal("-0.5"), WalletEntryKind.ADJUSTMENT, "adj-1")
    assert await store.add_wallet_entry("carol", Decimal("9"), WalletEntryKind.TOPUP, "usd-1", currency="USD")
    balance = await store.wallet_balance("carol", "CNY")
    assert balance == Decimal("187.1545") and str(balance) == "187.1545"
    assert await store.wallet_balance("carol", "USD") == Decimal("9")
    entries = await store.wallet_entries("carol")
    assert [e.reference for e in entries] == ["usd-1", "adj-1", "refund-1", "bill:x", "topup-1"]
    assert entries[3].amount == Decimal("-12.3456") and entries[3].kind is WalletEntryKind.CHARGE


async def test_a_repeated_reference_is_recorded_once(store: Store) -> None:
    assert await store.add_wallet_entry("carol", Decimal("50"), WalletEntryKind.TOPUP, "provider-tx-9")
    assert not await store.add_wallet_entry("carol", Decimal("50"), WalletEntryKind.TOPUP, "provider-tx-9")
    assert await store.wallet_balance("carol", "CNY") == Decimal("50")
    # The reference is unique per kind: a refund may share a top-up's provider reference.
    assert await store.add_wallet_entry("carol", Decimal("5"), WalletEntryKind.REFUND, "provider-tx-9")


@pytest.mark.parametrize(
    ("amount", "kind"),
    [
        (Decimal("-1"), WalletEntryKind.TOPUP),
        (Decimal("1"), WalletEntryKind.CHARGE),
        (Decimal("-1"), WalletEntryKind.REFUND),
        (Decimal("0"), WalletEntryKind.ADJUSTMENT),
    ],
)
async def test_entry_signs_must_suit_the_kind(store: Store, amount: Decimal, kind: WalletEntryKind) -> None:
    with pytest.raises(ValueError, match="sign"):
        await store.add_wallet_entry("carol", amount, kind, "r")
    assert await store.wallet_entries("carol") == []


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("12.3456"),
        Decimal("0.0001"),
        Decimal("-99999999.9999"),
        Decimal("123456789012.1234"),
        Decimal("1E+3"),
    ],
)
async def test_money_round_trips_exactly(store: Store, amount: Decimal) -> None:
    kind = WalletEntryKind.TOPUP if amount > 0 else WalletEntryKind.CHARGE
    await store.add_wallet_entry("dave", amount, kind, "r")
    (entry,) = await store.wallet_entries("dave")
    assert entry.amount == amount and isinstance(entry.amount, Decimal)
    assert await store.wallet_balance("dave", "CNY") == amount


async def test_money_is_never_rounded_or_floated(store: Store) -> None:
    with pytest.raises(ValueError, match="decimal places"):
        await store.add_wallet_entry("dave", Decimal("1.00001"), WalletEntryKind.TOPUP, "r1")
    with pytest.raises(TypeError, match="Decimal"):
        await store.add_wallet_entry("dave", 1.5, WalletEntryKind.TOPUP, "r2")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        await store.add_wallet_entry("dave", Decimal("NaN"), WalletEntryKind.ADJUSTMENT, "r3")
    assert await store.wallet_entries("dave") == []
