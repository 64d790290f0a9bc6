"""The inbox: raw notifications stored once, applied once, and recoverable after a crash."""

from __future__ import annotations

import asyncio

from gateway.store import Store


async def test_a_redelivered_notification_is_stored_once(store: Store) -> None:
    raw = '{"StartChargeSeq": "MA1SIMTC1000000000000000001", "TotalPower": 12.5}'
    first, is_new = await store.record_inbound(
        "MA1SIMTC1", "charge_order", "MA1SIMTC1000000000000000001", raw
    )
    again, again_new = await store.record_inbound(
        "MA1SIMTC1", "charge_order", "MA1SIMTC1000000000000000001", "{}"
    )
    assert is_new and not again_new
    assert again == first and again.raw == raw and first.applied_at is None
    other_kind, other_new = await store.record_inbound(
        "MA1SIMTC1", "equip_charge_status", "MA1SIMTC1000000000000000001", b'{"x": "\xc3\xa9"}'
    )
    assert other_new and other_kind.id != first.id and other_kind.raw == '{"x": "é"}'
    other_operator, _ = await store.record_inbound(
        "ocpi-1", "charge_order", "MA1SIMTC1000000000000000001", raw
    )
    assert other_operator.id not in (first.id, other_kind.id)


async def test_concurrent_redeliveries_are_stored_once(store: Store) -> None:
    results = await asyncio.gather(*(store.record_inbound("op", "cdr", "CDR-1", "{}") for _ in range(10)))
    assert len({record.id for record, _ in results}) == 1
    assert sum(is_new for _, is_new in results) == 1


async def test_unapplied_lists_what_a_crash_left_behind(store: Store) -> None:
    a, _ = await store.record_inbound("op", "cdr", "1", "{}")
    b, _ = await store.record_inbound("op", "cdr", "2", "{}")
    c, _ = await store.record_inbound("op", "cdr", "3", "{}")
    assert [r.id for r in await store.unapplied()] == [a.id, b.id, c.id]
    assert await store.mark_applied(b.id)
    assert not await store.mark_applied(b.id)
    assert not await store.mark_applied(987654)
    assert [r.id for r in await store.unapplied()] == [a.id, c.id]
    stored, is_new = await store.record_inbound("op", "cdr", "2", "{}")
    assert not is_new and stored.applied_at is not None
