"""Ledger revision 0009, on SQLite and PostgreSQL: the payments a credit rail made before it are
marked with the rail that collects them; the driver's own payments of the same bill are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from gateway.store import open_store
from gateway.store.database import make_engine
from gateway.store.migrations import migrate
from gateway.store.tables import bills, drivers, idempotency_keys, payments, session_events, sessions


async def test_payments_a_rail_made_before_take_the_rails_name(database_url: str) -> None:
    now = datetime.now(UTC)
    engine = make_engine(database_url)
    try:
        assert await migrate(engine, target="0008") == "0008"
        async with engine.begin() as conn:
            await conn.execute(drivers.insert().values(id="alice", name="Alice", created_at=now))
            await conn.execute(
                sessions.insert().values(
                    id="s1", driver_id="alice", idempotency_key="k1", operator_id="op", connector_id="c",
                    payment_mode="POSTPAID", status="COMPLETED", currency="CNY", energy_kwh=Decimal(1),
                    cost=Decimal(12), started_at=now, created_at=now, updated_at=now, version=1,
                )
            )  # fmt: skip
            event = json.dumps({"rail": "alipay", "risk_amount": "300"})
            authorised = dict(session_id="s1", kind="RAIL_AUTHORISED", payload=event, created_at=now)
            await conn.execute(session_events.insert().values(**authorised))
            await conn.execute(
                bills.insert().values(
                    id="b1", session_id="s1", driver_id="alice", status="PAID", currency="CNY",
                    total=Decimal(12), operator_total=Decimal(12), due_at=now, created_at=now,
                )
            )  # fmt: skip
            for payment_id, status, key, request in (
                ("p1", "FAILED", "rail-s1", "rail:b1"),  # the rail's first attempt
                ("p2", "FAILED", "card-1", "0f" * 32),  # alice's card, declined
                ("p3", "SETTLED", "rail-s1-2", "rail:b1:2"),  # the rail's second attempt
            ):
                await conn.execute(
                    payments.insert().values(
                        id=payment_id, driver_id="alice", bill_id="b1", purpose="BILL", amount=Decimal(12),
                        currency="CNY", method="PROVIDER", status=status, created_at=now,
                    )
                )  # fmt: skip
                await conn.execute(
                    idempotency_keys.insert().values(
                        owner="alice", operation="payBill", key=key, request_hash=request,
                        result_id=payment_id, created_at=now,
                    )
                )  # fmt: skip
    finally:
        await engine.dispose()
    store = await open_store(database_url)  # upgrades to the latest revision
    try:
        found = (await store.payments_for_bills(["b1"]))["b1"]
        assert {p.id: p.rail for p in found} == {"p1": "alipay", "p2": None, "p3": "alipay"}
    finally:
        await store.close()
