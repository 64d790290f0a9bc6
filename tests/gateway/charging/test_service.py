"""The session service over a fake operator, no GraphQL and no socket: the runtime as the app builds
it (`running`), the operator's pushes and the service's own polls, final orders and reconciliation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal

import pytest

from gateway.app.assembly import running
from gateway.charging.service import SessionService
from gateway.runtime import Runtime
from gateway.store import SessionRecord, WalletEntryKind
from operators.domain import ConnectorStatus, OrderSummary, SessionPhase
from operators.testing import FakeOperator, Faults
from tests.inprocess import default_settings, fake_tables

WALLET = Decimal("5000.00")  # large: the fake reports as fast as asked (see tests/resolvers/test_charging)


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    settings = default_settings().with_operators(fake_tables())
    # The service's own poll of live sessions only when a test asks (reconcile), never in between.
    settings = replace(settings, ledger=replace(settings.ledger, progress_poll_s=3600.0))
    async with running(settings) as built:
        await built.catalogue.first_sync_done.wait()
        assert built.sessions is not None
        await built.sessions.store.add_wallet_entry("dora", WALLET, WalletEntryKind.TOPUP, "opening")
        yield built


def parts(runtime: Runtime) -> tuple[SessionService, FakeOperator]:
    fake = runtime.records["FK1"].adapter
    assert runtime.sessions is not None and isinstance(fake, FakeOperator)
    return runtime.sessions, fake


async def started(runtime: Runtime, key: str = "k1") -> tuple[SessionRecord, str]:
    """A session of dora's on an idle connector of FK1, and the fake's ref for it."""
    sessions, fake = parts(runtime)
    connector = next(cid for cid, s in fake.statuses.items() if s is ConnectorStatus.AVAILABLE)
    session = await sessions.start("dora", "FK1", connector, key)
    assert isinstance(session, SessionRecord), session
    held = fake.session_on(connector)
    assert held is not None and held.ref == session.id  # the gateway's id is the operator's ref
    return session, held.ref


async def billed(runtime: Runtime) -> tuple[SessionRecord, Decimal]:
    sessions, fake = parts(runtime)
    session, ref = await started(runtime)
    await fake.charge(ref, Decimal("4.2"))
    await sessions.stop("dora", session.id)
    order = await fake.finish(ref)
    return session, order.total


async def test_a_final_order_sent_again_is_billed_once(runtime: Runtime):
    sessions, fake = parts(runtime)
    session, total = await billed(runtime)
    await fake.resend_order(session.id)  # the operator did not see our confirmation
    bills = await sessions.store.bills_for_sessions([session.id])
    assert bills[session.id].total == total
    assert await sessions.store.wallet_balance("dora", "CNY") == WALLET - total


async def test_lost_pushes_are_caught_up_by_asking_the_operator(runtime: Runtime):
    sessions, fake = parts(runtime)
    session, ref = await started(runtime)
    fake.faults = Faults(pushes_lost=True)
    await fake.charge(ref, Decimal("1.5"))
    quiet = await sessions.store.get_session(session.id)
    assert quiet is not None and quiet.status is SessionPhase.STARTING  # nothing reached us
    await sessions.reconcile()
    caught_up = await sessions.store.get_session(session.id)
    assert caught_up is not None
    assert (caught_up.status, caught_up.energy_kwh) == (SessionPhase.CHARGING, Decimal("1.5"))


async def test_the_operators_reconciliation_is_answered_with_what_we_dispute(runtime: Runtime):
    _, fake = parts(runtime)
    session, total = await billed(runtime)
    assert await fake.reconcile() == ()  # its orders are our bills
    disputes = await fake.reconcile(
        [
            OrderSummary(None, "NOT-OURS", Decimal("3"), Decimal("6.00")),
            OrderSummary(session.id, "TAMPERED", Decimal("4.2"), total + Decimal("1.00")),
        ]
    )
    assert [(d.operator_ref, d.reason) for d in disputes] == [
        ("NOT-OURS", "NOT_FOUND"),
        ("TAMPERED", "MONEY"),
    ]


async def test_a_final_order_for_a_session_we_never_started_is_refused_for_later(runtime: Runtime):
    _, fake = parts(runtime)
    connector = next(cid for cid, s in fake.statuses.items() if s is ConnectorStatus.AVAILABLE)
    await fake.start_session("started-elsewhere", connector)  # not through the gateway
    await fake.charge("started-elsewhere", Decimal("2"))
    with pytest.raises(LookupError):  # the adapter answers "not confirmed": the operator sends it again
        await fake.finish("started-elsewhere")
