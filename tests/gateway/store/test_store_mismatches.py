"""Rail mismatches in the ledger, on SQLite and PostgreSQL: one open row per rail, order and kind,
however many replicas find the same difference at the same moment."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from gateway.store import Store, open_store

FINDERS = 8  # concurrent findings per replica


async def test_replicas_finding_the_same_mismatch_at_once_keep_one_row(store: Store) -> None:
    other = await open_store(store.database.engine.url.render_as_string(hide_password=False))
    try:
        finding = ("alipay", "s1", "COLLECTION_FAILED", Decimal("12.00"), Decimal(0))
        replicas = [store, other] * FINDERS
        found = await asyncio.gather(*(replica.record_mismatch(*finding, "found") for replica in replicas))
    finally:
        await other.close()
    [kept] = await store.mismatches()
    assert {m.id for m in found} == {kept.id}
    assert (kept.rail, kept.reference, kept.kind, kept.ours) == ("alipay", "s1", "COLLECTION_FAILED", 12)
