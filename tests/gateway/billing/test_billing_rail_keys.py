"""A driver's own idempotency keys cannot take the place of a collection's (docs/billing.md).

Collection attempts are written with a key in the driver's key space, so a driver who guessed its
form could once use it first, for another payment of theirs, and the retry would meet a conflict on
every run: the bill would never be collected.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.billing import BillStatus, PaymentMethod
from gateway.billing.rails import RETRY_AFTER_S
from gateway.rails.sim.faults import RailFaults
from tests.gateway.billing.rail_harness import NewBilling, Rail, failed_collection, rails_of


async def test_a_drivers_key_of_the_collections_form_does_not_stop_the_retry(
    new_billing: NewBilling, rail: Rail
) -> None:
    if rail.name != "alipay":
        pytest.skip("WeChat Pay keeps deducting a failed collection itself: the retry job has nothing to do")
    billing = new_billing()
    first, bill = await failed_collection(billing, rail, "12.00", key="k1", cap="20")
    _, other = await failed_collection(billing, rail, "7.00", key="k2", cap="20")
    # The driver pays the other bill by card, with the key the first bill's second attempt once had.
    paid = await billing.pay_bill("alice", other.id, PaymentMethod.PROVIDER, f"rail-{first.id}-2")
    assert getattr(paid, "status", None) is BillStatus.PAID, paid
    rail.sim.faults = RailFaults()
    due = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_S[0] + 1)
    assert await rails_of(billing).retry_collections(due) == 1
    found = await billing.store.get_bill(bill.id)
    assert found is not None and found.status is BillStatus.PAID
